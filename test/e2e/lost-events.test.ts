/**
 * What repairs the best-effort paths: Step Functions status-change events and SSM command events
 * may be lost or come before the state they complete, and an S3-event run's start may be lost.
 * The 5-minute reconcile of finish-transfer finishes runs whose end it never heard of and starts
 * runs whose start was lost; send-command reports a command that ended before its task token was
 * stored.
 */
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getDynamoDb, getS3 } from '../../shared/aws/clients.js';
import { claimPendingRun, readGate } from '../../shared/transfers/gate.js';
import { transfersTable } from '../../shared/transfers/table.js';
import {
  BUCKET,
  eventually,
  runTransfer,
  startTransfer,
  startWorld,
  type World,
  waitForExecution,
} from './ec2-helpers.js';

const GATE = { mapping: 'blended-tropomi', direction: 'stage-in' } as const;
const table = () => ({ db: getDynamoDb(), table: transfersTable() });

let world: World;

beforeAll(async () => {
  // 0.02 (not the usual 0.01): the last test needs a transfer command (the real AWS CLI, seconds of
  // real time on a busy machine) to end within a delay that stays under the 900 s heartbeat.
  world = await startWorld({ timeScale: 0.02 });
  await getS3().send(
    new PutObjectCommand({ Bucket: BUCKET, Key: 'blended-tropomi/2019/orbit.nc', Body: 'orbit' }),
  );
}, 60_000);

afterAll(async () => {
  await world?.stop();
}, 60_000);

const completionOf = (name: string) =>
  world.cloud.eventLog.find(
    (e) => e.source === 'fsx-transfer' && (e.detail as { transferId?: string }).transferId === name,
  );

describe('lost events', () => {
  it('finishes a run whose status-change event was lost on the next reconcile, and frees its turn', async () => {
    // finish-transfer fails on the SUCCEEDED event (EventBridge does not retry it here).
    world.cloud.faults.add({
      service: 'lambda',
      operation: 'Invoke',
      match: { function: 'finish-transfer' },
      code: 'ServiceException',
      count: 1,
    });

    const run = await runTransfer(world, GATE);
    const name = run.executionArn.split(':').pop()!;
    await world.cloud.idle();
    const before = await readGate(table(), GATE);
    await world.cloud.events.fireSchedule('finish-transfer');
    await world.cloud.idle();

    expect(run.status).toBe('SUCCEEDED');
    expect(before.holder).toBe(name);
    expect(completionOf(name)).toMatchObject({ 'detail-type': 'Transfer Succeeded' });
    expect((await readGate(table(), GATE)).holder).toBeUndefined();
  }, 120_000);

  it('starts an S3-event run whose start was lost more than 2 minutes ago on the next reconcile', async () => {
    const name = `s3-blended-tropomi-${Date.now().toString(16)}`;
    const lostAt = new Date(Date.now() - 3 * 60_000);
    await claimPendingRun(
      { ...table(), now: () => lostAt },
      GATE,
      name,
      { ...GATE, trigger: 's3-event', transferId: name },
      1,
    );

    await world.cloud.events.fireSchedule('finish-transfer');
    const arn = `${world.stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;
    const run = await waitForExecution(arn, 120_000);

    expect(run.status).toBe('SUCCEEDED');
    expect(run.states).toContain('RunTransferCommand');
  }, 180_000);

  it('reports a transfer command that ended before its task token was stored', async () => {
    // Storing the token takes long enough for the command to end first (700 s: 14 s real, under
    // RunTransferCommand's 900 s heartbeat); its status event then finds no token, and
    // send-command reports the ended command itself.
    world.cloud.faults.add({
      service: 'dynamodb',
      operation: 'PutItem',
      match: { 'Item.pk.S': 'TOKENS' },
      delayMs: 700_000,
      count: 1,
    });

    const executionArn = await startTransfer(world, GATE);
    const run = await waitForExecution(executionArn, 120_000);
    await eventually(
      async () =>
        world.cloud.lambdas.invocations.some((i) => i.functionName.endsWith('-send-command') && i.endedAt),
      'send-command returned',
    );
    const sent = world.cloud.lambdas.invocations.filter(
      (i) => i.functionName.endsWith('-send-command') && i.result !== undefined,
    );

    expect(run.status).toBe('SUCCEEDED');
    expect(sent.at(-1)?.result).toMatchObject({ sent: true, reported: 'succeeded' });
  }, 180_000);
});
