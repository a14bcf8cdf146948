/**
 * Transfer instance state and termination, shared by the failure path of the state machine and the
 * cleanup layers (execution-status rule, deadline sweeper). Termination is idempotent: terminating
 * an instance that is already gone is success.
 */
import {
  DescribeInstancesCommand,
  type EC2Client,
  type Filter,
  type Instance,
  paginateDescribeInstances,
  TerminateInstancesCommand,
} from '@aws-sdk/client-ec2';
import { rethrowTransient } from '../aws/transient.js';
import { awsErrorName } from '../errors.js';
import { LIVE_STATES } from './launch.js';
import { currentStage, TAG_DEADLINE, TAG_EXECUTION, TAG_SHARD, TAG_STAGE, tagValue } from './tags.js';

export interface InstanceSummary {
  instanceId: string;
  /** pending | running | shutting-down | terminated | stopping | stopped, or `not-found`. */
  state: string;
  stateReason?: string;
  executionArn?: string;
  deadline?: string;
}

function summarize(instance: Instance): InstanceSummary {
  return {
    instanceId: instance.InstanceId ?? '',
    state: String(instance.State?.Name ?? 'unknown'),
    ...(instance.StateReason?.Message ? { stateReason: instance.StateReason.Message } : {}),
    ...(tagValue(instance.Tags, TAG_EXECUTION)
      ? { executionArn: tagValue(instance.Tags, TAG_EXECUTION) }
      : {}),
    ...(tagValue(instance.Tags, TAG_DEADLINE) ? { deadline: tagValue(instance.Tags, TAG_DEADLINE) } : {}),
  };
}

/**
 * Current state of one instance; `not-found` when EC2 no longer knows it (terminated long ago).
 * @throws TransientAwsError on throttling.
 */
export async function describeInstance(ec2: EC2Client, instanceId: string): Promise<InstanceSummary> {
  try {
    const out = await ec2.send(new DescribeInstancesCommand({ InstanceIds: [instanceId] }));
    const instance = out.Reservations?.[0]?.Instances?.[0];
    return instance ? summarize(instance) : { instanceId, state: 'not-found' };
  } catch (error) {
    if (awsErrorName(error) === 'InvalidInstanceID.NotFound') return { instanceId, state: 'not-found' };
    rethrowTransient(error, `describing instance ${instanceId}`);
  }
}

/** Instances matching `filters` that are not terminated or shutting down (all pages). */
export async function findLiveInstances(ec2: EC2Client, filters: Filter[]): Promise<InstanceSummary[]> {
  const found: InstanceSummary[] = [];
  try {
    const pages = paginateDescribeInstances(
      { client: ec2 },
      { Filters: [...filters, { Name: 'instance-state-name', Values: LIVE_STATES }] },
    );
    for await (const page of pages) {
      for (const reservation of page.Reservations ?? []) {
        for (const instance of reservation.Instances ?? []) found.push(summarize(instance));
      }
    }
  } catch (error) {
    rethrowTransient(error, 'listing transfer instances');
  }
  return found;
}

/** Live transfer instances launched by one execution (tag `fsx-transfer:execution`). */
export function findInstancesByExecution(ec2: EC2Client, executionArn: string): Promise<InstanceSummary[]> {
  return findLiveInstances(ec2, [{ Name: `tag:${TAG_EXECUTION}`, Values: [executionArn] }]);
}

/**
 * Live transfer instances of this stage whose deadline tag lies more than `graceMs` in the past.
 * Instances with a missing or unreadable deadline count as overdue: a transfer instance without a
 * deadline is a leak by definition.
 */
export async function findOverdueInstances(
  ec2: EC2Client,
  now: Date,
  options: { graceMs?: number; stage?: string } = {},
): Promise<InstanceSummary[]> {
  const live = await findLiveInstances(ec2, [
    { Name: `tag:${TAG_STAGE}`, Values: [options.stage ?? currentStage()] },
  ]);
  const limit = now.getTime() - (options.graceMs ?? 0);
  return live.filter((instance) => {
    const deadline = Date.parse(instance.deadline ?? '');
    return Number.isNaN(deadline) || deadline < limit;
  });
}

export interface TerminationResult {
  instanceId: string;
  previousState: string;
  currentState: string;
}

/**
 * Terminates instances (TerminateInstances is idempotent on AWS: terminating a terminated instance
 * succeeds). Ids EC2 no longer knows count as terminated.
 * @throws TransientAwsError on throttling, so the state machine (or the event's retry) repeats it.
 */
export async function terminateInstances(
  ec2: EC2Client,
  instanceIds: string[],
): Promise<TerminationResult[]> {
  const ids = [...new Set(instanceIds.filter(Boolean))];
  if (ids.length === 0) return [];
  try {
    const out = await ec2.send(new TerminateInstancesCommand({ InstanceIds: ids }));
    return (out.TerminatingInstances ?? []).map((change) => ({
      instanceId: change.InstanceId ?? '',
      previousState: String(change.PreviousState?.Name ?? 'unknown'),
      currentState: String(change.CurrentState?.Name ?? 'unknown'),
    }));
  } catch (error) {
    if (awsErrorName(error) === 'InvalidInstanceID.NotFound') {
      // One unknown id fails the whole call: terminate the others one by one.
      if (ids.length > 1) {
        const results = [];
        for (const id of ids) results.push(...(await terminateInstances(ec2, [id])));
        return results;
      }
      return [{ instanceId: ids[0] as string, previousState: 'not-found', currentState: 'terminated' }];
    }
    rethrowTransient(error, `terminating ${ids.join(', ')}`);
  }
}

/**
 * Terminates every live instance of an execution plus `instanceId` when given (the failure path
 * knows the id; after a launch that timed out only the tag finds it); with `shard`, only that
 * scale-out shard's instances.
 */
export async function terminateExecutionInstances(
  ec2: EC2Client,
  executionArn: string,
  instanceId?: string,
  shard?: number,
): Promise<TerminationResult[]> {
  // A shard ends only its own instances: the others of the run may still be transferring.
  const tagged =
    shard === undefined
      ? await findInstancesByExecution(ec2, executionArn)
      : await findLiveInstances(ec2, [
          { Name: `tag:${TAG_EXECUTION}`, Values: [executionArn] },
          { Name: `tag:${TAG_SHARD}`, Values: [String(shard)] },
        ]);
  return terminateInstances(ec2, [...(instanceId ? [instanceId] : []), ...tagged.map((i) => i.instanceId)]);
}
