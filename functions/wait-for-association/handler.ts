/**
 * `WaitForAssociation` (lambda:invoke.waitForTaskToken): one lifecycle check; the state completes
 * at once when the association is AVAILABLE, else functions/poll-dra-waits completes it.
 */
import { getDynamoDb, getFsx, getSfn } from '../../shared/aws/clients.js';
import { checkAssociation } from '../../shared/dra/ensure-association.js';
import { AssociationWait, startWait } from '../../shared/dra/waits.js';
import { parseInput } from '../../shared/input.js';
import { lambdaHandler } from '../../shared/lambda.js';
import { transfersTable } from '../../shared/transfers/table.js';

export const handler = lambdaHandler(async (event: unknown) => {
  const input = parseInput(AssociationWait, event, 'WaitForAssociation input');
  const fsx = getFsx();
  return startWait(
    { db: getDynamoDb(), table: transfersTable(), sfn: getSfn() },
    { kind: 'association', ...input },
    (wait) => checkAssociation({ fsx }, wait.plan, wait.association),
  );
});
