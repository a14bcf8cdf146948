/**
 * A transfer as users see it (API responses, `fsx-transfer status`): the record joined with its
 * execution, so a run shows up even before it has a record (started by the CLI or a schedule and
 * still in `Validate`) and its status is right even if the status-change event is late.
 */

import type { FSxClient } from '@aws-sdk/client-fsx';
import type { S3Client } from '@aws-sdk/client-s3';
import {
  DescribeExecutionCommand,
  type DescribeExecutionCommandOutput,
  type HistoryEvent,
  type SFNClient,
} from '@aws-sdk/client-sfn';
import { TransferRequest } from '../config/schema.js';
import { type RunCost, runCostFromHistory } from '../cost/actual.js';
import { PRICE_TABLE, type PriceTable } from '../cost/prices.js';
import { awsErrorName, TransferNotFoundError } from '../errors.js';
import { logger } from '../log.js';
import { executionArnFor, executionHistory, TERMINAL_STATUSES } from '../sfn/executions.js';
import type { Verification } from '../verify/content.js';
import { type LiveProgress, readSyncProgress, readTaskProgress } from './progress.js';
import { FINAL_STATUSES, getRecord, type TransferRecord, type TransferStatus } from './records.js';
import type { TableDeps } from './table.js';

export interface ViewDeps extends TableDeps {
  sfn: SFNClient;
  stateMachineArn: string;
  /** Clients to read the live progress of a running transfer (the progress object, task counts). */
  live?: { s3: S3Client; fsx: FSxClient };
  /** Prices for the cost of a run that has none recorded (default: the repository's table). */
  prices?: PriceTable;
}

/**
 * Files and bytes: done (live while the run goes on, the summary's once it succeeded) and, where
 * known, the totals, rates and an estimate of the time left (the fields of LiveProgress).
 */
export type TransferProgress = Omit<LiveProgress, 'files' | 'source' | 'phase' | 'elapsedSeconds'> & {
  files: number | null;
  /** Where the numbers come from: the sync's progress object, the DRA task's counts, the summary. */
  source: LiveProgress['source'] | 'summary' | null;
  phase: string | null;
};

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
  progress: TransferProgress;
  createdAt: string | null;
  startedAt: string | null;
  endedAt: string | null;
  error: string | null;
  cause: string | null;
  /** Seconds since the run got its turn (or was created), until it ended or now. */
  elapsedSeconds: number | null;
  summary: Record<string, unknown> | null;
  /** What verification covered (the summary's), null until the run succeeded. */
  verification: Verification | null;
  /** What the run cost (so far, while it runs: `final: false`), null when unknown. */
  cost: RunCost | null;
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

/** The last state entered. */
function lastState(history: readonly HistoryEvent[]): string | undefined {
  return history.findLast((event) => event.stateEnteredEventDetails?.name)?.stateEnteredEventDetails?.name;
}

/** The execution's data as the last state entered received it (`$.plan`, `$.dra`, `$.ec2`...). */
function lastData(history: readonly HistoryEvent[]): Record<string, unknown> {
  const input = history.findLast((event) => event.stateEnteredEventDetails?.input)?.stateEnteredEventDetails
    ?.input;
  try {
    const value = JSON.parse(input ?? '{}');
    return value && typeof value === 'object' ? value : {};
  } catch {
    return {};
  }
}

const get = (value: unknown, ...path: string[]): unknown =>
  path.reduce<unknown>(
    (at, key) => (at && typeof at === 'object' ? (at as Record<string, unknown>)[key] : undefined),
    value,
  );

/**
 * Live progress of a running execution: the DRA task's counts once it has a task, else the sync's
 * published progress on the EC2 method. Progress is extra information: when it cannot be read
 * (permissions, throttling) the view goes without it and says so in the log.
 */
async function liveProgress(
  live: NonNullable<ViewDeps['live']>,
  id: string,
  data: Record<string, unknown>,
  now: Date,
): Promise<LiveProgress | undefined> {
  const taskId = get(data, 'dra', 'task', 'taskId');
  const bucket = get(data, 'plan', 'scope', 'bucket');
  const method = get(data, 'plan', 'method');
  try {
    if (typeof taskId === 'string') return await readTaskProgress(live.fsx, taskId, now);
    if (method === 'ec2' && typeof bucket === 'string') return await readSyncProgress(live.s3, bucket, id);
  } catch (error) {
    logger.warn('could not read the progress of a running transfer', {
      transferId: id,
      error: awsErrorName(error) ?? String(error),
    });
  }
  return undefined;
}

const number = (value: unknown) => (typeof value === 'number' ? value : null);

