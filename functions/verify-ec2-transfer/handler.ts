/**
 * `VerifyEc2Transfer`: compares the S3 and file system listings of the scope; returns `$.result`.
 * `VerifyShards` (a scaled-out run): the same over the union of the shards' listings.
 */
import { getS3 } from '../../shared/aws/clients.js';
import { VerifyEc2Input, VerifyShardsInput, verifyShardsStep, verifyStep } from '../../shared/ec2/steps.js';
import { parseInput } from '../../shared/input.js';
import { lambdaHandler } from '../../shared/lambda.js';

export const handler = lambdaHandler(async (event: unknown) => {
  if (event && typeof event === 'object' && 'shards' in event) {
    return verifyShardsStep({ s3: getS3() }, parseInput(VerifyShardsInput, event, 'VerifyShards input'));
  }
  const input = parseInput(VerifyEc2Input, event, 'VerifyEc2Transfer input');
  return verifyStep({ s3: getS3() }, input);
});
