/**
 * The EC2 branch's Lambda steps: their input shapes (what transfer.asl.json passes them), the
 * deployment settings they read from the environment, and the step functions the handlers call.
 * Each step checks the part of the plan it reads, as a `.pick()` of the one plan schema; a
 * mismatch is a wiring bug and fails as InvalidRequestError naming the field.
 */
import type { EC2Client } from '@aws-sdk/client-ec2';
import type { S3Client } from '@aws-sdk/client-s3';
import type { SSMClient } from '@aws-sdk/client-ssm';
import * as z from 'zod';
import { InvalidRequestError } from '../errors.js';
import { TransferPlan } from '../plan/schema.js';
import { type CommandResult, pollTransferCommand, sendTransferCommand } from '../ssm/commands.js';
import {
  buildCommandParameters,
  checksumsUriFor,
  documentParameterProblems,
  listingUriFor,
  progressUriFor,
  type TransferCommandParameters,
} from '../ssm/document.js';
import {
  type ReportDeps,
  reportCommandToTask,
  storeTaskToken,
  type TaskTokenRecord,
} from '../ssm/task-tokens.js';
import type { BranchResult } from '../verify/compare.js';
import { type LaunchedInstance, launchTransferInstance } from './launch.js';
import { inShard } from './shards.js';
import { currentStage } from './tags.js';
import { syncTuning } from './tuning.js';
import { verifyEc2Shards, verifyEc2Transfer } from './verify.js';

/** On this branch the transfer id names instances (tags, ClientToken) and S3 keys (the listing). */
const EC2 = {
  transferId: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be 1-64 letters, digits, _ or -'),
};
/** What the sync command is built from (`syncParameters`). */
const SyncPlan = TransferPlan.pick({
  transferId: true,
  direction: true,
  deadline: true,
  fileSystem: true,
  scope: true,
  options: true,
}).extend(EC2);
type SyncPlan = z.infer<typeof SyncPlan>;

const ExecutionArn = z.string().regex(/^arn:aws[a-z-]*:states:/, 'must be a Step Functions execution ARN');
const InstanceId = z.string().regex(/^i-[0-9a-zA-Z]{1,32}$/, 'must be an instance id');
/** The instance as LaunchInstance returned it ($.ec2.instance). */
const Instance = z.looseObject({
  instanceId: InstanceId,
  deadline: z.iso.datetime(),
  instanceType: z.string().optional(),
});
/** One scale-out shard as PlanShards planned it (shared/ec2/shards.ts), an item of TransferShards. */
const Boundary = z.string().regex(/^[A-Za-z0-9._/-]{1,200}$/, 'must be 1-200 letters, digits, ., _, - or /');
export const ShardItem = z.object({
  index: z.number().int().min(0),
  count: z.number().int().min(1),
  start: Boundary.optional(),
  end: Boundary.optional(),
  files: z.number().int().min(0),
  bytes: z.number().min(0),
});
export type ShardItem = z.infer<typeof ShardItem>;

export const LaunchInstanceInput = z.object({
  plan: TransferPlan.pick({
    transferId: true,
    mapping: true,
    direction: true,
    deadline: true,
    fileSystem: true,
    scope: true,
    options: true,
    instance: true,
    timeouts: true,
  }).extend(EC2),
  executionArn: ExecutionArn,
  shard: ShardItem.optional(),
});
export const PlanShardsInput = z.object({
  plan: TransferPlan.pick({ direction: true, scope: true, options: true, fileSystem: true, instance: true }),
});
export const CheckAgentInput = z.object({ instanceId: InstanceId, agentDeadline: z.iso.datetime() });
export const SendCommandInput = z.object({
  plan: SyncPlan,
  instance: Instance,
  taskToken: z.string().min(1),
  executionArn: ExecutionArn.optional(),
  shard: ShardItem.optional(),
});
export const PollCommandInput = z.object({
  plan: TransferPlan.pick({ transferId: true, scope: true }).extend(EC2),
  instance: Instance,
});
export const VerifyEc2Input = z.object({
  plan: TransferPlan.pick({
    transferId: true,
    direction: true,
    fileSystem: true,
    scope: true,
    options: true,
  }).extend(EC2),
  instance: Instance,
  command: z.looseObject({
    commandId: z.string().min(1),
    listingUri: z.string().startsWith('s3://').optional(),
  }),
});
/** What each TransferShards iteration returns (ShardDone): VerifyShards reads their listings. */
export const ShardResult = z.object({
  shard: ShardItem,
  instanceId: InstanceId,
  commandId: z.string().min(1),
});
export const VerifyShardsInput = z.object({
  plan: VerifyEc2Input.shape.plan,
  shards: z.array(ShardResult).min(1),
});
export const TerminateInput = z.object({
  executionArn: ExecutionArn,
  instanceId: InstanceId.optional(),
  /** Only this scale-out shard's instances (TerminateShardInstance, TerminateShardAfter*). */
  shard: z.number().int().min(0).optional(),
});

