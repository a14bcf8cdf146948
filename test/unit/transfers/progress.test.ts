/** Reading aws s3 sync's progress records as the transfer document publishes them. */
import { describe, expect, it } from 'vitest';
import { parseSyncRecord, syncProgress } from '../../../shared/transfers/progress.js';

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
