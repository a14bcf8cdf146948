/**
 * `Validate`: the first state of the transfer state machine. Input
 * `{request, executionName, startTime}`; output the `TransferPlan` (written at `$.plan`).
 */
import { getFsx, getS3, getSts } from '../../shared/aws/clients.js';
import { getConfig } from '../../shared/config/load.js';
import { lambdaHandler } from '../../shared/lambda.js';
import { validateTransfer } from '../../shared/plan/validate.js';

export const handler = lambdaHandler(async (event: unknown) =>
  validateTransfer(event, { config: getConfig(), fsx: getFsx(), s3: getS3(), sts: getSts() }),
);
