/**
 * The cleanup layers of the EC2 method, each on its own (no state machine failure path involved):
 * the execution-status rule, the deadline sweeper, the instance's own watchdog; and the command
 * callback's fallbacks (the scheduled poller for lost SSM events, polling after a heartbeat timeout).
 */
import { RunInstancesCommand } from '@aws-sdk/client-ec2';
import { ListCommandsCommand } from '@aws-sdk/client-ssm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getEc2, getSsm } from '../../shared/aws/clients.js';
import type { TransferPlan } from '../../shared/plan/schema.js';
import {
  allInstances,
  eventually,
  instancesOf,
  putTree,
  startTransfer,
  startWorld,
  statesEntered,
  type World,
  waitForExecution,
} from './ec2-helpers.js';

let world: World;

beforeAll(async () => {
  world = await startWorld({ timeScale: 0.01 });
  await putTree('blended-tropomi', { 'input.nc': 'input\n' });
}, 60_000);

afterAll(async () => {
  await world?.stop();
});

/** A plan from the real Validate step, for launching instances outside an execution. */
async function plan(executionName: string): Promise<TransferPlan> {
  return (await world.cloud.lambdas.invoke('validate', {
    request: { mapping: 'blended-tropomi', direction: 'stage-in' },
    executionName,
    startTime: new Date().toISOString(),
  })) as TransferPlan;
}

/** Launches a transfer instance with the real LaunchInstance handler, tagged with `executionArn`. */
async function launch(executionArn: string, overrides: Partial<TransferPlan> = {}): Promise<string> {
  const name = executionArn.split(':').at(-1)!;
  const launched = (await world.cloud.lambdas.invoke('launch-instance', {
    plan: { ...(await plan(name)), ...overrides },
    executionArn,
  })) as { instanceId: string };
  await eventually(
    async () => (await state(launched.instanceId)) === 'running',
    `${launched.instanceId} runs`,
  );
  return launched.instanceId;
}

async function state(instanceId: string): Promise<string | undefined> {
  const found = (await allInstances()).find((i) => i.InstanceId === instanceId);
  return found?.State?.Name;
}

const gone = async (instanceId: string) =>
  ['shutting-down', 'terminated'].includes(String(await state(instanceId)));

