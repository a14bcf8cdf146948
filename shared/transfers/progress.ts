/**
 * Live progress of a running transfer, for `fsx-transfer status`/`watch` and `GET /transfers/{id}`:
 * an EC2 sync publishes its counts to `<bucket>/.fsx-transfer/progress/<id>.json` every 5 seconds
 * (ssm/transfer-document.yaml; each instance of a scaled-out run to `progress/<id>/<shard>.json`); a DRA run's data repository task has status counts
 * (DescribeDataRepositoryTasks: total, succeeded, failed; AWS says they are final only when the
 * task ends).
 */

import type { FSxClient } from '@aws-sdk/client-fsx';
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import * as z from 'zod';
import { unlessMissing } from '../aws/missing.js';
import { describeTask } from '../fsx/tasks.js';
import { progressKeyFor, shardProgressPrefix } from '../ssm/document.js';

/** What the transfer document publishes. */
export const SyncProgressObject = z.object({
  version: z.literal(1),
  phase: z.enum(['syncing', 'synced', 'failed']),
  files: z.number().int().nonnegative(),
  deleted: z.number().int().nonnegative(),
  /** aws s3 sync's last progress record without "Completed ". */
  completed: z.string(),
  elapsedSeconds: z.number().nonnegative(),
});
export type SyncProgressObject = z.infer<typeof SyncProgressObject>;

/** Progress as the view shows it. Counts are null where the source does not know them (yet). */
export interface LiveProgress {
  source: 'sync' | 'data-repository-task';
  /** syncing, synced, failed (sync); the task's lifecycle (PENDING, EXECUTING...). */
  phase: string;
  files: number;
  totalFiles: number | null;
  bytes: number | null;
  totalBytes: number | null;
  /** False while aws s3 sync is still listing (its totals grow), or while a task runs. */
  totalsFinal: boolean;
  bytesPerSecond: number | null;
  /** Files per second (the task's counts over its run time). */
  filesPerSecond: number | null;
  etaSeconds: number | null;
  failedFiles: number | null;
  elapsedSeconds: number | null;
  /** When the source last changed (the object's LastModified, the task's LastUpdatedTime). */
  updatedAt: string | null;
}

const UNITS: Record<string, number> = {
  Byte: 1,
  Bytes: 1,
  KiB: 1024,
  MiB: 1024 ** 2,
  GiB: 1024 ** 3,
  TiB: 1024 ** 4,
  PiB: 1024 ** 5,
  EiB: 1024 ** 6,
};

/** `1.5 GiB` -> bytes, as aws s3 prints sizes (human_readable_size). */
function sizeOf(value: string, unit: string): number | null {
  const factor = UNITS[unit];
  return factor === undefined ? null : Math.round(Number(value) * factor);
}

export interface SyncRecord {
  bytes: number | null;
  totalBytes: number | null;
  bytesPerSecond: number | null;
  filesRemaining: number | null;
  /** aws s3 sync has finished listing (no `~` before its totals). */
  totalsFinal: boolean;
}

const BYTE_RECORD =
  /^([\d.]+) ([A-Za-z]+)\/(~?)([\d.]+) ([A-Za-z]+) \(([\d.]+) ([A-Za-z]+)\/s\) with (~?)(\d+) file\(s\) remaining/;
const FILE_RECORD = /^(\d+) file\(s\) with (~?)(\d+) file\(s\) remaining/;

/**
 * Parses aws s3 sync's progress record (`2.0 MiB/~3.0 MiB (1.0 MiB/s) with ~2 file(s) remaining`,
 * or `3 file(s) with 2 file(s) remaining` when there are no bytes to move).
 */
export function parseSyncRecord(text: string): SyncRecord {
  const bytes = BYTE_RECORD.exec(text);
  if (bytes) {
    const [, done, doneUnit, estimated, total, totalUnit, rate, rateUnit, filesEstimated, remaining] = bytes;
    return {
      bytes: sizeOf(done!, doneUnit!),
      totalBytes: sizeOf(total!, totalUnit!),
      bytesPerSecond: sizeOf(rate!, rateUnit!),
      filesRemaining: Number(remaining),
      totalsFinal: !estimated && !filesEstimated,
    };
  }
  const files = FILE_RECORD.exec(text);
  if (files) {
    return {
      bytes: 0,
      totalBytes: 0,
      bytesPerSecond: null,
      filesRemaining: Number(files[3]),
      totalsFinal: !files[2],
    };
  }
  return { bytes: null, totalBytes: null, bytesPerSecond: null, filesRemaining: null, totalsFinal: false };
}

/** The view of a published progress object. */
export function syncProgress(object: SyncProgressObject, updatedAt: Date | undefined): LiveProgress {
  const record = parseSyncRecord(object.completed);
  const done = object.phase === 'synced';
  const remainingBytes =
    record.totalBytes !== null && record.bytes !== null
      ? Math.max(0, record.totalBytes - record.bytes)
      : null;
  const eta = done
    ? 0
    : record.totalsFinal && remainingBytes !== null && record.bytesPerSecond
      ? remainingBytes / record.bytesPerSecond
      : null;
  return {
    source: 'sync',
    phase: object.phase,
    files: object.files,
    totalFiles:
      record.filesRemaining === null ? (done ? object.files : null) : object.files + record.filesRemaining,
    bytes: record.bytes,
    totalBytes: record.totalBytes,
    totalsFinal: done || record.totalsFinal,
    bytesPerSecond: record.bytesPerSecond,
    filesPerSecond: object.elapsedSeconds > 0 ? object.files / object.elapsedSeconds : null,
    etaSeconds: eta,
    failedFiles: null,
    elapsedSeconds: object.elapsedSeconds,
    updatedAt: updatedAt?.toISOString() ?? null,
  };
}

