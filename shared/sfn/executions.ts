/**
 * Starting and following runs of the `transfer` state machine: used by the CLI, the demo and the API.
 */
import {
  DescribeExecutionCommand,
  type DescribeExecutionCommandOutput,
  GetExecutionHistoryCommand,
  type HistoryEvent,
  ListStateMachinesCommand,
  type SFNClient,
  StartExecutionCommand,
  StopExecutionCommand,
} from '@aws-sdk/client-sfn';
import type { TransferRequest } from '../config/schema.js';
import { InvalidRequestError, TransferError } from '../errors.js';

export const SERVICE_NAME = 'fsx-transfer';

export function stageName(env: NodeJS.ProcessEnv = process.env): string {
  return env.FSX_TRANSFER_STAGE || (env.AWS_ENDPOINT_URL ? 'local' : 'dev');
}

/** Name of a deployed state machine (`fsx-transfer-<stage>-<name>`), as serverless.yml names it. */
export function stateMachineName(name: string, stage = stageName()): string {
  return `${SERVICE_NAME}-${stage}-${name}`;
}

/**
 * Finds the ARN of a state machine by name (paginating ListStateMachines).
 * @throws TransferError when it is not deployed.
 */
export async function findStateMachineArn(sfn: SFNClient, name: string): Promise<string> {
  let nextToken: string | undefined;
  do {
    const page = await sfn.send(new ListStateMachinesCommand({ nextToken }));
    const found = page.stateMachines?.find((machine) => machine.name === name);
    if (found?.stateMachineArn) return found.stateMachineArn;
    nextToken = page.nextToken;
  } while (nextToken);
  throw new TransferError(
    `State machine ${name} not found: deploy the stack (npx sls deploy) or start the local cloud (fsx-transfer local up), and check --stage/--region`,
  );
}

/**
 * Execution name for a request: the transfer id when given (so starting the same transfer twice is
 * idempotent), else a readable unique name. Names allow 1-80 of [A-Za-z0-9-_].
 */
export function executionNameFor(request: TransferRequest, now = new Date()): string {
  if (request.transferId) return request.transferId;
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\..*/, '').replace('T', '-');
  const random = Math.random().toString(36).slice(2, 8);
  return `${request.mapping}-${request.direction}-${stamp}-${random}`.slice(0, 80);
}

export interface StartedTransfer {
  executionArn: string;
  executionName: string;
  startDate?: Date;
}

/** Starts one run of the transfer state machine; the request must already be validated. */
export async function startTransfer(
  sfn: SFNClient,
  stateMachineArn: string,
  request: TransferRequest,
): Promise<StartedTransfer> {
  const executionName = executionNameFor(request);
  const started = await sfn.send(
    new StartExecutionCommand({ stateMachineArn, name: executionName, input: JSON.stringify(request) }),
  );
  return { executionArn: started.executionArn!, executionName, startDate: started.startDate };
}

/** Accepts an execution ARN, or an execution name of the transfer state machine. */
export function executionArnFor(stateMachineArn: string, idOrArn: string): string {
  if (idOrArn.startsWith('arn:')) return idOrArn;
  if (!/^[A-Za-z0-9_-]{1,80}$/.test(idOrArn)) {
    throw new InvalidRequestError(`execution: ${idOrArn} is neither an execution ARN nor an execution name`);
  }
  return `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${idOrArn}`;
}

export async function describeTransfer(
  sfn: SFNClient,
  executionArn: string,
): Promise<DescribeExecutionCommandOutput> {
  return sfn.send(new DescribeExecutionCommand({ executionArn }));
}

export async function stopTransfer(sfn: SFNClient, executionArn: string, cause: string): Promise<void> {
  await sfn.send(new StopExecutionCommand({ executionArn, error: 'Cancelled', cause }));
}

/** One state entered, for progress output. */
export interface StateProgress {
  id: number;
  state: string;
  timestamp?: Date;
}

/** Every event of an execution's history, oldest first (pages of 1,000). */
export async function executionHistory(sfn: SFNClient, executionArn: string): Promise<HistoryEvent[]> {
  const events: HistoryEvent[] = [];
  let nextToken: string | undefined;
  do {
    const page = await sfn.send(
      new GetExecutionHistoryCommand({ executionArn, nextToken, maxResults: 1000 }),
    );
    events.push(...(page.events ?? []));
    nextToken = page.nextToken;
  } while (nextToken);
  return events;
}

/** State names entered after event `afterId`, in order, and the id of the last event seen. */
export async function statesEnteredSince(
  sfn: SFNClient,
  executionArn: string,
  afterId: number,
): Promise<{ states: StateProgress[]; lastId: number }> {
  const events = await executionHistory(sfn, executionArn);
  const fresh = events.filter((event) => (event.id ?? 0) > afterId);
  const states = fresh
    .filter((event) => event.stateEnteredEventDetails?.name)
    .map((event) => ({
      id: event.id ?? 0,
      state: event.stateEnteredEventDetails!.name!,
      timestamp: event.timestamp,
    }));
  return { states, lastId: Math.max(afterId, ...fresh.map((event) => event.id ?? 0)) };
}

export const TERMINAL_STATUSES = new Set(['SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED']);

/**
 * Polls an execution until it ends, calling `onState` for each state entered.
 * @returns the final DescribeExecution output.
 */
export async function followTransfer(
  sfn: SFNClient,
  executionArn: string,
  options: { intervalMs?: number; onState?: (progress: StateProgress) => void; signal?: AbortSignal } = {},
): Promise<DescribeExecutionCommandOutput> {
  let lastId = 0;
  for (;;) {
    const described = await describeTransfer(sfn, executionArn);
    const progress = await statesEnteredSince(sfn, executionArn, lastId);
    lastId = progress.lastId;
    for (const state of progress.states) options.onState?.(state);
    if (TERMINAL_STATUSES.has(described.status ?? '')) return described;
    if (options.signal?.aborted) return described;
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 1000));
  }
}
