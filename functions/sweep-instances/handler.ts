/**
 * Cleanup layer (b): on a schedule, terminate every transfer instance of this stage that is past
 * its deadline (tag `fsx-transfer:deadline`) by more than `SWEEP_GRACE_MINUTES` (default 10).
 */
import { getEc2 } from '../../shared/aws/clients.js';
import { sweepOverdueInstances } from '../../shared/ec2/cleanup.js';
import { ec2Settings } from '../../shared/ec2/steps.js';
import { lambdaHandler, logger } from '../../shared/lambda.js';

export const handler = lambdaHandler(async () => {
  const graceMs = Number(process.env.SWEEP_GRACE_MINUTES ?? 10) * 60_000;
  const terminated = await sweepOverdueInstances(getEc2(), {
    now: new Date(),
    graceMs,
    stage: ec2Settings().stage,
  });
  if (terminated.length > 0) logger.warn('terminated transfer instances past their deadline', { terminated });
  return { terminated };
});
