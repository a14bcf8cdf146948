/**
 * A transfer as users see it (API responses, `fsx-transfer status`): the record joined with its
 * execution, so a run shows up even before it has a record (started by the CLI or a schedule and
 * still in `Validate`) and its status is right even if the status-change event is late.
 */
import {
  DescribeExecutionCommand,
  type DescribeExecutionCommandOutput,
  GetExecutionHistoryCommand,
  type SFNClient,
} from '@aws-sdk/client-sfn';
import { TransferRequest } from '../config/schema.js';
import { awsErrorName, TransferNotFoundError } from '../errors.js';
import { executionArnFor, TERMINAL_STATUSES } from '../sfn/executions.js';
import { FINAL_STATUSES, getRecord, type TransferRecord, type TransferStatus } from './records.js';
import type { TableDeps } from './table.js';

export interface ViewDeps extends TableDeps {
  sfn: SFNClient;
  stateMachineArn: string;
}

export interface TransferView {
  id: string;
  mapping: string;
  direction: string;
  trigger: string;
  status: TransferStatus;
  /** Why the run is in this status, in words (e.g. whom a QUEUED run waits for). */
  statusReason?: string;
  method: string | null;
  methodReasons: TransferRecord['methodReasons'];
  /** While QUEUED: the run holding the turn of this mapping and direction. */
  waitingFor?: string;
  /** The state the execution is in (while it runs). */
  currentState?: string;
  progress: { files: number | null; bytes: number | null };
  createdAt: string | null;
  startedAt: string | null;
  endedAt: string | null;
  error: string | null;
  cause: string | null;
  summary: Record<string, unknown> | null;
  executionArn: string | null;
  links: { self: string };
}

async function describe(
  sfn: SFNClient,
  executionArn: string,
): Promise<DescribeExecutionCommandOutput | undefined> {
  try {
    return await sfn.send(new DescribeExecutionCommand({ executionArn }));
  } catch (error) {
    if (awsErrorName(error) === 'ExecutionDoesNotExist') return undefined;
    throw error;
  }
}

/** The last state entered, read from the end of the history (one small page). */
async function currentState(sfn: SFNClient, executionArn: string): Promise<string | undefined> {
  const page = await sfn.send(
    new GetExecutionHistoryCommand({ executionArn, reverseOrder: true, maxResults: 20 }),
  );
  return page.events?.find((event) => event.stateEnteredEventDetails?.name)?.stateEnteredEventDetails?.name;
}

/** The view of a record (and its execution, when described). */
export function viewOf(
  id: string,
  record: TransferRecord | undefined,
  described: DescribeExecutionCommandOutput | undefined,
  state?: string,
): TransferView {
  const executionEnded = described && TERMINAL_STATUSES.has(described.status ?? '');
  const status: TransferStatus =
    record && FINAL_STATUSES.has(record.status)
      ? record.status
      : executionEnded
        ? (described.status as TransferStatus)
        : (record?.status ?? 'QUEUED');
  const request =
    record?.request ?? TransferRequest.partial().safeParse(JSON.parse(described?.input ?? '{}')).data;
  const summary =
    record?.summary ??
    (described?.status === 'SUCCEEDED' && described.output ? JSON.parse(described.output) : null);
  const number = (value: unknown) => (typeof value === 'number' ? value : null);
  const waitingFor = status === 'QUEUED' ? record?.waitingFor : undefined;
  return {
    id,
    mapping: record?.mapping ?? request?.mapping ?? '',
    direction: record?.direction ?? request?.direction ?? '',
    trigger: record?.trigger ?? request?.trigger ?? 'cli',
    status,
    ...(status === 'QUEUED'
      ? {
          statusReason: waitingFor
            ? `waiting for its turn: transfer ${waitingFor} of the same mapping and direction is running`
            : 'accepted; checking the request before it takes its turn',
        }
      : {}),
    method: (summary?.method as string | undefined) ?? record?.method ?? null,
    methodReasons: record?.methodReasons ?? (summary?.methodReasons as TransferRecord['methodReasons']) ?? [],
    ...(waitingFor ? { waitingFor } : {}),
    ...(state && !FINAL_STATUSES.has(status) ? { currentState: state } : {}),
    progress: { files: number(summary?.files), bytes: number(summary?.bytes) },
    createdAt: record?.createdAt ?? described?.startDate?.toISOString() ?? null,
    startedAt: record?.startedAt ?? null,
    endedAt: record?.endedAt ?? described?.stopDate?.toISOString() ?? null,
    error: record?.error ?? described?.error ?? null,
    cause: record?.cause ?? described?.cause ?? null,
    summary,
    executionArn: record?.executionArn ?? described?.executionArn ?? null,
    links: { self: `/transfers/${id}` },
  };
}

/**
 * Reads one transfer.
 * @throws TransferNotFoundError when there is neither a record nor an execution of that name.
 */
export async function getTransfer(deps: ViewDeps, id: string): Promise<TransferView> {
  const record = await getRecord(deps, id);
  const executionArn = record?.executionArn ?? executionArnFor(deps.stateMachineArn, id);
  const described = await describe(deps.sfn, executionArn);
  if (!record && !described) throw new TransferNotFoundError(`No transfer ${id}`, { details: { id } });
  const running = described && !TERMINAL_STATUSES.has(described.status ?? '');
  const state = running ? await currentState(deps.sfn, executionArn) : undefined;
  return viewOf(id, record, described, state);
}
