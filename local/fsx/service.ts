/**
 * FSx for Lustre emulator of the local cloud (JSON 1.1, `X-Amz-Target:
 * AWSSimbaAPIService_v20180301.<Operation>`).
 *
 * Models what fsx-transfer relies on, with AWS's shapes and error codes: file systems (declared
 * from the config file or created through the admin API), data repository associations with their
 * lifecycle and rules, data repository tasks that really move data between the local S3 and a
 * local directory standing for the Lustre root, completion reports, and the DRA semantics of the
 * seed runbook (lazy import, no automatic export of pre-existing files, asynchronous auto-export,
 * deletion on FSx never deletes in S3 unless the DRA's AutoExportPolicy includes DELETED).
 *
 * State (including per-file HSM records) persists under `<dataDir>/fsx/`. Durations are simulated
 * milliseconds scaled by the clock. See docs/local-cloud.md (## FSx) for what is and is not modelled.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import {
  DeleteObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { loadConfig } from '../../shared/config/load.js';
import {
  type Clock,
  type JsonService,
  LocalAwsError,
  type LocalEvent,
  type RequestContext,
} from '../types.js';
import {
  associationNotFound,
  badRequest,
  FsxError,
  fileSystemNotFound,
  incompatibleParameter,
  taskNotFound,
  unsupported,
} from './errors.js';
import {
  exportFile,
  type FileStat,
  type HsmState,
  hasChanged,
  hsmState,
  isDirectory,
  listFiles,
  releaseContents,
  removeFile,
  restoreContents,
  s3ErrorCode,
  statFile,
  stripQuotes,
  writePlaceholder,
} from './files.js';
import { ALL_OPERATIONS } from './model.js';
import {
  csvField,
  fsOverlap,
  fsPathForKey,
  fsPathProblem,
  fsPathWithin,
  keyForFile,
  normalizeFsPath,
  onDisk,
  parseS3Path,
  type S3Location,
  s3Overlap,
  s3Within,
} from './paths.js';
import {
  type AssociationDescription,
  type AssociationLifecycle,
  type AssociationRecord,
  type BucketSettings,
  type CompletionReport,
  type DeploymentType,
  type EventType,
  type FileRecord,
  type FileSystemDescription,
  type FileSystemLifecycle,
  type FileSystemRecord,
  type S3Config,
  StateStore,
  type Tag,
  type TaskDescription,
  type TaskRecord,
  type TaskType,
} from './store.js';
import { validateInput } from './validate.js';

/** Simulated durations (ms) of the emulated FSx processes. */
export interface FsxTimings {
  /** A file system created with lifecycle CREATING becomes AVAILABLE after this. */
  fileSystemCreateMs: number;
  /** CREATING -> AVAILABLE of an association (associations of one file system are created one at a time). */
  associationCreateMs: number;
  /** UPDATING -> AVAILABLE. */
  associationUpdateMs: number;
  /** DELETING -> gone. */
  associationDeleteMs: number;
  /** PENDING -> EXECUTING of a data repository task. */
  taskStartMs: number;
  /** How long a new or changed file must stay unchanged before auto-export uploads it. */
  autoExportDelayMs: number;
  /** How long after an S3 event auto-import applies it. */
  autoImportDelayMs: number;
  /** Interval of the background monitor (bucket reachability, auto-export scan). */
  monitorIntervalMs: number;
}

export const DEFAULT_TIMINGS: FsxTimings = {
  fileSystemCreateMs: 60_000,
  associationCreateMs: 30_000,
  associationUpdateMs: 10_000,
  associationDeleteMs: 20_000,
  taskStartMs: 5_000,
  autoExportDelayMs: 30_000,
  autoImportDelayMs: 5_000,
  monitorIntervalMs: 10_000,
};

/** FSx-specific fault injection (per-file task failures, slow tasks, failing associations). */
export interface FsxFaults {
  /**
   * Files whose file system path contains `match` (or matches it as a regex when written `/.../`)
   * fail in data repository tasks of the given types (all when omitted) with `errorCode`
   * (AWS codes: PathSizeTooLong, FileSizeTooLarge, S3AccessDenied, S3Error, ResourceBusy, InternalError).
   */
  taskFileFailures?: Array<{ match: string; errorCode?: string; types?: TaskType[] }>;
  /** Simulated ms every data repository task spends per file (slow tasks). */
  taskFileDelayMs?: number;
  /** Associations whose FileSystemPath matches end FAILED instead of AVAILABLE when created. */
  associationCreateFailures?: Array<{ match: string; message?: string }>;
}

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

export interface BucketInfo {
  exists: boolean;
  region?: string;
  ownerAccountId?: string;
}

export interface FsxEmulatorDeps {
  dataDir: string;
  clock: Clock;
  accountId: string;
  region: string;
  /** Client of the local S3 (path-style, checksums WHEN_REQUIRED). */
  s3: S3Client;
  emit: (e: LocalEvent) => void;
  /** Config file whose `fileSystems` are declared at start (read with the project's loader). */
  configPath?: string;
  /** File systems to declare at start (in addition to the config file's). */
  fileSystems?: FileSystemSpec[];
  timings?: Partial<FsxTimings>;
  faults?: FsxFaults;
  /** Region and owner of a bucket, when the S3 side models them; otherwise HeadBucket + admin settings. */
  bucketInfo?: (bucket: string) => Promise<BucketInfo>;
  /** Diagnostics of background work (default: kept in `diagnostics` only). */
  log?: (message: string) => void;
}

type Input = Record<string, unknown>;
type Handler = (input: Input, ctx: RequestContext) => Promise<unknown> | unknown;

interface WorkItem {
  fsPath: string;
  run: () => Promise<void>;
}

/** A file of a task failed with an FSx completion-report error code. */
class FileFailure extends Error {
  constructor(readonly code: string) {
    super(code);
  }
}

/** The task cannot run at all (invalid path, repository not listable): it ends FAILED. */
class TaskFailure extends Error {}

/** The local cloud's one VPC and default subnet (the EC2 emulator's network uses the same ids). */
const LOCAL_VPC_ID = 'vpc-00000000000000001';
const LOCAL_DEFAULT_SUBNET_ID = 'subnet-00000000000000001';

const hex = (n: number) =>
  randomBytes(Math.ceil(n / 2))
    .toString('hex')
    .slice(0, n);
const USABLE_FOR_TASKS: AssociationLifecycle[] = ['AVAILABLE', 'MISCONFIGURED', 'UPDATING'];
const ACTIVE_TASK: string[] = ['PENDING', 'EXECUTING', 'CANCELING'];
const clone = <T>(value: T): T => structuredClone(value);
const eventsOf = (policy: { Events?: EventType[] } | undefined) => new Set(policy?.Events ?? []);

function encodeToken(offset: number): string {
  return Buffer.from(JSON.stringify({ o: offset })).toString('base64');
}

function decodeToken(token: unknown): number {
  if (token === undefined) return 0;
  try {
    const offset = JSON.parse(Buffer.from(String(token), 'base64').toString('utf8')).o;
    if (Number.isInteger(offset) && offset >= 0) return offset;
  } catch {
    // fall through
  }
  throw badRequest('The NextToken value is not valid.');
}

/**
 * One page of a Describe/List answer: `MaxResults` items (at most, and by default, `maxResults`, the
 * service's page size) from `NextToken`; `more` is `{ NextToken }` when items remain, else `{}`.
 */
function paginate<T>(
  items: T[],
  input: Input,
  maxResults: number,
): { page: T[]; more: { NextToken?: string } } {
  const pageSize = Math.min((input.MaxResults as number) ?? maxResults, maxResults);
  const offset = decodeToken(input.NextToken);
  const page = items.slice(offset, offset + pageSize);
  return {
    page,
    more: offset + pageSize < items.length ? { NextToken: encodeToken(offset + pageSize) } : {},
  };
}

/** The records named in `ids` (all when none are named); an id not among them throws `notFound(id)`. */
function selectByIds<R>(
  records: R[],
  ids: string[] | undefined,
  idOf: (record: R) => string,
  notFound: (id: string) => Error,
): R[] {
  if (!ids?.length) return records;
  for (const id of ids) if (!records.some((r) => idOf(r) === id)) throw notFound(id);
  return records.filter((r) => ids.includes(idOf(r)));
}

function tagsFrom(tags: FileSystemSpec['tags']): Tag[] {
  if (!tags) return [];
  if (Array.isArray(tags)) return tags;
  return Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));
}

/** Parameters of a request that an idempotency token must match (everything but the token). */
function paramsOf(input: Input): Record<string, unknown> {
  const { ClientRequestToken: _token, ...rest } = input;
  return rest;
}

export class FsxEmulator implements JsonService {
  readonly targetPrefix = 'AWSSimbaAPIService_v20180301';
  readonly jsonVersion = '1.1' as const;
  readonly timings: FsxTimings;
  faults: FsxFaults;
  /** Recent errors of background work (auto-export, auto-import, monitor), newest last. */
  readonly diagnostics: string[] = [];

  private readonly store: StateStore;
  private readonly baseDir: string;
  private closed = false;
  private readonly running = new Set<Promise<unknown>>();
  private readonly drivers = new Map<string, Promise<void>>();
  /** Drivers kicked while running: they run one more round. */
  private readonly rekick = new Set<string>();
  private readonly timers = new Map<NodeJS.Timeout, () => void>();
  private monitorTimer: NodeJS.Timeout | undefined;
  private ticking: Promise<void> | undefined;
  private readonly locks = new Map<string, Promise<unknown>>();
  /** Auto-export candidates per file system: path -> the stat last seen and since when (real ms). */
  private readonly pendingExports = new Map<
    string,
    Map<string, { size: number; mtimeMs: number; since: number }>
  >();
  private readonly autoExporting = new Set<string>();
  /** Objects FSx itself wrote (bucket/key -> MD5), so their S3 events are not imported back. */
  private readonly selfWrites = new Map<string, string>();
  private readonly handlers: Record<string, Handler>;

