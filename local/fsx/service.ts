/**
 * FSx for Lustre emulator of the local cloud (JSON 1.1, `X-Amz-Target:
 * AWSSimbaAPIService_v20180301.<Operation>`).
 *
 * Models what fsx-transfer relies on, with AWS's shapes and error codes: file systems (declared
 * from the local cloud's config or created through the admin API), data repository associations
 * with their lifecycle and rules, data repository tasks that really move data between the local S3
 * and a local directory standing for the Lustre root, completion reports, and the DRA semantics of
 * the seed runbook (lazy import, no automatic export of pre-existing files, asynchronous
 * auto-export, deletion on FSx never deletes in S3 unless the DRA's AutoExportPolicy includes
 * DELETED).
 *
 * This file composes the parts, one per FSx resource, over a shared core (core.ts):
 * file-systems.ts, associations.ts, tasks.ts (with transfers.ts, the per-file data movement),
 * sync.ts (automatic import and export, the bucket monitor), hsm.ts (lazy contents, HSM state)
 * and tags.ts. State (including per-file HSM records) persists under `<dataDir>/fsx/`. Durations
 * are simulated milliseconds scaled by the clock. See docs/local-cloud.md (## FSx) for what is and
 * is not modelled.
 */
import { dispatch, type OperationTable } from '../kit/dispatch.js';
import type { JsonService, RequestContext } from '../types.js';
import {
  associationOperations,
  finishDeletion,
  forceAssociationState,
  kickAssociations,
} from './associations.js';
import {
  clone,
  DEFAULT_TIMINGS,
  FsxCore,
  type FsxEmulatorDeps,
  type FsxFaults,
  type FsxTimings,
  type Input,
} from './core.js';
import { FsxError, unsupported } from './errors.js';
import {
  declareFileSystem,
  type FileSystemSpec,
  fileSystemOperations,
  fileSystemRoot,
  findByDnsName,
  finishFileSystemCreation,
  listFileSystems,
  setFileSystemLifecycle,
} from './file-systems.js';
import type { HsmState } from './files.js';
import { access, hsmState, hsmStates, restore } from './hsm.js';
import { ALL_OPERATIONS } from './model.js';
import type {
  AssociationDescription,
  AssociationLifecycle,
  BucketSettings,
  FileSystemDescription,
  FileSystemLifecycle,
} from './store.js';
import { Monitor, onS3Event } from './sync.js';
import { tagOperations } from './tags.js';
import { kickTasks, taskOperations } from './tasks.js';
import { validateInput } from './validate.js';

export type { BucketInfo, FsxEmulatorDeps, FsxFaults, FsxTimings } from './core.js';
export { DEFAULT_TIMINGS } from './core.js';
export { type FileSystemSpec, fileSystemSpecs } from './file-systems.js';

/** The same table, each handler preceded by FSx's front-end validation of its input (validate.ts). */
function validated(table: OperationTable<Input>): OperationTable<Input> {
  return Object.fromEntries(
    Object.entries(table).map(([name, handler]) => [
      name,
      (input: Input, ctx: RequestContext) => {
        validateInput(name, input);
        return handler(input, ctx);
      },
    ]),
  );
}

export class FsxEmulator implements JsonService {
  readonly targetPrefix = 'AWSSimbaAPIService_v20180301';
  readonly jsonVersion = '1.1' as const;
  private readonly fsx: FsxCore;
  private readonly monitor: Monitor;
  private readonly operations: OperationTable<Input>;

  constructor(deps: FsxEmulatorDeps) {
    this.fsx = new FsxCore(deps);
    this.monitor = new Monitor(this.fsx);
    this.operations = validated({
      ...fileSystemOperations(this.fsx),
      ...associationOperations(this.fsx),
      ...taskOperations(this.fsx),
      ...tagOperations(this.fsx),
    });
    for (const spec of deps.fileSystems ?? []) {
      if (spec.id && this.fsx.state.fileSystems[spec.id]) continue;
      declareFileSystem(this.fsx, spec);
    }
    this.resume();
    this.monitor.schedule();
  }

  get timings(): FsxTimings {
    return this.fsx.timings;
  }

  get faults(): FsxFaults {
    return this.fsx.faults;
  }

  /** Recent errors of background work (auto-export, auto-import, monitor), newest last. */
  get diagnostics(): string[] {
    return this.fsx.diagnostics;
  }

  // ---------------------------------------------------------------------------------------------
  // JSON protocol entry point

  async handle(operation: string, input: Record<string, unknown>, ctx: RequestContext): Promise<unknown> {
    return dispatch(this.operations, operation, input, ctx, (name) => {
      if (!ALL_OPERATIONS.includes(name))
        return new FsxError('UnknownOperationException', `Unknown operation ${name}`);
      return unsupported(`The local cloud does not model the FSx operation ${name}.`);
    });
  }

  // ---------------------------------------------------------------------------------------------
  // File systems (admin, the mount shim)

  /**
   * Admin: creates a LUSTRE file system (AVAILABLE unless `lifecycle` says otherwise).
   * @throws LocalAwsError BadRequest for an invalid spec or a duplicate id.
   */
  async createFileSystem(spec: FileSystemSpec): Promise<FileSystemDescription> {
    return declareFileSystem(this.fsx, spec);
  }

  /** Admin: every file system (all regions). */
  listFileSystems(): FileSystemDescription[] {
    return listFileSystems(this.fsx);
  }

  /** Admin: forces a file system lifecycle (e.g. MISCONFIGURED or FAILED to test prerequisite checks). */
  setFileSystemLifecycle(
    id: string,
    lifecycle: FileSystemLifecycle,
    message?: string,
  ): FileSystemDescription {
    return setFileSystemLifecycle(this.fsx, id, lifecycle, message);
  }

