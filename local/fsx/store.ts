/**
 * The FSx emulator's state and its persistence: one JSON document under `<dataDir>/fsx/state.json`
 * holding file systems, associations, tasks, idempotency tokens, bucket simulation settings and the
 * per-file HSM records, so a restarted `local up` continues where it stopped. Written through the
 * local cloud's one persistence (kit/persistence.ts): debounced and atomic; `flush()` writes at once.
 *
 * Resource descriptions are stored in AWS's response shapes (timestamps as epoch seconds, which is
 * how the JSON protocol sends them) so Describe* returns them without translation.
 */
import { StateStore } from '../kit/persistence.js';

export type Tag = { Key: string; Value: string };
export type EventType = 'NEW' | 'CHANGED' | 'DELETED';
export type DeploymentType = 'SCRATCH_1' | 'SCRATCH_2' | 'PERSISTENT_1' | 'PERSISTENT_2';
export type FileSystemLifecycle =
  | 'AVAILABLE'
  | 'CREATING'
  | 'FAILED'
  | 'DELETING'
  | 'MISCONFIGURED'
  | 'UPDATING'
  | 'MISCONFIGURED_UNAVAILABLE';
export type AssociationLifecycle =
  | 'CREATING'
  | 'AVAILABLE'
  | 'MISCONFIGURED'
  | 'UPDATING'
  | 'DELETING'
  | 'FAILED';
export type TaskLifecycle = 'PENDING' | 'EXECUTING' | 'FAILED' | 'SUCCEEDED' | 'CANCELED' | 'CANCELING';
export type TaskType =
  | 'EXPORT_TO_REPOSITORY'
  | 'IMPORT_METADATA_FROM_REPOSITORY'
  | 'RELEASE_DATA_FROM_FILESYSTEM'
  | 'AUTO_RELEASE_DATA';

export interface S3Config {
  AutoImportPolicy?: { Events?: EventType[] };
  AutoExportPolicy?: { Events?: EventType[] };
}

/** FSx `FileSystem` (LUSTRE only). */
export interface FileSystemDescription {
  OwnerId: string;
  CreationTime: number;
  FileSystemId: string;
  FileSystemType: 'LUSTRE';
  Lifecycle: FileSystemLifecycle;
  FailureDetails?: { Message: string };
  StorageCapacity: number;
  StorageType: 'SSD' | 'HDD';
  VpcId: string;
  SubnetIds: string[];
  NetworkInterfaceIds: string[];
  DNSName: string;
  KmsKeyId?: string;
  ResourceARN: string;
  Tags: Tag[];
  LustreConfiguration: {
    WeeklyMaintenanceStartTime: string;
    DeploymentType: DeploymentType;
    PerUnitStorageThroughput?: number;
    MountName: string;
    CopyTagsToBackups?: boolean;
    DataCompressionType: 'NONE' | 'LZ4';
    LogConfiguration: { Level: 'DISABLED' | 'WARN_ONLY' | 'ERROR_ONLY' | 'WARN_ERROR' };
    MetadataConfiguration?: { Iops?: number; Mode: 'AUTOMATIC' | 'USER_PROVISIONED' };
  };
  FileSystemTypeVersion: string;
  NetworkType: 'IPV4';
}

/** FSx `DataRepositoryAssociation`. */
export interface AssociationDescription {
  AssociationId: string;
  ResourceARN: string;
  FileSystemId: string;
  Lifecycle: AssociationLifecycle;
  FailureDetails?: { Message: string };
  FileSystemPath: string;
  DataRepositoryPath: string;
  BatchImportMetaDataOnCreate: boolean;
  ImportedFileChunkSize: number;
  S3?: S3Config;
  Tags?: Tag[];
  CreationTime: number;
}

export interface CompletionReport {
  Enabled: boolean;
  Path?: string;
  Format?: 'REPORT_CSV_20191124';
  Scope?: 'FAILED_FILES_ONLY';
}

/** FSx `DataRepositoryTask`. */
export interface TaskDescription {
  TaskId: string;
  Lifecycle: TaskLifecycle;
  Type: TaskType;
  CreationTime: number;
  StartTime?: number;
  EndTime?: number;
  ResourceARN: string;
  Tags?: Tag[];
  FileSystemId: string;
  Paths: string[];
  FailureDetails?: { Message: string };
  Status?: {
    TotalCount?: number;
    SucceededCount?: number;
    FailedCount?: number;
    LastUpdatedTime?: number;
  };
  Report: CompletionReport;
  ReleaseConfiguration?: { DurationSinceLastAccess?: { Unit?: 'DAYS'; Value?: number } };
}

export interface FileSystemRecord {
  seq: number;
  region: string;
  description: FileSystemDescription;
}

export interface AssociationRecord {
  seq: number;
  region: string;
  description: AssociationDescription;
  /** Why the association is MISCONFIGURED: `bucket` heals when the bucket is reachable again; `forced` only after an update. */
  misconfiguredBy?: 'bucket' | 'forced';
  deleteDataInFileSystem?: boolean;
}

export interface TaskRecord {
  seq: number;
  region: string;
  description: TaskDescription;
  /** Set for the import task FSx runs itself after creating a DRA with BatchImportMetaDataOnCreate. */
  batchImportFor?: string;
  cancelRequested?: boolean;
}

export interface TokenRecord {
  operation: string;
  /** The request parameters (without the token) the token was first used with. */
  params: Record<string, unknown>;
  resourceId: string;
  /** The response first returned; reused if the resource no longer exists. */
  response: unknown;
}

/** Simulated properties of a local S3 bucket, as seen by FSx. */
export interface BucketSettings {
  region?: string;
  ownerAccountId?: string;
  /** FSx cannot reach the bucket (permissions, event notification removed): DRAs go MISCONFIGURED. */
  unreachable?: boolean;
}

/**
 * HSM record of one file under a DRA: what FSx last knew about it. A file on disk without a
 * record is new (never exported); `archived` means a copy exists in S3 (imported or exported);
 * `released` means the contents are not on the file system (sparse placeholder); a file whose size
 * or mtime differs from the record has changed since (dirty).
 */
export interface FileRecord {
  size: number;
  mtimeMs: number;
  archived: boolean;
  released: boolean;
  etag?: string;
}

export interface FsxState {
  version: 1;
  seq: number;
  fileSystems: Record<string, FileSystemRecord>;
  associations: Record<string, AssociationRecord>;
  tasks: Record<string, TaskRecord>;
  tokens: Record<string, TokenRecord>;
  buckets: Record<string, BucketSettings>;
  files: Record<string, Record<string, FileRecord>>;
}

export const emptyState = (): FsxState => ({
  version: 1,
  seq: 0,
  fileSystems: {},
  associations: {},
  tasks: {},
  tokens: {},
  buckets: {},
  files: {},
});

/** The FSx state document, loaded at start and saved (debounced) after every change. */
export class FsxStore {
  readonly state: FsxState;
  private readonly snapshots: StateStore;

  constructor(dir: string, debounceMs = 25) {
    this.snapshots = new StateStore(dir, debounceMs);
    const saved = this.snapshots.load<Partial<FsxState>>('state');
    this.state = saved?.version === 1 ? ({ ...emptyState(), ...saved } as FsxState) : emptyState();
  }

  nextSeq(): number {
    this.state.seq += 1;
    return this.state.seq;
  }

  /** Schedules a write of the whole state. */
  save(): void {
    this.snapshots.save('state', () => this.state);
  }

  /** Writes the whole state now. */
  flush(): void {
    this.save();
    this.snapshots.flush();
  }
}
