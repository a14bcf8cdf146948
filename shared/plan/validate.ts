/**
 * The `Validate` step: turns a transfer request into a `TransferPlan`, or throws a typed error
 * before anything is changed. (Being filled in; see issue 6.)
 */
import { z } from 'zod';

/** What the state machine passes to `Validate` (see the transfer state machine's first state). */
export const ValidateInput = z.object({
  request: z.unknown(),
  executionName: z.string().min(1).optional(),
  startTime: z.string().min(1).optional(),
});
export type ValidateInput = z.infer<typeof ValidateInput>;
