/**
 * The EC2 method's states under faults: the launch, the agent, verification and termination
 * (EC2_LAUNCH_SCENARIOS), and the transfer command with the ways a run can end early: command
 * failure and timeout, lost callbacks, a stopped or timed-out execution, a lost status-change
 * event (EC2_COMMAND_SCENARIOS, whose world has 20-minute runs so a command can time out).
 */
import { StopExecutionCommand } from '@aws-sdk/client-sfn';
import { getSfn } from '../../../shared/aws/clients.js';
import type { TransferRequest } from '../../../shared/config/schema.js';
import { eventually, instancesOf, statesEntered } from '../../e2e/ec2-helpers.js';
import { FS_ID, outcomeOf, type Scenario, type ScenarioContext } from '../harness.js';
import { crash, replaceFunction, restoreFunction, rules } from './builders.js';

/**
 * `timeouts` of the world's config (YAML flow mapping). One instance per run (scale-out has its own
 * world, scenarios/ec2-scale-out.ts): faults on the first S3 listing hit the sync itself.
 */
const ec2Config = (timeouts: string) => `version: 1
region: us-east-1
accountId: '000000000000'
fileSystems:
  - id: ${FS_ID}
    mountPoint: /fsx
    subnetIds: [subnet-00000000000000001, subnet-00000000000000002]
    securityGroupIds: [sg-00000000000000001]
mappings:
  - {name: ec2-data, fileSystemId: ${FS_ID}, fsxPath: /ec2-data, s3Uri: 's3://faults/ec2-data', directions: [stage-in, export], method: ec2}
defaults:
  timeouts: ${timeouts}
  scaleOut: {maxInstances: 1}
`;

export const EC2_LAUNCH_CONFIG = ec2Config('{agentOnlineMinutes: 2}');
/** Runs of 60 minutes (36 s at 0.01, room for the real AWS CLI on a busy machine): a command may run 58 (the run deadline less two), the watchdog fires at 60. */
export const EC2_COMMAND_CONFIG = ec2Config('{agentOnlineMinutes: 2, transferMinutes: 60}');

const STAGE_IN: TransferRequest = { mapping: 'ec2-data', direction: 'stage-in' };
const EXPORT: TransferRequest = { mapping: 'ec2-data', direction: 'export' };
const ALL_TYPES = ['c6i.large', 'c6a.large', 'm6i.large'];

/** The transfer document's commands only (not the Lustre client's). */
const TRANSFER_DOCUMENT = { DocumentName: 'fsx-transfer-local-transfer' };

/** The run has its instance running and its transfer command started. */
async function transferring(executionArn: string): Promise<void> {
  await eventually(
    async () => (await statesEntered(executionArn)).includes('RunTransferCommand'),
    'the transfer command runs',
    60_000,
  );
  await eventually(
    async () => (await instancesOf(executionArn)).some((i) => i.State?.Name === 'running'),
    'the transfer instance runs',
    60_000,
  );
}

const stop = (executionArn: string) =>
  getSfn().send(
    new StopExecutionCommand({ executionArn, error: 'Cancelled', cause: 'stopped by the fault matrix' }),
  );

