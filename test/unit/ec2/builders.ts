/** Builders for the EC2-method tests: a plan for the EC2 branch and SDK-shaped errors. */
import type { TransferPlan } from '../../../shared/plan/schema.js';
import { BUCKET, buildTransferPlan, FS_ID, type PlanOverrides } from '../../support/plan.js';

export { BUCKET, FS_ID };
export const EXECUTION_ARN =
  'arn:aws:states:us-east-1:000000000000:execution:fsx-transfer-local-transfer:extdata-stage-in-1';
export const INSTANCE_ID = 'i-0a1b2c3d4e5f60718';
export const SUBNET_A = 'subnet-0aaaaaaaaaaaaaaa1';
export const SUBNET_B = 'subnet-0bbbbbbbbbbbbbbb2';
export const NOW = new Date('2026-01-01T00:00:00.000Z');

/** An SDK-shaped error (name + HTTP status), as the clients throw them. */
export function awsError(name: string, status = 400, message = `${name} happened`): Error {
  return Object.assign(new Error(message), { name, $fault: 'client', $metadata: { httpStatusCode: status } });
}

/** An EC2 stage-in plan of the seed's ExtData mapping, deadline two hours after NOW. */
export function buildPlan(overrides: PlanOverrides = {}): TransferPlan {
  const { fileSystem, instance, timeouts, ...rest } = overrides;
  return buildTransferPlan({
    transferId: 'extdata-stage-in-1',
    executionName: 'extdata-stage-in-1',
    method: 'ec2',
    deadline: new Date(NOW.getTime() + 2 * 3600_000).toISOString(),
    ...rest,
    fileSystem: { subnetIds: [SUBNET_A, SUBNET_B], ...fileSystem },
    instance: {
      fallbackInstanceTypes: ['c6a.large', 'm6i.large'],
      amiParameter: '/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64',
      ...instance,
    },
    timeouts: { transferMinutes: 120, ...timeouts },
  });
}
