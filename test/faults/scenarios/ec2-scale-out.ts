/**
 * The scale-out states of the EC2 method under faults (PlanShards, the TransferShards Map's shard
 * states, VerifyShards, TerminateShards*): the planner gives this world's stage-in 2 instances, and
 * every fault ends as the single-instance run would, with every shard's instance terminated.
 */
import { StopExecutionCommand } from '@aws-sdk/client-sfn';
import { getSfn } from '../../../shared/aws/clients.js';
import type { TransferRequest } from '../../../shared/config/schema.js';
import { eventually, instancesOf, statesEntered } from '../../e2e/ec2-helpers.js';
import { FS_ID, outcomeOf, type Scenario, type ScenarioContext } from '../harness.js';
import { crash, replaceFunction, restoreFunction, rules } from './builders.js';

/** One c6i.large sustains 12.5 MB/s here and starting one is free: the planner asks for 2 (the cap). */
export const EC2_SCALE_OUT_CONFIG = `version: 1
region: us-east-1
accountId: '000000000000'
fileSystems:
  - id: ${FS_ID}
    mountPoint: /fsx
    subnetIds: [subnet-00000000000000001, subnet-00000000000000002]
    securityGroupIds: [sg-00000000000000001]
mappings:
  - {name: sharded, fileSystemId: ${FS_ID}, fsxPath: /sharded, s3Uri: 's3://faults/sharded', directions: [stage-in], method: ec2}
defaults:
  timeouts: {agentOnlineMinutes: 2}
  scaleOut: {maxInstances: 2}
pricing:
  ec2:
    c6i.large: {usdPerHour: 0.085, baselineGbps: 0.1, burstGbps: 0.1}
  model: {instanceStartupSeconds: 0, instanceFinishSeconds: 0}
`;

/** Files the scope starts with, so that it has enough to split. */
export const SHARDED_FILES = Array.from({ length: 6 }, (_, i) => `part-${i}/data.nc`);

const STAGE_IN: TransferRequest = { mapping: 'sharded', direction: 'stage-in' };
const ALL_TYPES = ['c6i.large', 'c6a.large', 'm6i.large'];
const TRANSFER_DOCUMENT = { DocumentName: 'fsx-transfer-local-transfer' };
const SHARD_0 = { ...TRANSFER_DOCUMENT, 'tag:fsx-transfer:shard': '0' };

/** Both shards have their instance running and their command started. */
async function bothTransferring(executionArn: string): Promise<void> {
  await eventually(
    async () => (await statesEntered(executionArn)).filter((s) => s === 'RunShardCommand').length >= 2,
    'both shard commands run',
    60_000,
  );
  await eventually(
    async () => (await instancesOf(executionArn)).filter((i) => i.State?.Name === 'running').length >= 2,
    'both shard instances run',
    60_000,
  );
}

/** terminate-instance crashes when called for the whole run (no shard, no instance id), and only then. */
const crashWithoutShard = replaceFunction('terminate-instance', (real) => async (event, context) => {
  const input = event as { shard?: number; instanceId?: string };
  if (input.shard === undefined && input.instanceId === undefined) {
    throw Object.assign(new Error('Runtime exited with error: signal: killed'), {
      name: 'Runtime.ExitError',
    });
  }
  return real(event, context);
});

