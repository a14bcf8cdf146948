/**
 * Cleanup layer (a): EventBridge `Step Functions Execution Status Change` of the transfer state
 * machine with status FAILED, TIMED_OUT or ABORTED -> terminate the execution's tagged instances.
 */
import { getEc2 } from '../../shared/aws/clients.js';
import { cleanupExecution, ExecutionStatusEvent } from '../../shared/ec2/cleanup.js';
import { parseInput } from '../../shared/input.js';
import { lambdaHandler, logger } from '../../shared/lambda.js';

export const handler = lambdaHandler(async (event: unknown) => {
  const input = parseInput(ExecutionStatusEvent, event, 'execution status event');
  const result = await cleanupExecution(getEc2(), input);
  if (result.terminated.length > 0) logger.warn('terminated instances left by an execution', { ...result });
  return result;
});