  constructor(private readonly deps: FsxEmulatorDeps) {
    this.timings = { ...DEFAULT_TIMINGS, ...deps.timings };
    this.faults = deps.faults ?? {};
    this.baseDir = join(deps.dataDir, 'fsx');
    mkdirSync(this.baseDir, { recursive: true });
    this.store = new StateStore(join(this.baseDir, 'state.json'));
    this.handlers = {
      DescribeFileSystems: (i, c) => this.describeFileSystems(i, c),
      CreateDataRepositoryAssociation: (i, c) => this.createAssociation(i, c),
      DescribeDataRepositoryAssociations: (i, c) => this.describeAssociations(i, c),
      UpdateDataRepositoryAssociation: (i, c) => this.updateAssociation(i, c),
      DeleteDataRepositoryAssociation: (i, c) => this.deleteAssociation(i, c),
      CreateDataRepositoryTask: (i, c) => this.createTask(i, c),
      DescribeDataRepositoryTasks: (i, c) => this.describeTasks(i, c),
      CancelDataRepositoryTask: (i, c) => this.cancelTask(i, c),
      TagResource: (i, c) => this.tagResource(i, c),
      UntagResource: (i, c) => this.untagResource(i, c),
      ListTagsForResource: (i, c) => this.listTags(i, c),
    };
    const declared = [
      ...(deps.configPath
        ? loadConfig(deps.configPath).fileSystems.map((fs) => ({
            id: fs.id,
            region: fs.region,
            subnetIds: fs.subnetIds,
          }))
        : []),
      ...(deps.fileSystems ?? []),
    ];
    for (const spec of declared) {
      if (spec.id && this.state.fileSystems[spec.id]) continue;
      this.declareFileSystem(spec);
    }
    this.resume();
    this.scheduleMonitor();
  }

  private get state() {
    return this.store.state;
  }

  // ---------------------------------------------------------------------------------------------
  // JSON protocol entry point

  async handle(operation: string, input: Record<string, unknown>, ctx: RequestContext): Promise<unknown> {
    if (!ALL_OPERATIONS.includes(operation)) {
      throw new FsxError('UnknownOperationException', `Unknown operation ${operation}`);
    }
    const handler = this.handlers[operation];
    if (!handler) throw unsupported(`The local cloud does not model the FSx operation ${operation}.`);
    validateInput(operation, input);
    return handler(input ?? {}, ctx);
  }

  // ---------------------------------------------------------------------------------------------
  // File systems

