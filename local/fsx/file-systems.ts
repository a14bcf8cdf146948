/**
 * FSx for Lustre file systems: declared at start from the local cloud's config (or created through
 * the admin API), with AWS's description shape (DNSName, MountName, ResourceARN, ...), the
 * CREATING -> AVAILABLE lifecycle, and DescribeFileSystems (regional, 50 a page).
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import type { OperationTable } from '../kit/dispatch.js';
import { randomHex, resourceId } from '../kit/ids.js';
import type { RequestContext } from '../types.js';
import { kickAssociations } from './associations.js';
import { clone, describeSelection, type FsxCore, type Input } from './core.js';
import { badRequest, fileSystemNotFound } from './errors.js';
import type { DeploymentType, FileSystemDescription, FileSystemLifecycle, Tag } from './store.js';

/** A file system to declare: from the config file (`id`, `region`, `subnetIds`) or the admin API. */
export interface FileSystemSpec {
  id?: string;
  region?: string;
  deploymentType?: DeploymentType;
  /** Lustre version: 2.10, 2.12 or 2.15 (default 2.15; 2.10 for SCRATCH_1). */
  fileSystemTypeVersion?: string;
  /** GiB (default 1200). */
  storageCapacity?: number;
  storageType?: 'SSD' | 'HDD';
  /** MB/s/TiB; PERSISTENT_* only (defaults 200 for PERSISTENT_1, 125 for PERSISTENT_2). */
  perUnitStorageThroughput?: number;
  subnetIds?: string[];
  vpcId?: string;
  /** Initial lifecycle (default AVAILABLE; CREATING turns AVAILABLE after `fileSystemCreateMs`). */
  lifecycle?: FileSystemLifecycle;
  mountName?: string;
  ownerId?: string;
  tags?: Record<string, string> | Tag[];
}

/** The local cloud's one VPC and default subnet (the EC2 emulator's network uses the same ids). */
const LOCAL_VPC_ID = 'vpc-00000000000000001';
const LOCAL_DEFAULT_SUBNET_ID = 'subnet-00000000000000001';

/** The file systems of a config file (`fileSystems`), as the FSx emulator declares them. */
export function fileSystemSpecs(
  fileSystems: ReadonlyArray<{ id: string; region?: string; subnetIds: string[] }>,
): FileSystemSpec[] {
  return fileSystems.map((fs) => ({ id: fs.id, region: fs.region, subnetIds: fs.subnetIds }));
}

function tagsFrom(tags: FileSystemSpec['tags']): Tag[] {
  if (!tags) return [];
  if (Array.isArray(tags)) return tags;
  return Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));
}

/**
 * Creates a LUSTRE file system (AVAILABLE unless `lifecycle` says otherwise).
 * @throws LocalAwsError BadRequest for an invalid spec or a duplicate id.
 */
export function declareFileSystem(fsx: FsxCore, spec: FileSystemSpec): FileSystemDescription {
  const region = spec.region ?? fsx.deps.region;
  const id = spec.id ?? resourceId('fs');
  if (!/^fs-[0-9a-f]{8,}$/.test(id))
    throw badRequest(`Invalid file system id ${id}: must match ^fs-[0-9a-f]{8,}$`);
  if (fsx.state.fileSystems[id]) throw badRequest(`File system ${id} already exists.`);
  const deploymentType = spec.deploymentType ?? 'PERSISTENT_2';
  if (!['SCRATCH_1', 'SCRATCH_2', 'PERSISTENT_1', 'PERSISTENT_2'].includes(deploymentType)) {
    throw badRequest(
      `Invalid deployment type ${deploymentType}: use SCRATCH_1, SCRATCH_2, PERSISTENT_1 or PERSISTENT_2.`,
    );
  }
  const version = spec.fileSystemTypeVersion ?? (deploymentType === 'SCRATCH_1' ? '2.10' : '2.15');
  if (!['2.10', '2.12', '2.15'].includes(version)) {
    throw badRequest(`Invalid FileSystemTypeVersion ${version}: use 2.10, 2.12 or 2.15.`);
  }
  const persistent = deploymentType.startsWith('PERSISTENT');
  const subnetIds = spec.subnetIds?.length ? spec.subnetIds : [LOCAL_DEFAULT_SUBNET_ID];
  const owner = spec.ownerId ?? fsx.deps.accountId;
  const lifecycle = spec.lifecycle ?? 'AVAILABLE';
  const description: FileSystemDescription = {
    OwnerId: owner,
    CreationTime: fsx.nowSeconds(),
    FileSystemId: id,
    FileSystemType: 'LUSTRE',
    Lifecycle: lifecycle,
    StorageCapacity: spec.storageCapacity ?? 1200,
    StorageType: spec.storageType ?? 'SSD',
    VpcId: spec.vpcId ?? LOCAL_VPC_ID,
    SubnetIds: subnetIds,
    NetworkInterfaceIds: [resourceId('eni'), resourceId('eni')],
    DNSName: `${id}.fsx.${region}.amazonaws.com`,
    ...(persistent ? { KmsKeyId: `arn:aws:kms:${region}:${owner}:key/${randomUUID()}` } : {}),
    ResourceARN: `arn:aws:fsx:${region}:${owner}:file-system/${id}`,
    Tags: tagsFrom(spec.tags),
    LustreConfiguration: {
      WeeklyMaintenanceStartTime: '1:05:00',
      DeploymentType: deploymentType,
      ...(persistent
        ? {
            PerUnitStorageThroughput:
              spec.perUnitStorageThroughput ?? (deploymentType === 'PERSISTENT_1' ? 200 : 125),
          }
        : {}),
      MountName:
        spec.mountName ?? (deploymentType === 'SCRATCH_1' ? 'fsx' : randomHex(8).replace(/^[0-9]/, 'a')),
      CopyTagsToBackups: false,
      DataCompressionType: 'NONE',
      LogConfiguration: { Level: 'DISABLED' },
      ...(deploymentType === 'PERSISTENT_2'
        ? { MetadataConfiguration: { Iops: 1500, Mode: 'AUTOMATIC' as const } }
        : {}),
    },
    FileSystemTypeVersion: version,
    NetworkType: 'IPV4',
  };
  fsx.state.fileSystems[id] = { seq: fsx.store.nextSeq(), region, description };
  fsx.state.files[id] ??= {};
  mkdirSync(fsx.rootOf(id), { recursive: true });
  fsx.store.save();
  if (lifecycle === 'CREATING') fsx.background.spawn(() => finishFileSystemCreation(fsx, id));
  return clone(description);
}

