/**
 * S3's additional checksums on the local S3: stored and returned with ChecksumMode=ENABLED,
 * validated on upload (header values and aws-chunked trailers) with S3's error codes, composite
 * and full-object multipart checksums, the AWS CLI v1's defaults, and the `corrupt-object` fault.
 */
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import {
  type ChecksumType,
  CompleteMultipartUploadCommand,
  type CompleteMultipartUploadCommandOutput,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ChecksumAlgorithm, checksumOf, compositeChecksum } from '../../shared/verify/checksums.js';
import { errorOf, startTestCloud, type TestCloud } from './local-cloud-helpers.js';

let t: TestCloud;
let sdk: S3Client;
const BUCKET = 'conformance';

beforeAll(async () => {
  t = await startTestCloud();
  // The SDK's defaults: a checksum on every upload (CRC32 in an aws-chunked trailer when streamed).
  sdk = new S3Client({
    endpoint: t.cloud.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    forcePathStyle: true,
  });
}, 30_000);

afterAll(async () => {
  sdk?.destroy();
  await t?.stop();
});

const head = (key: string) =>
  t.s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key, ChecksumMode: 'ENABLED' }));

const md5Etag = (data: Buffer) => `"${createHash('md5').update(data).digest('hex')}"`;
const MiB = 1024 * 1024;

/**
 * Uploads `parts` as a multipart object (with the SDK's part checksums when `algorithm` is set);
 * returns CompleteMultipartUpload's answer.
 */
async function putMultipart(
  key: string,
  parts: Buffer[],
  algorithm?: ChecksumAlgorithm,
  type?: ChecksumType,
): Promise<CompleteMultipartUploadCommandOutput> {
  const { UploadId } = await sdk.send(
    new CreateMultipartUploadCommand({
      Bucket: BUCKET,
      Key: key,
      ...(algorithm ? { ChecksumAlgorithm: algorithm } : {}),
      ...(type ? { ChecksumType: type } : {}),
    }),
  );
  const uploaded = [];
  for (const [i, part] of parts.entries()) {
    const out = await sdk.send(
      new UploadPartCommand({
        Bucket: BUCKET,
        Key: key,
        UploadId,
        PartNumber: i + 1,
        Body: part,
        ...(algorithm ? { ChecksumAlgorithm: algorithm } : {}),
      }),
    );
    uploaded.push({
      PartNumber: i + 1,
      ETag: out.ETag,
      ...(algorithm ? { [`Checksum${algorithm}`]: out[`Checksum${algorithm}`] } : {}),
    });
  }
  return sdk.send(
    new CompleteMultipartUploadCommand({
      Bucket: BUCKET,
      Key: key,
      UploadId,
      MultipartUpload: { Parts: uploaded },
    }),
  );
}

