/** `WaitForAssociation`: one lifecycle check; NotReadyYetError makes the state machine retry with back-off. */
import { getFsx } from '../../shared/aws/clients.js';
import { checkAssociation } from '../../shared/dra/ensure-association.js';
import { WaitForAssociationInput } from '../../shared/dra/steps.js';
import { parseInput } from '../../shared/input.js';
import { lambdaHandler } from '../../shared/lambda.js';

export const handler = lambdaHandler(async (event: unknown) => {
  const { plan, association } = parseInput(WaitForAssociationInput, event, 'WaitForAssociation input');
  return checkAssociation({ fsx: getFsx() }, plan, association);
});
