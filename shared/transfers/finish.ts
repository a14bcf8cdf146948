/**
 * The end of every run, however it ends (succeeded, failed, aborted, timed out): the execution
 * status-change rule calls `finishTransfer`, which frees the run's turn and gives it to the next
 * waiter, records the outcome, and puts the completion event on the default bus. Step Functions
 * delivers status-change events on a best-effort basis, so `reconcile` (every 5 minutes) finds
 * runs that ended without one, expired leases, event-started runs whose start was lost, and
 * completion events that were never put (PutEvents failed on every attempt).
 */

import { type EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import {
  DescribeExecutionCommand,
  type DescribeExecutionCommandOutput,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import * as z from 'zod';
import { type Direction, TransferRequest, Trigger } from '../config/schema.js';
import { type RunCost, runCostFromHistory } from '../cost/actual.js';
import { PRICE_TABLE, type PriceTable } from '../cost/prices.js';
import { awsErrorName, TransferError } from '../errors.js';
import { logger } from '../log.js';
import { executionArnFor, executionHistory, TERMINAL_STATUSES } from '../sfn/executions.js';
import type { Verification } from '../verify/content.js';
import {
  clearPendingRun,
  type GateId,
  listGates,
  releaseExpiredLease,
  releaseLease,
  removeWaiter,
} from './gate.js';
import {
  FINAL_STATUSES,
  getRecord,
  listRecords,
  listUnsentCompletions,
  markCompletionEvent,
  type TransferRecord,
  type TransferStatus,
  unmarkCompletionEvent,
  updateRecord,
} from './records.js';
import { grantNext, type TurnDeps } from './turns.js';

export interface FinishDeps extends TurnDeps {
  events: EventBridgeClient;
  /** ARN of the transfer state machine (the reconciler describes and starts its executions). */
  stateMachineArn: string;
  /** Prices of the run's cost (default: the repository's table). */
  prices?: PriceTable;
}

export const COMPLETION_SOURCE = 'fsx-transfer';
export const SUCCEEDED_DETAIL_TYPE = 'Transfer Succeeded';
export const FAILED_DETAIL_TYPE = 'Transfer Failed';

/** How an execution ended: the `detail` of a Step Functions Execution Status Change event, or DescribeExecution. */
export const ExecutionEnd = z.object({
  executionArn: z.string().min(1),
  name: z.string().min(1),
  status: z.enum(['SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED']),
  input: z.string().nullish(),
  output: z.string().nullish(),
  error: z.string().nullish(),
  cause: z.string().nullish(),
  startDate: z.union([z.number(), z.string()]).nullish(),
  stopDate: z.union([z.number(), z.string()]).nullish(),
});
export type ExecutionEnd = z.infer<typeof ExecutionEnd>;

/** The completion event's detail: what a user's pipeline needs to go on (or to alert). */
export interface CompletionDetail {
  transferId: string;
  executionArn: string;
  mapping: string;
  direction: Direction;
  trigger: string;
  status: TransferStatus;
  method: string | null;
  files: number | null;
  bytes: number | null;
  verified: boolean;
  /** What verification covered (mode, files, contentChecked, sizeOnly), null when the run did not succeed. */
  verification: Verification | null;
  error: string | null;
  cause: string | null;
  startedAt: string | null;
  endedAt: string;
  /** What the run cost (shared/cost/actual.ts), null when it could not be read. */
  cost: RunCost | null;
}

function parseJson(text: string | null | undefined): unknown {
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function isoOf(value: number | string | null | undefined): string | undefined {
  if (value === null || value === undefined) return undefined;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
}

/** The request a run was started with, as far as its input can be read. */
function requestOf(end: ExecutionEnd, record: TransferRecord | undefined): TransferRequest | undefined {
  const parsed = TransferRequest.safeParse(parseJson(end.input));
  return parsed.success ? parsed.data : record?.request;
}

/** Builds the completion event detail from the record and how the execution ended. */
export function completionDetail(record: TransferRecord, end: ExecutionEnd): CompletionDetail {
  const summary = (record.summary ?? {}) as Record<string, unknown>;
  const number = (value: unknown) => (typeof value === 'number' ? value : null);
  return {
    transferId: record.id,
    executionArn: end.executionArn,
    mapping: record.mapping,
    direction: record.direction,
    trigger: record.trigger,
    status: record.status,
    method: (typeof summary.method === 'string' ? summary.method : record.method) ?? null,
    files: number(summary.files),
    bytes: number(summary.bytes),
    verified: summary.verified === true,
    verification: (summary.verification as Verification | undefined) ?? null,
    error: record.error ?? null,
    cause: record.cause ?? null,
    startedAt: record.startedAt ?? null,
    endedAt: record.endedAt ?? new Date().toISOString(),
    cost: record.cost ?? null,
  };
}

/**
 * The cost of an execution that ended, from its history. The cost is information, not part of
 * finishing: when the history cannot be read the run is finished without it (and the log says why).
 */
async function costOfRun(
  deps: FinishDeps,
  end: ExecutionEnd,
  request: TransferRequest,
  summary: Record<string, unknown> | undefined,
): Promise<RunCost | undefined> {
  try {
    const history = await executionHistory(deps.sfn, end.executionArn);
    const number = (value: unknown) => (typeof value === 'number' ? value : null);
    return runCostFromHistory(
      history,
      {
        method: typeof summary?.method === 'string' ? summary.method : null,
        direction: request.direction,
        files: number(summary?.files),
        bytes: number(summary?.bytes),
      },
      deps.prices ?? PRICE_TABLE,
      { end: new Date(isoOf(end.stopDate) ?? (deps.now?.() ?? new Date()).toISOString()) },
    );
  } catch (error) {
    logger.warn('could not read the execution history for the run cost', {
      transferId: end.name,
      error: awsErrorName(error) ?? String(error),
    });
    return undefined;
  }
}

/**
 * Finishes a run: frees its turn (or its place in the queue, or its coalescing slot), gives the turn
 * to the next waiter, records the outcome and puts the completion event, once.
 * @returns the final record, or undefined when the input names no transfer request (not our run).
 */
export async function finishTransfer(deps: FinishDeps, input: unknown): Promise<TransferRecord | undefined> {
  const end = ExecutionEnd.parse(input);
  const existing = await getRecord(deps, end.name);
  const request = requestOf(end, existing);
  if (!request) {
    logger.warn('execution ended without a readable transfer request; nothing to finish', {
      executionArn: end.executionArn,
    });
    return undefined;
  }
  const gate: GateId = { mapping: request.mapping, direction: request.direction };
  await removeWaiter(deps, gate, end.name);
  const released = await releaseLease(deps, gate, end.name);
  await clearPendingRun(deps, gate, end.name);
  const next = await grantNext(deps, gate);
  logger.info('transfer ended', { transferId: end.name, status: end.status, released, next });

  const output = end.status === 'SUCCEEDED' ? parseJson(end.output) : undefined;
  const summary = output && typeof output === 'object' ? (output as Record<string, unknown>) : undefined;
  const cost = await costOfRun(deps, end, request, summary);
  const record = await updateRecord(
    deps,
    end.name,
    {
      status: end.status,
      executionArn: end.executionArn,
      endedAt: isoOf(end.stopDate) ?? (deps.now?.() ?? new Date()).toISOString(),
      ...(summary ? { summary: cost ? { ...summary, cost } : summary } : {}),
      ...(cost ? { cost } : {}),
      ...(end.error ? { error: end.error } : {}),
      ...(end.cause ? { cause: end.cause.slice(0, 32_000) } : {}),
    },
    {
      mapping: request.mapping,
      direction: request.direction,
      trigger: Trigger.catch('cli').parse(request.trigger),
      request,
    },
    ['waitingFor'],
  );
  if (!record) throw new TransferError(`transfer ${end.name}: record could not be finalised`);
  // A dry run moved nothing: no pipeline should start on it.
  if (!request.dryRun) await putCompletionEvent(deps, record, end);
  return record;
}

/** Puts `Transfer Succeeded` / `Transfer Failed` on the default bus, at most once per run. */
async function putCompletionEvent(
  deps: FinishDeps,
  record: TransferRecord,
  end: ExecutionEnd,
): Promise<void> {
  const at = (deps.now?.() ?? new Date()).toISOString();
  if (!(await markCompletionEvent(deps, record.id, at))) return;
  const detail = completionDetail(record, end);
  try {
    const out = await deps.events.send(
      new PutEventsCommand({
        Entries: [
          {
            Source: COMPLETION_SOURCE,
            DetailType: record.status === 'SUCCEEDED' ? SUCCEEDED_DETAIL_TYPE : FAILED_DETAIL_TYPE,
            Detail: JSON.stringify(detail),
            Resources: [end.executionArn],
            EventBusName: 'default',
          },
        ],
      }),
    );
    if (out.FailedEntryCount) {
      const entry = out.Entries?.[0];
      throw new TransferError(
        `PutEvents refused the completion event: ${entry?.ErrorCode} ${entry?.ErrorMessage}`,
      );
    }
  } catch (error) {
    // Unmark so the retry of this invocation (or the reconciler) sends it.
    await unmarkCompletionEvent(deps, record.id);
    throw error;
  }
}

/** An execution as ExecutionEnd, or undefined while it runs / when it does not exist. */
async function describeEnd(
  deps: FinishDeps,
  executionArn: string,
): Promise<ExecutionEnd | 'missing' | undefined> {
  let described: DescribeExecutionCommandOutput;
  try {
    described = await deps.sfn.send(new DescribeExecutionCommand({ executionArn }));
  } catch (error) {
    if (awsErrorName(error) === 'ExecutionDoesNotExist') return 'missing';
    throw error;
  }
  if (!TERMINAL_STATUSES.has(described.status ?? '')) return undefined;
  return ExecutionEnd.parse({
    executionArn,
    name: described.name,
    status: described.status,
    input: described.input,
    output: described.output,
    error: described.error,
    cause: described.cause,
    startDate: described.startDate?.toISOString(),
    stopDate: described.stopDate?.toISOString(),
  });
}

/** A pending event run whose execution does not exist after this long had its start lost. */
const LOST_START_MS = 2 * 60_000;

export interface ReconcileResult {
  gates: number;
  finished: string[];
  expired: string[];
  started: string[];
  granted: string[];
  /** Runs whose completion event was put now (every earlier attempt failed). */
  completed: string[];
}

/** How far back the reconciler looks for completion events that were never put. */
const UNSENT_COMPLETIONS_MS = 24 * 3600_000;

/**
 * Repairs what lost events leave behind: finishes runs that ended without a status-change event,
 * frees expired leases, starts event runs whose start was lost, gives free gates to waiters, and
 * puts the completion events of the last day that were never put.
 */
export async function reconcile(deps: FinishDeps): Promise<ReconcileResult> {
  const result: ReconcileResult = {
    gates: 0,
    finished: [],
    expired: [],
    started: [],
    granted: [],
    completed: [],
  };
  const now = deps.now?.() ?? new Date();
  const finish = async (end: ExecutionEnd) => {
    await finishTransfer(deps, end);
    result.finished.push(end.name);
  };
  for (const found of await listGates(deps)) {
    result.gates += 1;
    const gate: GateId = { mapping: found.mapping, direction: found.direction };
    if (found.holder && found.holderExecutionArn) {
      const end = await describeEnd(deps, found.holderExecutionArn);
      if (end && end !== 'missing') await finish(end);
      else if ((found.leaseExpiresAt ?? Number.POSITIVE_INFINITY) * 1000 < now.getTime()) {
        if (await releaseExpiredLease(deps, gate, found.holder)) {
          logger.warn('lease expired; freed it', { ...gate, holder: found.holder });
          result.expired.push(found.holder);
        }
      }
    }
    if (found.pendingRun) {
      const arn = executionArnFor(deps.stateMachineArn, found.pendingRun);
      const end = await describeEnd(deps, arn);
      const since = Date.parse(found.pendingSince ?? '') || now.getTime();
      if (end === 'missing' && now.getTime() - since > LOST_START_MS && found.pendingRequest) {
        await startExecution(deps, found.pendingRun, found.pendingRequest);
        result.started.push(found.pendingRun);
      } else if (end && end !== 'missing') {
        await finish(end);
      }
    }
    const granted = await grantNext(deps, gate);
    if (granted) result.granted.push(granted);
  }
  for (const status of ['QUEUED', 'RUNNING'] as const) {
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await listRecords(deps, { status, limit: 100, startKey });
      for (const record of page.records) {
        if (!record.executionArn || FINAL_STATUSES.has(record.status)) continue;
        const end = await describeEnd(deps, record.executionArn);
        if (end && end !== 'missing' && !result.finished.includes(end.name)) await finish(end);
      }
      startKey = page.nextKey;
    } while (startKey);
  }
  const since = new Date(now.getTime() - UNSENT_COMPLETIONS_MS);
  for (const record of await listUnsentCompletions(deps, since)) {
    if (record.request.dryRun || !record.executionArn) continue;
    const end = ExecutionEnd.parse({
      executionArn: record.executionArn,
      name: record.id,
      status: record.status,
      error: record.error,
      cause: record.cause,
    });
    await putCompletionEvent(deps, record, end);
    result.completed.push(record.id);
  }
  return result;
}

/** Starts a run of the transfer state machine named `name` (idempotent for a running execution). */
export async function startExecution(
  deps: Pick<FinishDeps, 'sfn' | 'stateMachineArn'>,
  name: string,
  request: TransferRequest,
): Promise<string> {
  try {
    const out = await deps.sfn.send(
      new StartExecutionCommand({
        stateMachineArn: deps.stateMachineArn,
        name,
        input: JSON.stringify(request),
      }),
    );
    return out.executionArn!;
  } catch (error) {
    // The name was used before (an execution that already ended): that run covered this request.
    if (awsErrorName(error) === 'ExecutionAlreadyExists') return executionArnFor(deps.stateMachineArn, name);
    throw error;
  }
}
