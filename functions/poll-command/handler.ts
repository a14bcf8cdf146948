/**
 * `PollTransferCommand`: the fallback after the wait for the callback timed out. Returns the
 * command result, throws NotReadyYetError while it runs, CommandFailedError/CommandTimedOutError.
 * Also `PollShardCommand` for each instance of a scaled-out run.
 */
import { getSsm } from '../../shared/aws/clients.js';
import { PollCommandInput, pollCommandStep } from '../../shared/ec2/steps.js';
import { parseInput } from '../../shared/input.js';
import { lambdaHandler } from '../../shared/lambda.js';

export const handler = lambdaHandler(async (event: unknown) => {
  const input = parseInput(PollCommandInput, event, 'PollTransferCommand input');
  return pollCommandStep({ ssm: getSsm() }, input);
});