/** Deployment settings of the EC2 method (serverless.yml sets them; the defaults follow its names). */
export interface Ec2Settings {
  stage: string;
  instanceProfileName: string;
  documentName: string;
  logGroupName: string;
}

export function ec2Settings(env: NodeJS.ProcessEnv = process.env): Ec2Settings {
  const stage = currentStage(env);
  return {
    stage,
    instanceProfileName: env.TRANSFER_INSTANCE_PROFILE || `fsx-transfer-${stage}-transfer-instance`,
    documentName: env.TRANSFER_DOCUMENT_NAME || `fsx-transfer-${stage}-transfer`,
    logGroupName: env.TRANSFER_LOG_GROUP || `/fsx-transfer/${stage}/transfer-commands`,
  };
}

/** Seconds the transfer command may run: until 2 minutes before the deadline, so termination has time. */
export function commandTimeoutSeconds(deadline: string, now: Date): number {
  return Math.max(60, Math.floor((Date.parse(deadline) - now.getTime()) / 1000) - 120);
}

/** SendCommand comment of a run's transfer command: how a retried step or the poller finds it. */
export function commandComment(plan: Pick<TransferPlan, 'transferId'>): string {
  return `fsx-transfer ${plan.transferId} sync`;
}

/**
 * The document parameters of a run's sync command (with the listing written for verification and
 * the progress published for status and watch).
 */
export function syncParameters(
  plan: SyncPlan,
  instanceId: string,
  now: Date,
  options: { instanceType?: string; shard?: Pick<ShardItem, 'index' | 'start' | 'end'> } = {},
): TransferCommandParameters {
  return buildCommandParameters(plan, {
    mode: 'sync',
    listingUri: listingUriFor(plan, instanceId),
    progressUri: progressUriFor(plan, options.shard?.index),
    checksumsUri: plan.options.verify === 'checksum' ? checksumsUriFor(plan, instanceId) : '',
    executionTimeoutSeconds: commandTimeoutSeconds(plan.deadline, now),
    ...(options.instanceType ? syncTuning(options.instanceType) : {}),
    ...(options.shard ? { shard: options.shard } : {}),
  });
}

/**
 * The LaunchInstance step: refuses a plan whose values the transfer document would refuse
 * (before anything is started), then launches the instance.
 * @returns the instance and its deadlines (`$.ec2.instance`).
 * @throws InvalidRequestError naming each refused document parameter; see launchTransferInstance.
 */
export async function launchInstanceStep(
  deps: { ec2: EC2Client; ssm: SSMClient; now?: () => Date },
  input: z.infer<typeof LaunchInstanceInput>,
  settings: Ec2Settings = ec2Settings(),
): Promise<LaunchedInstance> {
  const now = deps.now?.() ?? new Date();
  const problems = documentParameterProblems(
    syncParameters(input.plan, 'i-00000000000000000', now, {
      instanceType: input.plan.instance.instanceType,
      ...(input.shard ? { shard: input.shard } : {}),
    }),
  );
  if (problems.length > 0) {
    throw new InvalidRequestError(
      `The transfer cannot be run by the transfer document: ${problems.join('; ')}`,
      {
        details: { problems },
      },
    );
  }
  return launchTransferInstance(deps, {
    plan: input.plan,
    executionArn: input.executionArn,
    instanceProfileName: settings.instanceProfileName,
    stage: settings.stage,
    ...(input.shard ? { shard: input.shard.index } : {}),
  });
}

