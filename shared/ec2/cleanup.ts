/**
 * The cleanup layers that do not depend on the execution reaching its own failure path:
 * (a) the execution-status rule: an execution that ends FAILED, TIMED_OUT or ABORTED (StopExecution
 *     skips every Catch) gets its tagged instances terminated;
 * (b) the scheduled sweeper: any live transfer instance of this stage past its deadline is
 *     terminated, whatever happened to its execution;
 * (c) the watchdog in user data (see launch.ts) needs nothing from here.
 */
import type { EC2Client } from '@aws-sdk/client-ec2';
import * as z from 'zod';
import {
  findOverdueInstances,
  type TerminationResult,
  terminateExecutionInstances,
  terminateInstances,
} from './instances.js';

/** EventBridge `Step Functions Execution Status Change` (only the fields used). */
export const ExecutionStatusEvent = z.looseObject({
  source: z.literal('aws.states'),
  'detail-type': z.literal('Step Functions Execution Status Change'),
  detail: z.looseObject({
    executionArn: z.string().regex(/^arn:aws[a-z-]*:states:/),
    stateMachineArn: z.string().optional(),
    status: z.string(),
  }),
});
export type ExecutionStatusEvent = z.infer<typeof ExecutionStatusEvent>;

/** Execution statuses after which nothing of the execution may keep running. */
export const ENDED_BADLY = new Set(['FAILED', 'TIMED_OUT', 'ABORTED']);

/**
 * Terminates the instances of an execution that ended FAILED, TIMED_OUT or ABORTED.
 * @returns the terminations (empty for other statuses or when nothing was left).
 * @throws TransientAwsError on throttling (EventBridge retries the asynchronous invocation).
 */
export async function cleanupExecution(
  ec2: EC2Client,
  event: ExecutionStatusEvent,
): Promise<{ executionArn: string; status: string; terminated: TerminationResult[] }> {
  const { executionArn, status } = event.detail;
  if (!ENDED_BADLY.has(status)) return { executionArn, status, terminated: [] };
  return { executionArn, status, terminated: await terminateExecutionInstances(ec2, executionArn) };
}

/**
 * Terminates every live transfer instance of the stage whose deadline passed more than `graceMs` ago.
 * @returns the terminations.
 */
export async function sweepOverdueInstances(
  ec2: EC2Client,
  options: { now: Date; graceMs: number; stage?: string },
): Promise<TerminationResult[]> {
  const overdue = await findOverdueInstances(ec2, options.now, options);
  return terminateInstances(
    ec2,
    overdue.map((instance) => instance.instanceId),
  );
}
