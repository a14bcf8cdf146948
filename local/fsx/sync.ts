/**
 * What keeps a file system and its data repositories in step without a task: automatic import
 * (S3 object events, per the association's AutoImportPolicy) and the background monitor (bucket
 * reachability -> MISCONFIGURED and back, automatic export of new and changed files once they have
 * stayed unchanged for `autoExportDelayMs`, S3 deletion only with an AutoExportPolicy of DELETED).
 */
import { mkdirSync } from 'node:fs';
import { DeleteObjectCommand } from '@aws-sdk/client-s3';
import { eventsOf, type FsxCore } from './core.js';
import { hasChanged, isDirectory, listFiles, removeFile, statFile } from './files.js';
import { fsPathForKey, fsPathWithin, keyForFile, normalizeFsPath, onDisk, s3Within } from './paths.js';
import type { AssociationRecord, EventType, FileRecord } from './store.js';
import { ACTIVE_TASK } from './tasks.js';
import { exportOne, headObject, writeImported } from './transfers.js';

// -----------------------------------------------------------------------------------------------
// Automatic import (S3 events)

/**
 * Feeds an S3 object event (an s3rver/S3 event record, or `{Records: [...]}`) to automatic import:
 * associations whose AutoImportPolicy covers the event type update the file system after
 * `autoImportDelayMs` (metadata only; contents stay lazy).
 */
export async function onS3Event(fsx: FsxCore, event: unknown): Promise<void> {
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
    for (const association of fsx.sorted(fsx.state.associations)) {
      const d = association.description;
      if (d.Lifecycle !== 'AVAILABLE' || eventsOf(d.S3?.AutoImportPolicy).size === 0) continue;
      const repo = fsx.repoOf(d);
      if (!s3Within(repo, { bucket, prefix: key.replace(/\/$/, '') })) continue;
      const fsPath = fsPathForKey(normalizeFsPath(d.FileSystemPath), repo, key);
      if (!fsPath) continue;
      fsx.background.spawn(async () => {
        await fsx.background.sleep(fsx.timings.autoImportDelayMs);
        if (fsx.closed || association.description.Lifecycle !== 'AVAILABLE') return;
        await applyImportEvent(fsx, association, fsPath, bucket, key, kind);
      });
    }
  }
}

async function applyImportEvent(
  fsx: FsxCore,
  association: AssociationRecord,
  fsPath: string,
  bucket: string,
  key: string,
  kind: 'created' | 'removed',
): Promise<void> {
  const d = association.description;
  const events = eventsOf(d.S3?.AutoImportPolicy);
  const root = fsx.rootOf(d.FileSystemId);
  const records = fsx.filesOf(d.FileSystemId);
  const head = await headObject(fsx, bucket, key);
  const stat = statFile(root, fsPath);
  const known = records[fsPath];
  if (kind === 'removed') {
    if (head || !events.has('DELETED') || !stat || !known?.archived || hasChanged(known, stat)) return;
    removeFile(root, fsPath);
    delete records[fsPath];
    fsx.store.save();
    return;
  }
  if (!head) return;
  if (key.endsWith('/')) {
    if (events.has('NEW')) mkdirSync(onDisk(root, fsPath), { recursive: true });
    return;
  }
  const selfWritten = fsx.selfWrites.get(`${bucket}/${key}`);
  if (selfWritten && selfWritten === head.etag && (!stat || known?.etag === head.etag)) return;
  if (!stat) {
    if (!events.has('NEW') || isDirectory(root, fsPath)) return;
  } else {
    if (!known?.archived || hasChanged(known, stat)) return; // local changes win; FSx does not merge
    if (known.etag === head.etag) return;
    if (!events.has('CHANGED')) return;
  }
  await writeImported(fsx, d.FileSystemId, fsPath, head);
}

// -----------------------------------------------------------------------------------------------
// Background monitor: bucket reachability and automatic export

/** Runs the monitor every `monitorIntervalMs` (scaled) and on demand (`tick`). */
export class Monitor {
  private timer: NodeJS.Timeout | undefined;
  private ticking: Promise<void> | undefined;

  constructor(private readonly fsx: FsxCore) {}

