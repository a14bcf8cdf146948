import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  S3Client,
} from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { verifyEc2Shards, verifyEc2Transfer } from '../../../shared/ec2/verify.js';
import { VerificationFailedError } from '../../../shared/errors.js';
import { CHECKSUMS_HEADER } from '../../../shared/verify/checksum-listing.js';
import { checksumOf } from '../../../shared/verify/checksums.js';
import { formatListing, type ListedFile } from '../../../shared/verify/listing.js';
import { buildPlan } from './builders.js';

const s3Mock = mockClient(S3Client);
const LISTING_URI = 's3://dzhang-imi-gchp-test/.fsx-transfer/listings/extdata-stage-in-1/i-1.list';
const files = (...entries: [string, number][]): ListedFile[] =>
  entries.map(([path, size]) => ({ path, size }));

/** The part of a GetObject body that the code reads. */
function body(text: string) {
  return { transformToString: async () => text };
}

beforeEach(() => s3Mock.reset());

describe('verifyEc2Transfer', () => {
  it('passes a stage-in whose file system listing matches S3, and removes the listing', async () => {
    s3Mock
      .on(GetObjectCommand)
      .resolves({ Body: body(formatListing(files(['a.nc', 3], ['b c/d', 0]))) } as never);
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
      .resolves({ Body: body(formatListing(files(['out/x.nc', 7], ['out/y.nc', 8]))) } as never);
    s3Mock.on(ListObjectsV2Command).resolves({ Contents: [{ Key: 'ExtData/out/x.nc', Size: 7 }] });

    const error = await verifyEc2Transfer(
      { s3: new S3Client({}) },
      { plan: buildPlan({ direction: 'export' }), listingUri: LISTING_URI },
    ).catch((e) => e);

    expect(error).toBeInstanceOf(VerificationFailedError);
    expect(error.message).toContain('/ExtData -> s3://dzhang-imi-gchp-test/ExtData');
    expect(error.message).toContain('missing in S3: out/y.nc (8 bytes)');
  });

  it('fails when the instance wrote no listing', async () => {
    s3Mock.on(GetObjectCommand).rejects(Object.assign(new Error('no key'), { name: 'NoSuchKey' }));

    await expect(
      verifyEc2Transfer({ s3: new S3Client({}) }, { plan: buildPlan(), listingUri: LISTING_URI }),
    ).rejects.toBeInstanceOf(VerificationFailedError);
  });

  it('fails when the listing holds fewer files than it counts', async () => {
    const cut = formatListing(files(['a.nc', 3], ['b.nc', 4])).replace(/b\.nc\t4\n$/, '');
    s3Mock.on(GetObjectCommand).resolves({ Body: body(cut) } as never);
    s3Mock.on(ListObjectsV2Command).resolves({ Contents: [{ Key: 'ExtData/a.nc', Size: 3 }] });

    await expect(
      verifyEc2Transfer({ s3: new S3Client({}) }, { plan: buildPlan(), listingUri: LISTING_URI }),
    ).rejects.toMatchObject({
      name: 'VerificationFailedError',
      message: expect.stringContaining('incomplete'),
    });
  });
});

