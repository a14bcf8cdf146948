/**
 * The one TransferPlan builder of the unit tests: a stage-in plan of the seed's ExtData mapping (as
 * Validate returns it). The DRA and EC2 test builders (test/unit/dra/builders.ts,
 * test/unit/ec2/builders.ts) set their method's defaults on top of it.
 */
import type { TransferPlan } from '../../shared/plan/schema.js';

export const FS_ID = 'fs-0123456789abcdef0';
export const BUCKET = 'dzhang-imi-gchp-test';

type Nested = 'fileSystem' | 'scope' | 'options' | 'instance' | 'timeouts';
/** Top-level fields replace the defaults; nested objects are merged into theirs. */
export type PlanOverrides = Partial<Omit<TransferPlan, Nested>> & {
  [K in Nested]?: Partial<TransferPlan[K]>;
};

export function buildTransferPlan(overrides: PlanOverrides = {}): TransferPlan {
  const { fileSystem, scope, options, instance, timeouts, ...top } = overrides;
  return {
    transferId: 'transfer-1',
    executionName: 'transfer-1',
    mapping: 'extdata',
    direction: 'stage-in',
    method: 'dra',
    methodReasons: [],
    deadline: '2999-01-01T00:00:00.000Z',
    ...top,
    fileSystem: {
      id: FS_ID,
      region: 'us-east-1',
      dnsName: `${FS_ID}.fsx.us-east-1.amazonaws.com`,
      mountName: 'abcdef01',
      lustreVersion: '2.15',
      deploymentType: 'PERSISTENT_2',
      mountPoint: '/fsx',
      subnetIds: ['subnet-0123456789abcdef0'],
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
      verify: 'size',
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
      fallbackInstanceTypes: [],
      amiParameter: '/aws/service/x',
      ...instance,
    },
    timeouts: {
      transferMinutes: 240,
      agentOnlineMinutes: 15,
      associationMinutes: 60,
      waitSeconds: 25_200,
      turnSeconds: 1_213_200,
      ...timeouts,
    },
  };
}
