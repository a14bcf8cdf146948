/**
 * `WaitForFileListing` / `WaitForPreload` / `WaitForPreloadCommand` / `WaitForChecksumsCommand`
 * (lambda:invoke.waitForTaskToken):
 * one invocation check; the state completes at once when the command ended, else
 * functions/poll-dra-waits completes it.
 */
import { getDynamoDb, getSfn, getSsm } from '../../shared/aws/clients.js';
import { checkLustreCommand } from '../../shared/dra/lustre-client.js';
import { LustreCommandWait, startWait } from '../../shared/dra/waits.js';
import { parseInput } from '../../shared/input.js';
import { lambdaHandler } from '../../shared/lambda.js';
import { transfersTable } from '../../shared/transfers/table.js';

export const handler = lambdaHandler(async (event: unknown) => {
  const input = parseInput(LustreCommandWait, event, 'WaitForLustreCommand input');
  const ssm = getSsm();
  return startWait(
    { db: getDynamoDb(), table: transfersTable(), sfn: getSfn() },
    { kind: 'lustre-command', ...input },
    (wait) => checkLustreCommand({ ssm }, wait.plan, wait.command),
  );
});
