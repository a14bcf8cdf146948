/**
 * `LaunchInstance`: first state of the EC2 branch. Input `{plan, executionArn}`; output the
 * launched instance (`$.ec2.instance`): id, type, subnet and deadlines. Also `LaunchShardInstance`
 * (input with `shard`: its own ClientToken and the `fsx-transfer:shard` tag).
 */
import { getEc2, getSsm } from '../../shared/aws/clients.js';
import { LaunchInstanceInput, launchInstanceStep } from '../../shared/ec2/steps.js';
import { parseInput } from '../../shared/input.js';
import { lambdaHandler, logger } from '../../shared/lambda.js';

export const handler = lambdaHandler(async (event: unknown) => {
  const input = parseInput(LaunchInstanceInput, event, 'LaunchInstance input');
  const launched = await launchInstanceStep({ ec2: getEc2(), ssm: getSsm() }, input);
  logger.info('transfer instance launched', { ...launched });
  return launched;
});