  private declareFileSystem(spec: FileSystemSpec): FileSystemDescription {
    const region = spec.region ?? this.deps.region;
    const id = spec.id ?? `fs-${hex(17)}`;
    if (!/^fs-[0-9a-f]{8,}$/.test(id))
      throw badRequest(`Invalid file system id ${id}: must match ^fs-[0-9a-f]{8,}$`);
    if (this.state.fileSystems[id]) throw badRequest(`File system ${id} already exists.`);
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
    const owner = spec.ownerId ?? this.deps.accountId;
    const lifecycle = spec.lifecycle ?? 'AVAILABLE';
    const description: FileSystemDescription = {
      OwnerId: owner,
      CreationTime: this.nowSeconds(),
      FileSystemId: id,
      FileSystemType: 'LUSTRE',
      Lifecycle: lifecycle,
      StorageCapacity: spec.storageCapacity ?? 1200,
      StorageType: spec.storageType ?? 'SSD',
      VpcId: spec.vpcId ?? LOCAL_VPC_ID,
      SubnetIds: subnetIds,
      NetworkInterfaceIds: [`eni-${hex(17)}`, `eni-${hex(17)}`],
      DNSName: `${id}.fsx.${region}.amazonaws.com`,
      ...(persistent ? { KmsKeyId: `arn:aws:kms:${region}:${owner}:key/${randomUUIDish()}` } : {}),
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
        MountName: spec.mountName ?? (deploymentType === 'SCRATCH_1' ? 'fsx' : hex(8).replace(/^[0-9]/, 'a')),
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
    this.state.fileSystems[id] = { seq: this.store.nextSeq(), region, description };
    this.state.files[id] ??= {};
    mkdirSync(this.rootOf(id), { recursive: true });
    this.store.save();
    if (lifecycle === 'CREATING') this.spawn(() => this.finishFileSystemCreation(id));
    return clone(description);
  }

  private async finishFileSystemCreation(id: string): Promise<void> {
    await this.sleep(this.timings.fileSystemCreateMs);
    const record = this.state.fileSystems[id];
    if (this.closed || record?.description.Lifecycle !== 'CREATING') return;
    record.description.Lifecycle = 'AVAILABLE';
    this.store.save();
    this.kickAssociations(id);
  }

  /**
   * Admin: creates a LUSTRE file system (AVAILABLE unless `lifecycle` says otherwise).
   * @throws LocalAwsError BadRequest for an invalid spec or a duplicate id.
   */
  async createFileSystem(spec: FileSystemSpec): Promise<FileSystemDescription> {
    return this.declareFileSystem(spec);
  }

  /** Admin: every file system (all regions). */
  listFileSystems(): FileSystemDescription[] {
    return this.sorted(this.state.fileSystems).map((r) => clone(r.description));
  }

  /** Admin: forces a file system lifecycle (e.g. MISCONFIGURED or FAILED to test prerequisite checks). */
  setFileSystemLifecycle(
    id: string,
    lifecycle: FileSystemLifecycle,
    message?: string,
  ): FileSystemDescription {
    const record = this.fileSystemRecord(id);
    record.description.Lifecycle = lifecycle;
    if (message) record.description.FailureDetails = { Message: message };
    else delete record.description.FailureDetails;
    this.store.save();
    if (lifecycle === 'AVAILABLE') this.kickAssociations(id);
    return clone(record.description);
  }

  /**
   * The local directory standing for the Lustre root of a file system.
   * @throws LocalAwsError FileSystemNotFound for an unknown id.
   */
  fileSystemRoot(fileSystemId: string): string {
    this.fileSystemRecord(fileSystemId);
    const root = this.rootOf(fileSystemId);
    mkdirSync(root, { recursive: true });
    return root;
  }

  /** The file system whose DNSName is `dnsName` (a trailing `@tcp` or `@tcp:/mountname` is ignored). */
  findByDnsName(dnsName: string): FileSystemDescription | undefined {
    const name = dnsName.replace(/@.*$/, '').toLowerCase();
    const record = Object.values(this.state.fileSystems).find(
      (r) => r.description.DNSName.toLowerCase() === name,
    );
    return record ? clone(record.description) : undefined;
  }

  private rootOf(id: string): string {
    return join(this.baseDir, id, 'root');
  }

  /** Where files are prepared before they are renamed into the tree (same disk, outside the root). */
  private scratchOf(id: string): string {
    return join(this.baseDir, id, 'tmp');
  }

  private fileSystemRecord(id: string): FileSystemRecord {
    const record = this.state.fileSystems[id];
    if (!record) throw fileSystemNotFound(id);
    return record;
  }

  /** A file system visible to a request (file systems are regional). */
  private fileSystemIn(ctx: RequestContext, id: string): FileSystemRecord {
    const record = this.state.fileSystems[id];
    if (!record || record.region !== ctx.region) throw fileSystemNotFound(id);
    return record;
  }

  private describeFileSystems(input: Input, ctx: RequestContext) {
    const records = selectByIds(
      this.sorted(this.state.fileSystems).filter((r) => r.region === ctx.region),
      input.FileSystemIds as string[] | undefined,
      (r) => r.description.FileSystemId,
      fileSystemNotFound,
    );
    // The service returns at most 50 per page (the size of its FileSystems list).
    const { page, more } = paginate(records, input, 50);
    return { FileSystems: page.map((r) => clone(r.description)), ...more };
  }

  // ---------------------------------------------------------------------------------------------
  // Idempotency tokens

  private tokenKey(operation: string, ctx: RequestContext, token: string) {
    return `${ctx.accountId}:${ctx.region}:${operation}:${token}`;
  }

  /**
   * The earlier response for a repeated ClientRequestToken with identical parameters (undefined
   * for a new token).
   * @throws IncompatibleParameterError naming the first parameter that differs.
   */
  private replay(
    operation: string,
    ctx: RequestContext,
    input: Input,
  ): { resourceId: string; response: unknown } | undefined {
    const token = input.ClientRequestToken as string | undefined;
    if (!token) return undefined;
    const stored = this.state.tokens[this.tokenKey(operation, ctx, token)];
    if (!stored) return undefined;
    const params = paramsOf(input);
    const names = [...new Set([...Object.keys(stored.params), ...Object.keys(params)])].sort();
    for (const name of names) {
      if (JSON.stringify(stored.params[name]) !== JSON.stringify(params[name]))
        throw incompatibleParameter(name, token);
    }
    return { resourceId: stored.resourceId, response: stored.response };
  }

  private remember(
    operation: string,
    ctx: RequestContext,
    input: Input,
    resourceId: string,
    response: unknown,
  ) {
    const token = input.ClientRequestToken as string | undefined;
    if (!token) return;
    this.state.tokens[this.tokenKey(operation, ctx, token)] = {
      operation,
      params: clone(paramsOf(input)),
      resourceId,
      response: clone(response),
    };
  }

  // ---------------------------------------------------------------------------------------------
  // Data repository associations

  private associationsOf(
    fileSystemId: string,
    options: { includeDeleting?: boolean } = {},
  ): AssociationRecord[] {
    return this.sorted(this.state.associations).filter(
      (r) =>
        r.description.FileSystemId === fileSystemId &&
        (options.includeDeleting || r.description.Lifecycle !== 'DELETING'),
    );
  }

  private repoOf(association: AssociationDescription): S3Location {
    return parseS3Path(association.DataRepositoryPath) as S3Location;
  }

  private async createAssociation(input: Input, ctx: RequestContext) {
    const fileSystemId = input.FileSystemId as string;
    return this.withLock(`dra:${fileSystemId}`, async () => {
      const previous = this.replay('CreateDataRepositoryAssociation', ctx, input);
      if (previous) {
        const current = this.state.associations[previous.resourceId];
        return current ? { Association: clone(current.description) } : clone(previous.response);
      }
      const fs = this.fileSystemIn(ctx, fileSystemId);
      const { DeploymentType } = fs.description.LustreConfiguration;
      if (DeploymentType === 'SCRATCH_1') {
        throw unsupported(
          `Data repository associations are not supported on file systems with deployment type SCRATCH_1 (${fileSystemId}). Use a SCRATCH_2, PERSISTENT_1 or PERSISTENT_2 file system.`,
        );
      }
      if (!['2.12', '2.15'].includes(fs.description.FileSystemTypeVersion)) {
        throw unsupported(
          `Data repository associations are supported only on FSx for Lustre 2.12 and 2.15 file systems; ${fileSystemId} runs Lustre ${fs.description.FileSystemTypeVersion}.`,
        );
      }
      if (['FAILED', 'DELETING', 'MISCONFIGURED_UNAVAILABLE'].includes(fs.description.Lifecycle)) {
        throw badRequest(
          `Unable to create a data repository association on file system ${fileSystemId} because it is in the ${fs.description.Lifecycle} state.`,
        );
      }
      const fileSystemPath = input.FileSystemPath as string | undefined;
      if (fileSystemPath === undefined) {
        throw badRequest(
          'FileSystemPath is required for an Amazon FSx for Lustre data repository association.',
        );
      }
      const pathProblem = fsPathProblem(fileSystemPath);
      if (pathProblem) throw badRequest(`Invalid FileSystemPath ${fileSystemPath}: the path ${pathProblem}.`);
      const fsPath = normalizeFsPath(fileSystemPath);
      const dataRepositoryPath = input.DataRepositoryPath as string;
      const repo = parseS3Path(dataRepositoryPath);
      if (!repo) {
        throw badRequest(
          `Invalid DataRepositoryPath ${dataRepositoryPath}: the data repository path must be an Amazon S3 bucket or prefix in the format s3://bucket-name/prefix/.`,
        );
      }
      const existing = this.associationsOf(fileSystemId, { includeDeleting: true });
      if (existing.length >= 8) {
        throw badRequest(
          `File system ${fileSystemId} already has 8 data repository associations, the maximum for a file system.`,
        );
      }
      for (const other of existing) {
        const otherPath = normalizeFsPath(other.description.FileSystemPath);
        if (otherPath === '/' || fsPath === '/') {
          throw badRequest(
            `The file system path / can only be used by the only data repository association of a file system; ${fileSystemId} already has ${other.description.AssociationId} on ${other.description.FileSystemPath}.`,
          );
        }
        if (fsOverlap(otherPath, fsPath)) {
          throw badRequest(
            `The file system path ${fileSystemPath} overlaps with the file system path ${other.description.FileSystemPath} of data repository association ${other.description.AssociationId}. File system paths of data repository associations on a file system cannot overlap.`,
          );
        }
        if (s3Overlap(this.repoOf(other.description), repo)) {
          throw badRequest(
            `The data repository path ${dataRepositoryPath} overlaps with the data repository path ${other.description.DataRepositoryPath} of data repository association ${other.description.AssociationId}. Data repository paths of data repository associations on a file system cannot overlap.`,
          );
        }
      }
      const s3 = input.S3 as S3Config | undefined;
      await this.checkBucket(repo.bucket, fs, s3);

      const id = `dra-${hex(17)}`;
      const description: AssociationDescription = {
        AssociationId: id,
        ResourceARN: `arn:aws:fsx:${fs.region}:${fs.description.OwnerId}:association/${fileSystemId}/${id}`,
        FileSystemId: fileSystemId,
        Lifecycle: 'CREATING',
        FileSystemPath: fileSystemPath,
        DataRepositoryPath: dataRepositoryPath,
        BatchImportMetaDataOnCreate: (input.BatchImportMetaDataOnCreate as boolean | undefined) ?? false,
        ImportedFileChunkSize: (input.ImportedFileChunkSize as number | undefined) ?? 1024,
        ...(s3 ? { S3: clone(s3) } : {}),
        ...(input.Tags ? { Tags: clone(input.Tags as Tag[]) } : {}),
        CreationTime: this.nowSeconds(),
      };
      this.state.associations[id] = { seq: this.store.nextSeq(), region: fs.region, description };
      const response = { Association: clone(description) };
      this.remember('CreateDataRepositoryAssociation', ctx, input, id, response);
      this.store.save();
      this.kickAssociations(fileSystemId);
      return response;
    });
  }

  /**
   * FSx validates access to the bucket when an association is created: it must exist, belong to
   * the file system's account (no bucket policies are modelled) and, for automatic import, be in
   * the file system's region.
   */
  private async checkBucket(bucket: string, fs: FileSystemRecord, s3: S3Config | undefined): Promise<void> {
    const status = await this.bucketStatus(bucket, fs.description.OwnerId);
    const foreign = status.ownerAccountId !== undefined && status.ownerAccountId !== fs.description.OwnerId;
    if (!status.exists || status.unreachable || status.accessDenied || foreign) {
      throw badRequest(
        'Amazon FSx is unable to validate access to the S3 bucket. Ensure the IAM role or user you are using has s3:Get*, s3:List* and s3:PutObject permissions to the S3 bucket prefix.',
      );
    }
    if (status.region !== fs.region && eventsOf(s3?.AutoImportPolicy).size > 0) {
      throw badRequest(
        `Automatic import is not supported for an S3 bucket in a different AWS Region: bucket ${bucket} is in ${status.region}, file system ${fs.description.FileSystemId} is in ${fs.region}.`,
      );
    }
  }

  /**
   * How FSx sees a bucket: admin settings first, then `deps.bucketInfo`, else HeadBucket on the
   * local S3 (with ExpectedBucketOwner = the file system's account, so a bucket of another
   * account answers 403, and its BucketRegion).
   */
  private async bucketStatus(
    bucket: string,
    expectedOwner?: string,
  ): Promise<{
    exists: boolean;
    unreachable: boolean;
    accessDenied: boolean;
    region: string;
    ownerAccountId?: string;
  }> {
    const settings: BucketSettings = this.state.buckets[bucket] ?? {};
    const info: BucketInfo & { accessDenied?: boolean } = this.deps.bucketInfo
      ? await this.deps.bucketInfo(bucket)
      : await this.headBucket(bucket, settings.ownerAccountId ? undefined : expectedOwner);
    return {
      exists: info.exists,
      unreachable: settings.unreachable ?? false,
      accessDenied: !settings.ownerAccountId && (info.accessDenied ?? false),
      region: settings.region ?? info.region ?? this.deps.region,
      ownerAccountId: settings.ownerAccountId ?? info.ownerAccountId,
    };
  }

  private async headBucket(
    bucket: string,
    expectedOwner?: string,
  ): Promise<BucketInfo & { accessDenied?: boolean }> {
    try {
      const out = await this.deps.s3.send(
        new HeadBucketCommand({
          Bucket: bucket,
          ...(expectedOwner ? { ExpectedBucketOwner: expectedOwner } : {}),
        }),
      );
      return { exists: true, ...(out?.BucketRegion ? { region: out.BucketRegion } : {}) };
    } catch (error) {
      const e = error as { name?: string; $metadata?: { httpStatusCode?: number } };
      const status = e.$metadata?.httpStatusCode;
      if (e.name === 'NotFound' || e.name === 'NoSuchBucket' || status === 404) return { exists: false };
      if (e.name === 'Forbidden' || e.name === 'AccessDenied' || status === 403)
        return { exists: true, accessDenied: true };
      throw error;
    }
  }

  /** Runs the creation queue of a file system: associations are created one at a time, oldest first. */
  private kickAssociations(fileSystemId: string): void {
    this.drive(`dra:${fileSystemId}`, async () => {
      for (;;) {
        if (this.closed) return;
        const next = this.associationsOf(fileSystemId).find((r) => r.description.Lifecycle === 'CREATING');
        if (!next) return;
        const fs = this.state.fileSystems[fileSystemId];
        if (!fs) return;
        if (fs.description.Lifecycle !== 'AVAILABLE') return; // resumed when the file system turns AVAILABLE
        await this.sleep(this.timings.associationCreateMs);
        if (this.closed) return;
        if (
          next.description.Lifecycle !== 'CREATING' ||
          !this.state.associations[next.description.AssociationId]
        )
          continue;
        await this.completeAssociation(next);
      }
    });
  }

  private async completeAssociation(record: AssociationRecord): Promise<void> {
    const d = record.description;
    const failure = (this.faults.associationCreateFailures ?? []).find((f) =>
      this.matchesPattern(f.match, d.FileSystemPath),
    );
    if (failure) {
      this.setAssociationState(
        record,
        'FAILED',
        failure.message ?? `Amazon FSx failed to create data repository association ${d.AssociationId}.`,
      );
      return;
    }
    const fsPath = normalizeFsPath(d.FileSystemPath);
    mkdirSync(onDisk(this.rootOf(d.FileSystemId), fsPath), { recursive: true });
    // Files already on the file system are recorded as not exported: auto-export ignores them
    // until they change; an export task exports them (the seed's "one-time export").
    this.recordExisting(d.FileSystemId, fsPath);
    const reachable = await this.bucketReachable(this.repoOf(d).bucket);
    if (reachable === true) this.setAssociationState(record, 'AVAILABLE');
    else this.setAssociationState(record, 'MISCONFIGURED', reachable, 'bucket');
    if (d.BatchImportMetaDataOnCreate) {
      // FSx runs an import task after creating the association; it is a visible task and
      // occupies the file system's one task slot like any other.
      this.addTask(this.state.fileSystems[d.FileSystemId] as FileSystemRecord, {
        Type: 'IMPORT_METADATA_FROM_REPOSITORY',
        Paths: [d.DataRepositoryPath],
        Report: { Enabled: false },
        batchImportFor: d.AssociationId,
      });
    }
  }

  /** True, or the FailureDetails message explaining why FSx cannot use the bucket. */
  private async bucketReachable(bucket: string): Promise<true | string> {
    let status: Awaited<ReturnType<FsxEmulator['bucketStatus']>>;
    try {
      status = await this.bucketStatus(bucket);
    } catch (error) {
      return `Amazon FSx cannot reach the linked S3 bucket ${bucket}: ${(error as Error).message}`;
    }
    if (!status.exists) {
      return `The linked S3 bucket ${bucket} does not exist or Amazon FSx cannot access it. Automatic import and export are stopped until the data repository configuration is corrected.`;
    }
    if (status.unreachable) {
      return `Amazon FSx cannot access the linked S3 bucket ${bucket} (permissions or its event notification configuration changed). Automatic import and export are stopped until the data repository configuration is corrected.`;
    }
    return true;
  }

  private setAssociationState(
    record: AssociationRecord,
    lifecycle: AssociationLifecycle,
    message?: string,
    misconfiguredBy?: AssociationRecord['misconfiguredBy'],
  ): void {
    record.description.Lifecycle = lifecycle;
    if (message) record.description.FailureDetails = { Message: message.slice(0, 256) };
    else delete record.description.FailureDetails;
    record.misconfiguredBy = lifecycle === 'MISCONFIGURED' ? misconfiguredBy : undefined;
    this.store.save();
  }

  private recordExisting(fileSystemId: string, fsPath: string): void {
    const root = this.rootOf(fileSystemId);
    const records = this.filesOf(fileSystemId);
    for (const file of listFiles(root, fsPath)) {
      if (records[file]) continue;
      const stat = statFile(root, file);
      if (stat) records[file] = { size: stat.size, mtimeMs: stat.mtimeMs, archived: false, released: false };
    }
    this.store.save();
  }

  private describeAssociations(input: Input, ctx: RequestContext) {
    let records = selectByIds(
      this.sorted(this.state.associations).filter((r) => r.region === ctx.region),
      input.AssociationIds as string[] | undefined,
      (r) => r.description.AssociationId,
      associationNotFound,
    );
    for (const filter of (input.Filters as Array<{ Name?: string; Values?: string[] }> | undefined) ?? []) {
      const values = filter.Values ?? [];
      switch (filter.Name) {
        case 'file-system-id':
          for (const id of values) this.fileSystemIn(ctx, id);
          records = records.filter((r) => values.includes(r.description.FileSystemId));
          break;
        case 'data-repository-type':
          for (const value of values) {
            if (value !== 'S3' && value !== 'NFS') {
              throw new FsxError(
                'InvalidDataRepositoryType',
                `Invalid data repository type ${value}: use S3 or NFS.`,
              );
            }
          }
          if (!values.includes('S3')) records = [];
          break;
        case 'file-cache-id':
          records = []; // FSx for Lustre associations belong to no file cache
          break;
        default:
          throw badRequest(
            `The filter ${filter.Name} is not supported by DescribeDataRepositoryAssociations; use file-system-id, data-repository-type or file-cache-id.`,
          );
      }
    }
    const { page, more } = paginate(records, input, 100);
    return { Associations: page.map((r) => clone(r.description)), ...more };
  }

  private associationIn(ctx: RequestContext, id: string): AssociationRecord {
    const record = this.state.associations[id];
    if (!record || record.region !== ctx.region) throw associationNotFound(id);
    return record;
  }

  private async updateAssociation(input: Input, ctx: RequestContext) {
    const previous = this.replay('UpdateDataRepositoryAssociation', ctx, input);
    if (previous) {
      const current = this.state.associations[previous.resourceId];
      return current ? { Association: clone(current.description) } : clone(previous.response);
    }
    const record = this.associationIn(ctx, input.AssociationId as string);
    const d = record.description;
    if (d.Lifecycle !== 'AVAILABLE' && d.Lifecycle !== 'MISCONFIGURED') {
      throw badRequest(
        `Unable to update data repository association ${d.AssociationId} because it is in the ${d.Lifecycle} state.`,
      );
    }
    const s3 = input.S3 as S3Config | undefined;
    const merged: S3Config = {
      ...(d.S3 ?? {}),
      ...(s3?.AutoImportPolicy ? { AutoImportPolicy: clone(s3.AutoImportPolicy) } : {}),
      ...(s3?.AutoExportPolicy ? { AutoExportPolicy: clone(s3.AutoExportPolicy) } : {}),
    };
    const fs = this.state.fileSystems[d.FileSystemId] as FileSystemRecord;
    if (s3?.AutoImportPolicy && eventsOf(s3.AutoImportPolicy).size > 0) {
      const status = await this.bucketStatus(this.repoOf(d).bucket);
      if (status.exists && status.region !== fs.region) {
        throw badRequest(
          `Automatic import is not supported for an S3 bucket in a different AWS Region: bucket ${this.repoOf(d).bucket} is in ${status.region}, file system ${fs.description.FileSystemId} is in ${fs.region}.`,
        );
      }
    }
    const exportWasOff = eventsOf(d.S3?.AutoExportPolicy).size === 0;
    if (input.ImportedFileChunkSize !== undefined)
      d.ImportedFileChunkSize = input.ImportedFileChunkSize as number;
    if (s3) d.S3 = merged;
    if (exportWasOff && eventsOf(d.S3?.AutoExportPolicy).size > 0) {
      // Automatic export covers changes made from now on, not files that are already there.
      this.recordExisting(d.FileSystemId, normalizeFsPath(d.FileSystemPath));
    }
    this.setAssociationState(record, 'UPDATING');
    const response = { Association: clone(d) };
    this.remember('UpdateDataRepositoryAssociation', ctx, input, d.AssociationId, response);
    this.store.save();
    this.spawn(async () => {
      await this.sleep(this.timings.associationUpdateMs);
      if (this.closed || record.description.Lifecycle !== 'UPDATING') return;
      const reachable = await this.bucketReachable(this.repoOf(d).bucket);
      if (reachable === true) this.setAssociationState(record, 'AVAILABLE');
      else this.setAssociationState(record, 'MISCONFIGURED', reachable, 'bucket');
    });
    return response;
  }

  private deleteAssociation(input: Input, ctx: RequestContext) {
    const previous = this.replay('DeleteDataRepositoryAssociation', ctx, input);
    if (previous) return clone(previous.response);
    const record = this.associationIn(ctx, input.AssociationId as string);
    const d = record.description;
    const deleteData = (input.DeleteDataInFileSystem as boolean | undefined) ?? false;
    if (d.Lifecycle === 'DELETING') {
      return {
        AssociationId: d.AssociationId,
        Lifecycle: 'DELETING',
        DeleteDataInFileSystem: record.deleteDataInFileSystem ?? false,
      };
    }
    record.deleteDataInFileSystem = deleteData;
    this.setAssociationState(record, 'DELETING');
    const response = {
      AssociationId: d.AssociationId,
      Lifecycle: 'DELETING',
      DeleteDataInFileSystem: deleteData,
    };
    this.remember('DeleteDataRepositoryAssociation', ctx, input, d.AssociationId, response);
    this.store.save();
    this.spawn(() => this.finishDeletion(record));
    return response;
  }

  private async finishDeletion(record: AssociationRecord): Promise<void> {
    await this.sleep(this.timings.associationDeleteMs);
    if (this.closed) return;
    const d = record.description;
    const fsPath = normalizeFsPath(d.FileSystemPath);
    const records = this.filesOf(d.FileSystemId);
    for (const path of Object.keys(records)) if (fsPathWithin(fsPath, path)) delete records[path];
    this.pendingExports.get(d.FileSystemId)?.forEach((_, path, map) => {
      if (fsPathWithin(fsPath, path)) map.delete(path);
    });
    if (record.deleteDataInFileSystem) {
      // Only the file system side goes: deleting an association never deletes objects in S3.
      const dir = onDisk(this.rootOf(d.FileSystemId), fsPath);
      if (fsPath === '/') {
        rmSync(dir, { recursive: true, force: true });
        mkdirSync(dir, { recursive: true });
      } else {
        rmSync(dir, { recursive: true, force: true });
      }
    }
    delete this.state.associations[d.AssociationId];
    this.store.save();
    this.kickAssociations(d.FileSystemId);
  }

  /**
   * Admin/tests: forces an association's lifecycle. MISCONFIGURED stays until the association is
   * updated; FAILED is terminal (only deletion is possible); AVAILABLE clears either.
   * @throws LocalAwsError DataRepositoryAssociationNotFound.
   */
  forceAssociationState(
    associationId: string,
    lifecycle: AssociationLifecycle,
    message?: string,
  ): AssociationDescription {
    const record = this.state.associations[associationId];
    if (!record) throw associationNotFound(associationId);
    const defaults: Partial<Record<AssociationLifecycle, string>> = {
      MISCONFIGURED:
        'Amazon FSx cannot access the linked S3 bucket. Automatic import and export are stopped until the data repository configuration is corrected.',
      FAILED:
        'The data repository association failed and cannot be recovered. Delete it and create it again.',
    };
    this.setAssociationState(
      record,
      lifecycle,
      message ?? defaults[lifecycle],
      lifecycle === 'MISCONFIGURED' ? 'forced' : undefined,
    );
    return clone(record.description);
  }

  /** Admin: simulated properties of a bucket as FSx sees it (unreachable, other region, other owner). */
  setBucket(bucket: string, settings: BucketSettings): BucketSettings {
    const merged = { ...(this.state.buckets[bucket] ?? {}), ...settings };
    for (const key of Object.keys(merged) as Array<keyof BucketSettings>)
      if (merged[key] === undefined) delete merged[key];
    this.state.buckets[bucket] = merged;
    this.store.save();
    return clone(merged);
  }

  // ---------------------------------------------------------------------------------------------
  // Data repository tasks

  private autoExportBusy(fileSystemId: string): boolean {
    return (this.pendingExports.get(fileSystemId)?.size ?? 0) > 0 || this.autoExporting.has(fileSystemId);
  }

  private createTask(input: Input, ctx: RequestContext) {
    const previous = this.replay('CreateDataRepositoryTask', ctx, input);
    if (previous) {
      const current = this.state.tasks[previous.resourceId];
      return current ? { DataRepositoryTask: clone(current.description) } : clone(previous.response);
    }
    const fileSystemId = input.FileSystemId as string;
    const fs = this.fileSystemIn(ctx, fileSystemId);
    const type = input.Type as TaskType;
    if (type === 'AUTO_RELEASE_DATA') {
      throw unsupported('AUTO_RELEASE_DATA tasks are only supported on Amazon File Cache resources.');
    }
    if (input.CapacityToRelease !== undefined) {
      throw badRequest(
        'CapacityToRelease is only supported for AUTO_RELEASE_DATA tasks on Amazon File Cache resources.',
      );
    }
    if (input.ReleaseConfiguration !== undefined && type !== 'RELEASE_DATA_FROM_FILESYSTEM') {
      throw badRequest('ReleaseConfiguration is only supported for RELEASE_DATA_FROM_FILESYSTEM tasks.');
    }
    if (fs.description.Lifecycle !== 'AVAILABLE') {
      throw badRequest(
        `Unable to create a data repository task on file system ${fileSystemId} because it is in the ${fs.description.Lifecycle} state.`,
      );
    }
    const associations = this.associationsOf(fileSystemId);
    if (associations.length === 0) {
      throw badRequest(
        `File system ${fileSystemId} is not linked to a data repository. Create a data repository association first.`,
      );
    }
    const report = input.Report as CompletionReport;
    if (report.Enabled) {
      if (!report.Path || !report.Format || !report.Scope) {
        throw badRequest('Report Path, Format and Scope are required when the completion report is enabled.');
      }
      const location = parseS3Path(report.Path);
      if (!location || !associations.some((a) => s3Within(this.repoOf(a.description), location))) {
        throw badRequest(
          `The completion report path ${report.Path} must be located within a data repository path linked to file system ${fileSystemId}.`,
        );
      }
    }
    const active = this.sorted(this.state.tasks).find(
      (t) => t.description.FileSystemId === fileSystemId && ACTIVE_TASK.includes(t.description.Lifecycle),
    );
    if (active) {
      throw new FsxError(
        'DataRepositoryTaskExecuting',
        `Data repository task ${active.description.TaskId} is ${active.description.Lifecycle} on file system ${fileSystemId}; only one data repository task can run at a time.`,
      );
    }
    if (type === 'EXPORT_TO_REPOSITORY' && this.autoExportBusy(fileSystemId)) {
      throw new FsxError(
        'DataRepositoryTaskExecuting',
        `Automatic export is in progress on file system ${fileSystemId}; an export task cannot run at the same time.`,
      );
    }
    const record = this.addTask(fs, {
      Type: type,
      Paths: (input.Paths as string[] | undefined) ?? [],
      Report: clone(report),
      Tags: input.Tags as Tag[] | undefined,
      ReleaseConfiguration: input.ReleaseConfiguration as TaskDescription['ReleaseConfiguration'],
    });
    const response = { DataRepositoryTask: clone(record.description) };
    this.remember('CreateDataRepositoryTask', ctx, input, record.description.TaskId, response);
    this.store.save();
    return response;
  }

  private addTask(
    fs: FileSystemRecord,
    spec: Pick<TaskDescription, 'Type' | 'Paths' | 'Report'> &
      Partial<Pick<TaskDescription, 'Tags' | 'ReleaseConfiguration'>> & { batchImportFor?: string },
  ): TaskRecord {
    const id = `task-${hex(17)}`;
    const description: TaskDescription = {
      TaskId: id,
      Lifecycle: 'PENDING',
      Type: spec.Type,
      CreationTime: this.nowSeconds(),
      ResourceARN: `arn:aws:fsx:${fs.region}:${fs.description.OwnerId}:task/${id}`,
      ...(spec.Tags ? { Tags: clone(spec.Tags) } : {}),
      FileSystemId: fs.description.FileSystemId,
      Paths: spec.Paths,
      Report: spec.Report,
      ...(spec.ReleaseConfiguration ? { ReleaseConfiguration: clone(spec.ReleaseConfiguration) } : {}),
    };
    const record: TaskRecord = { seq: this.store.nextSeq(), region: fs.region, description };
    if (spec.batchImportFor) record.batchImportFor = spec.batchImportFor;
    this.state.tasks[id] = record;
    this.store.save();
    this.kickTasks(fs.description.FileSystemId);
    return record;
  }

  private describeTasks(input: Input, ctx: RequestContext) {
    // Newest first, as the console lists them.
    let records = selectByIds(
      this.sorted(this.state.tasks)
        .reverse()
        .filter((r) => r.region === ctx.region),
      input.TaskIds as string[] | undefined,
      (r) => r.description.TaskId,
      taskNotFound,
    );
    for (const filter of (input.Filters as Array<{ Name?: string; Values?: string[] }> | undefined) ?? []) {
      const values = filter.Values ?? [];
      switch (filter.Name) {
        case 'file-system-id':
          for (const id of values) this.fileSystemIn(ctx, id);
          records = records.filter((r) => values.includes(r.description.FileSystemId));
          break;
        case 'task-lifecycle':
          records = records.filter((r) => values.includes(r.description.Lifecycle));
          break;
        case 'data-repository-association-id':
          records = records.filter((r) => values.some((id) => this.taskTouches(r, id)));
          break;
        case 'file-cache-id':
          records = [];
          break;
        default:
          throw badRequest(`The filter ${filter.Name} is not supported by DescribeDataRepositoryTasks.`);
      }
    }
    const { page, more } = paginate(records, input, 50);
    return { DataRepositoryTasks: page.map((r) => clone(r.description)), ...more };
  }

  /** Whether a task works on the files of an association (its paths reach into the association). */
  private taskTouches(task: TaskRecord, associationId: string): boolean {
    if (task.batchImportFor === associationId) return true;
    const association = this.state.associations[associationId];
    if (!association || association.description.FileSystemId !== task.description.FileSystemId) return false;
    const paths = task.description.Paths.length ? task.description.Paths : ['/'];
    return paths.some((path) => {
      const s3 = parseS3Path(path);
      if (s3) return s3Overlap(this.repoOf(association.description), s3);
      return fsOverlap(normalizeFsPath(association.description.FileSystemPath), normalizeFsPath(path));
    });
  }

  private cancelTask(input: Input, ctx: RequestContext) {
    const id = input.TaskId as string;
    const record = this.state.tasks[id];
    if (!record || record.region !== ctx.region) throw taskNotFound(id);
    const d = record.description;
    if (!ACTIVE_TASK.includes(d.Lifecycle)) {
      throw new FsxError(
        'DataRepositoryTaskEnded',
        `Data repository task ${id} has already ended (${d.Lifecycle}).`,
      );
    }
    record.cancelRequested = true;
    d.Lifecycle = 'CANCELING';
    this.store.save();
    return { Lifecycle: 'CANCELING', TaskId: id };
  }

  /** Runs the task queue of a file system: one task at a time, oldest first. */
  private kickTasks(fileSystemId: string): void {
    this.drive(`task:${fileSystemId}`, async () => {
      for (;;) {
        if (this.closed) return;
        const next = this.sorted(this.state.tasks).find(
          (t) => t.description.FileSystemId === fileSystemId && ACTIVE_TASK.includes(t.description.Lifecycle),
        );
        if (!next) return;
        try {
          await this.runTask(next);
        } catch (error) {
          // Never leave a task EXECUTING: it would block the file system's one task slot.
          this.note(`task ${next.description.TaskId}: ${(error as Error).stack ?? error}`);
          if (!this.closed) this.endTask(next, 'FAILED', `Internal error: ${(error as Error).message}`);
        }
      }
    });
  }

  private async runTask(record: TaskRecord): Promise<void> {
    const d = record.description;
    if (d.Lifecycle === 'PENDING') await this.sleep(this.timings.taskStartMs);
    if (this.closed) return;
    if (record.cancelRequested) {
      this.endTask(record, 'CANCELED');
      return;
    }
    d.Lifecycle = 'EXECUTING';
    d.StartTime = this.nowSeconds();
    d.Status = { TotalCount: 0, SucceededCount: 0, FailedCount: 0, LastUpdatedTime: this.nowSeconds() };
    this.store.save();
    let items: WorkItem[];
    try {
      items = await this.planTask(record);
    } catch (error) {
      if (error instanceof TaskFailure) {
        this.endTask(record, 'FAILED', error.message);
        return;
      }
      throw error;
    }
    const status = d.Status;
    status.TotalCount = items.length;
    this.store.save();
    const failures: Array<{ path: string; code: string }> = [];
    for (const item of items) {
      if (this.closed) return;
      if (record.cancelRequested) break;
      if (this.faults.taskFileDelayMs) await this.sleep(this.faults.taskFileDelayMs);
      if (this.closed) return;
      let code = this.injectedFailure(d.Type, item.fsPath);
      if (!code) {
        try {
          await item.run();
        } catch (error) {
          code = error instanceof FileFailure ? error.code : s3ErrorCode(error);
          this.note(`task ${d.TaskId}: ${item.fsPath}: ${code}: ${(error as Error).message}`);
        }
      }
      if (code) {
        failures.push({ path: item.fsPath.replace(/^\//, ''), code });
        status.FailedCount = (status.FailedCount ?? 0) + 1;
      } else {
        status.SucceededCount = (status.SucceededCount ?? 0) + 1;
      }
      status.LastUpdatedTime = this.nowSeconds();
      this.store.save();
    }
    if (record.cancelRequested) {
      this.endTask(record, 'CANCELED');
      return;
    }
    if (d.Report.Enabled) {
      try {
        await this.writeReport(record, failures);
      } catch (error) {
        this.endTask(
          record,
          'FAILED',
          `Amazon FSx could not write the completion report to ${d.Report.Path}: ${s3ErrorCode(error)}`,
        );
        return;
      }
    }
    if (failures.length > 0) {
      const verb = {
        EXPORT_TO_REPOSITORY: 'export',
        IMPORT_METADATA_FROM_REPOSITORY: 'import',
        RELEASE_DATA_FROM_FILESYSTEM: 'release',
        AUTO_RELEASE_DATA: 'release',
      }[d.Type];
      this.endTask(
        record,
        'FAILED',
        `Failed to ${verb} ${failures.length} of ${items.length} files.${d.Report.Enabled ? ' See the completion report for details.' : ''}`,
      );
    } else {
      this.endTask(record, 'SUCCEEDED');
    }
  }

  private endTask(
    record: TaskRecord,
    lifecycle: 'SUCCEEDED' | 'FAILED' | 'CANCELED',
    message?: string,
  ): void {
    const d = record.description;
    d.Lifecycle = lifecycle;
    d.EndTime = this.nowSeconds();
    if (message) d.FailureDetails = { Message: message.slice(0, 256) };
    if (d.Status) {
      d.Status.LastUpdatedTime = d.EndTime;
      if (lifecycle !== 'CANCELED')
        d.Status.TotalCount = (d.Status.SucceededCount ?? 0) + (d.Status.FailedCount ?? 0);
    }
    this.store.save();
  }

  private injectedFailure(type: TaskType, fsPath: string): string | undefined {
    const rule = (this.faults.taskFileFailures ?? []).find(
      (f) => (!f.types || f.types.includes(type)) && this.matchesPattern(f.match, fsPath),
    );
    return rule ? (rule.errorCode ?? 'S3Error') : undefined;
  }

  private matchesPattern(pattern: string, value: string): boolean {
    const regex = /^\/(.+)\/$/.exec(pattern);
    if (regex?.[1]) return new RegExp(regex[1]).test(value);
    return value.includes(pattern);
  }

  /**
   * Completion report, written as FSx does: `<Path>/task-<id>/failures.csv` for export and release
   * tasks, `<Path>/task-<id>/report.csv` for import tasks; rows `FilePath,FileStatus,ErrorCode`
   * without a header, RFC 4180 encoded.
   * https://docs.aws.amazon.com/fsx/latest/LustreGuide/task-completion-report.html
   */
  private async writeReport(
    record: TaskRecord,
    failures: Array<{ path: string; code: string }>,
  ): Promise<void> {
    const d = record.description;
    const location = parseS3Path(d.Report.Path as string) as S3Location;
    const name = d.Type === 'IMPORT_METADATA_FROM_REPOSITORY' ? 'report.csv' : 'failures.csv';
    const key = `${location.prefix ? `${location.prefix}/` : ''}${d.TaskId}/${name}`;
    const body = failures.map((f) => `${csvField(f.path)},failed,${csvField(f.code)}\n`).join('');
    if ((await this.bucketReachable(location.bucket)) !== true)
      throw Object.assign(new Error('unreachable'), { name: 'AccessDenied' });
    this.rememberSelfWrite(`${location.bucket}/${key}`, createHash('md5').update(body).digest('hex'));
    await this.deps.s3.send(
      new PutObjectCommand({
        Bucket: location.bucket,
        Key: key,
        Body: body,
        ContentType: 'text/csv',
        ContentLength: Buffer.byteLength(body),
      }),
    );
  }

  /** The files a task will process. @throws TaskFailure when a path is invalid. */
  private async planTask(record: TaskRecord): Promise<WorkItem[]> {
    const d = record.description;
    const fileSystemId = d.FileSystemId;
    const usable = this.associationsOf(fileSystemId).filter((a) =>
      USABLE_FOR_TASKS.includes(a.description.Lifecycle),
    );
    if (d.Type === 'IMPORT_METADATA_FROM_REPOSITORY') return this.planImport(record, usable);
    const root = this.rootOf(fileSystemId);
    const records = this.filesOf(fileSystemId);
    const items = new Map<string, WorkItem>();
    const paths = d.Paths.length ? d.Paths : ['/'];
    const minAgeMs = (d.ReleaseConfiguration?.DurationSinceLastAccess?.Value ?? 0) * 86_400_000;
    const createdMs = d.CreationTime * 1000;
    for (const path of paths) {
      if (path.split('/').includes('..'))
        throw new TaskFailure(`The path ${path} is not valid: it must not contain .. segments.`);
      const fsPath = normalizeFsPath(path);
      if (!statFile(root, fsPath) && !isDirectory(root, fsPath)) {
        throw new TaskFailure(`The path ${path} does not exist on file system ${fileSystemId}.`);
      }
      const related = usable.filter((a) => fsOverlap(normalizeFsPath(a.description.FileSystemPath), fsPath));
      if (related.length === 0) {
        throw new TaskFailure(
          `The path ${path} is not within an available data repository association of file system ${fileSystemId}.`,
        );
      }
      for (const association of related) {
        const draPath = normalizeFsPath(association.description.FileSystemPath);
        const scope = fsPathWithin(draPath, fsPath) ? fsPath : draPath;
        for (const file of listFiles(root, scope)) {
          if (items.has(file)) continue;
          const stat = statFile(root, file);
          if (!stat) continue;
          const known = records[file];
          if (d.Type === 'EXPORT_TO_REPOSITORY') {
            if (known?.archived && !hasChanged(known, stat)) continue;
            items.set(file, { fsPath: file, run: () => this.exportOne(association, file) });
          } else {
            if (!known?.archived || known.released || hasChanged(known, stat)) continue;
            const touched = Math.max(stat.atimeMs, stat.mtimeMs, stat.ctimeMs);
            if (minAgeMs > 0 && touched > createdMs - minAgeMs) continue;
            items.set(file, { fsPath: file, run: () => this.releaseOne(fileSystemId, file) });
          }
        }
      }
    }
    return [...items.values()].sort((a, b) => a.fsPath.localeCompare(b.fsPath));
  }

  private async planImport(record: TaskRecord, usable: AssociationRecord[]): Promise<WorkItem[]> {
    const d = record.description;
    const fileSystemId = d.FileSystemId;
    const root = this.rootOf(fileSystemId);
    const records = this.filesOf(fileSystemId);
    const paths = d.Paths.length ? d.Paths : usable.map((a) => a.description.DataRepositoryPath);
    const items = new Map<string, WorkItem>();
    for (const path of paths) {
      const location = parseS3Path(path);
      if (!location) {
        throw new TaskFailure(
          `The path ${path} is not valid for an import task: use an Amazon S3 path (s3://bucket/prefix) within a linked data repository.`,
        );
      }
      const related = usable.filter((a) => s3Overlap(this.repoOf(a.description), location));
      if (related.length === 0) {
        throw new TaskFailure(
          `The path ${path} is not within a data repository linked to file system ${fileSystemId}.`,
        );
      }
      for (const association of related) {
        const repo = this.repoOf(association.description);
        const draPath = normalizeFsPath(association.description.FileSystemPath);
        const scope = s3Within(repo, location) ? location : repo;
        const objects = await this.listObjects(scope).catch((error) => {
          throw new TaskFailure(`Amazon FSx could not list ${path}: ${s3ErrorCode(error)}.`);
        });
        const keys = new Set<string>();
        for (const object of objects) {
          const fsPath = fsPathForKey(draPath, repo, object.key);
          if (!fsPath) continue;
          if (object.key.endsWith('/')) {
            mkdirSync(onDisk(root, fsPath), { recursive: true });
            continue;
          }
          keys.add(object.key);
          if (!items.has(fsPath))
            items.set(fsPath, { fsPath, run: () => this.importOne(fileSystemId, fsPath, object) });
        }
        // Objects deleted from S3 since they were imported leave the file system too.
        const fsScope =
          scope.prefix.length > repo.prefix.length
            ? (fsPathForKey(draPath, repo, scope.prefix) ?? draPath)
            : draPath;
        for (const file of listFiles(root, fsScope)) {
          const known = records[file];
          const stat = statFile(root, file);
          if (!known?.archived || !stat || hasChanged(known, stat)) continue;
          if (keys.has(keyForFile(draPath, repo, file)) || items.has(file)) continue;
          items.set(file, {
            fsPath: file,
            run: async () => {
              removeFile(root, file);
              delete records[file];
              this.store.save();
            },
          });
        }
      }
    }
    return [...items.values()].sort((a, b) => a.fsPath.localeCompare(b.fsPath));
  }

  private async listObjects(
    location: S3Location,
  ): Promise<Array<{ key: string; size: number; etag?: string; lastModified: Date }>> {
    const out: Array<{ key: string; size: number; etag?: string; lastModified: Date }> = [];
    let token: string | undefined;
    do {
      const page = await this.deps.s3.send(
        new ListObjectsV2Command({
          Bucket: location.bucket,
          Prefix: location.prefix,
          ContinuationToken: token,
        }),
      );
      for (const object of page.Contents ?? []) {
        const key = object.Key ?? '';
        if (location.prefix && key !== location.prefix && !key.startsWith(`${location.prefix}/`)) continue;
        out.push({
          key,
          size: object.Size ?? 0,
          etag: object.ETag ? stripQuotes(object.ETag) : undefined,
          lastModified: object.LastModified ?? new Date(),
        });
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return out;
  }

  /** Imports an object's metadata: a new placeholder, or a reset one when the object changed. */
  private async importOne(
    fileSystemId: string,
    fsPath: string,
    object: { key: string; size: number; etag?: string; lastModified: Date },
  ): Promise<void> {
    const root = this.rootOf(fileSystemId);
    const records = this.filesOf(fileSystemId);
    if (isDirectory(root, fsPath)) throw new FileFailure('InternalError');
    const stat = statFile(root, fsPath);
    const known = records[fsPath];
    if (stat) {
      // A file written on the file system and not exported, or changed since: FSx leaves it alone.
      if (!known?.archived || hasChanged(known, stat)) return;
      if (known.etag === object.etag && known.size === object.size) return;
    }
    records[fsPath] = await writePlaceholder(
      root,
      this.scratchOf(fileSystemId),
      fsPath,
      object.size,
      object.lastModified,
      object.etag,
    );
    this.store.save();
  }

  private async exportOne(association: AssociationRecord, fsPath: string): Promise<void> {
    const d = association.description;
    const root = this.rootOf(d.FileSystemId);
    const repo = this.repoOf(d);
    const key = keyForFile(normalizeFsPath(d.FileSystemPath), repo, fsPath);
    if (Buffer.byteLength(key) > 1024) throw new FileFailure('PathSizeTooLong');
    const stat = statFile(root, fsPath);
    if (!stat) throw new FileFailure('InternalError');
    if (stat.size > 5 * 1024 ** 4) throw new FileFailure('FileSizeTooLarge');
    if (this.state.buckets[repo.bucket]?.unreachable) throw new FileFailure('S3AccessDenied');
    const record = await this.uploadTracked(root, fsPath, repo.bucket, key, stat);
    this.filesOf(d.FileSystemId)[fsPath] = record;
    this.store.save();
  }

  private async uploadTracked(
    root: string,
    fsPath: string,
    bucket: string,
    key: string,
    stat: FileStat,
  ): Promise<FileRecord> {
    const md5 = createHash('md5')
      .update(readFileSync(onDisk(root, fsPath)))
      .digest('hex');
    this.rememberSelfWrite(`${bucket}/${key}`, md5);
    return exportFile(this.deps.s3, root, fsPath, bucket, key, stat);
  }

  private rememberSelfWrite(objectKey: string, md5: string): void {
    this.selfWrites.delete(objectKey);
    this.selfWrites.set(objectKey, md5);
    if (this.selfWrites.size > 10_000) this.selfWrites.delete(this.selfWrites.keys().next().value as string);
  }

  private async releaseOne(fileSystemId: string, fsPath: string): Promise<void> {
    const records = this.filesOf(fileSystemId);
    const known = records[fsPath];
    if (!known) throw new FileFailure('InternalError');
    records[fsPath] = await releaseContents(
      this.rootOf(fileSystemId),
      this.scratchOf(fileSystemId),
      fsPath,
      known,
    );
    this.store.save();
  }

  // ---------------------------------------------------------------------------------------------
  // Lazy contents: restore and access (the `lfs hsm_restore` shim and reads)

  private filesOf(fileSystemId: string): Record<string, FileRecord> {
    this.state.files[fileSystemId] ??= {};
    return this.state.files[fileSystemId];
  }

  /** The association (not being deleted) whose file system path contains `fsPath`. */
  private associationFor(fileSystemId: string, fsPath: string): AssociationRecord | undefined {
    return this.associationsOf(fileSystemId).find((a) =>
      fsPathWithin(normalizeFsPath(a.description.FileSystemPath), fsPath),
    );
  }

  /**
   * Fetches the contents of released (lazily imported or released) files at or below `path` from
   * S3, as `lfs hsm_restore` does. `path` is absolute on the file system (`/ExtData/a.nc`).
   * @returns the restored file paths and bytes.
   * @throws LocalAwsError FileSystemNotFound; `NotFound` (404) when the path does not exist;
   *   `RestoreFailed` when S3 cannot supply the contents.
   */
  async restore(fileSystemId: string, path: string): Promise<{ restored: string[]; bytes: number }> {
    this.fileSystemRecord(fileSystemId);
    const root = this.rootOf(fileSystemId);
    const fsPath = normalizeFsPath(path);
    if (!statFile(root, fsPath) && !isDirectory(root, fsPath)) {
      throw new LocalAwsError('NotFound', `No such file or directory on ${fileSystemId}: ${fsPath}`, 404);
    }
    const records = this.filesOf(fileSystemId);
    const restored: string[] = [];
    let bytes = 0;
    for (const file of listFiles(root, fsPath)) {
      const known = records[file];
      if (!known?.archived || !known.released) continue;
      const association = this.associationFor(fileSystemId, file);
      if (!association) {
        throw new LocalAwsError(
          'RestoreFailed',
          `${file} is not within a data repository association; its contents cannot be restored.`,
        );
      }
      const repo = this.repoOf(association.description);
      if ((await this.bucketReachable(repo.bucket)) !== true) {
        throw new LocalAwsError(
          'RestoreFailed',
          `Cannot restore ${file}: the linked S3 bucket ${repo.bucket} is not reachable.`,
        );
      }
      const key = keyForFile(normalizeFsPath(association.description.FileSystemPath), repo, file);
      try {
        records[file] = await restoreContents(
          this.deps.s3,
          root,
          this.scratchOf(fileSystemId),
          file,
          repo.bucket,
          key,
          known,
        );
      } catch (error) {
        throw new LocalAwsError(
          'RestoreFailed',
          `Cannot restore ${file} from s3://${repo.bucket}/${key}: ${(error as Error).name}`,
        );
      }
      this.store.save();
      restored.push(file);
      bytes += records[file]?.size ?? 0;
    }
    return { restored, bytes };
  }

  /** Reads a file as an application on a Lustre client would: released contents are fetched first. */
  async access(
    fileSystemId: string,
    path: string,
  ): Promise<{ path: string; size: number; restored: boolean; contents: Buffer }> {
    const fsPath = normalizeFsPath(path);
    const root = this.fileSystemRoot(fileSystemId);
    if (!statFile(root, fsPath))
      throw new LocalAwsError('NotFound', `No such file on ${fileSystemId}: ${fsPath}`, 404);
    const { restored } = await this.restore(fileSystemId, fsPath);
    const contents = readFileSync(onDisk(root, fsPath));
    return { path: fsPath, size: contents.length, restored: restored.length > 0, contents };
  }

  /** HSM state of one file (as `lfs hsm_state` reports it), or undefined when there is no such file. */
  hsmState(fileSystemId: string, path: string): HsmState | undefined {
    const root = this.fileSystemRoot(fileSystemId);
    const fsPath = normalizeFsPath(path);
    const stat = statFile(root, fsPath);
    return stat ? hsmState(fsPath, this.filesOf(fileSystemId)[fsPath], stat) : undefined;
  }

  /** HSM states of every file at or below `path` (default: the whole file system). */
  hsmStates(fileSystemId: string, path = '/'): HsmState[] {
    const root = this.fileSystemRoot(fileSystemId);
    const records = this.filesOf(fileSystemId);
    return listFiles(root, normalizeFsPath(path)).flatMap((file) => {
      const stat = statFile(root, file);
      return stat ? [hsmState(file, records[file], stat)] : [];
    });
  }

  // ---------------------------------------------------------------------------------------------
  // Automatic import (S3 events)

  /**
   * Feeds an S3 object event (an s3rver/S3 event record, or `{Records: [...]}`) to automatic import:
   * associations whose AutoImportPolicy covers the event type update the file system after
   * `autoImportDelayMs` (metadata only; contents stay lazy).
   */
  async onS3Event(event: unknown): Promise<void> {
    const records = Array.isArray((event as { Records?: unknown[] })?.Records)
      ? ((event as { Records: unknown[] }).Records as unknown[])
      : [event];
    for (const raw of records) {
      const record = raw as {
        eventName?: string;
        s3?: { bucket?: { name?: string }; object?: { key?: string } };
      };
      const bucket = record.s3?.bucket?.name;
      const key = record.s3?.object?.key;
      const name = record.eventName ?? '';
      if (!bucket || !key) continue;
      const kind = name.startsWith('ObjectRemoved')
        ? 'removed'
        : name.startsWith('ObjectCreated')
          ? 'created'
          : undefined;
      if (!kind) continue;
      for (const association of this.sorted(this.state.associations)) {
        const d = association.description;
        if (d.Lifecycle !== 'AVAILABLE' || eventsOf(d.S3?.AutoImportPolicy).size === 0) continue;
        const repo = this.repoOf(d);
        if (!s3Within(repo, { bucket, prefix: key.replace(/\/$/, '') })) continue;
        const fsPath = fsPathForKey(normalizeFsPath(d.FileSystemPath), repo, key);
        if (!fsPath) continue;
        this.spawn(async () => {
          await this.sleep(this.timings.autoImportDelayMs);
          if (this.closed || association.description.Lifecycle !== 'AVAILABLE') return;
          await this.applyImportEvent(association, fsPath, bucket, key, kind);
        });
      }
    }
  }

  private async applyImportEvent(
    association: AssociationRecord,
    fsPath: string,
    bucket: string,
    key: string,
    kind: 'created' | 'removed',
  ): Promise<void> {
    const d = association.description;
    const events = eventsOf(d.S3?.AutoImportPolicy);
    const root = this.rootOf(d.FileSystemId);
    const records = this.filesOf(d.FileSystemId);
    const head = await this.headObject(bucket, key);
    const stat = statFile(root, fsPath);
    const known = records[fsPath];
    if (kind === 'removed') {
      if (head || !events.has('DELETED') || !stat || !known?.archived || hasChanged(known, stat)) return;
      removeFile(root, fsPath);
      delete records[fsPath];
      this.store.save();
      return;
    }
    if (!head) return;
    if (key.endsWith('/')) {
      if (events.has('NEW')) mkdirSync(onDisk(root, fsPath), { recursive: true });
      return;
    }
    const selfWritten = this.selfWrites.get(`${bucket}/${key}`);
    if (selfWritten && selfWritten === head.etag && (!stat || known?.etag === head.etag)) return;
    if (!stat) {
      if (!events.has('NEW') || isDirectory(root, fsPath)) return;
    } else {
      if (!known?.archived || hasChanged(known, stat)) return; // local changes win; FSx does not merge
      if (known.etag === head.etag) return;
      if (!events.has('CHANGED')) return;
    }
    records[fsPath] = await writePlaceholder(
      root,
      this.scratchOf(d.FileSystemId),
      fsPath,
      head.size,
      head.lastModified,
      head.etag,
    );
    this.store.save();
  }

  private async headObject(
    bucket: string,
    key: string,
  ): Promise<{ size: number; etag?: string; lastModified: Date } | undefined> {
    try {
      const head = await this.deps.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
      return {
        size: head.ContentLength ?? 0,
        etag: head.ETag ? stripQuotes(head.ETag) : undefined,
        lastModified: head.LastModified ?? new Date(),
      };
    } catch (error) {
      const e = error as { name?: string; $metadata?: { httpStatusCode?: number } };
      if (e.name === 'NotFound' || e.name === 'NoSuchKey' || e.$metadata?.httpStatusCode === 404)
        return undefined;
      throw error;
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Background monitor: bucket reachability and automatic export

  /** Runs one monitor pass now (tests call it instead of waiting for the interval). */
  async tick(): Promise<void> {
    if (this.ticking) return this.ticking;
    this.ticking = this.monitor().finally(() => {
      this.ticking = undefined;
    });
    return this.ticking;
  }

  private scheduleMonitor(): void {
    if (this.closed) return;
    const delay = Math.max(20, this.deps.clock.scale(this.timings.monitorIntervalMs));
    this.monitorTimer = setTimeout(() => {
      this.tick()
        .catch((error) => this.note(`monitor: ${(error as Error).message}`))
        .finally(() => this.scheduleMonitor());
    }, delay);
    this.monitorTimer.unref?.();
  }

  private async monitor(): Promise<void> {
    const cache = new Map<string, Promise<true | string>>();
    for (const association of this.sorted(this.state.associations)) {
      if (this.closed) return;
      const d = association.description;
      const healable = d.Lifecycle === 'MISCONFIGURED' && association.misconfiguredBy === 'bucket';
      if (d.Lifecycle !== 'AVAILABLE' && !healable) continue;
      const bucket = this.repoOf(d).bucket;
      if (!cache.has(bucket)) cache.set(bucket, this.bucketReachable(bucket));
      const reachable = await (cache.get(bucket) as Promise<true | string>);
      if (d.Lifecycle === 'AVAILABLE' && reachable !== true)
        this.setAssociationState(association, 'MISCONFIGURED', reachable, 'bucket');
      else if (
        d.Lifecycle === 'MISCONFIGURED' &&
        association.misconfiguredBy === 'bucket' &&
        reachable === true
      ) {
        this.setAssociationState(association, 'AVAILABLE');
      }
    }
    for (const fileSystemId of Object.keys(this.state.fileSystems)) {
      if (this.closed) return;
      await this.autoExport(fileSystemId);
    }
  }

  private async autoExport(fileSystemId: string): Promise<void> {
    const exportTask = Object.values(this.state.tasks).some(
      (t) =>
        t.description.FileSystemId === fileSystemId &&
        t.description.Type === 'EXPORT_TO_REPOSITORY' &&
        ACTIVE_TASK.includes(t.description.Lifecycle),
    );
    if (exportTask) return; // automatic export and export tasks never run at the same time
    const associations = this.associationsOf(fileSystemId).filter(
      (a) => a.description.Lifecycle === 'AVAILABLE' && eventsOf(a.description.S3?.AutoExportPolicy).size > 0,
    );
    const pending = this.pendingExports.get(fileSystemId) ?? new Map();
    this.pendingExports.set(fileSystemId, pending);
    if (associations.length === 0) {
      pending.clear();
      return;
    }
    const root = this.rootOf(fileSystemId);
    const records = this.filesOf(fileSystemId);
    const due: Array<{ association: AssociationRecord; file: string }> = [];
    const now = Date.now();
    const stableFor = this.deps.clock.scale(this.timings.autoExportDelayMs);
    const watched = new Set<string>();
    for (const association of associations) {
      const d = association.description;
      const events = eventsOf(d.S3?.AutoExportPolicy);
      const draPath = normalizeFsPath(d.FileSystemPath);
      const present = new Set(listFiles(root, draPath));
      for (const file of present) {
        watched.add(file);
        const stat = statFile(root, file);
        if (!stat) continue;
        const known = records[file];
        const kind: EventType | undefined = !known ? 'NEW' : hasChanged(known, stat) ? 'CHANGED' : undefined;
        if (!kind || !events.has(kind)) {
          pending.delete(file);
          continue;
        }
        const seen = pending.get(file);
        if (!seen || seen.size !== stat.size || seen.mtimeMs !== stat.mtimeMs) {
          pending.set(file, { size: stat.size, mtimeMs: stat.mtimeMs, since: now });
          continue;
        }
        if (now - seen.since >= stableFor) due.push({ association, file });
      }
      // Files deleted on the file system: S3 keeps its object unless the policy has DELETED.
      for (const file of Object.keys(records)) {
        if (!fsPathWithin(draPath, file) || present.has(file)) continue;
        const known = records[file] as FileRecord;
        delete records[file];
        pending.delete(file);
        if (events.has('DELETED') && known.archived) {
          const repo = this.repoOf(d);
          try {
            await this.deps.s3.send(
              new DeleteObjectCommand({ Bucket: repo.bucket, Key: keyForFile(draPath, repo, file) }),
            );
          } catch (error) {
            this.note(`auto-export delete ${file}: ${(error as Error).message}`);
          }
        }
        this.store.save();
      }
    }
    for (const file of pending.keys()) if (!watched.has(file)) pending.delete(file);
    if (due.length === 0) return;
    this.autoExporting.add(fileSystemId);
    try {
      for (const { association, file } of due) {
        if (this.closed) return;
        try {
          await this.exportOne(association, file);
          pending.delete(file);
        } catch (error) {
          const seen = pending.get(file);
          if (seen) seen.since = Date.now(); // retried after another quiet period
          this.note(`auto-export ${file}: ${(error as Error).message}`);
        }
      }
    } finally {
      this.autoExporting.delete(fileSystemId);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Tags

  private resourceByArn(arn: string): { Tags?: Tag[] } {
    const fs = Object.values(this.state.fileSystems).find((r) => r.description.ResourceARN === arn);
    if (fs) return fs.description;
    const association = Object.values(this.state.associations).find((r) => r.description.ResourceARN === arn);
    if (association) return association.description;
    const task = Object.values(this.state.tasks).find((r) => r.description.ResourceARN === arn);
    if (task) return task.description;
    throw new FsxError('ResourceNotFound', `The resource ${arn} does not exist.`, { ResourceARN: arn });
  }

  private tagResource(input: Input, _ctx: RequestContext) {
    const resource = this.resourceByArn(input.ResourceARN as string);
    const tags = [...(resource.Tags ?? [])];
    for (const tag of input.Tags as Tag[]) {
      const index = tags.findIndex((t) => t.Key === tag.Key);
      if (index >= 0) tags[index] = tag;
      else tags.push(tag);
    }
    resource.Tags = tags;
    this.store.save();
    return {};
  }

  private untagResource(input: Input, _ctx: RequestContext) {
    const resource = this.resourceByArn(input.ResourceARN as string);
    const keys = input.TagKeys as string[];
    resource.Tags = (resource.Tags ?? []).filter((t) => !keys.includes(t.Key));
    this.store.save();
    return {};
  }

  private listTags(input: Input, _ctx: RequestContext) {
    const resource = this.resourceByArn(input.ResourceARN as string);
    const { page, more } = paginate(resource.Tags ?? [], input, 50);
    return { Tags: clone(page), ...more };
  }

  // ---------------------------------------------------------------------------------------------
  // Admin and test helpers

  /** Replaces the FSx fault settings (per-file task failures, slow tasks, failing associations). */
  setFaults(faults: FsxFaults): FsxFaults {
    this.faults = clone(faults);
    return clone(this.faults);
  }

  /** Changes simulated durations for processes started from now on. */
  setTimings(timings: Partial<FsxTimings>): FsxTimings {
    for (const [key, value] of Object.entries(timings)) {
      if (key in DEFAULT_TIMINGS && typeof value === 'number' && value >= 0)
        (this.timings as unknown as Record<string, number>)[key] = value;
    }
    return { ...this.timings };
  }

  /** The whole emulator state (admin `GET /_local/fsx/state`). */
  snapshot() {
    return {
      fileSystems: this.listFileSystems(),
      associations: this.sorted(this.state.associations).map((r) => clone(r.description)),
      tasks: this.sorted(this.state.tasks).map((r) => clone(r.description)),
      buckets: clone(this.state.buckets),
      faults: clone(this.faults),
      timings: { ...this.timings },
      diagnostics: [...this.diagnostics],
    };
  }

  /** Resolves when no background process (creation, deletion, task, auto-import) is running. */
  async whenIdle(): Promise<void> {
    while (this.running.size > 0 || this.drivers.size > 0) {
      await Promise.allSettled([...this.running, ...this.drivers.values()]);
    }
  }

  /** Stops background work and writes the state. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.monitorTimer) clearTimeout(this.monitorTimer);
    for (const [timer, resolve] of this.timers) {
      clearTimeout(timer);
      resolve();
    }
    this.timers.clear();
    await Promise.allSettled([...this.running, ...this.drivers.values(), this.ticking]);
    this.store.flush();
  }

  // ---------------------------------------------------------------------------------------------
  // Process plumbing

  /** Continues what a previous run left in flight (state persisted across `local up` restarts). */
  private resume(): void {
    for (const record of Object.values(this.state.tasks)) {
      if (record.description.Lifecycle === 'EXECUTING') record.description.Lifecycle = 'PENDING';
      if (record.description.Lifecycle === 'CANCELING') record.description.Lifecycle = 'CANCELED';
    }
    for (const fs of Object.values(this.state.fileSystems)) {
      if (fs.description.Lifecycle === 'CREATING')
        this.spawn(() => this.finishFileSystemCreation(fs.description.FileSystemId));
      this.kickAssociations(fs.description.FileSystemId);
      this.kickTasks(fs.description.FileSystemId);
    }
    for (const record of Object.values(this.state.associations)) {
      if (record.description.Lifecycle === 'DELETING') this.spawn(() => this.finishDeletion(record));
      if (record.description.Lifecycle === 'UPDATING') this.setAssociationState(record, 'AVAILABLE');
    }
    this.store.save();
  }

  private sorted<T extends { seq: number }>(map: Record<string, T>): T[] {
    return Object.values(map).sort((a, b) => a.seq - b.seq);
  }

  private nowSeconds(): number {
    return Math.floor(this.deps.clock.now().getTime()) / 1000;
  }

  private note(message: string): void {
    this.diagnostics.push(`${new Date().toISOString()} ${message}`);
    if (this.diagnostics.length > 200) this.diagnostics.shift();
    this.deps.log?.(message);
  }

  /** Sleeps `ms` simulated milliseconds; resolves at once when the emulator closes. */
  private sleep(ms: number): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        resolve();
      }, this.deps.clock.scale(ms));
      timer.unref?.();
      this.timers.set(timer, resolve);
    });
  }

  private spawn(fn: () => Promise<void>): void {
    const promise: Promise<void> = fn()
      .catch((error) => this.note(`background: ${(error as Error).stack ?? error}`))
      .finally(() => this.running.delete(promise));
    this.running.add(promise);
  }

  /** Runs `fn` as the single driver for `key`; a kick while it runs makes it run once more. */
  private drive(key: string, fn: () => Promise<void>): void {
    if (this.drivers.has(key)) {
      this.rekick.add(key);
      return;
    }
    const promise: Promise<void> = (async () => {
      do {
        this.rekick.delete(key);
        await fn().catch((error) => this.note(`${key}: ${(error as Error).stack ?? error}`));
      } while (this.rekick.has(key) && !this.closed);
    })().finally(() => this.drivers.delete(key));
    this.drivers.set(key, promise);
  }

  private async withLock<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.locks.get(key) ?? Promise.resolve();
    const run = previous.then(fn, fn);
    const settled = run.catch(() => undefined);
    this.locks.set(key, settled);
    try {
      return await run;
    } finally {
      if (this.locks.get(key) === settled) this.locks.delete(key);
    }
  }
}

function randomUUIDish(): string {
  const h = hex(32);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