  /** Runs one monitor pass now (tests call it instead of waiting for the interval). */
  async tick(): Promise<void> {
    if (this.ticking) return this.ticking;
    this.ticking = monitor(this.fsx).finally(() => {
      this.ticking = undefined;
    });
    return this.ticking;
  }

  /** Schedules the next pass (and, after it, the one after). */
  schedule(): void {
    if (this.fsx.closed) return;
    const delay = Math.max(20, this.fsx.deps.clock.scale(this.fsx.timings.monitorIntervalMs));
    this.timer = setTimeout(() => {
      this.tick()
        .catch((error) => this.fsx.note(`monitor: ${(error as Error).message}`))
        .finally(() => this.schedule());
    }, delay);
    this.timer.unref?.();
  }

  /** Stops the schedule; returns the pass still running, if any. */
  stop(): Promise<void> | undefined {
    if (this.timer) clearTimeout(this.timer);
    return this.ticking;
  }
}

async function monitor(fsx: FsxCore): Promise<void> {
  const cache = new Map<string, Promise<true | string>>();
  for (const association of fsx.sorted(fsx.state.associations)) {
    if (fsx.closed) return;
    const d = association.description;
    const healable = d.Lifecycle === 'MISCONFIGURED' && association.misconfiguredBy === 'bucket';
    if (d.Lifecycle !== 'AVAILABLE' && !healable) continue;
    const bucket = fsx.repoOf(d).bucket;
    if (!cache.has(bucket)) cache.set(bucket, fsx.bucketReachable(bucket));
    const reachable = await (cache.get(bucket) as Promise<true | string>);
    if (d.Lifecycle === 'AVAILABLE' && reachable !== true)
      fsx.setAssociationState(association, 'MISCONFIGURED', reachable, 'bucket');
    else if (
      d.Lifecycle === 'MISCONFIGURED' &&
      association.misconfiguredBy === 'bucket' &&
      reachable === true
    ) {
      fsx.setAssociationState(association, 'AVAILABLE');
    }
  }
  for (const fileSystemId of Object.keys(fsx.state.fileSystems)) {
    if (fsx.closed) return;
    await autoExport(fsx, fileSystemId);
  }
}

async function autoExport(fsx: FsxCore, fileSystemId: string): Promise<void> {
  const exportTask = Object.values(fsx.state.tasks).some(
    (t) =>
      t.description.FileSystemId === fileSystemId &&
      t.description.Type === 'EXPORT_TO_REPOSITORY' &&
      ACTIVE_TASK.includes(t.description.Lifecycle),
  );
  if (exportTask) return; // automatic export and export tasks never run at the same time
  const associations = fsx
    .associationsOf(fileSystemId)
    .filter(
      (a) => a.description.Lifecycle === 'AVAILABLE' && eventsOf(a.description.S3?.AutoExportPolicy).size > 0,
    );
  const pending = fsx.pendingExports.get(fileSystemId) ?? new Map();
  fsx.pendingExports.set(fileSystemId, pending);
  if (associations.length === 0) {
    pending.clear();
    return;
  }
  const root = fsx.rootOf(fileSystemId);
  const records = fsx.filesOf(fileSystemId);
  const due: Array<{ association: AssociationRecord; file: string }> = [];
  const now = Date.now();
  const stableFor = fsx.deps.clock.scale(fsx.timings.autoExportDelayMs);
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
        const repo = fsx.repoOf(d);
        try {
          await fsx.deps.s3.send(
            new DeleteObjectCommand({ Bucket: repo.bucket, Key: keyForFile(draPath, repo, file) }),
          );
        } catch (error) {
          fsx.note(`auto-export delete ${file}: ${(error as Error).message}`);
        }
      }
      fsx.store.save();
    }
  }
  for (const file of pending.keys()) if (!watched.has(file)) pending.delete(file);
  if (due.length === 0) return;
  fsx.autoExporting.add(fileSystemId);
  try {
    for (const { association, file } of due) {
      if (fsx.closed) return;
      try {
        await exportOne(fsx, association, file);
        pending.delete(file);
      } catch (error) {
        const seen = pending.get(file);
        if (seen) seen.since = Date.now(); // retried after another quiet period
        fsx.note(`auto-export ${file}: ${(error as Error).message}`);
      }
    }
  } finally {
    fsx.autoExporting.delete(fileSystemId);
  }
}
