/**
 * `TerminateInstance` / `TerminateAfterFailure` / `TerminateAfterLaunchFailure`: terminates the
 * run's instance (when known) and any other instance tagged with the execution. Scale-out:
 * `TerminateShards` / `TerminateShardsAfterFailure` (every shard's instances, by the execution tag)
 * and, inside the TransferShards Map, `TerminateShardInstance` / `TerminateShardAfterFailure` /
 * `TerminateShardAfterLaunchFailure` (only that shard's, with `shard`). Throttling surfaces
 * as TransientAwsError for the Retry.
 */
import { getEc2 } from '../../shared/aws/clients.js';
import { terminateExecutionInstances } from '../../shared/ec2/instances.js';
import { TerminateInput } from '../../shared/ec2/steps.js';
import { parseInput } from '../../shared/input.js';
import { lambdaHandler, logger } from '../../shared/lambda.js';

export const handler = lambdaHandler(async (event: unknown) => {
  const input = parseInput(TerminateInput, event, 'TerminateInstance input');
  const terminated = await terminateExecutionInstances(
    getEc2(),
    input.executionArn,
    input.instanceId,
    input.shard,
  );
  logger.info('transfer instances terminated', { terminated });
  return { terminated };
});
