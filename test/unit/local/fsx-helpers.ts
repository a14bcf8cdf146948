/**
 * Builders for the FSx emulator unit tests: an in-memory S3 behind a mocked S3Client (it emits
 * s3rver-shaped object events like the local cloud's S3), a fast clock, a temp data dir and a
 * request context.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { ScaledClock } from '../../../local/clock.js';
import { FsxEmulator, type FsxEmulatorDeps, type FsxTimings } from '../../../local/fsx/service.js';
import type { RequestContext } from '../../../local/types.js';

export const ACCOUNT = '000000000000';
export const REGION = 'us-east-1';
export const ctx: RequestContext = { accountId: ACCOUNT, region: REGION, service: 'fsx' };

interface StoredObject {
  body: Buffer;
  etag: string;
  lastModified: Date;
  metadata: Record<string, string>;
}

function s3Error(name: string, status: number): Error {
  return Object.assign(new Error(name), { name, $metadata: { httpStatusCode: status } });
}

/** A small S3: buckets of objects, with object events delivered to `onEvent`. */
export class FakeS3 {
  readonly buckets = new Map<string, Map<string, StoredObject>>();
  readonly client = new S3Client({
    region: REGION,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
  onEvent: (event: unknown) => void = () => {};
  /** Keys whose PutObject fails with AccessDenied. */
  readonly denyPut = new Set<string>();

  constructor() {
    const mock = mockClient(this.client);
    mock.on(HeadBucketCommand).callsFake(async ({ Bucket }) => {
      if (!this.buckets.has(Bucket)) throw s3Error('NotFound', 404);
      return {};
    });
    mock.on(PutObjectCommand).callsFake(async ({ Bucket, Key, Body, Metadata }) => {
      const bucket = this.bucket(Bucket);
      if (this.denyPut.has(Key)) throw s3Error('AccessDenied', 403);
      const body = Buffer.isBuffer(Body) ? Body : Buffer.from(Body ?? '');
      this.store(bucket, Bucket, Key, body, Metadata ?? {});
      return { ETag: `"${bucket.get(Key)?.etag}"` };
    });
    mock.on(GetObjectCommand).callsFake(async ({ Bucket, Key }) => {
      const object = this.bucket(Bucket).get(Key);
      if (!object) throw s3Error('NoSuchKey', 404);
      return {
        Body: Readable.from([object.body]),
        ETag: `"${object.etag}"`,
        ContentLength: object.body.length,
      };
    });
    mock.on(HeadObjectCommand).callsFake(async ({ Bucket, Key }) => {
      const object = this.bucket(Bucket).get(Key);
      if (!object) throw s3Error('NotFound', 404);
      return {
        ETag: `"${object.etag}"`,
        ContentLength: object.body.length,
        LastModified: object.lastModified,
      };
    });
    mock.on(DeleteObjectCommand).callsFake(async ({ Bucket, Key }) => {
      const bucket = this.bucket(Bucket);
      bucket.delete(Key);
      this.onEvent(event('ObjectRemoved:Delete', Bucket, Key));
      return {};
    });
    mock.on(ListObjectsV2Command).callsFake(async ({ Bucket, Prefix, ContinuationToken, MaxKeys }) => {
      const keys = [...this.bucket(Bucket).keys()].filter((k) => k.startsWith(Prefix ?? '')).sort();
      const start = ContinuationToken ? Number(ContinuationToken) : 0;
      const size = MaxKeys ?? 2; // tiny pages so the emulator's pagination is exercised
      const page = keys.slice(start, start + size);
      const more = start + size < keys.length;
      return {
        Contents: page.map((Key) => {
          const o = this.bucket(Bucket).get(Key) as StoredObject;
          return { Key, Size: o.body.length, ETag: `"${o.etag}"`, LastModified: o.lastModified };
        }),
        IsTruncated: more,
        NextContinuationToken: more ? String(start + size) : undefined,
      };
    });
  }

  private bucket(name: string | undefined): Map<string, StoredObject> {
    const bucket = this.buckets.get(name ?? '');
    if (!bucket) throw s3Error('NoSuchBucket', 404);
    return bucket;
  }

  private store(
    bucket: Map<string, StoredObject>,
    name: string,
    key: string,
    body: Buffer,
    metadata: Record<string, string>,
  ) {
    const etag = createHash('md5').update(body).digest('hex');
    bucket.set(key, { body, etag, lastModified: new Date(Math.floor(Date.now() / 1000) * 1000), metadata });
    this.onEvent(event('ObjectCreated:Put', name, key, body.length, etag));
  }

  createBucket(name: string): void {
    if (!this.buckets.has(name)) this.buckets.set(name, new Map());
  }

  deleteBucket(name: string): void {
    this.buckets.delete(name);
  }

  /** Puts an object as a user would (events included). */
  put(bucket: string, key: string, body: string | Buffer): void {
    this.store(this.bucket(bucket), bucket, key, Buffer.from(body), {});
  }

  remove(bucket: string, key: string): void {
    this.bucket(bucket).delete(key);
    this.onEvent(event('ObjectRemoved:Delete', bucket, key));
  }

  get(bucket: string, key: string): string | undefined {
    return this.buckets.get(bucket)?.get(key)?.body.toString('utf8');
  }

  metadata(bucket: string, key: string): Record<string, string> | undefined {
    return this.buckets.get(bucket)?.get(key)?.metadata;
  }

  keys(bucket: string): string[] {
    return [...(this.buckets.get(bucket)?.keys() ?? [])].sort();
  }
}

function event(eventName: string, bucket: string, key: string, size?: number, eTag?: string) {
  return {
    Records: [
      {
        eventVersion: '2.0',
        eventSource: 'aws:s3',
        awsRegion: REGION,
        eventTime: new Date().toISOString(),
        eventName,
        s3: { bucket: { name: bucket }, object: { key, ...(size !== undefined ? { size, eTag } : {}) } },
      },
    ],
  };
}

/** Simulated durations short enough for unit tests with a 1/1000 clock. */
export const FAST: Partial<FsxTimings> = {
  associationCreateMs: 20_000,
  associationUpdateMs: 10_000,
  associationDeleteMs: 10_000,
  taskStartMs: 5_000,
  autoExportDelayMs: 20_000,
  autoImportDelayMs: 5_000,
  monitorIntervalMs: 10_000,
  fileSystemCreateMs: 20_000,
};

export interface Harness {
  fsx: FsxEmulator;
  s3: FakeS3;
  dataDir: string;
  clock: ScaledClock;
  /** Reopens the emulator on the same data dir (a `local up` restart). */
  restart: (deps?: Partial<FsxEmulatorDeps>) => Promise<FsxEmulator>;
  close: () => Promise<void>;
}

export function harness(deps: Partial<FsxEmulatorDeps> = {}): Harness {
  const dataDir = mkdtempSync(join(tmpdir(), 'fsx-emulator-'));
  const clock = new ScaledClock(0.001);
  const s3 = new FakeS3();
  const make = (extra: Partial<FsxEmulatorDeps>) =>
    new FsxEmulator({
      dataDir,
      clock,
      accountId: ACCOUNT,
      region: REGION,
      s3: s3.client,
      emit: () => {},
      timings: FAST,
      ...deps,
      ...extra,
    });
  const h: Harness = {
    fsx: make({}),
    s3,
    dataDir,
    clock,
    restart: async (extra = {}) => {
      await h.fsx.close();
      h.fsx = make(extra);
      s3.onEvent = (e) => void h.fsx.onS3Event(e);
      return h.fsx;
    },
    close: async () => {
      await h.fsx.close();
      clock.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
  s3.onEvent = (e) => void h.fsx.onS3Event(e);
  return h;
}

/** Polls `check` until it returns a truthy value (or throws after `timeoutMs` real ms). */
export async function waitFor<T>(
  check: () => T | Promise<T>,
  timeoutMs = 3000,
  what = 'condition',
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value as NonNullable<T>;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Calls an FSx operation through the JSON service interface. */
export function call<T = Record<string, unknown>>(
  fsx: FsxEmulator,
  operation: string,
  input: Record<string, unknown> = {},
): Promise<T> {
  return fsx.handle(operation, input, ctx) as Promise<T>;
}

/** Error code and message of a rejected operation. */
export async function failure(
  promise: Promise<unknown>,
): Promise<{ code: string; message: string; fields?: Record<string, unknown> }> {
  try {
    await promise;
  } catch (error) {
    const e = error as { code: string; message: string; fields?: Record<string, unknown> };
    return { code: e.code, message: e.message, fields: e.fields };
  }
  throw new Error('expected the operation to fail');
}
