/** `EnsureAssociation`: reuse the mapping's data repository association or create it (DRA branch). */
import { getFsx } from '../../shared/aws/clients.js';
import { ensureAssociation } from '../../shared/dra/ensure-association.js';
import { EnsureAssociationInput } from '../../shared/dra/steps.js';
import { parseInput } from '../../shared/input.js';
import { lambdaHandler } from '../../shared/lambda.js';

export const handler = lambdaHandler(async (event: unknown) => {
  const { plan } = parseInput(EnsureAssociationInput, event, 'EnsureAssociation input');
  return ensureAssociation({ fsx: getFsx() }, plan);
});
