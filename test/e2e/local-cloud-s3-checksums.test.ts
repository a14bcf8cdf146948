/**
 * S3's additional checksums on the local S3: stored and returned with ChecksumMode=ENABLED,
 * validated on upload (header values and aws-chunked trailers) with S3's error codes, composite
 * and full-object multipart checksums, the AWS CLI v1's defaults, and the `corrupt-object` fault.
 */
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import {
  CompleteMultipartUploadCommand,
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
    const { UploadId } = await sdk.send(
      new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: key, ChecksumAlgorithm: 'CRC32' }),
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
          ChecksumAlgorithm: 'CRC32',
        }),
      );
      uploaded.push({ PartNumber: i + 1, ETag: out.ETag, ChecksumCRC32: out.ChecksumCRC32 });
    }

    const done = await sdk.send(
      new CompleteMultipartUploadCommand({
        Bucket: BUCKET,
        Key: key,
        UploadId,
        MultipartUpload: { Parts: uploaded },
      }),
    );
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
    const { UploadId } = await sdk.send(
      new CreateMultipartUploadCommand({
        Bucket: BUCKET,
        Key: key,
        ChecksumAlgorithm: 'CRC64NVME',
        ChecksumType: 'FULL_OBJECT',
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
          ChecksumAlgorithm: 'CRC64NVME',
        }),
      );
      uploaded.push({ PartNumber: i + 1, ETag: out.ETag, ChecksumCRC64NVME: out.ChecksumCRC64NVME });
    }

    await sdk.send(
      new CompleteMultipartUploadCommand({
        Bucket: BUCKET,
        Key: key,
        UploadId,
        MultipartUpload: { Parts: uploaded },
      }),
    );
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

    await sdk.send(
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
  });
});
