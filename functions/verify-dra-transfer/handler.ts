/**
 * `VerifyDraTransfer` / `VerifyDraContent` (on a launched instance): compare task counts, the file
 * system listing and, in checksum mode, the content with S3; returns `$.result`.
 */
import { getS3 } from '../../shared/aws/clients.js';
import { getConfig } from '../../shared/config/load.js';
import { VerifyDraInput } from '../../shared/dra/steps.js';
import { reportPathFor } from '../../shared/dra/tasks.js';
import { verifyDraTransfer } from '../../shared/dra/verify.js';
import { parseInput } from '../../shared/input.js';
import { lambdaHandler } from '../../shared/lambda.js';

export const handler = lambdaHandler(async (event: unknown) => {
  const input = parseInput(VerifyDraInput, event, 'VerifyDraTransfer input');
  const reportPath = input.task?.reportPath ?? reportPathFor(input.plan, getConfig().defaults.reportPath);
  return verifyDraTransfer({ s3: getS3() }, { ...input, reportPath });
});
