/**
 * What every part of the FSx emulator shares: its dependencies, simulated durations and faults,
 * the persisted state, background work, and the lookups and rules more than one resource needs
 * (regional visibility, how FSx sees a bucket, association lifecycles, ClientRequestToken
 * idempotency, paging). The per-resource modules (file-systems.ts, associations.ts, tasks.ts,
 * sync.ts, hsm.ts, tags.ts) are functions over one `FsxCore`.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { HeadBucketCommand, type S3Client } from '@aws-sdk/client-s3';
import { pageOf, pageTokens } from '../kit/next-token.js';
import type { Clock, LocalEvent, RequestContext } from '../types.js';
import { Background } from './background.js';
import { associationNotFound, badRequest, fileSystemNotFound, incompatibleParameter } from './errors.js';
import type { FileSystemSpec } from './file-systems.js';
import { parseS3Path, type S3Location } from './paths.js';
import {
  type AssociationDescription,
  type AssociationLifecycle,
  type AssociationRecord,
  type BucketSettings,
  type EventType,
  type FileRecord,
  type FileSystemRecord,
  FsxStore,
  type TaskType,
} from './store.js';

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
  /** File systems to declare at start (the local cloud passes its config's, see `fileSystemSpecs`). */
  fileSystems?: FileSystemSpec[];
  timings?: Partial<FsxTimings>;
  faults?: FsxFaults;
  /** Region and owner of a bucket, when the S3 side models them; otherwise HeadBucket + admin settings. */
  bucketInfo?: (bucket: string) => Promise<BucketInfo>;
  /** Diagnostics of background work (default: kept in `diagnostics` only). */
  log?: (message: string) => void;
}

export type Input = Record<string, unknown>;

/** How FSx sees a bucket (see `FsxCore.bucketStatus`). */
export interface BucketStatus {
  exists: boolean;
  unreachable: boolean;
  accessDenied: boolean;
  region: string;
  ownerAccountId?: string;
}

export const clone = <T>(value: T): T => structuredClone(value);
export const eventsOf = (policy: { Events?: EventType[] } | undefined) => new Set(policy?.Events ?? []);

/** Parameters of a request that an idempotency token must match (everything but the token). */
function paramsOf(input: Input): Record<string, unknown> {
  const { ClientRequestToken: _token, ...rest } = input;
  return rest;
}

export class FsxCore {
  readonly timings: FsxTimings;
  faults: FsxFaults;
  /** Recent errors of background work (auto-export, auto-import, monitor), newest last. */
  readonly diagnostics: string[] = [];
  readonly store: FsxStore;
  readonly background: Background;
  /** Auto-export candidates per file system: path -> the stat last seen and since when (real ms). */
  readonly pendingExports = new Map<string, Map<string, { size: number; mtimeMs: number; since: number }>>();
  /** File systems whose automatic export is uploading now. */
  readonly autoExporting = new Set<string>();
  /** Objects FSx itself wrote (bucket/key -> MD5), so their S3 events are not imported back. */
  readonly selfWrites = new Map<string, string>();
  private readonly baseDir: string;
  private readonly tokens = pageTokens(() => badRequest('The NextToken value is not valid.'));

  constructor(readonly deps: FsxEmulatorDeps) {
    this.timings = { ...DEFAULT_TIMINGS, ...deps.timings };
    this.faults = deps.faults ?? {};
    this.baseDir = join(deps.dataDir, 'fsx');
    mkdirSync(this.baseDir, { recursive: true });
    this.store = new FsxStore(this.baseDir);
    this.background = new Background(deps.clock, (message) => this.note(message));
  }

  get state() {
    return this.store.state;
  }

  get closed(): boolean {
    return this.background.closed;
  }

  /** The local directory standing for the Lustre root of a file system. */
  rootOf(id: string): string {
    return join(this.baseDir, id, 'root');
  }

  /** Where files are prepared before they are renamed into the tree (same disk, outside the root). */
  scratchOf(id: string): string {
    return join(this.baseDir, id, 'tmp');
  }

  /** The HSM records of a file system's files. */
  filesOf(fileSystemId: string): Record<string, FileRecord> {
    this.state.files[fileSystemId] ??= {};
    return this.state.files[fileSystemId];
  }

  sorted<T extends { seq: number }>(map: Record<string, T>): T[] {
    return Object.values(map).sort((a, b) => a.seq - b.seq);
  }

  nowSeconds(): number {
    return Math.floor(this.deps.clock.now().getTime()) / 1000;
  }

  note(message: string): void {
    this.diagnostics.push(`${new Date().toISOString()} ${message}`);
    if (this.diagnostics.length > 200) this.diagnostics.shift();
    this.deps.log?.(message);
  }

  /**
   * One page of a Describe/List answer: `MaxResults` items (at most, and by default, `maxResults`, the
   * service's page size) from `NextToken`; `more` is `{ NextToken }` when items remain, else `{}`.
   */
  paginate<T>(items: T[], input: Input, maxResults: number): { page: T[]; more: { NextToken?: string } } {
    const size = Math.min((input.MaxResults as number) ?? maxResults, maxResults);
    const { items: page, nextToken } = pageOf(items, { token: input.NextToken, size }, this.tokens);
    return { page, more: nextToken ? { NextToken: nextToken } : {} };
  }

  // ---------------------------------------------------------------------------------------------
  // Lookups

  /** @throws FileSystemNotFound */
  fileSystemRecord(id: string): FileSystemRecord {
    const record = this.state.fileSystems[id];
    if (!record) throw fileSystemNotFound(id);
    return record;
  }

  /** A file system visible to a request (file systems are regional). */
  fileSystemIn(ctx: RequestContext, id: string): FileSystemRecord {
    const record = this.state.fileSystems[id];
    if (!record || record.region !== ctx.region) throw fileSystemNotFound(id);
    return record;
  }

