/**
 * `PlanShards`: after ChooseMethod on the EC2 branch, decides how many transfer instances the run
 * gets and which key range each copies. Input `{plan}`; output `$.shards` (`{count, items, reason}`).
 */
import { getS3 } from '../../shared/aws/clients.js';
import { getConfig } from '../../shared/config/load.js';
import { planRunShards } from '../../shared/ec2/scale-out.js';
import { PlanShardsInput } from '../../shared/ec2/steps.js';
import { parseInput } from '../../shared/input.js';
import { lambdaHandler, logger } from '../../shared/lambda.js';

export const handler = lambdaHandler(async (event: unknown) => {
  const input = parseInput(PlanShardsInput, event, 'PlanShards input');
  const shards = await planRunShards({ s3: getS3() }, input.plan, getConfig());
  logger.info('shards planned', { count: shards.count, reason: shards.reason });
  return shards;
});
