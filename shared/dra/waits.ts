/**
 * DRA waits without polling cost. `WaitForAssociation`, `Start*Task` (while the file system is busy
 * with another task), `WaitFor*Task`, `WaitForFileListing`, `WaitForPreload`,
 * `WaitForPreloadCommand` and `WaitForChecksumsCommand` are `lambda:invoke.waitForTaskToken` states: their
 * function checks once (`startWait`) and, when the association, task or command is not done yet,
 * stores the task token in the transfers table (item `DRA_WAITS` / `WAIT#<execution>#<state>`; the
 * transfer instance's role cannot read the table). FSx has no task-completion event, so one
 * scheduled poller (functions/poll-dra-waits, every minute) checks every stored wait
 * (`pollWaits`) and completes it with SendTaskSuccess, or SendTaskFailure with the same typed
 * error the check throws (DraMisconfiguredError, DataRepositoryTaskFailedError,
 * TransferTimeoutError at the run's deadline ...), and sends SendTaskHeartbeat while it goes on.
 * A wait costs one state transition however long it lasts; the state's HeartbeatSeconds detects a
 * poller that stopped or a lost token, its TimeoutSecondsPath bounds it by the plan.
 */
import {
  SendTaskFailureCommand,
  SendTaskHeartbeatCommand,
  SendTaskSuccessCommand,
  type SFNClient,
} from '@aws-sdk/client-sfn';
import { DeleteCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod';
import { isTransientAwsError, rethrowTransient } from '../aws/transient.js';
import { awsErrorName, NotReadyYetError } from '../errors.js';
import { TASK_GONE } from '../ssm/task-tokens.js';
import { epochSeconds, queryPartition, type TableDeps } from '../transfers/table.js';
import {
  StartTaskInput,
  WaitForAssociationInput,
  WaitForLustreCommandInput,
  WaitForTaskInput,
} from './steps.js';

/** The partition of the wait items in the transfers table. */
export const WAITS_PARTITION = 'DRA_WAITS';
export const waitKey = (executionArn: string, stateName: string) => ({
  pk: WAITS_PARTITION,
  sk: `WAIT#${executionArn}#${stateName}`,
});
/**
 * A stored wait expires (TTL) this long after the run's deadline, at which the poller fails it
 * (a lost item would leave its state to the heartbeat and TimeoutSecondsPath backstops).
 */
const WAIT_TTL_DAYS_AFTER_DEADLINE = 2;

/** What every waiting state adds to its function's input (`$$.Task.Token`, `$$.Execution.Id`, its own name). */
const Callback = {
  taskToken: z.string().min(1).max(1024),
  executionArn: z.string().min(1),
  stateName: z.string().min(1),
};

export const AssociationWait = WaitForAssociationInput.extend(Callback);
export const TaskWait = WaitForTaskInput.extend(Callback);
/** A task start that waits for the file system to be free (`reportPath`: the config's, for the poller). */
export const StartTaskWait = StartTaskInput.extend(Callback).extend({ reportPath: z.string().optional() });
export const LustreCommandWait = WaitForLustreCommandInput.extend(Callback);

/** A stored wait: which check to run (`kind`), its input, and the token to complete. */
export const WaitRecord = z.discriminatedUnion('kind', [
  AssociationWait.extend({ kind: z.literal('association') }),
  TaskWait.extend({ kind: z.literal('task') }),
  StartTaskWait.extend({ kind: z.literal('start-task') }),
  LustreCommandWait.extend({ kind: z.literal('lustre-command') }),
]);
export type WaitRecord = z.infer<typeof WaitRecord>;
export type WaitKind = WaitRecord['kind'];

/**
 * One check of what a wait waits for: the refreshed state when done; throws NotReadyYetError while
 * it goes on, a typed error when it failed (or the run's deadline passed).
 */
export type WaitCheck<R extends WaitRecord = WaitRecord> = (record: R) => Promise<unknown>;

export interface WaitDeps extends TableDeps {
  sfn: SFNClient;
}

/**
 * The waiting state's function: checks once and completes the state at once when done (a reused
 * AVAILABLE association, a task that already ended), else stores the wait for the poller.
 * @returns `waiting: true` when the poller takes over.
 * @throws the check's typed error (the state fails with it, as it would from the poller),
 *   TransientAwsError when the wait cannot be stored (the state retries with a new token).
 */
export async function startWait<R extends WaitRecord>(
  deps: WaitDeps,
  record: R,
  check: WaitCheck<R>,
): Promise<{ waiting: boolean }> {
  let result: unknown;
  try {
    result = await check(record);
  } catch (error) {
    // Not done, or not checkable now (throttling): the poller checks again within a minute.
    if (!(error instanceof NotReadyYetError) && !isTransientAwsError(error)) throw error;
    await storeWait(deps, record);
    return { waiting: true };
  }
  try {
    await deps.sfn.send(
      new SendTaskSuccessCommand({ taskToken: record.taskToken, output: JSON.stringify(result) }),
    );
  } catch (error) {
    rethrowTransient(error, `completing ${record.stateName}`);
  }
  return { waiting: false };
}

async function storeWait(store: TableDeps, record: WaitRecord): Promise<void> {
  const now = store.now?.() ?? new Date();
  try {
    await store.db.send(
      new PutCommand({
        TableName: store.table,
        Item: {
          ...waitKey(record.executionArn, record.stateName),
          record,
          expiresAt: waitExpiresAt(record, now),
        },
      }),
    );
  } catch (error) {
    rethrowTransient(error, `storing the wait of ${record.stateName}`);
  }
}

/** Epoch seconds at which a stored wait may expire: two days after the later of now and its run's deadline. */
export function waitExpiresAt(record: Pick<WaitRecord, 'plan'>, now: Date): number {
  const deadline = Date.parse(record.plan.deadline);
  const from = Number.isNaN(deadline) ? now : new Date(Math.max(deadline, now.getTime()));
  return epochSeconds(from, WAIT_TTL_DAYS_AFTER_DEADLINE);
}

async function deleteWait(store: TableDeps, record: WaitRecord): Promise<void> {
  try {
    await store.db.send(
      new DeleteCommand({ TableName: store.table, Key: waitKey(record.executionArn, record.stateName) }),
    );
  } catch (error) {
    rethrowTransient(error, `deleting the wait of ${record.stateName}`);
  }
}

/** Every stored wait (an item that does not parse is skipped: it can complete nothing). */
export async function listWaits(store: TableDeps): Promise<WaitRecord[]> {
  try {
    const items = await queryPartition(store, WAITS_PARTITION);
    return items.flatMap((item) => {
      const parsed = WaitRecord.safeParse(item.record);
      return parsed.success ? [parsed.data] : [];
    });
  } catch (error) {
    rethrowTransient(error, 'listing the DRA waits');
  }
}

export type WaitOutcome = 'succeeded' | 'failed' | 'heartbeat' | 'task-gone' | 'error';

/** The check of each kind of wait (the poller runs them all). */
export type WaitChecks = { [K in WaitKind]: WaitCheck<Extract<WaitRecord, { kind: K }>> };

/**
 * Checks one wait and reports it: SendTaskSuccess with the refreshed state, SendTaskFailure with
 * the check's error name and message, or SendTaskHeartbeat while it goes on (also when the check
 * was throttled: the thing waited for is not known to have ended). The wait is deleted once
 * reported, or when its task is gone (the execution ended, was stopped or timed out).
 * @throws TransientAwsError when Step Functions or the table could not be reached (next round).
 */
export async function reportWait(
  deps: WaitDeps,
  record: WaitRecord,
  checks: WaitChecks,
): Promise<WaitOutcome> {
  const check = checks[record.kind] as WaitCheck;
  let command: SendTaskSuccessCommand | SendTaskFailureCommand | SendTaskHeartbeatCommand;
  let outcome: WaitOutcome;
  try {
    const result = await check(record);
    command = new SendTaskSuccessCommand({ taskToken: record.taskToken, output: JSON.stringify(result) });
    outcome = 'succeeded';
  } catch (error) {
    if (error instanceof NotReadyYetError || isTransientAwsError(error)) {
      command = new SendTaskHeartbeatCommand({ taskToken: record.taskToken });
      outcome = isTransientAwsError(error) ? 'error' : 'heartbeat';
    } else {
      const failure = error as Error;
      command = new SendTaskFailureCommand({
        taskToken: record.taskToken,
        error: failure.name || 'Error',
        cause: String(failure.message).slice(0, 32_000),
      });
      outcome = 'failed';
    }
  }
  try {
    await deps.sfn.send(command as SendTaskSuccessCommand);
  } catch (error) {
    if (!TASK_GONE.has(awsErrorName(error) ?? '')) rethrowTransient(error, `reporting ${record.stateName}`);
    await deleteWait(deps, record);
    return 'task-gone';
  }
  if (outcome === 'succeeded' || outcome === 'failed') await deleteWait(deps, record);
  return outcome;
}

export interface PollResult {
  waits: number;
  reports: { executionArn: string; stateName: string; outcome: WaitOutcome; message?: string }[];
}

/**
 * One round of the scheduled poller: reports every stored wait. One wait that cannot be reported
 * this round (throttling) never keeps the others from being reported; the next round retries it.
 */
export async function pollWaits(deps: WaitDeps, checks: WaitChecks): Promise<PollResult> {
  const waits = await listWaits(deps);
  const reports: PollResult['reports'] = [];
  for (const record of waits) {
    const where = { executionArn: record.executionArn, stateName: record.stateName };
    try {
      reports.push({ ...where, outcome: await reportWait(deps, record, checks) });
    } catch (error) {
      reports.push({ ...where, outcome: 'error', message: (error as Error).message });
    }
  }
  return { waits: waits.length, reports };
}
