/** `VerifyEc2Transfer`: compares the S3 and file system listings of the scope; returns `$.result`. */
import { getS3 } from '../../shared/aws/clients.js';
import { VerifyEc2Input, verifyStep } from '../../shared/ec2/steps.js';
import { parseInput } from '../../shared/input.js';
import { lambdaHandler } from '../../shared/lambda.js';

export const handler = lambdaHandler(async (event: unknown) => {
  const input = parseInput(VerifyEc2Input, event, 'VerifyEc2Transfer input');
  return verifyStep({ s3: getS3() }, input);
});
