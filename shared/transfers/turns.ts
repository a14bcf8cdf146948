/**
 * Taking turns at the gate. `WaitForTurn` (a `.waitForTaskToken` state right after `Validate`)
 * calls `waitForTurn`: the run either gets the lease at once (its task succeeds immediately) or
 * waits as a waiter; whoever frees the lease later calls `grantNext`, which gives it to the oldest
 * waiter and completes that waiter's task. The task output is the run's new deadline (its clock
 * starts when it gets its turn, not when it was queued).
 */
import { SendTaskSuccessCommand, type SFNClient } from '@aws-sdk/client-sfn';
import * as z from 'zod';
import { TransferRequest, Trigger } from '../config/schema.js';
import { awsErrorName } from '../errors.js';
import { parseInput } from '../input.js';
import { runMinutesOf } from '../plan/deadline.js';
import {
  acquireLease,
  clearPendingRun,
  enqueueWaiter,
  type GateId,
  listWaiters,
  readGate,
  releaseLease,
  removeWaiter,
} from './gate.js';
import { updateRecord } from './records.js';
import type { TableDeps } from './table.js';

export interface TurnDeps extends TableDeps {
  sfn: SFNClient;
}

/** What `WaitForTurn` passes (see statemachines/transfer.asl.json). */
export const WaitForTurnInput = z.object({
  taskToken: z.string().min(1),
  executionArn: z.string().min(1),
  request: z.looseObject({}),
  plan: z.looseObject({
    transferId: z.string().min(1),
    mapping: z.string().min(1),
    direction: z.enum(['stage-in', 'export']),
    method: z.enum(['dra', 'ec2']),
    methodReasons: z.array(z.looseObject({ code: z.string(), ok: z.boolean(), message: z.string() })),
    options: z.looseObject({ dryRun: z.boolean() }),
    timeouts: z.looseObject({
      transferMinutes: z.number().positive(),
      runMinutes: z.number().positive().optional(),
    }),
  }),
});
export type WaitForTurnInput = z.infer<typeof WaitForTurnInput>;

/** Step Functions errors meaning the waiting task no longer exists (execution ended, stopped, timed out). */
const TASK_GONE = new Set(['TaskDoesNotExist', 'TaskTimedOut', 'InvalidToken']);

export function deadlineFrom(now: Date, transferMinutes: number): string {
  return new Date(now.getTime() + transferMinutes * 60_000).toISOString();
}

/** Completes a waiting `WaitForTurn` task with the run's deadline. @returns false when the task is gone. */
async function completeTurn(deps: TurnDeps, taskToken: string, transferMinutes: number): Promise<boolean> {
  const now = deps.now?.() ?? new Date();
  try {
    await deps.sfn.send(
      new SendTaskSuccessCommand({ taskToken, output: JSON.stringify(deadlineFrom(now, transferMinutes)) }),
    );
    return true;
  } catch (error) {
    if (TASK_GONE.has(awsErrorName(error) ?? '')) return false;
    throw error;
  }
}

/**
 * The `WaitForTurn` step: takes the run's turn at the gate of its mapping and direction, or queues
 * it. Dry runs change nothing, so they never wait.
 * @returns whether the run got its turn now or waits (the state completes when it gets it).
 */
