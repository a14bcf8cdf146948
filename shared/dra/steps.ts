/**
 * Input shapes of the DRA branch's Lambda steps (what transfer.asl.json passes them): each checks
 * the part of the plan its step reads, as a `.pick()` of the one plan schema, and the branch states
 * with their own schemas. A mismatch is a wiring bug and fails as InvalidRequestError naming the field.
 */
import * as z from 'zod';
import { TransferPlan } from '../plan/schema.js';
import { AssociationState, LustreCommandPurpose, LustreCommandState, TaskState, TaskType } from './state.js';

/** Every DRA step runs for a plan that chose the DRA method. */
const DRA = { method: z.literal('dra') };

export const EnsureAssociationInput = z.object({
  plan: TransferPlan.pick({
    transferId: true,
    mapping: true,
    fileSystem: true,
    scope: true,
    options: true,
  }).extend(DRA),
});
export const WaitForAssociationInput = z.object({
  plan: TransferPlan.pick({ deadline: true }).extend(DRA),
  association: AssociationState,
});
export const StartTaskInput = z.object({
  plan: TransferPlan.pick({
    transferId: true,
    mapping: true,
    fileSystem: true,
    scope: true,
    deadline: true,
  }).extend(DRA),
  type: TaskType,
  association: AssociationState.optional(),
});
export const WaitForTaskInput = z.object({
  plan: TransferPlan.pick({ fileSystem: true, deadline: true }).extend(DRA),
  task: TaskState,
});
/** The transfer instance LaunchPreloadInstance launched (`$.dra.preloadInstance`). */
const LaunchedInstance = z.looseObject({
  instanceId: z.string().regex(/^i-[0-9a-zA-Z]{1,32}$/, 'must be an instance id'),
});
export const SendLustreCommandInput = z.object({
  plan: TransferPlan.pick({
    transferId: true,
    direction: true,
    fileSystem: true,
    scope: true,
    timeouts: true,
  })
    .extend(DRA)
    // The verification mode (checksum: the listing command also writes checksums); size without options.
    .extend({ options: TransferPlan.shape.options.pick({ verify: true }).optional() }),
  purpose: LustreCommandPurpose,
  instance: LaunchedInstance.optional(),
});
export const WaitForLustreCommandInput = z.object({
  plan: TransferPlan.pick({ deadline: true }).extend(DRA),
  command: LustreCommandState,
});
export const VerifyDraInput = z.object({
  plan: TransferPlan.pick({ direction: true, fileSystem: true, scope: true })
    .extend(DRA)
    // The verification mode; an input without options is verified by size.
    .extend({ options: TransferPlan.shape.options.pick({ verify: true }).optional() }),
  association: AssociationState.optional(),
  task: TaskState.optional(),
  listing: LustreCommandState.optional(),
});