describe('additional checksums on the local S3', () => {
  it.each<ChecksumAlgorithm>(['CRC32', 'CRC32C', 'CRC64NVME', 'SHA1', 'SHA256'])(
    'stores a %s sent with PutObject and returns it only with ChecksumMode=ENABLED',
    async (algorithm) => {
      const data = randomBytes(50_000);
      const key = `algorithms/${algorithm}.bin`;

      const put = await sdk.send(
        new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: data, ChecksumAlgorithm: algorithm }),
      );
      const withMode = await head(key);
      const without = await t.s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key }));

      const expected = await checksumOf(algorithm, data);
      expect(put[`Checksum${algorithm}`]).toBe(expected);
      expect(withMode[`Checksum${algorithm}`]).toBe(expected);
      expect(withMode.ChecksumType).toBe('FULL_OBJECT');
      expect(without[`Checksum${algorithm}`]).toBeUndefined();
    },
  );

  it('validates the trailing checksum of a streamed aws-chunked upload', async () => {
    const data = randomBytes(200_000);

    await sdk.send(
      new PutObjectCommand({
        Bucket: BUCKET,
        Key: 'trailer/ok.bin',
        Body: Readable.from([data.subarray(0, 70_000), data.subarray(70_000)]),
        ContentLength: data.length,
      }),
    );

    expect((await head('trailer/ok.bin')).ChecksumCRC32).toBe(await checksumOf('CRC32', data));
  });

  it('refuses with BadDigest, storing nothing, a body changed after the trailer checksum was computed', async () => {
    const flipping = new S3Client({
      endpoint: t.cloud.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      forcePathStyle: true,
      maxAttempts: 1,
    });
    // Flips one data byte of the aws-chunked body on its way to the wire (after the SDK checksummed it).
    flipping.middlewareStack.add(
      (next) => async (args) => {
        const request = args.request as { body: Readable };
        let seen = 0;
        request.body = request.body.pipe(
          new Transform({
            transform(chunk: Buffer, _encoding, callback) {
              const copy = Buffer.from(chunk);
              if (seen <= 5000 && seen + copy.length > 5000)
                copy.writeUInt8(copy.readUInt8(5000 - seen) ^ 1, 5000 - seen);
              seen += copy.length;
              callback(null, copy);
            },
          }),
        );
        return next(args);
      },
      { step: 'deserialize' },
    );
    const data = randomBytes(100_000);

    const error = await errorOf(
      flipping.send(
        new PutObjectCommand({
          Bucket: BUCKET,
          Key: 'trailer/flipped.bin',
          Body: Readable.from([data]),
          ContentLength: data.length,
        }),
      ),
    );
    flipping.destroy();

    expect(error?.name).toBe('BadDigest');
    expect(error?.message).toBe('The CRC32 you specified did not match the calculated checksum.');
    expect((await errorOf(head('trailer/flipped.bin')))?.name).toBe('NotFound');
  });

  it('refuses a checksum header that does not match the body (BadDigest) or is malformed (InvalidRequest)', async () => {
    const data = Buffer.from('the body');

    const wrong = await errorOf(
      t.s3.send(
        new PutObjectCommand({
          Bucket: BUCKET,
          Key: 'header/wrong.bin',
          Body: data,
          ChecksumSHA256: await checksumOf('SHA256', Buffer.from('another body')),
        }),
      ),
    );
    const malformed = await errorOf(
      t.s3.send(
        new PutObjectCommand({ Bucket: BUCKET, Key: 'header/bad.bin', Body: data, ChecksumCRC32: 'abc' }),
      ),
    );

    expect(wrong?.name).toBe('BadDigest');
    expect(wrong?.message).toContain('The SHA256 you specified did not match the calculated checksum.');
    expect(malformed?.name).toBe('InvalidRequest');
    expect(malformed?.message).toBe('Value for x-amz-checksum-crc32 header is invalid.');
  });

  it('gives a multipart upload a composite checksum of its parts and the multipart ETag', async () => {
    const parts = [randomBytes(5 * 1024 * 1024), randomBytes(1000)];
    const key = 'multipart/composite.bin';

    const done = await putMultipart(key, parts, 'CRC32');
    const stored = await head(key);

    const partChecksums = await Promise.all(parts.map((part) => checksumOf('CRC32', part)));
    const composite = await compositeChecksum('CRC32', partChecksums);
    expect(done.ChecksumCRC32).toBe(composite);
    expect(done.ChecksumType).toBe('COMPOSITE');
    expect(stored.ChecksumCRC32).toBe(composite);
    expect(stored.ChecksumType).toBe('COMPOSITE');
    expect(stored.ETag).toMatch(/^"[0-9a-f]{32}-2"$/);
  });

  it('gives a FULL_OBJECT multipart upload the checksum of all its bytes', async () => {
    const parts = [randomBytes(5 * 1024 * 1024), randomBytes(3000)];
    const key = 'multipart/full.bin';

    await putMultipart(key, parts, 'CRC64NVME', 'FULL_OBJECT');
    const stored = await head(key);

    expect(stored.ChecksumCRC64NVME).toBe(await checksumOf('CRC64NVME', Buffer.concat(parts)));
    expect(stored.ChecksumType).toBe('FULL_OBJECT');
  });

  it('stores the CRC32 the AWS CLI v1 sends by default, and the CLI validates downloads against it', async () => {
    const data = randomBytes(300_000);
    const file = join(t.dir, 'cli-upload.bin');
    writeFileSync(file, data);

    const up = await t.aws(['s3', 'cp', file, `s3://${BUCKET}/cli/file.bin`]);
    const down = await t.aws([
      's3',
      'cp',
      `s3://${BUCKET}/cli/file.bin`,
      join(t.dir, 'cli-down.bin'),
      '--checksum-mode',
      'ENABLED',
    ]);
    const stored = await head('cli/file.bin');

    expect(up.code, up.stderr).toBe(0);
    expect(down.code, down.stderr).toBe(0);
    expect(stored.ChecksumCRC32).toBe(await checksumOf('CRC32', data));
  });

  it('corrupt-object flips one bit of a stored object: same size, new ETag and checksum', async () => {
    const data = randomBytes(10_000);
    await t.admin('POST', '/faults', {
      service: 's3',
      behavior: 'corrupt-object',
      match: { Bucket: BUCKET, Key: 'corrupt/one.bin' },
      offset: 1234,
      count: 1,
    });

    const put = await sdk.send(
      new PutObjectCommand({
        Bucket: BUCKET,
        Key: 'corrupt/one.bin',
        Body: data,
        ChecksumAlgorithm: 'SHA256',
      }),
    );
    const out = await t.s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'corrupt/one.bin' }));
    const stored = Buffer.from(await out.Body!.transformToByteArray());
    const after = await head('corrupt/one.bin');
    await t.admin('DELETE', '/faults');

    const expected = Buffer.from(data);
    expected[1234] = (expected[1234] as number) ^ 0x01;
    expect(stored.equals(expected)).toBe(true);
    expect(after.ChecksumSHA256).toBe(await checksumOf('SHA256', expected));
    expect(after.ContentLength).toBe(data.length);
    // The answer to the upload describes the stored bytes, as S3's would.
    expect(put.ETag).toBe(md5Etag(expected));
    expect(put.ChecksumSHA256).toBe(after.ChecksumSHA256);
  });

  it('corrupt-object also hits a PutObject without a checksum (as the FSx emulator exports), and its answer has the new ETag', async () => {
    const data = randomBytes(3000);
    const plain = new S3Client({
      endpoint: t.cloud.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      forcePathStyle: true,
      requestChecksumCalculation: 'WHEN_REQUIRED',
    });
    await t.admin('POST', '/faults', {
      service: 's3',
      behavior: 'corrupt-object',
      match: { Bucket: BUCKET, Key: 'corrupt/plain.bin' },
      offset: 7,
      count: 1,
    });

    const put = await plain.send(
      new PutObjectCommand({ Bucket: BUCKET, Key: 'corrupt/plain.bin', Body: data }),
    );
    plain.destroy();
    const out = await t.s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'corrupt/plain.bin' }));
    const stored = Buffer.from(await out.Body!.transformToByteArray());
    await t.admin('DELETE', '/faults');

    const expected = Buffer.from(data);
    expected[7] = (expected[7] as number) ^ 0x01;
    expect(stored.equals(expected)).toBe(true);
    expect(put.ETag).toBe(md5Etag(expected));
    expect(out.ETag).toBe(md5Etag(expected));
    expect(put.ChecksumCRC32).toBeUndefined();
  });
});