/**
 * The RunTransferCommand step (a `.waitForTaskToken` task): sends the sync command (or finds the
 * one an earlier attempt sent), stores the task token for the callback, then reports at once if
 * the command already ended (a fast command can finish before the token was stored, and its
 * status event would then have found no token).
 * @returns what was done; Step Functions waits for SendTaskSuccess/Failure regardless.
 */
export async function sendCommandStep(
  deps: ReportDeps,
  input: z.infer<typeof SendCommandInput>,
  settings: Ec2Settings = ec2Settings(),
): Promise<{ commandId: string; sent: boolean; reported: string }> {
  const now = deps.now?.() ?? new Date();
  const { plan, instance } = input;
  const { commandId, sent } = await sendTransferCommand(deps.ssm, {
    instanceId: instance.instanceId,
    documentName: settings.documentName,
    parameters: syncParameters(plan, instance.instanceId, now, {
      ...(instance.instanceType ? { instanceType: instance.instanceType } : {}),
      ...(input.shard ? { shard: input.shard } : {}),
    }),
    comment: commandComment(plan),
    logGroupName: settings.logGroupName,
  });
  const record: TaskTokenRecord = {
    taskToken: input.taskToken,
    commandId,
    instanceId: instance.instanceId,
    listingUri: listingUriFor(plan, instance.instanceId),
    ...(input.executionArn ? { executionArn: input.executionArn } : {}),
  };
  await storeTaskToken(deps, record);
  const reported = await reportCommandToTask(deps, { commandId, record });
  return { commandId, sent, reported };
}

/**
 * The PollTransferCommand step: the fallback when the wait timed out without a callback.
 * @see pollTransferCommand
 */
export function pollCommandStep(
  deps: { ssm: SSMClient; now?: () => Date },
  input: z.infer<typeof PollCommandInput>,
  settings: Ec2Settings = ec2Settings(),
): Promise<CommandResult> {
  return pollTransferCommand(deps, {
    instanceId: input.instance.instanceId,
    documentName: settings.documentName,
    comment: commandComment(input.plan),
    deadline: input.instance.deadline,
    listingUri: listingUriFor(input.plan, input.instance.instanceId),
  });
}

/**
 * The VerifyEc2Transfer step: compares the listings and returns the branch result (`$.result`).
 * @see verifyEc2Transfer
 */
export async function verifyStep(
  deps: { s3: S3Client },
  input: z.infer<typeof VerifyEc2Input>,
): Promise<BranchResult> {
  const listingUri = input.command.listingUri ?? listingUriFor(input.plan, input.instance.instanceId);
  const checksumsUri =
    input.plan.options.verify === 'checksum'
      ? checksumsUriFor(input.plan, input.instance.instanceId)
      : undefined;
  const result = await verifyEc2Transfer(deps, { plan: input.plan, listingUri, checksumsUri });
  return {
    ...result,
    details: { ...result.details, instanceId: input.instance.instanceId, commandId: input.command.commandId },
  };
}

/**
 * The VerifyShards step of a scaled-out run: every shard's listing, cut to the shard's key range,
 * together against the S3 listing of the scope (verification over the union).
 * @see verifyEc2Shards
 */
export async function verifyShardsStep(
  deps: { s3: S3Client },
  input: z.infer<typeof VerifyShardsInput>,
): Promise<BranchResult> {
  const listings = input.shards.map((item) => ({
    listingUri: listingUriFor(input.plan, item.instanceId),
    ...(input.plan.options.verify === 'checksum'
      ? { checksumsUri: checksumsUriFor(input.plan, item.instanceId) }
      : {}),
    includes: (path: string) => inShard(path, item.shard),
  }));
  const result = await verifyEc2Shards(deps, { plan: input.plan, listings });
  return {
    ...result,
    details: {
      ...result.details,
      shards: input.shards.map((item) => ({
        index: item.shard.index,
        instanceId: item.instanceId,
        commandId: item.commandId,
        files: item.shard.files,
        bytes: item.shard.bytes,
      })),
    },
  };
}