/**
 * The progress a run's transfer instance published (or, for a scaled-out run, the sum of what its
 * instances published), or undefined when there is none (yet).
 * @throws the SDK error for anything but a missing object (AccessDenied, throttling).
 */
export async function readSyncProgress(
  s3: S3Client,
  bucket: string,
  transferId: string,
): Promise<LiveProgress | undefined> {
  const single = await readProgressObject(s3, bucket, progressKeyFor(transferId));
  if (single) return syncProgress(single.object, single.updatedAt);
  const listed = await s3.send(
    new ListObjectsV2Command({ Bucket: bucket, Prefix: shardProgressPrefix(transferId) }),
  );
  const shards = await Promise.all(
    (listed.Contents ?? []).map((entry) => readProgressObject(s3, bucket, entry.Key!)),
  );
  const views = shards.flatMap((shard) => (shard ? [syncProgress(shard.object, shard.updatedAt)] : []));
  return views.length ? combinedProgress(views) : undefined;
}

async function readProgressObject(
  s3: S3Client,
  bucket: string,
  key: string,
): Promise<{ object: SyncProgressObject; updatedAt: Date | undefined } | undefined> {
  const out = await unlessMissing(
    s3.send(new GetObjectCommand({ Bucket: bucket, Key: key })),
    'NoSuchKey',
    'NotFound',
  );
  if (!out?.Body) return undefined;
  const parsed = SyncProgressObject.safeParse(
    JSON.parse((await out.Body.transformToString('utf8')) || 'null'),
  );
  return parsed.success ? { object: parsed.data, updatedAt: out.LastModified } : undefined;
}

/**
 * The progress of a scaled-out run: the shards' counts and rates added up (they copy disjoint key
 * ranges at the same time); totals are final only when every shard's are, and a shard not yet
 * publishing leaves them open (its range is not counted yet).
 */
export function combinedProgress(shards: readonly LiveProgress[]): LiveProgress {
  const sum = (pick: (p: LiveProgress) => number | null) =>
    shards.some((p) => pick(p) === null) ? null : shards.reduce((total, p) => total + pick(p)!, 0);
  const phases = shards.map((p) => p.phase);
  const phase = phases.includes('failed') ? 'failed' : phases.includes('syncing') ? 'syncing' : 'synced';
  const totalsFinal = shards.every((p) => p.totalsFinal);
  const bytes = sum((p) => p.bytes);
  const totalBytes = sum((p) => p.totalBytes);
  const bytesPerSecond = sum((p) => (p.phase === 'synced' ? 0 : p.bytesPerSecond));
  const elapsedSeconds = Math.max(...shards.map((p) => p.elapsedSeconds ?? 0));
  const files = shards.reduce((total, p) => total + p.files, 0);
  // The run ends with its slowest shard.
  const etas = shards.map((p) => p.etaSeconds);
  return {
    source: 'sync',
    phase,
    files,
    totalFiles: sum((p) => p.totalFiles),
    bytes,
    totalBytes,
    totalsFinal,
    bytesPerSecond,
    filesPerSecond: elapsedSeconds > 0 ? files / elapsedSeconds : null,
    etaSeconds: etas.some((eta) => eta === null) ? null : Math.max(...(etas as number[])),
    failedFiles: null,
    elapsedSeconds,
    updatedAt:
      shards
        .map((p) => p.updatedAt)
        .filter((at): at is string => at !== null)
        .sort()
        .at(-1) ?? null,
  };
}

/**
 * The status counts of a data repository task, or undefined when FSx no longer knows it.
 */
export async function readTaskProgress(
  fsx: FSxClient,
  taskId: string,
  now: Date = new Date(),
): Promise<LiveProgress | undefined> {
  const task = await describeTask(fsx, taskId);
  if (!task) return undefined;
  const status = task.Status ?? {};
  const succeeded = status.SucceededCount ?? 0;
  const failed = status.FailedCount ?? 0;
  const total = status.TotalCount ?? null;
  const started = task.StartTime ? new Date(task.StartTime).getTime() : undefined;
  const end = task.EndTime ? new Date(task.EndTime).getTime() : now.getTime();
  const elapsed = started !== undefined ? Math.max(0, (end - started) / 1000) : null;
  const done = succeeded + failed;
  const rate = elapsed ? done / elapsed : null;
  const ended = ['SUCCEEDED', 'FAILED', 'CANCELED'].includes(task.Lifecycle ?? '');
  return {
    source: 'data-repository-task',
    phase: task.Lifecycle ?? 'UNKNOWN',
    files: succeeded,
    totalFiles: total,
    bytes: null,
    totalBytes: null,
    totalsFinal: ended,
    bytesPerSecond: null,
    filesPerSecond: rate,
    etaSeconds: ended ? 0 : total !== null && rate ? Math.max(0, total - done) / rate : null,
    failedFiles: failed,
    elapsedSeconds: elapsed,
    updatedAt: status.LastUpdatedTime ? new Date(status.LastUpdatedTime).toISOString() : null,
  };
}
