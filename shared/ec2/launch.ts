/**
 * Launching the transfer instance: one dedicated instance in the file system's VPC that only moves
 * data (seed: "Launch EC2 instance for data transfer"). Everything about it is chosen so that it
 * cannot outlive its run: a watchdog in user data, shutdown behaviour `terminate`, tags naming the
 * execution and the deadline, and a ClientToken so a retried launch never starts a second one.
 */
import { createHash } from 'node:crypto';
import {
  DescribeInstancesCommand,
  type EC2Client,
  type Instance,
  RunInstancesCommand,
  type RunInstancesCommandInput,
} from '@aws-sdk/client-ec2';
import { GetParameterCommand, type SSMClient } from '@aws-sdk/client-ssm';
import { rethrowTransient } from '../aws/transient.js';
import { awsErrorName, InstanceLaunchError, InsufficientCapacityError } from '../errors.js';
import type { TransferPlan } from '../plan/schema.js';
import {
  currentStage,
  TAG_DEADLINE,
  TAG_EXECUTION,
  TAG_MAPPING,
  TAG_SHARD,
  TAG_STAGE,
  TAG_TRANSFER_ID,
} from './tags.js';

/**
 * RunInstances errors after which another instance type or subnet may still work. AWS returns
 * `InsufficientInstanceCapacity` when an AZ has no capacity for the type, and `Unsupported` when
 * the type is not offered in the subnet's AZ.
 */
const TRY_NEXT_CANDIDATE = new Set(['InsufficientInstanceCapacity', 'Unsupported']);

/** States in which an instance still costs money or may still start. */
export const LIVE_STATES = ['pending', 'running', 'stopping', 'stopped'];

export interface LaunchCandidate {
  instanceType: string;
  subnetId: string;
}

export interface LaunchDeps {
  ec2: EC2Client;
  ssm: SSMClient;
  now?: () => Date;
}

/** What a launch reads of the plan. */
export type LaunchPlan = Pick<
  TransferPlan,
  'transferId' | 'mapping' | 'deadline' | 'fileSystem' | 'instance' | 'timeouts'
>;

export interface LaunchRequest {
  plan: LaunchPlan;
  /** Step Functions execution ARN ($$.Execution.Id): tags the instance for the cleanup layers. */
  executionArn: string;
  /** Instance profile from the deployment (env); the config's `defaults.instanceProfileName` wins. */
  instanceProfileName?: string;
  stage?: string;
  /** Index of the scale-out shard this instance transfers (tag `fsx-transfer:shard`, own ClientToken). */
  shard?: number;
}

export interface LaunchAttempt extends LaunchCandidate {
  error: string;
  message: string;
}

export interface LaunchedInstance {
  instanceId: string;
  instanceType: string;
  subnetId: string;
  imageId: string;
  clientToken: string;
  /** True when a previous attempt of this step had already launched the instance. */
  reused: boolean;
  launchedAt: string;
  /** The run's deadline (the watchdog fires then, the sweeper terminates after it). */
  deadline: string;
  /** Until when the SSM agent may take to come online before the run fails. */
  agentDeadline: string;
  attempts: LaunchAttempt[];
}

/**
 * Instance type and subnet combinations to try, in order: every type in the first subnet before the
 * next subnet, because the first subnet is normally in the file system's AZ (Lustre traffic across
 * AZs is slower and billed), and a smaller or different family beats crossing AZs.
 */
export function launchCandidates(plan: Pick<TransferPlan, 'instance' | 'fileSystem'>): LaunchCandidate[] {
  const types = [...new Set([plan.instance.instanceType, ...plan.instance.fallbackInstanceTypes])];
  return plan.fileSystem.subnetIds.flatMap((subnetId) =>
    types.map((instanceType) => ({ instanceType, subnetId })),
  );
}

/**
 * ClientToken for one launch candidate of one execution (at most 64 ASCII characters). It depends
 * only on the execution and the candidate, never on the attempt, so a retried step sends the same
 * token and EC2 returns the instance it already launched instead of a second one.
 */
export function clientTokenFor(executionArn: string, candidate: LaunchCandidate, shard?: number): string {
  const digest = createHash('sha256')
    .update(
      `${executionArn}\n${candidate.instanceType}\n${candidate.subnetId}${shard === undefined ? '' : `\nshard ${shard}`}`,
    )
    .digest('hex');
  return `fsxt-${digest.slice(0, 48)}`;
}

/** Whole minutes from `now` until `deadline`, at least 1 (what `shutdown -P +<minutes>` takes). */
export function minutesUntil(deadline: Date, now: Date): number {
  return Math.max(1, Math.ceil((deadline.getTime() - now.getTime()) / 60_000));
}

