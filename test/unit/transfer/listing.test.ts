import { DeleteObjectCommand, GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { VerificationFailedError } from '../../../shared/errors.js';
import {
  compareListings,
  formatFsListing,
  globToRegExp,
  type ListedFile,
  listS3Scope,
  parseFsListing,
  passesFilters,
} from '../../../shared/transfer/listing.js';
import { verifyEc2Transfer } from '../../../shared/transfer/verify.js';
import { buildPlan } from '../ec2/builders.js';

const s3Mock = mockClient(S3Client);
const LISTING_URI = 's3://dzhang-imi-gchp-test/.fsx-transfer/listings/extdata-stage-in-1/i-1.list';
const files = (...entries: [string, number][]): ListedFile[] =>
  entries.map(([path, size]) => ({ path, size }));
const NO_FILTERS = { include: [], exclude: [], delete: false };

/** The part of a GetObject body that the code reads. */
function body(text: string) {
  return { transformToString: async () => text };
}

beforeEach(() => s3Mock.reset());

describe('file system listings', () => {
  it('round-trips names with spaces, unicode, tabs and nested folders', () => {
    const listed = files(
      ['a b/c d.nc', 10],
      ['ünï/кириллица/数据.txt', 0],
      ['tab\there', 5],
      ['x/y/z/deep', 1],
    );

    expect(parseFsListing(formatFsListing(listed))).toEqual(listed);
  });

  it('refuses a malformed record', () => {
    expect(() => parseFsListing('12\tok\0notanumber\tx\0')).toThrow(/malformed/);
  });
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

describe('compareListings', () => {
  it('accepts identical listings and counts files and bytes', () => {
    const c = compareListings(files(['a', 1], ['b/c', 2]), files(['b/c', 2], ['a', 1]), NO_FILTERS);

    expect(c).toMatchObject({ ok: true, sourceFiles: 2, sourceBytes: 3, destinationFiles: 2, missing: 0 });
  });

  it('reports missing files and size differences first, in path order', () => {
    const c = compareListings(files(['b', 5], ['a', 1], ['c', 3]), files(['a', 1], ['c', 4]), NO_FILTERS);

    expect(c.ok).toBe(false);
    expect(c.differences).toEqual([
      'missing: b (5 bytes)',
      'size differs: c (source 3 bytes, destination 4 bytes)',
    ]);
  });

  it('allows extra destination files unless the transfer deletes', () => {
    expect(compareListings(files(['a', 1]), files(['a', 1], ['old', 9]), NO_FILTERS)).toMatchObject({
      ok: true,
      extra: 1,
    });
    expect(
      compareListings(files(['a', 1]), files(['a', 1], ['old', 9]), { ...NO_FILTERS, delete: true }),
    ).toMatchObject({ ok: false, differences: ['extra: old (should have been deleted)'] });
  });

  it('compares only what the filters transfer, never fsx-transfer listings', () => {
    const c = compareListings(
      files(['a.nc', 1], ['skip.txt', 2], ['.fsx-transfer/listings/x', 3]),
      files(['a.nc', 1]),
      { include: ['*.nc'], exclude: [], delete: false },
    );

    expect(c).toMatchObject({ ok: true, sourceFiles: 1 });
  });

  it('lists at most maxDifferences differences but counts them all', () => {
    const source = Array.from({ length: 50 }, (_, i) => ({
      path: `f${String(i).padStart(2, '0')}`,
      size: i,
    }));

    const c = compareListings(source, [], { ...NO_FILTERS, maxDifferences: 3 });

    expect(c.missing).toBe(50);
    expect(c.differences).toHaveLength(3);
  });
});

describe('listS3Scope', () => {
  it('lists objects relative to the scope, skipping folder markers', async () => {
    s3Mock.on(ListObjectsV2Command).resolves({
      Contents: [
        { Key: 'ExtData/a.nc', Size: 3 },
        { Key: 'ExtData/sub/', Size: 0 },
        { Key: 'ExtData/sub/empty', Size: 0 },
      ],
    });

    const listed = await listS3Scope(new S3Client({}), 'bucket', 'ExtData');

    expect(listed).toEqual(files(['a.nc', 3], ['sub/empty', 0]));
    expect(s3Mock.commandCalls(ListObjectsV2Command)[0]?.args[0].input.Prefix).toBe('ExtData/');
  });
});

describe('verifyEc2Transfer', () => {
  it('passes a stage-in whose file system listing matches S3, and removes the listing', async () => {
    s3Mock
      .on(GetObjectCommand)
      .resolves({ Body: body(formatFsListing(files(['a.nc', 3], ['b c/d', 0]))) } as never);
    s3Mock.on(ListObjectsV2Command).resolves({
      Contents: [
        { Key: 'ExtData/a.nc', Size: 3 },
        { Key: 'ExtData/b c/d', Size: 0 },
      ],
    });

    const result = await verifyEc2Transfer(
      { s3: new S3Client({}) },
      { plan: buildPlan(), listingUri: LISTING_URI },
    );

    expect(result).toMatchObject({ files: 2, bytes: 3, verified: true });
    expect(s3Mock.commandCalls(DeleteObjectCommand)[0]?.args[0].input).toEqual({
      Bucket: 'dzhang-imi-gchp-test',
      Key: '.fsx-transfer/listings/extdata-stage-in-1/i-1.list',
    });
  });

  it('fails an export whose S3 side lacks a file, naming it', async () => {
    s3Mock
      .on(GetObjectCommand)
      .resolves({ Body: body(formatFsListing(files(['out/x.nc', 7], ['out/y.nc', 8]))) } as never);
    s3Mock.on(ListObjectsV2Command).resolves({ Contents: [{ Key: 'ExtData/out/x.nc', Size: 7 }] });

    const error = await verifyEc2Transfer(
      { s3: new S3Client({}) },
      { plan: buildPlan({ direction: 'export' }), listingUri: LISTING_URI },
    ).catch((e) => e);

    expect(error).toBeInstanceOf(VerificationFailedError);
    expect(error.message).toContain('/ExtData -> s3://dzhang-imi-gchp-test/ExtData');
    expect(error.message).toContain('missing: out/y.nc (8 bytes)');
  });

  it('fails when the instance wrote no listing', async () => {
    s3Mock.on(GetObjectCommand).rejects(Object.assign(new Error('no key'), { name: 'NoSuchKey' }));

    await expect(
      verifyEc2Transfer({ s3: new S3Client({}) }, { plan: buildPlan(), listingUri: LISTING_URI }),
    ).rejects.toBeInstanceOf(VerificationFailedError);
  });
});