export const EC2_LAUNCH_SCENARIOS: Scenario[] = [
  {
    state: 'LaunchInstance',
    fault: 'insufficient-capacity',
    what: 'no capacity for any instance type in any subnet',
    expect: 'InsufficientCapacityError',
    request: STAGE_IN,
    inject: rules({
      service: 'ec2',
      operation: 'RunInstances',
      code: 'InsufficientInstanceCapacity',
      match: { InstanceType: ALL_TYPES },
    }),
  },
  {
    state: 'LaunchInstance',
    fault: 'insufficient-capacity',
    what: 'no capacity for the first instance type',
    expect: 'SUCCEEDED',
    request: STAGE_IN,
    inject: rules({
      service: 'ec2',
      operation: 'RunInstances',
      code: 'InsufficientInstanceCapacity',
      match: { InstanceType: 'c6i.large' },
    }),
  },
  {
    state: 'LaunchInstance',
    fault: 'throttling',
    what: 'RunInstances throttled twice',
    expect: 'SUCCEEDED',
    request: STAGE_IN,
    inject: rules({ service: 'ec2', operation: 'RunInstances', code: 'RequestLimitExceeded', count: 2 }),
  },
  {
    state: 'LaunchInstance',
    fault: 'lambda-crash',
    what: 'the function crashes before launching',
    expect: 'FunctionFailedError',
    request: STAGE_IN,
    inject: rules(crash('launch-instance')),
  },
  {
    state: 'LaunchInstance',
    fault: 'lambda-timeout',
    what: 'the function times out after the instance was launched',
    expect: 'FunctionFailedError',
    request: STAGE_IN,
    // TerminateAfterLaunchFailure finds the orphan by the execution tag.
    inject: replaceFunction('launch-instance', (real) => async (event, context) => {
      await real(event, context);
      throw Object.assign(new Error('Task timed out after 120.00 seconds'), { name: 'Sandbox.Timedout' });
    }),
    clear: restoreFunction('launch-instance', 120),
  },
  {
    state: 'WaitForAgent',
    fault: 'agent-never-online',
    what: 'the SSM agent never comes online',
    expect: 'InstanceNotReadyError',
    request: STAGE_IN,
    inject: rules({ service: 'ssm', behavior: 'agent-never-online' }),
  },
  {
    state: 'WaitForAgent',
    fault: 'throttling',
    what: 'DescribeInstanceInformation throttled three times',
    expect: 'SUCCEEDED',
    request: STAGE_IN,
    inject: rules({
      service: 'ssm',
      operation: 'DescribeInstanceInformation',
      code: 'ThrottlingException',
      count: 3,
    }),
  },
  {
    state: 'WaitForAgent',
    fault: 'lambda-crash',
    what: 'the function crashes',
    expect: 'FunctionFailedError',
    request: STAGE_IN,
    inject: rules(crash('check-agent')),
  },
  {
    state: 'VerifyEc2Transfer',
    fault: 'throttling',
    what: 'S3 slows down two reads of the listing',
    expect: 'SUCCEEDED',
    request: STAGE_IN,
    inject: rules({
      service: 's3',
      operation: 'GetObject',
      code: 'SlowDown',
      count: 2,
      match: { Key: '.fsx-transfer/*' },
    }),
  },
  {
    state: 'VerifyEc2Transfer',
    fault: 'lambda-crash',
    what: 'the function crashes',
    expect: 'FunctionFailedError',
    request: EXPORT,
    inject: rules(crash('verify-ec2-transfer')),
  },
  {
    state: 'TerminateInstance',
    fault: 'throttling',
    what: 'TerminateInstances throttled three times',
    expect: 'SUCCEEDED',
    request: STAGE_IN,
    inject: rules({
      service: 'ec2',
      operation: 'TerminateInstances',
      code: 'RequestLimitExceeded',
      count: 3,
    }),
  },
  {
    state: 'TerminateInstance',
    fault: 'throttling',
    what: 'TerminateInstances throttled through every retry (the cleanup rule terminates)',
    expect: 'TransientAwsError',
    request: STAGE_IN,
    // The first call and RetryTransientErrorsPatiently's 20 retries; the cleanup rule's call succeeds.
    inject: rules({
      service: 'ec2',
      operation: 'TerminateInstances',
      code: 'RequestLimitExceeded',
      count: 21,
    }),
  },
  {
    state: 'TerminateInstance',
    fault: 'lambda-crash',
    what: 'the function crashes after a verified transfer (the cleanup rule terminates)',
    expect: 'FunctionFailedError',
    request: EXPORT,
    inject: rules(crash('terminate-instance')),
  },
  {
    state: 'TerminateAfterFailure',
    fault: 'lambda-crash',
    what: 'the command fails and the termination function crashes (the cleanup rule terminates)',
    expect: 'CommandFailedError',
    request: STAGE_IN,
    inject: rules(
      { service: 'ssm', behavior: 'command-exit', exitCode: 1, match: TRANSFER_DOCUMENT },
      crash('terminate-instance'),
    ),
  },
  {
    state: 'TerminateAfterLaunchFailure',
    fault: '5xx',
    what: 'RunInstances answers 500 on every call, and so does the first termination call',
    expect: 'TransientAwsError',
    request: STAGE_IN,
    inject: rules(
      { service: 'ec2', operation: 'RunInstances', code: 'InternalError' },
      { service: 'ec2', operation: 'DescribeInstances', code: 'InternalError', count: 1 },
    ),
  },
];