describe('verifyEc2Shards', () => {
  const shardListings = {
    // Each shard listed the whole scope when its own sync ended: shard 0 saw shard 1's file only
    // half-written, shard 1 saw everything.
    'i-0.list': formatListing(files(['a.nc', 3], ['m.nc', 1])),
    'i-1.list': formatListing(files(['a.nc', 3], ['m.nc', 5])),
  };
  const listings = [
    { listingUri: 's3://bucket/.fsx-transfer/listings/t/i-0.list', includes: (p: string) => p < 'm' },
    { listingUri: 's3://bucket/.fsx-transfer/listings/t/i-1.list', includes: (p: string) => p >= 'm' },
  ];

  beforeEach(() => {
    for (const [name, text] of Object.entries(shardListings)) {
      s3Mock
        .on(GetObjectCommand, { Key: `.fsx-transfer/listings/t/${name}` })
        .resolves({ Body: body(text) } as never);
    }
  });

  it("verifies the union of the shards' own key ranges and removes every listing", async () => {
    s3Mock.on(ListObjectsV2Command).resolves({
      Contents: [
        { Key: 'ExtData/a.nc', Size: 3 },
        { Key: 'ExtData/m.nc', Size: 5 },
      ],
    });

    const result = await verifyEc2Shards({ s3: new S3Client({}) }, { plan: buildPlan(), listings });

    expect(result).toMatchObject({ files: 2, bytes: 8, verified: true });
    expect(s3Mock.commandCalls(DeleteObjectCommand).map((c) => c.args[0].input.Key)).toEqual([
      '.fsx-transfer/listings/t/i-0.list',
      '.fsx-transfer/listings/t/i-1.list',
    ]);
  });

  it("fails when a file of one shard's range is missing from that shard's listing", async () => {
    s3Mock.on(ListObjectsV2Command).resolves({
      Contents: [
        { Key: 'ExtData/a.nc', Size: 3 },
        { Key: 'ExtData/b.nc', Size: 2 },
        { Key: 'ExtData/m.nc', Size: 5 },
      ],
    });

    const error = await verifyEc2Shards({ s3: new S3Client({}) }, { plan: buildPlan(), listings }).catch(
      (e) => e,
    );

    expect(error).toBeInstanceOf(VerificationFailedError);
    expect(error.message).toContain('b.nc');
  });
  describe('in checksum mode', () => {
    const plan = buildPlan({ options: { verify: 'checksum' } });
    const checksumsLine = async (path: string, data: string) =>
      `${path}\t${data.length}\tCRC32=${await checksumOf('CRC32', Buffer.from(data))}`;
    const withChecksums = listings.map((l) => ({
      ...l,
      checksumsUri: l.listingUri.replace('.list', '.checksums'),
    }));

    /** Shard 0 checksummed m.nc half-written (outside its range); shard 1 holds `m` as the file system has it. */
    async function givenShards(m: string) {
      const shards = {
        'i-0.checksums': [await checksumsLine('a.nc', 'abc'), await checksumsLine('m.nc', 'h')],
        'i-1.checksums': [await checksumsLine('m.nc', m)],
      };
      for (const [name, lines] of Object.entries(shards)) {
        s3Mock.on(GetObjectCommand, { Key: `.fsx-transfer/listings/t/${name}` }).resolves({
          Body: body(`${CHECKSUMS_HEADER}\nCOUNT ${lines.length}\n${lines.join('\n')}\n`),
        } as never);
      }
      s3Mock.on(ListObjectsV2Command).resolves({
        Contents: [
          { Key: 'ExtData/a.nc', Size: 3 },
          { Key: 'ExtData/m.nc', Size: 5 },
        ],
      });
      s3Mock.on(HeadObjectCommand, { Key: 'ExtData/a.nc' }).resolves({
        ChecksumCRC32: await checksumOf('CRC32', Buffer.from('abc')),
        ChecksumType: 'FULL_OBJECT',
      });
      s3Mock.on(HeadObjectCommand, { Key: 'ExtData/m.nc' }).resolves({
        ChecksumCRC32: await checksumOf('CRC32', Buffer.from('hello')),
        ChecksumType: 'FULL_OBJECT',
      });
    }

    it("checks the content of the union of the shards' own ranges and removes every checksums object", async () => {
      await givenShards('hello');

      const result = await verifyEc2Shards({ s3: new S3Client({}) }, { plan, listings: withChecksums });

      expect(result.verification).toMatchObject({
        mode: 'checksum',
        files: 2,
        contentChecked: 2,
        sizeOnly: 0,
      });
      expect(s3Mock.commandCalls(DeleteObjectCommand).map((c) => c.args[0].input.Key)).toEqual(
        expect.arrayContaining([
          '.fsx-transfer/listings/t/i-0.checksums',
          '.fsx-transfer/listings/t/i-1.checksums',
        ]),
      );
    });

    it('fails naming a file whose content differs on the shard that copied it', async () => {
      await givenShards('hellO');

      const error = await verifyEc2Shards({ s3: new S3Client({}) }, { plan, listings: withChecksums }).catch(
        (e) => e,
      );

      expect(error).toBeInstanceOf(VerificationFailedError);
      expect(error.message).toMatch(/content differs: m\.nc/);
    });
  });
});
