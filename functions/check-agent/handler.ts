/**
 * `WaitForAgent`: succeeds once the instance's SSM agent is Online; throws NotReadyYetError before
 * (the state retries with back-off) and InstanceNotReadyError after the agent deadline. Also
 * `WaitForShardAgent` for each instance of a scaled-out run.
 */
import { getEc2, getSsm } from '../../shared/aws/clients.js';
import { CheckAgentInput } from '../../shared/ec2/steps.js';
import { parseInput } from '../../shared/input.js';
import { lambdaHandler } from '../../shared/lambda.js';
import { checkAgentReady } from '../../shared/ssm/commands.js';

export const handler = lambdaHandler(async (event: unknown) => {
  const input = parseInput(CheckAgentInput, event, 'WaitForAgent input');
  return checkAgentReady({ ssm: getSsm(), ec2: getEc2() }, input);
});
