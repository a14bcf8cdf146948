/**
 * Every way an EC2 transfer can fail ends with a clear, named failure and with no transfer
 * instance left running: capacity, an agent that never comes online, a failing command, a stopped
 * execution, a Lambda that throws, throttling on TerminateInstances. Also: a retried launch never
 * starts a second instance, and bad input is refused before any instance starts.
 */
import { DeleteBucketCommand } from '@aws-sdk/client-s3';
import { StopExecutionCommand } from '@aws-sdk/client-sfn';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { LocalHandler } from '../../local/lambda.js';
import { getS3, getSfn, resetClients } from '../../shared/aws/clients.js';
import {
  allInstances,
  configYaml,
  eventually,
  FS_ID,
  instancesNotTerminated,
  instancesOf,
  putTree,
  runTransfer,
  startTransfer,
  startWorld,
  statesEntered,
  type World,
  waitForExecution,
} from './ec2-helpers.js';

const MISSING_BUCKET = 'fsx-transfer-e2e-missing';
let world: World;
let savedMaxAttempts: string | undefined;

beforeAll(async () => {
  // One SDK attempt per call: throttling must be retried by the state machine, not hidden by the SDK.
  savedMaxAttempts = process.env.FSX_TRANSFER_MAX_ATTEMPTS;
  process.env.FSX_TRANSFER_MAX_ATTEMPTS = '1';
  world = await startWorld({
    timeScale: 0.004,
    config: configYaml({
      extraMappings: `  - name: missing
    fileSystemId: ${FS_ID}
    fsxPath: /missing
    s3Uri: s3://${MISSING_BUCKET}/data
    directions: [stage-in, export]
    method: ec2`,
    }),
  });
  // The local cloud creates every bucket the config names: remove this one again.
  await getS3().send(new DeleteBucketCommand({ Bucket: MISSING_BUCKET }));
  await putTree('blended-tropomi', { 'input.nc': 'input\n' });
}, 60_000);

afterEach(async () => {
  world.cloud.faults.clear();
  await eventually(async () => (await instancesNotTerminated()).length === 0, 'no instance is left running');
});

afterAll(async () => {
  await world?.stop();
  if (savedMaxAttempts === undefined) delete process.env.FSX_TRANSFER_MAX_ATTEMPTS;
  else process.env.FSX_TRANSFER_MAX_ATTEMPTS = savedMaxAttempts;
  resetClients();
});

const STAGE_IN = { mapping: 'blended-tropomi', direction: 'stage-in' };

/**
 * The execution launched at least one instance, and every instance it launched is shutting down
 * or terminated (an empty list would make `every` pass without anything having been checked).
 */
async function expectNothingLeft(executionArn: string): Promise<void> {
  expect(await instancesOf(executionArn), `instances of ${executionArn}`).not.toEqual([]);
  await eventually(
    async () =>
      (await instancesOf(executionArn)).every((i) =>
        ['shutting-down', 'terminated'].includes(String(i.State?.Name)),
      ),
    `every instance of ${executionArn} is terminated`,
  );
}

