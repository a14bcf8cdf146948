/**
 * Input shapes of the DRA branch's Lambda steps (what transfer.asl.json passes them). The plan and
 * the branch states were built by our own steps, so only what each step relies on is checked; a
 * mismatch is a wiring bug and fails as InvalidRequestError naming the field.
 */
import { z } from 'zod';
import type { TransferPlan } from '../plan/types.js';
import type { AssociationState, LustreCommandState, TaskState } from './types.js';

const Plan = z.looseObject({
  transferId: z.string().min(1),
  mapping: z.string().min(1),
  direction: z.enum(['stage-in', 'export']),
  method: z.literal('dra'),
  deadline: z.string().min(1),
  fileSystem: z.looseObject({ id: z.string().min(1), mountPoint: z.string().min(1) }),
  scope: z.looseObject({
    fsxPath: z.string().startsWith('/'),
    mappingFsxPath: z.string().startsWith('/'),
    mappingS3Uri: z.string().startsWith('s3://'),
    bucket: z.string().min(1),
    prefix: z.string(),
  }),
  options: z.looseObject({ autoExport: z.boolean(), preload: z.boolean(), release: z.boolean() }),
  timeouts: z.looseObject({ transferMinutes: z.number() }),
});
const plan = Plan.transform((p) => p as unknown as TransferPlan);

const Association = z
  .looseObject({ associationId: z.string().min(1), lifecycle: z.string(), created: z.boolean() })
  .transform((a) => a as unknown as AssociationState);
const TaskType = z.enum([
  'IMPORT_METADATA_FROM_REPOSITORY',
  'EXPORT_TO_REPOSITORY',
  'RELEASE_DATA_FROM_FILESYSTEM',
]);
const Task = z
  .looseObject({ type: TaskType, ran: z.boolean(), reason: z.string() })
  .transform((t) => t as unknown as TaskState);
const Command = z
  .looseObject({ purpose: z.enum(['list', 'preload']), sent: z.boolean(), reason: z.string() })
  .transform((c) => c as unknown as LustreCommandState);

export const EnsureAssociationInput = z.object({ plan });
export const WaitForAssociationInput = z.object({ plan, association: Association });
export const StartTaskInput = z.object({ plan, type: TaskType, association: Association.optional() });
export const WaitForTaskInput = z.object({ plan, task: Task });
/** The transfer instance LaunchPreloadInstance launched (`$.dra.preloadInstance`). */
const LaunchedInstance = z.looseObject({
  instanceId: z.string().regex(/^i-[0-9a-zA-Z]{1,32}$/, 'must be an instance id'),
});

export const SendLustreCommandInput = z.object({
  plan,
  purpose: z.enum(['list', 'preload']),
  instance: LaunchedInstance.optional(),
});
export const WaitForLustreCommandInput = z.object({ plan, command: Command });
export const VerifyDraInput = z.object({
  plan,
  association: Association.optional(),
  task: Task.optional(),
  listing: Command.optional(),
});