  /** An association visible to a request. */
  associationIn(ctx: RequestContext, id: string): AssociationRecord {
    const record = this.state.associations[id];
    if (!record || record.region !== ctx.region) throw associationNotFound(id);
    return record;
  }

  /** The associations of a file system, oldest first (without those being deleted unless asked). */
  associationsOf(fileSystemId: string, options: { includeDeleting?: boolean } = {}): AssociationRecord[] {
    return this.sorted(this.state.associations).filter(
      (r) =>
        r.description.FileSystemId === fileSystemId &&
        (options.includeDeleting || r.description.Lifecycle !== 'DELETING'),
    );
  }

  /** The S3 bucket and prefix of an association's data repository. */
  repoOf(association: AssociationDescription): S3Location {
    return parseS3Path(association.DataRepositoryPath) as S3Location;
  }

  setAssociationState(
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

  /** Whether automatic export has changes waiting or uploading on a file system. */
  autoExportBusy(fileSystemId: string): boolean {
    return (this.pendingExports.get(fileSystemId)?.size ?? 0) > 0 || this.autoExporting.has(fileSystemId);
  }

  /** Records an object FSx writes itself, so its S3 event is not imported back. */
  rememberSelfWrite(objectKey: string, md5: string): void {
    this.selfWrites.delete(objectKey);
    this.selfWrites.set(objectKey, md5);
    if (this.selfWrites.size > 10_000) this.selfWrites.delete(this.selfWrites.keys().next().value as string);
  }

  // ---------------------------------------------------------------------------------------------
  // Buckets as FSx sees them

  /**
   * How FSx sees a bucket: admin settings first, then `deps.bucketInfo`, else HeadBucket on the
   * local S3 (with ExpectedBucketOwner = the file system's account, so a bucket of another
   * account answers 403, and its BucketRegion).
   */
  async bucketStatus(bucket: string, expectedOwner?: string): Promise<BucketStatus> {
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

  /** Admin: simulated properties of a bucket as FSx sees it (unreachable, other region, other owner). */
  setBucket(bucket: string, settings: BucketSettings): BucketSettings {
    const merged = { ...(this.state.buckets[bucket] ?? {}), ...settings };
    for (const key of Object.keys(merged) as Array<keyof BucketSettings>)
      if (merged[key] === undefined) delete merged[key];
    this.state.buckets[bucket] = merged;
    this.store.save();
    return clone(merged);
  }

  /** True, or the FailureDetails message explaining why FSx cannot use the bucket. */
  async bucketReachable(bucket: string): Promise<true | string> {
    let status: BucketStatus;
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

  // ---------------------------------------------------------------------------------------------
  // Idempotency tokens (ClientRequestToken)

  private tokenKey(operation: string, ctx: RequestContext, token: string) {
    return `${ctx.accountId}:${ctx.region}:${operation}:${token}`;
  }

  /**
   * The earlier response for a repeated ClientRequestToken with identical parameters (undefined
   * for a new token).
   * @throws IncompatibleParameterError naming the first parameter that differs.
   */
  replay(
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

  /** Remembers the response to a request with a ClientRequestToken (see `replay`). */
  remember(operation: string, ctx: RequestContext, input: Input, resourceId: string, response: unknown) {
    const token = input.ClientRequestToken as string | undefined;
    if (!token) return;
    this.state.tokens[this.tokenKey(operation, ctx, token)] = {
      operation,
      params: clone(paramsOf(input)),
      resourceId,
      response: clone(response),
    };
  }
}

/** Whether `value` contains `pattern`, or matches it as a regex when written `/.../` (fault rules). */
export function matchesPattern(pattern: string, value: string): boolean {
  const regex = /^\/(.+)\/$/.exec(pattern);
  if (regex?.[1]) return new RegExp(regex[1]).test(value);
  return value.includes(pattern);
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

/** How a Describe filter narrows records: the filter's values in, the records that pass out. */
export type FilterRule<R> = (records: R[], values: string[]) => R[];

/**
 * What a Describe* request selects: the records of the request's region (oldest first) named by
 * its ids (all when none; an unknown id throws `notFound`), narrowed by each of its `Filters` in
 * turn (a filter name without a rule throws `unknownFilter`).
 */
export function describeSelection<R extends { seq: number; region: string }>(
  fsx: FsxCore,
  ctx: RequestContext,
  request: {
    records: Record<string, R>;
    ids: unknown;
    idOf: (record: R) => string;
    notFound: (id: string) => Error;
    filters: unknown;
    rules: Record<string, FilterRule<R>>;
    unknownFilter: (name: string | undefined) => Error;
  },
): R[] {
  let records = selectByIds(
    fsx.sorted(request.records).filter((r) => r.region === ctx.region),
    request.ids as string[] | undefined,
    request.idOf,
    request.notFound,
  );
  for (const filter of (request.filters as Array<{ Name?: string; Values?: string[] }> | undefined) ?? []) {
    const rule =
      filter.Name !== undefined && Object.hasOwn(request.rules, filter.Name)
        ? request.rules[filter.Name]
        : undefined;
    if (!rule) throw request.unknownFilter(filter.Name);
    records = rule(records, filter.Values ?? []);
  }
  return records;
}

/** The `file-system-id` filter: records of the named file systems (each must be visible). */
export function byFileSystem<R extends { description: { FileSystemId: string } }>(
  fsx: FsxCore,
  ctx: RequestContext,
): FilterRule<R> {
  return (records, values) => {
    for (const id of values) fsx.fileSystemIn(ctx, id);
    return records.filter((r) => values.includes(r.description.FileSystemId));
  };
}
