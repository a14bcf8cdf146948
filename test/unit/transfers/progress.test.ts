/** Reading aws s3 sync's progress records as the transfer document publishes them. */
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import {
  combinedProgress,
  parseSyncRecord,
  readSyncProgress,
  syncProgress,
} from '../../../shared/transfers/progress.js';

const MiB = 1024 ** 2;

describe('parseSyncRecord', () => {
  it('reads done, total and rate in binary units, and final totals', () => {
    expect(parseSyncRecord('2.0 MiB/3.5 GiB (1.5 MiB/s) with 12 file(s) remaining')).toEqual({
      bytes: 2 * MiB,
      totalBytes: Math.round(3.5 * 1024 ** 3),
      bytesPerSecond: Math.round(1.5 * MiB),
      filesRemaining: 12,
      totalsFinal: true,
    });
  });

  it('says the totals are not final while aws s3 sync is still listing (~)', () => {
    const record = parseSyncRecord(
      '512 Bytes/~3.0 KiB (1 Byte/s) with ~2 file(s) remaining (calculating...)',
    );

    expect(record).toMatchObject({ bytes: 512, totalBytes: 3072, bytesPerSecond: 1, totalsFinal: false });
  });

  it('reads the file-only record of a sync with no bytes to move, and nothing from an empty one', () => {
    expect(parseSyncRecord('3 file(s) with 2 file(s) remaining')).toMatchObject({
      filesRemaining: 2,
      totalsFinal: true,
    });
    expect(parseSyncRecord('')).toMatchObject({ bytes: null, filesRemaining: null, totalsFinal: false });
  });
});

describe('syncProgress', () => {
  it('estimates the time left from the remaining bytes and the rate once the totals are final', () => {
    const progress = syncProgress(
      {
        version: 1,
        phase: 'syncing',
        files: 10,
        deleted: 0,
        completed: '10.0 MiB/40.0 MiB (2.0 MiB/s) with 30 file(s) remaining',
        elapsedSeconds: 5,
      },
      undefined,
    );

    expect(progress).toMatchObject({ files: 10, totalFiles: 40, etaSeconds: 15, filesPerSecond: 2 });
  });

  it('gives no time left while the totals still grow, and zero once synced', () => {
    const base = { version: 1 as const, files: 1, deleted: 0, elapsedSeconds: 1 };

    const listing = syncProgress(
      { ...base, phase: 'syncing', completed: '1.0 MiB/~2.0 MiB (1.0 MiB/s) with ~1 file(s) remaining' },
      undefined,
    );
    const synced = syncProgress({ ...base, phase: 'synced', completed: '' }, undefined);

    expect(listing.etaSeconds).toBeNull();
    expect(synced).toMatchObject({ etaSeconds: 0, totalFiles: 1, totalsFinal: true });
  });
});

describe('readSyncProgress of a scaled-out run', () => {
  const s3Mock = mockClient(S3Client);
  afterEach(() => s3Mock.reset());
  const published = (object: Record<string, unknown>) =>
    ({
      Body: { transformToString: async () => JSON.stringify({ version: 1, deleted: 0, ...object }) },
      LastModified: new Date('2026-11-30T10:00:00Z'),
    }) as never;

  it("adds up the shards' counts and rates, and the run ends with its slowest shard", async () => {
    s3Mock
      .on(GetObjectCommand, { Key: '.fsx-transfer/progress/t-1.json' })
      .rejects(Object.assign(new Error('no such key'), { name: 'NoSuchKey' }));
    s3Mock.on(ListObjectsV2Command, { Prefix: '.fsx-transfer/progress/t-1/' }).resolves({
      Contents: [{ Key: '.fsx-transfer/progress/t-1/0.json' }, { Key: '.fsx-transfer/progress/t-1/1.json' }],
    });
    s3Mock.on(GetObjectCommand, { Key: '.fsx-transfer/progress/t-1/0.json' }).resolves(
      published({
        phase: 'syncing',
        files: 3,
        completed: '2.0 MiB/4.0 MiB (1.0 MiB/s) with 2 file(s) remaining',
        elapsedSeconds: 2,
      }),
    );
    s3Mock.on(GetObjectCommand, { Key: '.fsx-transfer/progress/t-1/1.json' }).resolves(
      published({
        phase: 'syncing',
        files: 1,
        completed: '1.0 MiB/6.0 MiB (1.0 MiB/s) with 4 file(s) remaining',
        elapsedSeconds: 3,
      }),
    );

    const progress = await readSyncProgress(new S3Client({}), 'bucket', 't-1');

    expect(progress).toMatchObject({
      source: 'sync',
      phase: 'syncing',
      files: 4,
      totalFiles: 10,
      bytes: 3 * MiB,
      totalBytes: 10 * MiB,
      bytesPerSecond: 2 * MiB,
      totalsFinal: true,
      etaSeconds: 5,
      elapsedSeconds: 3,
    });
  });

  it('counts a finished shard at rate 0, and is synced only when every shard is', () => {
    const shard = (phase: string, rate: number) =>
      syncProgress(
        {
          version: 1,
          phase: phase as 'syncing',
          files: 1,
          deleted: 0,
          completed: `1.0 MiB/2.0 MiB (${rate}.0 MiB/s) with 1 file(s) remaining`,
          elapsedSeconds: 1,
        },
        undefined,
      );

    expect(combinedProgress([shard('synced', 5), shard('syncing', 1)])).toMatchObject({
      phase: 'syncing',
      bytesPerSecond: MiB,
    });
    expect(combinedProgress([shard('synced', 5), shard('synced', 1)])).toMatchObject({
      phase: 'synced',
      etaSeconds: 0,
    });
    expect(combinedProgress([shard('failed', 5), shard('syncing', 1)]).phase).toBe('failed');
  });
});