describe('EC2 transfer failures', () => {
  it('fails InsufficientCapacityError after trying every type in every subnet, launching nothing', async () => {
    const [rule] = world.cloud.faults.add({
      service: 'ec2',
      operation: 'RunInstances',
      code: 'InsufficientInstanceCapacity',
    });

    const run = await runTransfer(world, STAGE_IN);

    expect(run.status).toBe('FAILED');
    expect(run.error).toBe('InsufficientCapacityError');
    for (const type of ['c6i.large', 'c6a.large', 'm6i.large']) {
      for (const subnet of ['subnet-00000000000000001', 'subnet-00000000000000002']) {
        expect(run.cause).toContain(`${type} in ${subnet}`);
      }
    }
    expect(world.cloud.faults.list().find((r) => r.id === rule!.id)?.fired).toBe(6);
    expect(run.states).toContain('TerminateAfterLaunchFailure');
    expect(await instancesOf(run.executionArn)).toEqual([]);
  }, 60_000);

  it('falls back to the next instance type when the first has no capacity', async () => {
    world.cloud.faults.add({
      service: 'ec2',
      operation: 'RunInstances',
      code: 'InsufficientInstanceCapacity',
      match: { InstanceType: 'c6i.large' },
    });

    const run = await runTransfer(world, STAGE_IN);

    expect(run.status, run.cause).toBe('SUCCEEDED');
    const [instance] = await instancesOf(run.executionArn);
    expect(instance?.InstanceType).toBe('c6a.large');
    await expectNothingLeft(run.executionArn);
  }, 60_000);

  it('fails InstanceNotReadyError when the SSM agent never comes online, and terminates the instance', async () => {
    world.cloud.faults.add({ service: 'ssm', behavior: 'agent-never-online' });

    const run = await runTransfer(world, STAGE_IN, 120_000);

    expect(run.status).toBe('FAILED');
    expect(run.error).toBe('InstanceNotReadyError');
    expect(run.states.slice(-4)).toEqual([
      'AgentNeverOnline',
      'TerminateAfterFailure',
      'FailWithError',
      'InstanceNotReadyError',
    ]);
    expect(await instancesOf(run.executionArn)).toHaveLength(1);
    await expectNothingLeft(run.executionArn);
  }, 150_000);

  it('fails CommandFailedError naming the cause when aws s3 sync exits non-zero (missing bucket)', async () => {
    const run = await runTransfer(world, { mapping: 'missing', direction: 'stage-in' });

    expect(run.status).toBe('FAILED');
    expect(run.error).toBe('CommandFailedError');
    expect(run.cause).toContain('NoSuchBucket');
    expect(run.cause).toContain('exit code 1');
    await expectNothingLeft(run.executionArn);
  }, 60_000);

  it('terminates the instance when the execution is stopped mid-sync (cleanup rule on ABORTED)', async () => {
    world.cloud.faults.add({ service: 'ssm', behavior: 'command-slow', delayMs: 24 * 3600_000 });
    const executionArn = await startTransfer(world, STAGE_IN);
    await eventually(
      async () => (await statesEntered(executionArn)).includes('RunTransferCommand'),
      'the transfer command runs',
    );
    await eventually(
      async () => (await instancesOf(executionArn)).some((i) => i.State?.Name === 'running'),
      'the instance runs',
    );

    await getSfn().send(
      new StopExecutionCommand({ executionArn, error: 'UserStopped', cause: 'stopped by the test' }),
    );
    const run = await waitForExecution(executionArn);

    expect(run.status).toBe('ABORTED');
    await expectNothingLeft(executionArn);
    expect(world.cloud.lambdas.invocations.some((i) => i.functionName.endsWith('-cleanup-execution'))).toBe(
      true,
    );
  }, 60_000);

  it('keeps the error of a Lambda that throws, and terminates the instance', async () => {
    world.cloud.lambdas.register('verify-ec2-transfer', async () => {
      throw new TypeError('Cannot read properties of undefined (reading files)');
    });
    try {
      const run = await runTransfer(world, STAGE_IN);

      expect(run.status).toBe('FAILED');
      expect(run.error).toBe('TypeError');
      expect(run.cause).toContain('Cannot read properties of undefined');
      expect(run.states.slice(-4)).toEqual([
        'VerifyEc2Transfer',
        'TerminateAfterFailure',
        'FailWithError',
        'StepFailed',
      ]);
      await expectNothingLeft(run.executionArn);
    } finally {
      world.cloud.lambdas.register('verify-ec2-transfer', await realHandler('verify-ec2-transfer'), {
        timeout: 300,
      });
    }
  }, 60_000);

  it('retries a throttled TerminateInstances until the instance is terminated', async () => {
    const [rule] = world.cloud.faults.add({
      service: 'ec2',
      operation: 'TerminateInstances',
      code: 'RequestLimitExceeded',
      count: 3,
    });

    const run = await runTransfer(world, STAGE_IN);

    expect(run.status, run.cause).toBe('SUCCEEDED');
    expect(world.cloud.faults.list().find((r) => r.id === rule!.id)?.fired).toBe(3);
    expect(run.states).toContain('TerminateInstance');
    await expectNothingLeft(run.executionArn);
  }, 60_000);

  it('starts no second instance when the launch step is retried after launching', async () => {
    const launch = await realHandler('launch-instance');
    let calls = 0;
    world.cloud.lambdas.register(
      'launch-instance',
      async (event, context) => {
        calls++;
        const result = await launch(event, context);
        // The response is lost after the instance was launched: the state retries the step.
        if (calls === 1)
          throw Object.assign(new Error('connection reset'), { name: 'Lambda.ServiceException' });
        return result;
      },
      { timeout: 120 },
    );
    try {
      const run = await runTransfer(world, STAGE_IN);

      expect(run.status, run.cause).toBe('SUCCEEDED');
      expect(calls).toBe(2);
      expect(await instancesOf(run.executionArn)).toHaveLength(1);
      await expectNothingLeft(run.executionArn);
    } finally {
      world.cloud.lambdas.register('launch-instance', launch, { timeout: 120 });
    }
  }, 60_000);

  it('refuses bad input before any instance starts', async () => {
    const before = (await allInstances()).length;
    const bad: Record<string, unknown>[] = [
      { ...STAGE_IN, subPath: 'a;reboot' },
      { ...STAGE_IN, subPath: 'a/$(reboot)' },
      { ...STAGE_IN, subPath: 'a/`id`' },
      { ...STAGE_IN, subPath: "it's" },
      { ...STAGE_IN, subPath: 'a"b' },
      { ...STAGE_IN, subPath: 'a\nreboot' },
      { ...STAGE_IN, subPath: '../escape' },
      { ...STAGE_IN, subPath: 'a/../../etc' },
      { ...STAGE_IN, subPath: '/etc' },
      { ...STAGE_IN, bucket: 'demo;reboot' },
      { ...STAGE_IN, mapping: 'blended-tropomi;reboot' },
    ];

    const runs = await Promise.all(bad.map(async (request) => runTransfer(world, request)));

    for (const [i, run] of runs.entries()) {
      expect(run.status, JSON.stringify(bad[i])).toBe('FAILED');
      expect(run.error, JSON.stringify(bad[i])).toBe('InvalidRequestError');
      expect(run.states).not.toContain('LaunchInstance');
    }
    expect(await allInstances()).toHaveLength(before);
  }, 60_000);
});

/** The project's real handler of a function (to restore it after a test replaced it). */
async function realHandler(key: string): Promise<LocalHandler> {
  const module = (await import(`../../functions/${key}/handler.ts`)) as { handler: LocalHandler };
  return module.handler;
}
