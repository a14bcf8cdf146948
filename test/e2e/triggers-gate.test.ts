/**
 * One gate for every trigger: runs of one mapping and direction never overlap, whoever started
 * them (S3 events, the API, a schedule, the CLI's start), and the next one runs after the first
 * ends, also when it fails, is aborted or times out. Every run ends with a completion event.
 */
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { StopExecutionCommand } from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getS3, getSfn } from '../../shared/aws/clients.js';
import { startTransfer as startFromCli } from '../../shared/sfn/executions.js';
import {
  BUCKET,
  configYaml,
  eventually,
  FS_ID,
  putTree,
  startTransfer,
  startWorld,
  type World,
  waitForExecution,
} from './ec2-helpers.js';
import { api, executions, settled, turnWindow } from './trigger-runs.js';

const GATED = `  - name: gated
    fileSystemId: ${FS_ID}
    fsxPath: /gated
    s3Uri: s3://${BUCKET}/gated
    directions: [stage-in]
    method: ec2
    autoStage: true
    schedules:
      - { expression: 'cron(0 2 * * ? *)', direction: stage-in }
`;

/** The turn windows [granted, ended] of these executions never overlap, and each got its turn. */
async function expectOneAtATime(executionArns: string[]): Promise<void> {
  const windows = await Promise.all(executionArns.map(turnWindow));
  const granted = windows
    .filter((w) => w.granted)
    .sort((a, b) => a.granted!.getTime() - b.granted!.getTime());
  for (let i = 1; i < granted.length; i++) {
    expect(granted[i]!.granted!.getTime()).toBeGreaterThanOrEqual(granted[i - 1]!.ended!.getTime());
  }
}

/** Starts a run once `first` holds its turn (the gate serves runs in the order they reach it). */
async function startBehind(world: World, first: string, request: Record<string, unknown>): Promise<string> {
  await eventually(
    async () => Boolean((await turnWindow(first)).granted),
    'the first run has its turn',
    60_000,
  );
  return startTransfer(world, request);
}

const completionOf = (world: World, name: string) =>
  world.cloud.eventLog.find(
    (e) => e.source === 'fsx-transfer' && (e.detail as { transferId?: string }).transferId === name,
  );