  /**
   * The local directory standing for the Lustre root of a file system.
   * @throws LocalAwsError FileSystemNotFound for an unknown id.
   */
  fileSystemRoot(fileSystemId: string): string {
    return fileSystemRoot(this.fsx, fileSystemId);
  }

  /** The file system whose DNSName is `dnsName` (a trailing `@tcp` or `@tcp:/mountname` is ignored). */
  findByDnsName(dnsName: string): FileSystemDescription | undefined {
    return findByDnsName(this.fsx, dnsName);
  }

  // ---------------------------------------------------------------------------------------------
  // Associations and buckets (admin)

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
    return forceAssociationState(this.fsx, associationId, lifecycle, message);
  }

  /** Admin: simulated properties of a bucket as FSx sees it (unreachable, other region, other owner). */
  setBucket(bucket: string, settings: BucketSettings): BucketSettings {
    return this.fsx.setBucket(bucket, settings);
  }

  // ---------------------------------------------------------------------------------------------
  // Lazy contents and HSM state (the `lfs` shim, admin reads)

  /**
   * Fetches the contents of released files at or below `path` from S3, as `lfs hsm_restore` does.
   * @throws LocalAwsError FileSystemNotFound; `NotFound` (404); `RestoreFailed`.
   */
  restore(fileSystemId: string, path: string): Promise<{ restored: string[]; bytes: number }> {
    return restore(this.fsx, fileSystemId, path);
  }

  /** Reads a file as an application on a Lustre client would: released contents are fetched first. */
  access(
    fileSystemId: string,
    path: string,
  ): Promise<{ path: string; size: number; restored: boolean; contents: Buffer }> {
    return access(this.fsx, fileSystemId, path);
  }

  /** HSM state of one file (as `lfs hsm_state` reports it), or undefined when there is no such file. */
  hsmState(fileSystemId: string, path: string): HsmState | undefined {
    return hsmState(this.fsx, fileSystemId, path);
  }

  /** HSM states of every file at or below `path` (default: the whole file system). */
  hsmStates(fileSystemId: string, path = '/'): HsmState[] {
    return hsmStates(this.fsx, fileSystemId, path);
  }

  // ---------------------------------------------------------------------------------------------
  // Automatic import and the monitor

  /**
   * Feeds an S3 object event (an s3rver/S3 event record, or `{Records: [...]}`) to automatic import:
   * associations whose AutoImportPolicy covers the event type update the file system after
   * `autoImportDelayMs` (metadata only; contents stay lazy).
   */
  onS3Event(event: unknown): Promise<void> {
    return onS3Event(this.fsx, event);
  }

  /** Runs one monitor pass now (tests call it instead of waiting for the interval). */
  tick(): Promise<void> {
    return this.monitor.tick();
  }

  // ---------------------------------------------------------------------------------------------
  // Admin and test helpers

  /** Replaces the FSx fault settings (per-file task failures, slow tasks, failing associations). */
  setFaults(faults: FsxFaults): FsxFaults {
    this.fsx.faults = clone(faults);
    return clone(this.fsx.faults);
  }

  /** Changes simulated durations for processes started from now on. */
  setTimings(timings: Partial<FsxTimings>): FsxTimings {
    for (const [key, value] of Object.entries(timings)) {
      if (key in DEFAULT_TIMINGS && typeof value === 'number' && value >= 0)
        (this.fsx.timings as unknown as Record<string, number>)[key] = value;
    }
    return { ...this.fsx.timings };
  }

  /** The whole emulator state (admin `GET /_local/fsx/state`). */
  snapshot() {
    const fsx = this.fsx;
    return {
      fileSystems: this.listFileSystems(),
      associations: fsx.sorted(fsx.state.associations).map((r) => clone(r.description)),
      tasks: fsx.sorted(fsx.state.tasks).map((r) => clone(r.description)),
      buckets: clone(fsx.state.buckets),
      faults: clone(fsx.faults),
      timings: { ...fsx.timings },
      diagnostics: [...fsx.diagnostics],
    };
  }

  /** The file system of a data repository association (IAM: the association's ARN names it). */
  associationFileSystem(associationId: string): string | undefined {
    return Object.values(this.fsx.state.associations).find(
      (r) => r.description.AssociationId === associationId,
    )?.description.FileSystemId;
  }

  /** Resolves when no background process (creation, deletion, task, auto-import) is running. */
  whenIdle(): Promise<void> {
    return this.fsx.background.whenIdle();
  }

  /** Stops background work and writes the state. */
  async close(): Promise<void> {
    if (this.fsx.closed) return;
    const ticking = this.monitor.stop();
    await this.fsx.background.close([ticking]);
    this.fsx.store.flush();
  }

  /** Continues what a previous run left in flight (state persisted across `local up` restarts). */
  private resume(): void {
    const fsx = this.fsx;
    for (const record of Object.values(fsx.state.tasks)) {
      if (record.description.Lifecycle === 'EXECUTING') record.description.Lifecycle = 'PENDING';
      if (record.description.Lifecycle === 'CANCELING') record.description.Lifecycle = 'CANCELED';
    }
    for (const fs of Object.values(fsx.state.fileSystems)) {
      const id = fs.description.FileSystemId;
      if (fs.description.Lifecycle === 'CREATING')
        fsx.background.spawn(() => finishFileSystemCreation(fsx, id));
      kickAssociations(fsx, id);
      kickTasks(fsx, id);
    }
    for (const record of Object.values(fsx.state.associations)) {
      if (record.description.Lifecycle === 'DELETING')
        fsx.background.spawn(() => finishDeletion(fsx, record));
      if (record.description.Lifecycle === 'UPDATING') fsx.setAssociationState(record, 'AVAILABLE');
    }
    fsx.store.save();
  }
}