/**
 * User data of the transfer instance (plain text; base64 it for RunInstances). The watchdog comes
 * first so that nothing after it (a slow or failing package install) can keep the instance alive
 * past the deadline. The local cloud's EC2 emulator parses the same `shutdown -P +<minutes>` line.
 */
export function buildUserData(watchdogMinutes: number): string {
  if (!Number.isInteger(watchdogMinutes) || watchdogMinutes < 1) {
    throw new Error(`watchdog minutes must be a positive integer, got ${watchdogMinutes}`);
  }
  return [
    '#!/bin/bash',
    '# fsx-transfer transfer instance.',
    '# Watchdog: with InstanceInitiatedShutdownBehavior=terminate, this powers off and terminates the',
    '# instance at the run deadline, even when nothing else is left to clean up.',
    `shutdown -P +${watchdogMinutes}`,
    '# Lustre client for the running kernel (the transfer command installs it too if this failed).',
    'dnf install -y lustre-client || echo "fsx-transfer: lustre-client install failed" >&2',
    '',
  ].join('\n');
}

export interface RunInstancesSpec {
  plan: LaunchPlan;
  candidate: LaunchCandidate;
  imageId: string;
  executionArn: string;
  instanceProfileName?: string;
  clientToken: string;
  userData: string;
  stage: string;
  shard?: number;
}

/** RunInstances parameters for one candidate (pure; see `launchTransferInstance`). */
export function buildRunInstancesInput(spec: RunInstancesSpec): RunInstancesCommandInput {
  const { plan, candidate } = spec;
  const tags = [
    {
      Key: 'Name',
      Value: `fsx-transfer-${plan.transferId}${spec.shard === undefined ? '' : `-shard-${spec.shard}`}`.slice(
        0,
        255,
      ),
    },
    { Key: TAG_EXECUTION, Value: spec.executionArn },
    { Key: TAG_TRANSFER_ID, Value: plan.transferId },
    { Key: TAG_MAPPING, Value: plan.mapping },
    { Key: TAG_DEADLINE, Value: plan.deadline },
    { Key: TAG_STAGE, Value: spec.stage },
    ...(spec.shard === undefined ? [] : [{ Key: TAG_SHARD, Value: String(spec.shard) }]),
  ];
  return {
    ImageId: spec.imageId,
    InstanceType: candidate.instanceType as RunInstancesCommandInput['InstanceType'],
    MinCount: 1,
    MaxCount: 1,
    ClientToken: spec.clientToken,
    ...(spec.instanceProfileName ? { IamInstanceProfile: { Name: spec.instanceProfileName } } : {}),
    // No public IP: the instance reaches S3, SSM and the package repositories through the VPC
    // (endpoints or NAT), and nothing can reach it from outside.
    NetworkInterfaces: [
      {
        DeviceIndex: 0,
        SubnetId: candidate.subnetId,
        Groups: plan.fileSystem.securityGroupIds,
        AssociatePublicIpAddress: false,
        DeleteOnTermination: true,
      },
    ],
    MetadataOptions: { HttpTokens: 'required', HttpEndpoint: 'enabled', HttpPutResponseHopLimit: 1 },
    BlockDeviceMappings: [
      {
        DeviceName: '/dev/xvda',
        Ebs: { VolumeType: 'gp3', VolumeSize: 16, Encrypted: true, DeleteOnTermination: true },
      },
    ],
    InstanceInitiatedShutdownBehavior: 'terminate',
    UserData: Buffer.from(spec.userData, 'utf8').toString('base64'),
    TagSpecifications: [
      { ResourceType: 'instance', Tags: tags },
      { ResourceType: 'volume', Tags: tags },
    ],
  };
}

/**
 * Resolves the AMI id from an SSM parameter (default: the public parameter for the latest
 * Amazon Linux 2023).
 * @throws InstanceLaunchError when the parameter cannot be read.
 */
export async function resolveImageId(ssm: SSMClient, parameterName: string): Promise<string> {
  try {
    const out = await ssm.send(new GetParameterCommand({ Name: parameterName }));
    const value = out.Parameter?.Value;
    if (!value?.startsWith('ami-')) {
      throw new InstanceLaunchError(`SSM parameter ${parameterName} does not hold an AMI id (got ${value})`);
    }
    return value;
  } catch (error) {
    if (error instanceof InstanceLaunchError) throw error;
    rethrowTransientOr(error, `reading the AMI parameter ${parameterName}`);
  }
}

function rethrowTransientOr(error: unknown, doing: string): never {
  try {
    rethrowTransient(error, doing);
  } catch (rethrown) {
    if (rethrown !== error) throw rethrown;
  }
  throw new InstanceLaunchError(`${doing} failed: ${awsErrorName(error)}: ${(error as Error).message}`, {
    cause: error,
  });
}