describe('CopyObject on the local S3', () => {
  it('carries a full-object checksum of the source to the copy when no algorithm is named', async () => {
    const data = randomBytes(20_000);
    await sdk.send(
      new PutObjectCommand({ Bucket: BUCKET, Key: 'copy/sha.bin', Body: data, ChecksumAlgorithm: 'SHA256' }),
    );

    const out = await t.s3.send(
      new CopyObjectCommand({
        Bucket: BUCKET,
        Key: 'copy/sha-copy.bin',
        CopySource: `${BUCKET}/copy/sha.bin`,
      }),
    );
    const copy = await head('copy/sha-copy.bin');

    const sha256 = await checksumOf('SHA256', data);
    expect(out.CopyObjectResult?.ChecksumSHA256).toBe(sha256);
    expect(out.CopyObjectResult?.ChecksumType).toBe('FULL_OBJECT');
    expect(out.CopyObjectResult?.ETag).toBe(md5Etag(data));
    expect(copy.ChecksumSHA256).toBe(sha256);
    expect(copy.ChecksumType).toBe('FULL_OBJECT');
  });

  it('gives the copy of a composite multipart object a full-object checksum and an MD5 ETag (a single-part copy)', async () => {
    const parts = [randomBytes(5 * MiB), randomBytes(2000)];
    await putMultipart('copy/composite.bin', parts, 'CRC32');
    const source = await head('copy/composite.bin');

    await t.s3.send(
      new CopyObjectCommand({
        Bucket: BUCKET,
        Key: 'copy/composite-copy.bin',
        CopySource: `${BUCKET}/copy/composite.bin`,
      }),
    );
    const copy = await head('copy/composite-copy.bin');
    const part = await errorOf(
      t.s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'copy/composite-copy.bin', PartNumber: 2 })),
    );

    const all = Buffer.concat(parts);
    expect(source.ChecksumType).toBe('COMPOSITE');
    expect(copy.ChecksumCRC32).toBe(await checksumOf('CRC32', all));
    expect(copy.ChecksumType).toBe('FULL_OBJECT');
    expect(copy.ETag).toBe(md5Etag(all));
    expect(part.$metadata?.httpStatusCode).toBe(416);
  });

  it('computes the checksum a copy names with ChecksumAlgorithm, and CRC64NVME for a source without one', async () => {
    const data = randomBytes(30_000);
    await t.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'copy/plain.bin', Body: data }));

    const named = await t.s3.send(
      new CopyObjectCommand({
        Bucket: BUCKET,
        Key: 'copy/plain-crc32c.bin',
        CopySource: `${BUCKET}/copy/plain.bin`,
        ChecksumAlgorithm: 'CRC32C',
      }),
    );
    await t.s3.send(
      new CopyObjectCommand({
        Bucket: BUCKET,
        Key: 'copy/plain-default.bin',
        CopySource: `${BUCKET}/copy/plain.bin`,
      }),
    );
    const plain = await head('copy/plain.bin');
    const crc32c = await head('copy/plain-crc32c.bin');
    const byDefault = await head('copy/plain-default.bin');

    expect(plain.ChecksumCRC64NVME).toBeUndefined();
    expect(named.CopyObjectResult?.ChecksumCRC32C).toBe(await checksumOf('CRC32C', data));
    expect(crc32c.ChecksumCRC32C).toBe(await checksumOf('CRC32C', data));
    expect(crc32c.ChecksumType).toBe('FULL_OBJECT');
    expect(byDefault.ChecksumCRC64NVME).toBe(await checksumOf('CRC64NVME', data));
  });

  it('refuses an unknown ChecksumAlgorithm and a copy onto itself that changes nothing else', async () => {
    await t.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'copy/self.bin', Body: 'self' }));

    const unknown = await errorOf(
      t.s3.send(
        new CopyObjectCommand({
          Bucket: BUCKET,
          Key: 'copy/self-md5.bin',
          CopySource: `${BUCKET}/copy/self.bin`,
          ChecksumAlgorithm: 'MD5' as ChecksumAlgorithm,
        }),
      ),
    );
    const self = await errorOf(
      t.s3.send(
        new CopyObjectCommand({
          Bucket: BUCKET,
          Key: 'copy/self.bin',
          CopySource: `${BUCKET}/copy/self.bin`,
          ChecksumAlgorithm: 'CRC32',
        }),
      ),
    );

    expect(unknown.name).toBe('InvalidRequest');
    expect(self.name).toBe('InvalidRequest');
    expect(self.message).toContain('copy an object to itself');
  });

  it('works for the AWS CLI: s3api copy-object --checksum-algorithm, and s3 cp of a large object in parts (UploadPartCopy)', async () => {
    const small = randomBytes(40_000);
    const large = randomBytes(9 * MiB);
    await t.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'cli-copy/small.bin', Body: small }));
    await t.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'cli-copy/large.bin', Body: large }));

    const api = await t.aws([
      's3api',
      'copy-object',
      '--bucket',
      BUCKET,
      '--key',
      'cli-copy/small.bin',
      '--copy-source',
      `${BUCKET}/cli-copy/small.bin`,
      '--metadata-directive',
      'REPLACE',
      '--checksum-algorithm',
      'SHA256',
    ]);
    const cp = await t.aws([
      's3',
      'cp',
      `s3://${BUCKET}/cli-copy/large.bin`,
      `s3://${BUCKET}/cli-copy/large-copy.bin`,
      '--checksum-algorithm',
      'CRC32',
    ]);
    const smallHead = await head('cli-copy/small.bin');
    const largeHead = await head('cli-copy/large-copy.bin');
    const firstPart = await t.s3.send(
      new HeadObjectCommand({
        Bucket: BUCKET,
        Key: 'cli-copy/large-copy.bin',
        PartNumber: 1,
        ChecksumMode: 'ENABLED',
      }),
    );

    expect(api.code, api.stderr).toBe(0);
    expect(JSON.parse(api.stdout).CopyObjectResult.ChecksumSHA256).toBe(await checksumOf('SHA256', small));
    expect(smallHead.ChecksumSHA256).toBe(await checksumOf('SHA256', small));
    expect(cp.code, cp.stderr).toBe(0);
    // The CLI copies above its 8 MiB threshold in 8 MiB parts: a composite CRC32 of 2 parts.
    const partChecksums = [
      await checksumOf('CRC32', large.subarray(0, 8 * MiB)),
      await checksumOf('CRC32', large.subarray(8 * MiB)),
    ];
    expect(largeHead.ChecksumCRC32).toBe(await compositeChecksum('CRC32', partChecksums));
    expect(largeHead.ContentLength).toBe(large.length);
    expect(firstPart.ChecksumCRC32).toBe(partChecksums[0]);
    expect(firstPart.PartsCount).toBe(2);
  }, 60_000);
});