export const EC2_COMMAND_SCENARIOS: Scenario[] = [
  {
    state: 'RunTransferCommand',
    fault: 'command-failure',
    what: 'the transfer command exits 2',
    expect: 'CommandFailedError',
    request: STAGE_IN,
    inject: rules({ service: 'ssm', behavior: 'command-exit', exitCode: 2, match: TRANSFER_DOCUMENT }),
  },
  {
    state: 'RunTransferCommand',
    fault: 'command-failure',
    what: 'the export command exits 1',
    expect: 'CommandFailedError',
    request: EXPORT,
    inject: rules({ service: 'ssm', behavior: 'command-exit', exitCode: 1, match: TRANSFER_DOCUMENT }),
  },
  {
    state: 'RunTransferCommand',
    fault: 'command-timeout',
    what: "aws s3 sync hangs past the command's execution timeout",
    expect: 'CommandTimedOutError',
    request: STAGE_IN,
    // The sync's first download (Validate's listing, which sizes the scope for the deadline, reads no object).
    inject: rules({ service: 's3', operation: 'GetObject', delayMs: 7_200_000, count: 1 }),
    timeoutMs: 90_000,
  },
  {
    state: 'RunTransferCommand',
    fault: '5xx',
    what: 'SendCommand answers 500 twice',
    expect: 'SUCCEEDED',
    request: STAGE_IN,
    inject: rules({ service: 'ssm', operation: 'SendCommand', code: 'InternalServerError', count: 2 }),
  },
  {
    state: 'RunTransferCommand',
    fault: 'lambda-crash',
    what: 'the function crashes',
    expect: 'FunctionFailedError',
    request: STAGE_IN,
    inject: rules(crash('send-command')),
  },
  {
    state: 'PollTransferCommand',
    fault: 'lost-event',
    what: 'every command callback is lost, and polling is throttled twice',
    expect: 'SUCCEEDED',
    request: EXPORT,
    // RunTransferCommand's heartbeat times out; PollTransferCommand reads the command instead.
    inject: rules(crash('command-callback'), {
      service: 'ssm',
      operation: 'ListCommands',
      code: 'ThrottlingException',
      count: 2,
    }),
    timeoutMs: 90_000,
  },
  {
    state: 'RunTransferCommand',
    fault: 'execution-stopped',
    what: 'the execution is stopped during the sync (the cleanup rule terminates)',
    expect: 'ABORTED',
    request: STAGE_IN,
    inject: rules({ service: 'ssm', behavior: 'command-slow', delayMs: 7_200_000, count: 1 }),
    act: async (ctx: ScenarioContext) => {
      const executionArn = await ctx.start();
      await transferring(executionArn);
      await stop(executionArn);
      return outcomeOf(executionArn);
    },
  },
  {
    state: 'RunTransferCommand',
    fault: 'lost-event',
    what: 'the execution is stopped and its cleanup event is lost (the watchdog terminates)',
    expect: 'ABORTED',
    request: STAGE_IN,
    inject: rules(
      { service: 'ssm', behavior: 'command-slow', delayMs: 7_200_000, count: 1 },
      crash('cleanup-execution'),
    ),
    act: async (ctx: ScenarioContext) => {
      const executionArn = await ctx.start();
      await transferring(executionArn);
      await stop(executionArn);
      return outcomeOf(executionArn);
    },
  },
  {
    state: 'RunTransferCommand',
    fault: 'execution-timed-out',
    what: 'the execution times out during the sync (the cleanup rule terminates)',
    expect: 'TIMED_OUT',
    request: EXPORT,
    inject: rules(
      { service: 'ssm', behavior: 'command-slow', delayMs: 7_200_000, count: 1 },
      { service: 'states', behavior: 'execution-timeout', delayMs: 1_200_000, count: 1 },
    ),
    // The execution times out while its instance runs the (slow) transfer command.
    act: async (ctx: ScenarioContext) => {
      const executionArn = await ctx.start();
      await transferring(executionArn);
      return outcomeOf(executionArn);
    },
  },
  {
    state: 'WaitForTurn',
    fault: 'execution-stopped',
    what: 'a run queued behind another is stopped while it waits',
    expect: 'ABORTED',
    request: STAGE_IN,
    inject: rules({ service: 'ssm', behavior: 'command-slow', delayMs: 300_000, count: 1 }),
    act: async (ctx: ScenarioContext) => {
      const ahead = await ctx.start();
      await transferring(ahead);
      const queued = await ctx.start();
      await eventually(
        async () => (await statesEntered(queued)).includes('WaitForTurn'),
        'the second run waits for its turn',
      );
      await stop(queued);
      const outcome = await outcomeOf(queued);
      expectSucceeded(await outcomeOf(ahead, 90_000));
      return outcome;
    },
  },
  {
    state: 'WaitForTurn',
    fault: 'lost-event',
    what: "the run's status-change event is lost (the reconciler frees its turn)",
    expect: 'SUCCEEDED',
    request: EXPORT,
    inject: rules(crash('finish-transfer')),
    // The reconciler (every 5 minutes on AWS) finishes the run the lost event left holding the turn.
    clear: async (ctx: ScenarioContext) => {
      ctx.world.cloud.faults.clear();
      await ctx.world.cloud.events.fireSchedule('finish-transfer');
    },
  },
];

function expectSucceeded(outcome: { status: string; error?: string }): void {
  if (outcome.status !== 'SUCCEEDED')
    throw new Error(`the run ahead ended ${outcome.status} ${outcome.error}`);
}
