/**
 * `Validate`: the first state of the transfer state machine. Input
 * `{request, executionName, startTime}`; output the `TransferPlan` (written at `$.plan`).
 */
import { lambdaHandler, parseInput } from '../../shared/lambda.js';
import { ValidateInput } from '../../shared/plan/validate.js';

export const handler = lambdaHandler(async (event: unknown) => {
  const input = parseInput(ValidateInput, event, 'Validate input');
  return { input };
});