describe('GetObject and HeadObject with partNumber on the local S3', () => {
  const parts = [randomBytes(5 * MiB), randomBytes(5 * MiB), randomBytes(4321)];

  beforeAll(async () => {
    await putMultipart('parts/crc32.bin', parts, 'CRC32');
    await putMultipart('parts/plain.bin', parts);
  }, 60_000);

  it("returns a part's bytes, range, part count and (ChecksumMode ENABLED) its checksum, validated by the SDK", async () => {
    const out = await sdk.send(
      new GetObjectCommand({
        Bucket: BUCKET,
        Key: 'parts/crc32.bin',
        PartNumber: 2,
        ChecksumMode: 'ENABLED',
      }),
    );
    const body = Buffer.from(await out.Body!.transformToByteArray());
    const headed = await t.s3.send(
      new HeadObjectCommand({
        Bucket: BUCKET,
        Key: 'parts/crc32.bin',
        PartNumber: 3,
        ChecksumMode: 'ENABLED',
      }),
    );

    expect(body.equals(parts[1]!)).toBe(true);
    expect(out.$metadata.httpStatusCode).toBe(206);
    expect(out.ContentRange).toBe(`bytes ${5 * MiB}-${10 * MiB - 1}/${10 * MiB + 4321}`);
    expect(out.PartsCount).toBe(3);
    expect(out.ChecksumCRC32).toBe(await checksumOf('CRC32', parts[1]!));
    expect(out.ChecksumType).toBe('COMPOSITE');
    expect(headed.ContentLength).toBe(4321);
    expect(headed.PartsCount).toBe(3);
    expect(headed.ChecksumCRC32).toBe(await checksumOf('CRC32', parts[2]!));
  });

  it('serves the parts of a multipart object uploaded without a checksum, and refuses a part past the last', async () => {
    const out = await t.s3.send(
      new GetObjectCommand({ Bucket: BUCKET, Key: 'parts/plain.bin', PartNumber: 3 }),
    );
    const body = Buffer.from(await out.Body!.transformToByteArray());
    const past = await errorOf(
      t.s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'parts/plain.bin', PartNumber: 4 })),
    );

    expect(body.equals(parts[2]!)).toBe(true);
    expect(out.PartsCount).toBe(3);
    expect(out.ChecksumCRC32).toBeUndefined();
    expect(past.name).toBe('InvalidPartNumber');
    expect(past.$metadata?.httpStatusCode).toBe(416);
  });

  it('answers the AWS CLI: s3api get-object --part-number', async () => {
    const file = join(t.dir, 'part-2.bin');

    const got = await t.aws([
      's3api',
      'get-object',
      '--bucket',
      BUCKET,
      '--key',
      'parts/crc32.bin',
      '--part-number',
      '2',
      '--checksum-mode',
      'ENABLED',
      file,
    ]);

    expect(got.code, got.stderr).toBe(0);
    const out = JSON.parse(got.stdout);
    expect(out.PartsCount).toBe(3);
    expect(out.ChecksumCRC32).toBe(await checksumOf('CRC32', parts[1]!));
    expect(readFileSync(file).equals(parts[1]!)).toBe(true);
  });
});