/** CREATING -> AVAILABLE after `fileSystemCreateMs`; association requests waiting for it go on. */
export async function finishFileSystemCreation(fsx: FsxCore, id: string): Promise<void> {
  await fsx.background.sleep(fsx.timings.fileSystemCreateMs);
  const record = fsx.state.fileSystems[id];
  if (fsx.closed || record?.description.Lifecycle !== 'CREATING') return;
  record.description.Lifecycle = 'AVAILABLE';
  fsx.store.save();
  kickAssociations(fsx, id);
}

/** Every file system (all regions). */
export function listFileSystems(fsx: FsxCore): FileSystemDescription[] {
  return fsx.sorted(fsx.state.fileSystems).map((r) => clone(r.description));
}

/** Forces a file system lifecycle (e.g. MISCONFIGURED or FAILED to test prerequisite checks). */
export function setFileSystemLifecycle(
  fsx: FsxCore,
  id: string,
  lifecycle: FileSystemLifecycle,
  message?: string,
): FileSystemDescription {
  const record = fsx.fileSystemRecord(id);
  record.description.Lifecycle = lifecycle;
  if (message) record.description.FailureDetails = { Message: message };
  else delete record.description.FailureDetails;
  fsx.store.save();
  if (lifecycle === 'AVAILABLE') kickAssociations(fsx, id);
  return clone(record.description);
}

/**
 * The local directory standing for the Lustre root of a file system.
 * @throws LocalAwsError FileSystemNotFound for an unknown id.
 */
export function fileSystemRoot(fsx: FsxCore, fileSystemId: string): string {
  fsx.fileSystemRecord(fileSystemId);
  const root = fsx.rootOf(fileSystemId);
  mkdirSync(root, { recursive: true });
  return root;
}

/** The file system whose DNSName is `dnsName` (a trailing `@tcp` or `@tcp:/mountname` is ignored). */
export function findByDnsName(fsx: FsxCore, dnsName: string): FileSystemDescription | undefined {
  const name = dnsName.replace(/@.*$/, '').toLowerCase();
  const record = Object.values(fsx.state.fileSystems).find(
    (r) => r.description.DNSName.toLowerCase() === name,
  );
  return record ? clone(record.description) : undefined;
}

function describeFileSystems(fsx: FsxCore, input: Input, ctx: RequestContext) {
  const records = describeSelection(fsx, ctx, {
    records: fsx.state.fileSystems,
    ids: input.FileSystemIds,
    idOf: (r) => r.description.FileSystemId,
    notFound: fileSystemNotFound,
    filters: undefined, // DescribeFileSystems has no filters
    rules: {},
    unknownFilter: (name) => badRequest(`The filter ${name} is not supported by DescribeFileSystems.`),
  });
  // The service returns at most 50 per page (the size of its FileSystems list).
  const { page, more } = fsx.paginate(records, input, 50);
  return { FileSystems: page.map((r) => clone(r.description)), ...more };
}

export function fileSystemOperations(fsx: FsxCore): OperationTable<Input> {
  return {
    DescribeFileSystems: (input, ctx) => describeFileSystems(fsx, input, ctx),
  };
}