describe('the gate, whoever starts the runs', () => {
  let world: World;

  beforeAll(async () => {
    world = await startWorld({ config: configYaml({ extraMappings: GATED }) });
  }, 60_000);

  afterAll(async () => {
    await world?.stop();
  }, 60_000);

  it('runs an S3-event run, an API request, a schedule and a CLI start of one mapping one at a time', async () => {
    // Each transfer command takes a few seconds, so ungated runs would overlap.
    world.cloud.faults.add({ service: 'ssm', behavior: 'command-slow', delayMs: 150_000, count: 4 });
    await getS3().send(new PutObjectCommand({ Bucket: BUCKET, Key: 'gated/first.nc', Body: 'first' }));
    const fromApi = await api(world).post('/transfers', { mapping: 'gated', direction: 'stage-in' });
    expect(await world.cloud.events.fireTransferSchedules('gated', 'stage-in')).toHaveLength(1);
    await startFromCli(getSfn(), world.stateMachineArn, {
      mapping: 'gated',
      direction: 'stage-in',
      trigger: 'cli',
    });
    // Which run reaches the gate first depends on how fast each way in is; the others wait.
    let queued: Record<string, unknown> | undefined;
    await eventually(async () => {
      for (const run of await executions(world)) {
        const body = (await api(world).get(`/transfers/${run.name}`)).body;
        if (body.waitingFor) queued = body;
      }
      return queued !== undefined;
    }, 'a later run says it is QUEUED behind another');
    await settled(world);

    const runs = (await executions(world)).filter((e) => e.status !== 'RUNNING');
    const triggers = await Promise.all(
      runs.map(async (r) => (await api(world).get(`/transfers/${r.name}`)).body),
    );
    expect(new Set(triggers.map((t) => t.trigger))).toEqual(new Set(['s3-event', 'api', 'schedule', 'cli']));
    expect(triggers.every((t) => t.status === 'SUCCEEDED')).toBe(true);
    expect(queued).toMatchObject({
      status: 'QUEUED',
      statusReason: expect.stringMatching(/waiting for its turn/),
    });
    await expectOneAtATime(runs.map((r) => r.executionArn!));
    for (const run of runs)
      expect(completionOf(world, run.name!)?.['detail-type'], run.name).toBe('Transfer Succeeded');
    expect(fromApi.status).toBe(202);
  }, 240_000);

  it('runs the next one after the first fails', async () => {
    world.cloud.faults.add({ service: 'ssm', behavior: 'command-exit', exitCode: 2, count: 1 });
    const first = await startTransfer(world, { mapping: 'gated', direction: 'stage-in' });
    const second = await startBehind(world, first, { mapping: 'gated', direction: 'stage-in' });

    const [a, b] = [await waitForExecution(first, 120_000), await waitForExecution(second, 120_000)];

    expect([a.status, b.status]).toEqual(['FAILED', 'SUCCEEDED']);
    await expectOneAtATime([first, second]);
    expect(completionOf(world, first.split(':').pop()!)).toMatchObject({
      'detail-type': 'Transfer Failed',
      detail: { status: 'FAILED', error: 'CommandFailedError' },
    });
  }, 180_000);

  it('runs the next one after the first is aborted', async () => {
    world.cloud.faults.add({ service: 'ssm', behavior: 'command-slow', delayMs: 6_000_000, count: 1 });
    const first = await startTransfer(world, { mapping: 'gated', direction: 'stage-in' });
    const second = await startBehind(world, first, { mapping: 'gated', direction: 'stage-in' });
    await eventually(
      async () =>
        (await api(world).get(`/transfers/${first.split(':').pop()}`)).body.currentState ===
        'RunTransferCommand',
      'the first run transfers',
      60_000,
    );

    await getSfn().send(new StopExecutionCommand({ executionArn: first, error: 'Cancelled' }));
    const [a, b] = [await waitForExecution(first), await waitForExecution(second, 120_000)];

    expect([a.status, b.status]).toEqual(['ABORTED', 'SUCCEEDED']);
    await expectOneAtATime([first, second]);
    expect(completionOf(world, first.split(':').pop()!)?.detail).toMatchObject({ status: 'ABORTED' });
  }, 180_000);
});

describe('the gate when the first run times out', () => {
  let world: World;

  beforeAll(async () => {
    // 10-minute runs at 0.02: the first one's command times out after 8 simulated minutes (9.6 s);
    // the second has 12 s for its small sync even on a busy machine.
    world = await startWorld({
      timeScale: 0.02,
      // One instance (no scale-out plan).
      config: configYaml({
        defaults: '  timeouts:\n    transferMinutes: 10\n  scaleOut:\n    maxInstances: 1',
      }),
    });
    await putTree('blended-tropomi', { 'input.nc': 'input\n' });
  }, 60_000);

  afterAll(async () => {
    await world?.stop();
  }, 60_000);

  it('runs the next one after the first timed out', async () => {
    // The first run's sync waits an hour for its object (Validate's listing, which sizes the scope
    // for the deadline, reads no object).
    world.cloud.faults.add({
      service: 's3',
      operation: 'GetObject',
      match: { Key: '*input.nc' },
      delayMs: 3600_000,
      count: 1,
    });
    const first = await startTransfer(world, { mapping: 'blended-tropomi', direction: 'stage-in' });
    const second = await startBehind(world, first, { mapping: 'blended-tropomi', direction: 'stage-in' });

    const [a, b] = [await waitForExecution(first, 120_000), await waitForExecution(second, 120_000)];

    expect([a.status, a.error, b.status, b.error]).toEqual([
      'FAILED',
      'CommandTimedOutError',
      'SUCCEEDED',
      undefined,
    ]);
    await expectOneAtATime([first, second]);
  }, 240_000);
});
