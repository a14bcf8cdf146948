/** Builders for the EC2-method tests: a plan for the EC2 branch and SDK-shaped errors. */
import type { TransferPlan } from '../../../shared/plan/types.js';

export const FS_ID = 'fs-0123456789abcdef0';
export const BUCKET = 'dzhang-imi-gchp-test';
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

type Nested = 'fileSystem' | 'scope' | 'options' | 'instance' | 'timeouts';
type PlanOverrides = Partial<Omit<TransferPlan, Nested>> & { [K in Nested]?: Partial<TransferPlan[K]> };

/** An EC2 stage-in plan of the seed's ExtData mapping, deadline two hours after NOW. */
export function buildPlan(overrides: PlanOverrides = {}): TransferPlan {
  const { fileSystem, scope, options, instance, timeouts, ...top } = overrides;
  return {
    transferId: 'extdata-stage-in-1',
    executionName: 'extdata-stage-in-1',
    mapping: 'extdata',
    direction: 'stage-in',
    method: 'ec2',
    methodReasons: [],
    deadline: new Date(NOW.getTime() + 2 * 3600_000).toISOString(),
    ...top,
    fileSystem: {
      id: FS_ID,
      region: 'us-east-1',
      dnsName: `${FS_ID}.fsx.us-east-1.amazonaws.com`,
      mountName: 'abcdef01',
      lustreVersion: '2.15',
      deploymentType: 'PERSISTENT_2',
      mountPoint: '/fsx',
      subnetIds: [SUBNET_A, SUBNET_B],
      securityGroupIds: ['sg-0123456789abcdef0'],
      ...fileSystem,
    },
    scope: {
      fsxPath: '/ExtData',
      mappingFsxPath: '/ExtData',
      mappingS3Uri: `s3://${BUCKET}/ExtData`,
      bucket: BUCKET,
      prefix: 'ExtData',
      ...scope,
    },
    options: {
      delete: false,
      include: [],
      exclude: [],
      preload: false,
      release: false,
      autoExport: false,
      dryRun: false,
      ...options,
    },
    instance: {
      instanceType: 'c6i.large',
      fallbackInstanceTypes: ['c6a.large', 'm6i.large'],
      amiParameter: '/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64',
      ...instance,
    },
    timeouts: { transferMinutes: 120, agentOnlineMinutes: 15, associationMinutes: 60, ...timeouts },
  };
}
