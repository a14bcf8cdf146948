/**
 * Task tokens of `.waitForTaskToken` states that wait for a transfer command, kept in Parameter
 * Store under `/fsx-transfer/<stage>/tokens/<commandId>` (SecureString: a token lets its holder
 * complete the state). The command callback (SSM status event), the scheduled poller and the
 * sender itself all complete the task through `reportCommandToTask`, so whichever sees the end of
 * the command first reports it and the others find nothing left to do.
 */
import {
  SendTaskFailureCommand,
  SendTaskHeartbeatCommand,
  SendTaskSuccessCommand,
  type SFNClient,
} from '@aws-sdk/client-sfn';
import {
  DeleteParameterCommand,
  GetParameterCommand,
  PutParameterCommand,
  paginateGetParametersByPath,
  type SSMClient,
} from '@aws-sdk/client-ssm';
import { rethrowTransient } from '../aws/transient.js';
import { awsErrorName } from '../errors.js';
import { commandResult, getInvocation, invocationError, invocationOutcome } from './commands.js';

export interface TaskTokenRecord {
  taskToken: string;
  commandId: string;
  instanceId: string;
  /** Where the instance wrote the file system listing (passed on in the task output). */
  listingUri?: string;
  executionArn?: string;
}

export function tokenPath(stage: string): string {
  return `/fsx-transfer/${stage}/tokens`;
}

export function tokenParameterName(stage: string, commandId: string): string {
  return `${tokenPath(stage)}/${commandId}`;
}

/** Stores the token of the state waiting for `record.commandId` (overwrites: a retried state has a new token). */
export async function storeTaskToken(ssm: SSMClient, stage: string, record: TaskTokenRecord): Promise<void> {
  try {
    await ssm.send(
      new PutParameterCommand({
        Name: tokenParameterName(stage, record.commandId),
        Value: JSON.stringify(record),
        Type: 'SecureString',
        Overwrite: true,
        Description: 'fsx-transfer: task token waiting for this transfer command',
      }),
    );
  } catch (error) {
    rethrowTransient(error, `storing the task token for command ${record.commandId}`);
  }
}

/** The stored record for a command, or undefined when none is stored (not ours, or already reported). */
export async function readTaskToken(
  ssm: SSMClient,
  stage: string,
  commandId: string,
): Promise<TaskTokenRecord | undefined> {
  try {
    const out = await ssm.send(
      new GetParameterCommand({ Name: tokenParameterName(stage, commandId), WithDecryption: true }),
    );
    return out.Parameter?.Value ? (JSON.parse(out.Parameter.Value) as TaskTokenRecord) : undefined;
  } catch (error) {
    if (awsErrorName(error) === 'ParameterNotFound') return undefined;
    rethrowTransient(error, `reading the task token for command ${commandId}`);
  }
}

export async function deleteTaskToken(ssm: SSMClient, stage: string, commandId: string): Promise<void> {
  try {
    await ssm.send(new DeleteParameterCommand({ Name: tokenParameterName(stage, commandId) }));
  } catch (error) {
    if (awsErrorName(error) === 'ParameterNotFound') return;
    rethrowTransient(error, `deleting the task token for command ${commandId}`);
  }
}

/** Every stored token record of the stage (for the scheduled poller). */
export async function listTaskTokens(ssm: SSMClient, stage: string): Promise<TaskTokenRecord[]> {
  const records: TaskTokenRecord[] = [];
  try {
    const pages = paginateGetParametersByPath(
      { client: ssm },
      { Path: tokenPath(stage), Recursive: false, WithDecryption: true },
    );
    for await (const page of pages) {
      for (const parameter of page.Parameters ?? []) {
        if (parameter.Value) records.push(JSON.parse(parameter.Value) as TaskTokenRecord);
      }
    }
  } catch (error) {
    rethrowTransient(error, 'listing stored task tokens');
  }
  return records;
}

/** Step Functions errors meaning the waiting task no longer exists (execution ended, stopped, timed out). */
const TASK_GONE = new Set(['TaskDoesNotExist', 'TaskTimedOut', 'InvalidToken']);

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
  deps: { ssm: SSMClient; sfn: SFNClient },
  input: { stage: string; commandId: string; heartbeat?: boolean; record?: TaskTokenRecord },
): Promise<ReportOutcome> {
  const record = input.record ?? (await readTaskToken(deps.ssm, input.stage, input.commandId));
  if (!record) return 'no-token';
  const invocation = await getInvocation(deps.ssm, record.commandId, record.instanceId);
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
    await deleteTaskToken(deps.ssm, input.stage, record.commandId);
    return 'task-gone';
  }
  await deleteTaskToken(deps.ssm, input.stage, record.commandId);
  return outcome === 'success' ? 'succeeded' : 'failed';
}