function executionArn(name: string): string {
  return `${world.stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;
}

function statusEvent(arn: string, status: string, stateMachineArn = world.stateMachineArn) {
  return {
    source: 'aws.states',
    'detail-type': 'Step Functions Execution Status Change',
    resources: [arn],
    detail: { executionArn: arn, stateMachineArn, name: arn.split(':').at(-1), status },
  };
}

describe('cleanup layer: execution status rule', () => {
  it('terminates the instances of an execution that ended FAILED, TIMED_OUT or ABORTED, and only those', async () => {
    const failed = await launch(executionArn('cleanup-failed'));
    const timedOut = await launch(executionArn('cleanup-timed-out'));
    const aborted = await launch(executionArn('cleanup-aborted'));
    const succeeded = await launch(executionArn('cleanup-succeeded'));
    const otherMachine = await launch(executionArn('cleanup-other-machine'));

    world.cloud.events.emit(statusEvent(executionArn('cleanup-failed'), 'FAILED'));
    world.cloud.events.emit(statusEvent(executionArn('cleanup-timed-out'), 'TIMED_OUT'));
    world.cloud.events.emit(statusEvent(executionArn('cleanup-aborted'), 'ABORTED'));
    world.cloud.events.emit(statusEvent(executionArn('cleanup-succeeded'), 'SUCCEEDED'));
    world.cloud.events.emit(
      statusEvent(
        executionArn('cleanup-other-machine'),
        'FAILED',
        'arn:aws:states:us-east-1:000000000000:stateMachine:someone-else',
      ),
    );
    await world.cloud.events.idle();

    expect(await gone(failed)).toBe(true);
    expect(await gone(timedOut)).toBe(true);
    expect(await gone(aborted)).toBe(true);
    expect(await state(succeeded)).toBe('running');
    expect(await state(otherMachine)).toBe('running');
  }, 60_000);
});

describe('cleanup layer: deadline sweeper', () => {
  it('terminates transfer instances of this stage past their deadline, on its schedule', async () => {
    const run = async (tags: Record<string, string>) => {
      const out = await getEc2().send(
        new RunInstancesCommand({
          ImageId: 'ami-0123456789abcdef0',
          InstanceType: 'c6i.large',
          MinCount: 1,
          MaxCount: 1,
          SubnetId: 'subnet-00000000000000001',
          TagSpecifications: [
            { ResourceType: 'instance', Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })) },
          ],
        }),
      );
      return out.Instances![0]!.InstanceId!;
    };
    const hourAgo = new Date(Date.now() - 3600_000).toISOString();
    const inAnHour = new Date(Date.now() + 3600_000).toISOString();
    const overdue = await run({ 'fsx-transfer:stage': 'local', 'fsx-transfer:deadline': hourAgo });
    const onTime = await run({ 'fsx-transfer:stage': 'local', 'fsx-transfer:deadline': inAnHour });
    const otherStage = await run({ 'fsx-transfer:stage': 'prod', 'fsx-transfer:deadline': hourAgo });
    const notOurs = await run({ Name: 'someone-elses-instance' });
    await eventually(async () => (await state(notOurs)) === 'running', 'the instances run');

    await world.cloud.events.fireSchedule('sweep-instances');

    expect(await gone(overdue)).toBe(true);
    expect(await state(onTime)).toBe('running');
    expect(await state(otherStage)).toBe('running');
    expect(await state(notOurs)).toBe('running');
  }, 60_000);
});

describe('cleanup layer: instance watchdog', () => {
  it('terminates the instance from its own user data at the deadline, with nothing else running', async () => {
    const started = new Date();
    const deadline = new Date(Date.now() + 60_000).toISOString();

    const instanceId = await launch(executionArn('watchdog'), { deadline });

    // shutdown -P +1 with InstanceInitiatedShutdownBehavior=terminate: one simulated minute.
    await eventually(
      async () => (await state(instanceId)) === 'terminated',
      `${instanceId} terminates itself`,
    );
    const instance = (await allInstances()).find((i) => i.InstanceId === instanceId);
    expect(instance?.StateReason?.Code).toBe('Client.InstanceInitiatedShutdown');
    const cleanups = world.cloud.lambdas.invocations.filter(
      (i) => i.startedAt >= started && /terminate|cleanup|sweep/.test(i.functionName),
    );
    expect(cleanups).toEqual([]);
  }, 60_000);
});

describe('command callback fallbacks', () => {
  const statusRule = () =>
    world.cloud.events.rules.find((rule) => rule.owner === 'command-callback' && rule.pattern !== undefined)!;

  it('reports a command whose SSM status event was lost on the next scheduled round', async () => {
    statusRule().enabled = false;
    world.cloud.faults.add({ service: 'ssm', behavior: 'command-slow', delayMs: 30_000 });
    try {
      const arn = await startTransfer(world, { mapping: 'blended-tropomi', direction: 'stage-in' });
      await eventually(
        async () => (await statesEntered(arn)).includes('RunTransferCommand'),
        'the command is sent',
      );
      await eventually(() => commandEnded(arn), 'the transfer command has ended');

      await world.cloud.events.fireSchedule('command-callback');
      const run = await waitForExecution(arn);

      expect(run.status, run.cause).toBe('SUCCEEDED');
      expect(run.states).not.toContain('PollTransferCommand');
    } finally {
      statusRule().enabled = true;
      world.cloud.faults.clear();
    }
  }, 60_000);

  it('polls the command itself when neither events nor heartbeats arrive', async () => {
    statusRule().enabled = false;
    world.cloud.clock.setTimeScale(0.002);
    try {
      const run = await waitForExecution(
        await startTransfer(world, { mapping: 'blended-tropomi', direction: 'stage-in' }),
      );

      expect(run.status, run.cause).toBe('SUCCEEDED');
      expect(run.states).toContain('PollTransferCommand');
    } finally {
      statusRule().enabled = true;
      world.cloud.clock.setTimeScale(0.01);
    }
  }, 60_000);
});

/** True once the transfer command sent to the execution's instance has ended. */
async function commandEnded(executionArn: string): Promise<boolean> {
  const [instance] = await instancesOf(executionArn);
  if (!instance?.InstanceId) return false;
  const out = await getSsm().send(new ListCommandsCommand({ InstanceId: instance.InstanceId }));
  return (out.Commands ?? []).some((c) =>
    ['Success', 'Failed', 'TimedOut', 'Cancelled'].includes(String(c.Status)),
  );
}
