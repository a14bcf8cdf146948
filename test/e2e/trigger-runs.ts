/**
 * Helpers of the trigger end-to-end tests (S3 events, the transfers API, the gate): executions of
 * the transfer state machine, waiting until everything settled, the event counters, the API.
 */
import { spawn } from 'node:child_process';
import {
  type ExecutionListItem,
  GetExecutionHistoryCommand,
  ListExecutionsCommand,
} from '@aws-sdk/client-sfn';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { transfersApi } from '../../shared/api/client.js';
import { getDynamoDb, getSfn } from '../../shared/aws/clients.js';
import { transfersTable } from '../../shared/transfers/table.js';
import { sleep, type World } from './ec2-helpers.js';

/** Every execution of the transfer state machine (newest first). */
export async function executions(world: World): Promise<ExecutionListItem[]> {
  const all: ExecutionListItem[] = [];
  let nextToken: string | undefined;
  do {
    const page = await getSfn().send(
      new ListExecutionsCommand({ stateMachineArn: world.stateMachineArn, nextToken, maxResults: 1000 }),
    );
    all.push(...(page.executions ?? []));
    nextToken = page.nextToken;
  } while (nextToken);
  return all;
}

/** Executions started by S3 events for `mapping`. */
export async function eventRuns(world: World, mapping: string): Promise<ExecutionListItem[]> {
  const name = new RegExp(`^s3-${mapping}-[0-9a-f]+$`);
  return (await executions(world)).filter((e) => name.test(e.name ?? ''));
}

/**
 * Waits until the local cloud is quiet: no event or queue message in flight and no execution
 * running, twice in a row (a run that ends can hand its turn to a waiting one).
 */
export async function settled(world: World, timeoutMs = 240_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  let quietRounds = 0;
  while (Date.now() < until) {
    await world.cloud.idle(Math.max(1, until - Date.now()));
    const running = (await executions(world)).filter((e) => e.status === 'RUNNING');
    quietRounds = running.length === 0 ? quietRounds + 1 : 0;
    if (quietRounds >= 2) return;
    await sleep(250);
  }
  const running = (await executions(world)).filter((e) => e.status === 'RUNNING').map((e) => e.name);
  throw new Error(`still running after ${timeoutMs} ms: ${running.join(', ')}`);
}

/** Today's S3 event counters (item STATS#EVENTS of the transfers table). */
export async function eventCounters(): Promise<Record<string, number>> {
  const out = await getDynamoDb().send(
    new GetCommand({
      TableName: transfersTable(),
      Key: { pk: 'STATS#EVENTS', sk: new Date().toISOString().slice(0, 10) },
    }),
  );
  const { pk: _pk, sk: _sk, ...counters } = out.Item ?? {};
  return counters as Record<string, number>;
}

/** `after - before` for every counter. */
export function counterDelta(
  before: Record<string, number>,
  after: Record<string, number>,
): Record<string, number> {
  return Object.fromEntries(
    Object.keys({ ...before, ...after })
      .map((key) => [key, (after[key] ?? 0) - (before[key] ?? 0)] as const)
      .filter(([, value]) => value !== 0),
  );
}

/** When each run got its turn and when it ended (from its history). */
export async function turnWindow(executionArn: string): Promise<{ granted?: Date; ended?: Date }> {
  const page = await getSfn().send(new GetExecutionHistoryCommand({ executionArn, maxResults: 1000 }));
  const events = page.events ?? [];
  const granted = events.find((e) => e.stateExitedEventDetails?.name === 'WaitForTurn')?.timestamp;
  const ended = events.find((e) =>
    ['ExecutionSucceeded', 'ExecutionFailed', 'ExecutionAborted', 'ExecutionTimedOut'].includes(
      String(e.type),
    ),
  )?.timestamp;
  return { granted, ended };
}

/** The transfers API of the world's local cloud, signed with its test credentials (or others). */
export function api(world: World, credentials = { accessKeyId: 'test', secretAccessKey: 'test' }) {
  return transfersApi(world.cloud.apiUrl, { region: world.cloud.region, credentials });
}

/** Runs the AWS CLI against the local cloud. */
export function awsCli(
  world: World,
  args: string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('aws', ['--endpoint-url', world.cloud.endpoint, ...args], {
      env: { ...process.env, ...world.cloud.env, AWS_PAGER: '' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
    });
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
  });
}