/** Instances launched earlier with any of `tokens` that are not terminated (yet). */
async function findByClientTokens(ec2: EC2Client, tokens: string[]): Promise<Instance[]> {
  const out = await ec2.send(
    new DescribeInstancesCommand({
      Filters: [
        { Name: 'client-token', Values: tokens },
        { Name: 'instance-state-name', Values: LIVE_STATES },
      ],
    }),
  );
  return (out.Reservations ?? []).flatMap((reservation) => reservation.Instances ?? []);
}

/**
 * Launches the transfer instance for `plan`, trying instance types and subnets in order when EC2
 * has no capacity. Idempotent: a retry of the step finds the instance launched before (by the
 * candidates' client tokens) or gets it back from EC2 for the same token.
 * @returns the instance and the deadlines the next states use.
 * @throws InsufficientCapacityError when every candidate lacks capacity (each attempt listed),
 *   InstanceLaunchError for any other refusal, TransientAwsError on throttling (state retried).
 */
export async function launchTransferInstance(
  deps: LaunchDeps,
  request: LaunchRequest,
): Promise<LaunchedInstance> {
  const { plan, executionArn } = request;
  const now = deps.now?.() ?? new Date();
  const deadline = new Date(plan.deadline);
  if (Number.isNaN(deadline.getTime()))
    throw new InstanceLaunchError(`plan deadline is not a date: ${plan.deadline}`);
  if (deadline.getTime() <= now.getTime()) {
    throw new InstanceLaunchError(
      `the run's deadline ${plan.deadline} has passed; not launching an instance`,
    );
  }
  const agentDeadline = new Date(
    Math.min(deadline.getTime(), now.getTime() + plan.timeouts.agentOnlineMinutes * 60_000),
  );
  const candidates = launchCandidates(plan);
  const tokens = candidates.map((candidate) => clientTokenFor(executionArn, candidate, request.shard));
  const result = (instance: Instance, reused: boolean, attempts: LaunchAttempt[]): LaunchedInstance => ({
    instanceId: instance.InstanceId ?? '',
    instanceType: String(instance.InstanceType ?? ''),
    subnetId: instance.SubnetId ?? '',
    imageId: instance.ImageId ?? '',
    clientToken: instance.ClientToken ?? '',
    reused,
    launchedAt: (instance.LaunchTime ?? now).toISOString(),
    deadline: deadline.toISOString(),
    agentDeadline: agentDeadline.toISOString(),
    attempts,
  });

  let existing: Instance[];
  try {
    existing = await findByClientTokens(deps.ec2, tokens);
  } catch (error) {
    rethrowTransientOr(error, 'looking for an instance launched by an earlier attempt');
  }
  if (existing[0]?.InstanceId) return result(existing[0], true, []);

  const imageId = await resolveImageId(deps.ssm, plan.instance.amiParameter);
  const instanceProfileName = plan.instance.instanceProfileName ?? request.instanceProfileName;
  const userData = buildUserData(minutesUntil(deadline, now));
  const attempts: LaunchAttempt[] = [];
  for (const [i, candidate] of candidates.entries()) {
    const clientToken = tokens[i] as string;
    const input = buildRunInstancesInput({
      plan,
      candidate,
      imageId,
      executionArn,
      instanceProfileName,
      clientToken,
      userData,
      stage: request.stage ?? currentStage(),
      ...(request.shard === undefined ? {} : { shard: request.shard }),
    });
    try {
      const out = await deps.ec2.send(new RunInstancesCommand(input));
      const instance = out.Instances?.[0];
      if (!instance?.InstanceId) throw new InstanceLaunchError('RunInstances returned no instance');
      return result({ ClientToken: clientToken, ImageId: imageId, ...instance }, false, attempts);
    } catch (error) {
      const name = awsErrorName(error) ?? 'Error';
      if (TRY_NEXT_CANDIDATE.has(name)) {
        attempts.push({ ...candidate, error: name, message: (error as Error).message });
        continue;
      }
      if (name === 'IdempotentParameterMismatch') {
        // The token was used by an earlier attempt with other parameters (e.g. a new AMI or
        // user data): that launch counts, find it instead of starting another.
        const found = await findByClientTokens(deps.ec2, [clientToken]);
        if (found[0]?.InstanceId) return result(found[0], true, attempts);
      }
      if (error instanceof InstanceLaunchError) throw error;
      rethrowTransientOr(error, `launching ${candidate.instanceType} in ${candidate.subnetId}`);
    }
  }
  const tried = attempts.map((a) => `${a.instanceType} in ${a.subnetId} (${a.error})`).join(', ');
  throw new InsufficientCapacityError(
    `No capacity for a transfer instance: tried ${tried}. Add instance types (defaults.fallbackInstanceTypes) or subnets in other AZs (fileSystems[].subnetIds), or retry later.`,
    { details: { attempts } },
  );
}
