/**
 * How `startLocalCloud` wires its parts: Lambda fault rules reach the in-process functions (and the
 * state machine's Retry sees them as Lambda service errors), and `schedules: true` fires the
 * project's rate() rules on the scaled clock.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GetExecutionHistoryCommand, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { afterEach, describe, expect, it } from 'vitest';
import { type LocalCloud, startLocalCloud } from '../../local/cloud.js';
import { localClients } from '../support/local-clients.js';

const CONFIG = fileURLToPath(new URL('../../fsx-transfer.config.yaml', import.meta.url));
let cloud: LocalCloud | undefined;
let dir: string | undefined;

async function start(options: { schedules?: boolean } = {}): Promise<LocalCloud> {
  dir = mkdtempSync(join(tmpdir(), 'fsx-transfer-wiring-'));
  cloud = await startLocalCloud({
    port: 0,
    dataDir: dir,
    configPath: CONFIG,
    timeScale: 0.01,
    quiet: true,
    ...options,
  });
  return cloud;
}

afterEach(async () => {
  await cloud?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
  cloud = undefined;
});

describe('startLocalCloud wiring', () => {
  it('applies lambda Invoke fault rules to the functions, and the state machine retries them', async () => {
    const local = await start();
    local.faults.add([
      {
        service: 'lambda',
        operation: 'Invoke',
        code: 'TooManyRequestsException',
        count: 1,
        match: { function: 'validate' },
      },
    ]);
    const sfn = localClients(local.endpoint).sfn();
    const stateMachineArn = 'arn:aws:states:us-east-1:000000000000:stateMachine:fsx-transfer-local-transfer';

    const { executionArn } = await sfn.send(
      new StartExecutionCommand({
        stateMachineArn,
        name: 'fault-retry',
        input: JSON.stringify({ mapping: 'extdata', direction: 'stage-in', dryRun: true }),
      }),
    );
    const finished = await local.sfn.waitForExecution(executionArn!);
    const history = await sfn.send(
      new GetExecutionHistoryCommand({ executionArn: executionArn!, maxResults: 1000 }),
    );

    expect(finished.status).toBe('SUCCEEDED');
    const failures = history.events!.filter((e) => e.type === 'LambdaFunctionFailed');
    expect(failures).toHaveLength(1);
    expect(failures[0]!.lambdaFunctionFailedEventDetails?.error).toBe('Lambda.TooManyRequestsException');
  }, 60_000);

  it('fires rate() schedule rules by itself when schedules are on', async () => {
    const local = await start({ schedules: true });

    const deadline = Date.now() + 20_000;
    while (
      !local.events.deliveries.some((d) => d.detailType === 'Scheduled Event') &&
      Date.now() < deadline
    ) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }

    expect(local.events.deliveries.some((d) => d.detailType === 'Scheduled Event')).toBe(true);
  }, 30_000);

  it('fires no schedule by itself when schedules are off (tests fire them on demand)', async () => {
    const local = await start();

    await new Promise((resolve) => setTimeout(resolve, 4_000));

    expect(local.events.deliveries.some((d) => d.detailType === 'Scheduled Event')).toBe(false);
  }, 30_000);
});