const UNKNOWN_PROGRESS: TransferProgress = {
  files: null,
  bytes: null,
  source: null,
  phase: null,
  totalFiles: null,
  totalBytes: null,
  totalsFinal: false,
  bytesPerSecond: null,
  filesPerSecond: null,
  etaSeconds: null,
  failedFiles: null,
  updatedAt: null,
};

/** The summary's counts once the run succeeded, else the live progress (or nothing known yet). */
function progressOf(
  summary: Record<string, unknown> | null,
  live: LiveProgress | undefined,
  ended = false,
): TransferProgress {
  if (summary && typeof summary.files === 'number') {
    const files = number(summary.files);
    const bytes = number(summary.bytes);
    return {
      ...UNKNOWN_PROGRESS,
      files,
      bytes,
      source: 'summary',
      phase: 'done',
      totalFiles: files,
      totalBytes: bytes,
      totalsFinal: true,
      etaSeconds: 0,
    };
  }
  if (!live) return UNKNOWN_PROGRESS;
  const { elapsedSeconds: _elapsed, ...progress } = live;
  // How far a run that failed or was cancelled got: no rate or time left any more.
  return ended ? { ...progress, bytesPerSecond: null, filesPerSecond: null, etaSeconds: null } : progress;
}

/** The view of a record (and its execution, when described). */
export function viewOf(
  id: string,
  record: TransferRecord | undefined,
  described: DescribeExecutionCommandOutput | undefined,
  state?: string,
  extra: { progress?: LiveProgress; cost?: RunCost; now?: Date } = {},
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
  const waitingFor = status === 'QUEUED' ? record?.waitingFor : undefined;
  const createdAt = record?.createdAt ?? described?.startDate?.toISOString() ?? null;
  const endedAt = record?.endedAt ?? described?.stopDate?.toISOString() ?? null;
  const since = Date.parse(record?.startedAt ?? createdAt ?? '') || undefined;
  const now = extra.now ?? new Date();
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
    progress: progressOf(summary, extra.progress, FINAL_STATUSES.has(status)),
    verification: (summary?.verification as Verification | undefined) ?? null,
    createdAt,
    startedAt: record?.startedAt ?? null,
    endedAt,
    error: record?.error ?? described?.error ?? null,
    cause: record?.cause ?? described?.cause ?? null,
    elapsedSeconds: since
      ? Math.max(0, Math.round(((endedAt ? Date.parse(endedAt) : now.getTime()) - since) / 1000))
      : null,
    summary,
    cost: record?.cost ?? extra.cost ?? null,
    executionArn: record?.executionArn ?? described?.executionArn ?? null,
    links: { self: `/transfers/${id}` },
  };
}

/**
 * Reads one transfer: the record and the execution, and from the execution's history its current
 * state, its live progress (with `deps.live`) and its cost (unless the record has it).
 * @throws TransferNotFoundError when there is neither a record nor an execution of that name.
 */
export async function getTransfer(deps: ViewDeps, id: string): Promise<TransferView> {
  const record = await getRecord(deps, id);
  const executionArn = record?.executionArn ?? executionArnFor(deps.stateMachineArn, id);
  const described = await describe(deps.sfn, executionArn);
  if (!record && !described) throw new TransferNotFoundError(`No transfer ${id}`, { details: { id } });
  const now = deps.now?.() ?? new Date();
  const running = described && !TERMINAL_STATUSES.has(described.status ?? '');
  // A run that ended without success shows how far it got (its last published progress).
  const unfinished = running || (described !== undefined && described.status !== 'SUCCEEDED');
  const history =
    described && (running || !record?.cost || (unfinished && deps.live))
      ? await executionHistory(deps.sfn, executionArn)
      : undefined;
  if (!history) return viewOf(id, record, described, undefined, { now });
  const data = lastData(history);
  const progress = unfinished && deps.live ? await liveProgress(deps.live, id, data, now) : undefined;
  const summary =
    record?.summary ??
    (described?.status === 'SUCCEEDED' && described.output ? JSON.parse(described.output) : undefined);
  const cost = runCostFromHistory(
    history,
    {
      method: (summary?.method as string | undefined) ?? (get(data, 'plan', 'method') as string | undefined),
      direction: record?.direction ?? (get(data, 'plan', 'direction') as string | undefined),
      files: number(summary?.files) ?? progress?.files ?? null,
      bytes: number(summary?.bytes) ?? progress?.bytes ?? null,
    },
    deps.prices ?? PRICE_TABLE,
    { ...(running ? {} : { end: described?.stopDate ?? now }), now },
  );
  return viewOf(id, record, described, running ? lastState(history) : undefined, { progress, cost, now });
}