export const EC2_SCALE_OUT_SCENARIOS: Scenario[] = [
  {
    state: 'PlanShards',
    fault: 'throttling',
    what: 'S3 slows down two listings of the scope',
    expect: 'SUCCEEDED',
    request: STAGE_IN,
    inject: rules({ service: 's3', operation: 'ListObjectsV2', code: 'SlowDown', count: 2 }),
  },
  {
    state: 'PlanShards',
    fault: 'lambda-crash',
    what: 'the function crashes (nothing launched)',
    expect: 'FunctionFailedError',
    request: STAGE_IN,
    inject: rules(crash('plan-shards')),
  },
  {
    state: 'LaunchShardInstance',
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
    state: 'LaunchShardInstance',
    fault: 'lambda-crash',
    what: 'the function crashes before launching',
    expect: 'FunctionFailedError',
    request: STAGE_IN,
    inject: rules(crash('launch-instance')),
  },
  {
    state: 'WaitForShardAgent',
    fault: 'agent-never-online',
    what: "one shard's SSM agent never comes online",
    expect: 'InstanceNotReadyError',
    request: STAGE_IN,
    inject: rules({
      service: 'ssm',
      behavior: 'agent-never-online',
      match: { 'tag:fsx-transfer:shard': '1' },
    }),
  },
  {
    state: 'RunShardCommand',
    fault: 'command-failure',
    what: "one shard's transfer command exits 2",
    expect: 'CommandFailedError',
    request: STAGE_IN,
    inject: rules({ service: 'ssm', behavior: 'command-exit', exitCode: 2, match: SHARD_0 }),
  },
  {
    state: 'RunShardCommand',
    fault: 'execution-stopped',
    what: 'the execution is stopped while both shards copy (the cleanup rule terminates both)',
    expect: 'ABORTED',
    request: STAGE_IN,
    inject: rules({ service: 'ssm', behavior: 'command-slow', delayMs: 3_600_000, count: 2 }),
    act: async (ctx: ScenarioContext) => {
      const executionArn = await ctx.start();
      await bothTransferring(executionArn);
      await getSfn().send(
        new StopExecutionCommand({ executionArn, error: 'Cancelled', cause: 'stopped by the fault matrix' }),
      );
      return outcomeOf(executionArn);
    },
  },
  {
    state: 'PollShardCommand',
    fault: 'lost-event',
    what: 'every command callback is lost (each shard polls its command)',
    expect: 'SUCCEEDED',
    request: STAGE_IN,
    inject: rules(crash('command-callback')),
    timeoutMs: 90_000,
  },
  {
    state: 'TerminateShardInstance',
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
    state: 'TerminateShardAfterFailure',
    fault: 'throttling',
    what: "one shard's command fails and its termination is throttled three times",
    expect: 'CommandFailedError',
    request: STAGE_IN,
    inject: rules(
      { service: 'ssm', behavior: 'command-exit', exitCode: 1, match: SHARD_0 },
      { service: 'ec2', operation: 'TerminateInstances', code: 'RequestLimitExceeded', count: 3 },
    ),
  },
  {
    state: 'TerminateShardAfterLaunchFailure',
    fault: '5xx',
    what: 'RunInstances answers 500 on every call, and so does the first termination call',
    expect: 'TransientAwsError',
    request: STAGE_IN,
    inject: rules(
      { service: 'ec2', operation: 'RunInstances', code: 'InternalError' },
      { service: 'ec2', operation: 'DescribeInstances', code: 'InternalError', count: 1 },
    ),
  },
  {
    state: 'VerifyShards',
    fault: 'throttling',
    what: 'S3 slows down two reads of the listings',
    expect: 'SUCCEEDED',
    request: STAGE_IN,
    inject: rules({
      service: 's3',
      operation: 'GetObject',
      code: 'SlowDown',
      count: 2,
      match: { Key: '.fsx-transfer/listings/*' },
    }),
  },
  {
    state: 'VerifyShards',
    fault: 'lambda-crash',
    what: 'the function crashes',
    expect: 'FunctionFailedError',
    request: STAGE_IN,
    inject: rules(crash('verify-ec2-transfer')),
  },
  {
    state: 'TerminateShards',
    fault: 'lambda-crash',
    what: 'the final termination crashes after a verified transfer (the shards had ended theirs)',
    expect: 'FunctionFailedError',
    request: STAGE_IN,
    // Only the call without a shard or an instance id (TerminateShards) crashes.
    inject: (ctx: ScenarioContext) => crashWithoutShard(ctx),
    clear: restoreFunction('terminate-instance', 60),
  },
  {
    state: 'TerminateShardsAfterFailure',
    fault: 'lambda-crash',
    what: "one shard's command fails and the run's termination crashes (the cleanup rule terminates the other shard)",
    expect: 'CommandFailedError',
    request: STAGE_IN,
    // Shard 0 ends its own instance; the crash hits the calls without a shard (the whole run's).
    inject: async (ctx: ScenarioContext) => {
      ctx.world.cloud.faults.add({ service: 'ssm', behavior: 'command-exit', exitCode: 1, match: SHARD_0 });
      await crashWithoutShard(ctx);
    },
    clear: restoreFunction('terminate-instance', 60),
  },
];