export async function waitForTurn(
  deps: TurnDeps,
  event: unknown,
): Promise<{ transferId: string; turn: 'granted' | 'queued' | 'dry-run'; waitingFor?: string }> {
  const input = parseInput(WaitForTurnInput, event, 'WaitForTurn input');
  const { plan } = input;
  // `request` is the execution's state: the request's own fields plus what states added (plan ...).
  const request = parseInput(z.object(TransferRequest.shape), input.request, 'transfer request');
  const gate: GateId = { mapping: plan.mapping, direction: plan.direction };
  const id = plan.transferId;
  // The run's time (its deadline and lease): transferMinutes, or longer when its estimate needs it.
  const transferMinutes = runMinutesOf(plan.timeouts);
  const create = {
    mapping: plan.mapping,
    direction: plan.direction,
    trigger: Trigger.catch('cli').parse(request.trigger),
    request,
  };
  const known = {
    executionArn: input.executionArn,
    method: plan.method,
    methodReasons: plan.methodReasons,
  };
  if (plan.options.dryRun) {
    await completeTurn(deps, input.taskToken, transferMinutes);
    return { transferId: id, turn: 'dry-run' };
  }
  const holder = { transferId: id, executionArn: input.executionArn, transferMinutes };
  if (await acquireLease(deps, gate, holder)) {
    await startTurn(deps, gate, id, input.taskToken, transferMinutes, { ...known, ...create });
    return { transferId: id, turn: 'granted' };
  }
  const now = deps.now?.() ?? new Date();
  await enqueueWaiter(deps, gate, {
    transferId: id,
    executionArn: input.executionArn,
    taskToken: input.taskToken,
    enqueuedAt: now.toISOString(),
    transferMinutes,
  });
  const current = await readGate(deps, gate);
  await updateRecord(deps, id, { ...known, status: 'QUEUED', waitingFor: current.holder }, create);
  // The holder may have released between our first attempt and the enqueue, finding no waiter:
  // try once more, so a free gate never leaves a waiter behind.
  if (await acquireLease(deps, gate, holder)) {
    await removeWaiter(deps, gate, id);
    await startTurn(deps, gate, id, input.taskToken, transferMinutes, { ...known, ...create });
    return { transferId: id, turn: 'granted' };
  }
  return { transferId: id, turn: 'queued', ...(current.holder ? { waitingFor: current.holder } : {}) };
}

/** Bookkeeping once `id` holds the lease: frees the coalescing slot, records RUNNING, completes the task. */
async function startTurn(
  deps: TurnDeps,
  gate: GateId,
  id: string,
  taskToken: string,
  transferMinutes: number,
  create: Parameters<typeof updateRecord>[3] & Record<string, unknown>,
): Promise<boolean> {
  // From now on the run's listing sees every object that exists: events arriving later need a new run.
  await clearPendingRun(deps, gate, id);
  const now = deps.now?.() ?? new Date();
  const { mapping, direction, trigger, request, ...known } = create;
  await updateRecord(
    deps,
    id,
    { ...known, status: 'RUNNING', startedAt: now.toISOString() },
    { mapping, direction, trigger, request },
    ['waitingFor'],
  );
  return completeTurn(deps, taskToken, transferMinutes);
}

/**
 * Gives a free gate to the oldest waiter whose execution still waits (waiters of stopped
 * executions are dropped on the way).
 * @returns the transfer id that got the turn, or undefined (gate held, or nobody waits).
 */
export async function grantNext(deps: TurnDeps, gate: GateId): Promise<string | undefined> {
  for (;;) {
    const current = await readGate(deps, gate);
    if (current.holder && (current.leaseExpiresAt ?? 0) * 1000 > (deps.now?.() ?? new Date()).getTime())
      return undefined;
    const [next] = await listWaiters(deps, gate);
    if (!next) return undefined;
    const holder = {
      transferId: next.transferId,
      executionArn: next.executionArn,
      transferMinutes: next.transferMinutes,
    };
    if (!(await acquireLease(deps, gate, holder))) return undefined;
    await removeWaiter(deps, gate, next.transferId);
    // The waiter's record exists (written when it queued); these only fill a record lost meanwhile.
    const granted = await startTurn(deps, gate, next.transferId, next.taskToken, next.transferMinutes, {
      mapping: gate.mapping,
      direction: gate.direction,
      trigger: 'cli',
      request: { mapping: gate.mapping, direction: gate.direction },
    });
    if (granted) return next.transferId;
    // Its execution is gone (stopped while queued): free the gate again and try the next waiter.
    await releaseLease(deps, gate, next.transferId);
  }
}
