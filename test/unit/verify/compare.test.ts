/** The one comparison of a scope's two sides, as both methods use it (plain data, no AWS). */
import { describe, expect, it } from 'vitest';
import type { TaskState } from '../../../shared/dra/state.js';
import { compareScope, globToRegExp, passesFilters } from '../../../shared/verify/compare.js';
import { type ListedFile, type Listing, listingHash } from '../../../shared/verify/listing.js';

const files = (...entries: [string, number][]): ListedFile[] =>
  entries.map(([path, size]) => ({ path, size }));

/** A file system listing of `entries`; `truncatedCount` makes it one that SSM cut short. */
function listing(entries: [string, number][], truncatedCount?: number): Listing {
  const listed = files(...entries);
  return {
    exists: true,
    count: truncatedCount ?? listed.length,
    bytes: listed.reduce((sum, file) => sum + file.size, 0),
    sha256: listingHash(listed),
    files: listed,
    truncated: truncatedCount !== undefined,
  };
}

const task = (type: TaskState['type'], succeeded: number, failed = 0): TaskState => ({
  type,
  ran: true,
  reason: 'x',
  taskId: 'task-1',
  total: succeeded + failed,
  succeeded,
  failed,
});

describe('filters', () => {
  it('matches like aws s3 sync: * crosses folders, ? is one character, [!x] negates', () => {
    expect(globToRegExp('*.nc').test('a/b/c.nc')).toBe(true);
    expect(globToRegExp('data/?.txt').test('data/a.txt')).toBe(true);
    expect(globToRegExp('data/?.txt').test('data/ab.txt')).toBe(false);
    expect(globToRegExp('[!a]*').test('b.nc')).toBe(true);
    expect(globToRegExp('[!a]*').test('a.nc')).toBe(false);
    expect(globToRegExp('a+b.(1)').test('a+b.(1)')).toBe(true);
  });

  it('keeps only includes when there are any, and lets excludes win', () => {
    expect(passesFilters('x.nc', ['*.nc'], [])).toBe(true);
    expect(passesFilters('x.txt', ['*.nc'], [])).toBe(false);
    expect(passesFilters('tmp/x.nc', ['*.nc'], ['tmp/*'])).toBe(false);
    expect(passesFilters('anything', [], [])).toBe(true);
  });
});

describe('compareScope: listings (an EC2 transfer)', () => {
  it('accepts identical listings and counts files and bytes', () => {
    const c = compareScope({
      direction: 'stage-in',
      s3: files(['a', 1], ['b/c', 2]),
      fsx: listing([
        ['b/c', 2],
        ['a', 1],
      ]),
    });

    expect(c).toMatchObject({ ok: true, s3: { files: 2, bytes: 3 }, fsx: { files: 2 }, missing: 0 });
  });

  it('reports missing files and size differences first, in path order', () => {
    const c = compareScope({
      direction: 'stage-in',
      s3: files(['b', 5], ['a', 1], ['c', 3]),
      fsx: listing([
        ['a', 1],
        ['c', 4],
      ]),
    });

    expect(c.ok).toBe(false);
    expect(c.differences).toEqual([
      'missing on FSx: b (5 bytes)',
      'size differs: c (S3 3 bytes, FSx 4 bytes)',
    ]);
  });

  it('allows extra destination files unless the transfer deletes', () => {
    const input = {
      direction: 'stage-in' as const,
      s3: files(['a', 1]),
      fsx: listing([
        ['a', 1],
        ['old', 9],
      ]),
    };

    expect(compareScope(input)).toMatchObject({ ok: true, extra: 1 });
    expect(compareScope({ ...input, delete: true })).toMatchObject({
      ok: false,
      differences: ['extra on FSx: old (should have been deleted)'],
    });
  });

  it('compares only what the filters transfer, never fsx-transfer listings', () => {
    const c = compareScope({
      direction: 'stage-in',
      s3: files(['a.nc', 1], ['skip.txt', 2], ['.fsx-transfer/listings/x', 3]),
      fsx: listing([['a.nc', 1]]),
      include: ['*.nc'],
    });

    expect(c).toMatchObject({ ok: true, s3: { files: 1 } });
  });

  it("leaves fsx-transfer's own folder out on both sides, with or without filters", () => {
    const c = compareScope({
      direction: 'export',
      s3: files(['a.nc', 1], ['.fsx-transfer/listings/t/i-1.list', 3]),
      fsx: listing([['a.nc', 1]]),
      delete: true,
    });

    expect(c).toMatchObject({ ok: true, s3: { files: 1 }, extra: 0 });
  });

  it('lists at most maxDifferences differences but counts them all', () => {
    const source = Array.from({ length: 50 }, (_, i) => ({
      path: `f${String(i).padStart(2, '0')}`,
      size: i,
    }));

    const c = compareScope({ direction: 'stage-in', s3: source, fsx: listing([]), maxDifferences: 3 });

    expect(c.missing).toBe(50);
    expect(c.count).toBe(50);
    expect(c.differences).toHaveLength(3);
  });
});

describe('compareScope: task counts and a Lustre client listing (a DRA transfer)', () => {
  const s3 = files(['a.nc', 4], ['sub/b.nc', 2]);

  it('accepts a stage-in whose import covered the S3 listing and whose files are all on FSx', () => {
    const result = compareScope({
      direction: 'stage-in',
      s3,
      task: task('IMPORT_METADATA_FROM_REPOSITORY', 2),
      fsx: listing([
        ['a.nc', 4],
        ['sub/b.nc', 2],
        ['model-output.log', 9],
      ]),
    });

    expect(result.differences).toEqual([]);
    expect(result.checks).toHaveLength(2);
  });

  it('lists stage-in files missing on FSx or with another size', () => {
    const result = compareScope({ direction: 'stage-in', s3, fsx: listing([['a.nc', 3]]) });

    expect(result.differences).toEqual([
      'size differs: a.nc (S3 4 bytes, FSx 3 bytes)',
      'missing on FSx: sub/b.nc (2 bytes)',
    ]);
  });

  it('flags an import task that imported fewer files than S3 holds', () => {
    const result = compareScope({
      direction: 'stage-in',
      s3,
      task: task('IMPORT_METADATA_FROM_REPOSITORY', 1),
    });

    expect(result.differences).toEqual(['the import task imported 1 file(s), but the S3 scope holds 2']);
  });

  it('lists exported files missing in S3, ignoring the report folder', () => {
    const result = compareScope({
      direction: 'export',
      s3,
      fsx: listing([
        ['a.nc', 4],
        ['sub/b.nc', 2],
        ['sub/c.nc', 7],
        ['fsx-transfer-reports/task-1/failures.csv', 1],
      ]),
      ignore: ['fsx-transfer-reports'],
    });

    expect(result.differences).toEqual(['missing in S3: sub/c.nc (7 bytes)']);
  });

  it('compares counts when the FSx listing was truncated', () => {
    const result = compareScope({ direction: 'export', s3, fsx: listing([['a.nc', 4]], 5) });

    expect(result.differences).toEqual(['FSx holds 5 file(s) in the scope, S3 only 2']);
  });

  it('does not call a file missing on FSx when the listing was cut before it', () => {
    const result = compareScope({ direction: 'stage-in', s3, fsx: listing([['a.nc', 4]], 2) });

    expect(result).toMatchObject({ ok: true, missing: 0 });
  });
});
