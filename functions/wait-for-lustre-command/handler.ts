/** `WaitForFileListing` / `WaitForPreload` / `WaitForPreloadCommand`: one invocation check; NotReadyYetError makes the state machine retry. */
import { getSsm } from '../../shared/aws/clients.js';
import { checkLustreCommand } from '../../shared/dra/lustre-client.js';
import { WaitForLustreCommandInput } from '../../shared/dra/steps.js';
import { parseInput } from '../../shared/input.js';
import { lambdaHandler } from '../../shared/lambda.js';

export const handler = lambdaHandler(async (event: unknown) => {
  const { plan, command } = parseInput(WaitForLustreCommandInput, event, 'WaitForLustreCommand input');
  return checkLustreCommand({ ssm: getSsm() }, plan, command);
});
