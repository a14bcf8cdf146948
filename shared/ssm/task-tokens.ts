/**
 * Task tokens of `.waitForTaskToken` states that wait for a transfer command, kept in the transfers
 * table (item `TOKENS` / `TOKEN#<commandId>`, see shared/transfers/table.ts): a token lets its
 * holder complete the state, and the transfer instance's role cannot read the table (unlike
 * Parameter Store, which the SSM agent's usual managed policy opens to every instance). The command
 * callback (SSM status event), the scheduled poller and the sender itself all complete the task
 * through `reportCommandToTask`, so whichever sees the end of the command first reports it and the
 * others find nothing left to do.
 */
import {
  SendTaskFailureCommand,
  SendTaskHeartbeatCommand,
  SendTaskSuccessCommand,
  type SFNClient,
} from '@aws-sdk/client-sfn';
import type { SSMClient } from '@aws-sdk/client-ssm';
import { DeleteCommand, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { rethrowTransient } from '../aws/transient.js';
import { awsErrorName } from '../errors.js';
import {
  epochSeconds,
  queryPartition,
  type TableDeps,
  TOKEN_TTL_DAYS,
  TOKENS_PARTITION,
  tokenKey,
} from '../transfers/table.js';
import { commandResult, getInvocation, invocationError, invocationOutcome } from './commands.js';
import { TRANSFER_DOCUMENT_STEPS } from './document.js';

export interface TaskTokenRecord {
  taskToken: string;
  commandId: string;
  instanceId: string;
  /** Where the instance wrote the file system listing (passed on in the task output). */
  listingUri?: string;
  executionArn?: string;
}

/** Stores the token of the state waiting for `record.commandId` (overwrites: a retried state has a new token). */
export async function storeTaskToken(store: TableDeps, record: TaskTokenRecord): Promise<void> {
  const now = store.now?.() ?? new Date();
  try {
    await store.db.send(
      new PutCommand({
        TableName: store.table,
        Item: { ...tokenKey(record.commandId), record, expiresAt: epochSeconds(now, TOKEN_TTL_DAYS) },
      }),
    );
  } catch (error) {
    rethrowTransient(error, `storing the task token for command ${record.commandId}`);
  }
}

/** The stored record for a command, or undefined when none is stored (not ours, or already reported). */
export async function readTaskToken(
  store: TableDeps,
  commandId: string,
): Promise<TaskTokenRecord | undefined> {
  try {
    const out = await store.db.send(
      new GetCommand({ TableName: store.table, Key: tokenKey(commandId), ConsistentRead: true }),
    );
    return out.Item?.record as TaskTokenRecord | undefined;
  } catch (error) {
    rethrowTransient(error, `reading the task token for command ${commandId}`);
  }
}

export async function deleteTaskToken(store: TableDeps, commandId: string): Promise<void> {
  try {
    await store.db.send(new DeleteCommand({ TableName: store.table, Key: tokenKey(commandId) }));
  } catch (error) {
    rethrowTransient(error, `deleting the task token for command ${commandId}`);
  }
}

/** Every stored token record (for the scheduled poller). */
export async function listTaskTokens(store: TableDeps): Promise<TaskTokenRecord[]> {
  try {
    const items = await queryPartition(store, TOKENS_PARTITION);
    return items.flatMap((item) => (item.record ? [item.record as TaskTokenRecord] : []));
  } catch (error) {
    rethrowTransient(error, 'listing stored task tokens');
  }
}

/** What reporting a command needs: SSM, Step Functions and the table holding the tokens. */
export interface ReportDeps extends TableDeps {
  ssm: SSMClient;
  sfn: SFNClient;
}

/** Step Functions errors meaning the waiting task no longer exists (execution ended, stopped, timed out). */
export const TASK_GONE = new Set(['TaskDoesNotExist', 'TaskTimedOut', 'InvalidToken']);

export type ReportOutcome = 'no-token' | 'running' | 'heartbeat' | 'succeeded' | 'failed' | 'task-gone';

/**
 * Reports the state of a transfer command to the state machine waiting for it: SendTaskSuccess with
 * the command result, SendTaskFailure with `CommandFailedError` / `CommandTimedOutError` and the
 * command's last errors, or (when `heartbeat` is set and the command still runs) SendTaskHeartbeat.
 * The token is deleted once reported or when the task is gone.
 * @returns what was done.
 * @throws TransientAwsError on throttling (the event source retries).
 */
export async function reportCommandToTask(
  deps: ReportDeps,
  input: { commandId: string; heartbeat?: boolean; record?: TaskTokenRecord },
): Promise<ReportOutcome> {
  const record = input.record ?? (await readTaskToken(deps, input.commandId));
  if (!record) return 'no-token';
  const invocation = await getInvocation(
    deps.ssm,
    record.commandId,
    record.instanceId,
    TRANSFER_DOCUMENT_STEPS,
  );
  const outcome = invocationOutcome(invocation);
  try {
    if (outcome === 'running') {
      if (!input.heartbeat) return 'running';
      await deps.sfn.send(new SendTaskHeartbeatCommand({ taskToken: record.taskToken }));
      return 'heartbeat';
    }
    if (outcome === 'success') {
      await deps.sfn.send(
        new SendTaskSuccessCommand({
          taskToken: record.taskToken,
          output: JSON.stringify(commandResult(invocation, record.listingUri)),
        }),
      );
    } else {
      const error = invocationError(invocation);
      await deps.sfn.send(
        new SendTaskFailureCommand({
          taskToken: record.taskToken,
          error: error.name,
          cause: error.message.slice(0, 32_000),
        }),
      );
    }
  } catch (error) {
    if (!TASK_GONE.has(awsErrorName(error) ?? ''))
      rethrowTransient(error, 'reporting the command to Step Functions');
    await deleteTaskToken(deps, record.commandId);
    return 'task-gone';
  }
  await deleteTaskToken(deps, record.commandId);
  return outcome === 'success' ? 'succeeded' : 'failed';
}