describe('corrupt-object on a multipart object', () => {
  it("flips one bit of one part: the ETag, that part's checksum and the composite describe the new bytes", async () => {
    const parts = [randomBytes(5 * MiB), randomBytes(3000)];
    const at = 5 * MiB + 100;
    await t.admin('POST', '/faults', {
      service: 's3',
      behavior: 'corrupt-object',
      match: { Bucket: BUCKET, Key: 'corrupt/multi.bin' },
      offset: at,
      count: 1,
    });

    const completed = await putMultipart('corrupt/multi.bin', parts, 'CRC32');
    await t.admin('DELETE', '/faults');
    const after = await head('corrupt/multi.bin');
    const second = await t.s3.send(
      new HeadObjectCommand({
        Bucket: BUCKET,
        Key: 'corrupt/multi.bin',
        PartNumber: 2,
        ChecksumMode: 'ENABLED',
      }),
    );
    const got = await sdk.send(
      new GetObjectCommand({
        Bucket: BUCKET,
        Key: 'corrupt/multi.bin',
        PartNumber: 2,
        ChecksumMode: 'ENABLED',
      }),
    );
    const body = Buffer.from(await got.Body!.transformToByteArray());

    const flipped = Buffer.from(parts[1]!);
    flipped[100] = (flipped[100] as number) ^ 0x01;
    const md5 = (data: Buffer) => createHash('md5').update(data).digest();
    const etag = createHash('md5')
      .update(Buffer.concat([md5(parts[0]!), md5(flipped)]))
      .digest('hex');
    const crcs = [await checksumOf('CRC32', parts[0]!), await checksumOf('CRC32', flipped)];
    expect(body.equals(flipped)).toBe(true);
    expect(after.ETag).toBe(`"${etag}-2"`);
    expect(after.ContentLength).toBe(5 * MiB + 3000);
    expect(second.ChecksumCRC32).toBe(crcs[1]);
    expect(after.ChecksumCRC32).toBe(await compositeChecksum('CRC32', crcs));
    expect(completed.ETag).toBe(after.ETag);
    expect(completed.ChecksumCRC32).toBe(after.ChecksumCRC32);
  });
});
