/** Builders for DRA and Validate tests: a config, FSx shapes and mocked AWS answers. */
import type { DataRepositoryAssociation, FileSystem } from '@aws-sdk/client-fsx';
import { type Config, type ConfigInput, ConfigSchema } from '../../../shared/config/schema.js';
import type { TransferPlan } from '../../../shared/plan/schema.js';
import { BUCKET, buildTransferPlan, FS_ID } from '../../support/plan.js';

export { BUCKET, FS_ID };
export const ACCOUNT = '111122223333';
export const CLIENT_ID = 'i-0123456789abcdef0';

type MappingInput = ConfigInput['mappings'][number];

/** A valid config with the seed's ExtData mapping (both directions, method auto) plus `mappings`. */
export function buildConfig(
  mappings: Partial<MappingInput>[] = [{}],
  fileSystem: Partial<ConfigInput['fileSystems'][number]> = {},
  top: Partial<ConfigInput> = {},
): Config {
  return ConfigSchema.parse({
    version: 1,
    region: 'us-east-1',
    fileSystems: [
      {
        id: FS_ID,
        subnetIds: ['subnet-0123456789abcdef0'],
        securityGroupIds: ['sg-0123456789abcdef0'],
        ...fileSystem,
      },
    ],
    mappings: mappings.map((m, i) => ({
      name: i === 0 ? 'extdata' : `mapping-${i}`,
      fileSystemId: FS_ID,
      fsxPath: i === 0 ? '/ExtData' : `/m${i}`,
      s3Uri: i === 0 ? `s3://${BUCKET}/ExtData` : `s3://${BUCKET}/m${i}`,
      ...m,
    })),
    ...top,
  });
}

/** An AVAILABLE PERSISTENT_2 Lustre 2.15 file system, as DescribeFileSystems returns it. */
export function lustreFileSystem(
  overrides: Partial<FileSystem> = {},
  deploymentType = 'PERSISTENT_2',
): FileSystem {
  return {
    FileSystemId: FS_ID,
    OwnerId: ACCOUNT,
    FileSystemType: 'LUSTRE',
    FileSystemTypeVersion: '2.15',
    Lifecycle: 'AVAILABLE',
    DNSName: `${FS_ID}.fsx.us-east-1.amazonaws.com`,
    VpcId: 'vpc-0123456789abcdef0',
    ResourceARN: `arn:aws:fsx:us-east-1:${ACCOUNT}:file-system/${FS_ID}`,
    LustreConfiguration: { DeploymentType: deploymentType as 'PERSISTENT_2', MountName: 'abcdef01' },
    ...overrides,
  };
}

let counter = 0;
export function association(
  fileSystemPath: string,
  dataRepositoryPath: string,
  lifecycle = 'AVAILABLE',
): DataRepositoryAssociation {
  counter += 1;
  return {
    AssociationId: `dra-0${String(counter).padStart(16, '0')}`,
    FileSystemId: FS_ID,
    FileSystemPath: fileSystemPath,
    DataRepositoryPath: dataRepositoryPath,
    Lifecycle: lifecycle as 'AVAILABLE',
  };
}

/** A DRA plan for the ExtData mapping (as Validate returns it), with overrides. */
export function buildPlan(
  overrides: {
    direction?: 'stage-in' | 'export';
    scope?: Partial<TransferPlan['scope']>;
    options?: Partial<TransferPlan['options']>;
    fileSystem?: Partial<TransferPlan['fileSystem']>;
    deadline?: string;
  } = {},
): TransferPlan {
  const { direction, deadline, ...nested } = overrides;
  return buildTransferPlan({
    ...nested,
    ...(direction === undefined ? {} : { direction }),
    ...(deadline === undefined ? {} : { deadline }),
  });
}
