import { createHash } from 'node:crypto';
import { HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { checksumOf, compositeChecksum } from '../../../shared/verify/checksums.js';
import { checkContent } from '../../../shared/verify/content.js';

const s3Mock = mockClient(S3Client);
afterEach(() => s3Mock.reset());

const fsxEntry = async (path: string, data: Buffer) => ({
  path,
  size: data.length,
  checksums: {
    CRC32: await checksumOf('CRC32', data),
    SHA256: await checksumOf('SHA256', data),
    MD5: createHash('md5').update(data).digest('base64'),
  },
});

describe('checkContent', () => {
  it('compares full-object checksums, composite CRCs from their parts and single-part ETags, and names a mismatch', async () => {
    const good = Buffer.from('good content');
    const parts = [Buffer.alloc(100, 1), Buffer.alloc(50, 2)];
    const multipart = Buffer.concat(parts);
    const plain = Buffer.from('plain');
    const partCrcs = await Promise.all(parts.map((p) => checksumOf('CRC32', p)));
    s3Mock
      .on(HeadObjectCommand, { Key: 'p/good.nc' })
      .resolves({ ChecksumSHA256: await checksumOf('SHA256', good), ChecksumType: 'FULL_OBJECT' });
    s3Mock.on(HeadObjectCommand, { Key: 'p/bad.nc' }).resolves({
      ChecksumCRC32: await checksumOf('CRC32', Buffer.from('other bytes!')),
      ChecksumType: 'FULL_OBJECT',
    });
    s3Mock
      .on(HeadObjectCommand, { Key: 'p/multi.nc' })
      .resolves({ ChecksumCRC32: await compositeChecksum('CRC32', partCrcs), ChecksumType: 'COMPOSITE' });
    s3Mock
      .on(HeadObjectCommand, { Key: 'p/multi.nc', PartNumber: 1 })
      .resolves({ ChecksumCRC32: partCrcs[0], ContentLength: 100 });
    s3Mock
      .on(HeadObjectCommand, { Key: 'p/multi.nc', PartNumber: 2 })
      .resolves({ ChecksumCRC32: partCrcs[1], ContentLength: 50 });
    s3Mock
      .on(HeadObjectCommand, { Key: 'p/plain.nc' })
      .resolves({ ETag: `"${createHash('md5').update(plain).digest('hex')}"` });
    s3Mock
      .on(HeadObjectCommand, { Key: 'p/legacy.nc' })
      .resolves({ ETag: '"0123456789abcdef0123456789abcdef-3"' });
    const fsx = new Map(
      await Promise.all(
        (
          [
            ['good.nc', good],
            ['bad.nc', Buffer.from('other bytes?')],
            ['multi.nc', multipart],
            ['plain.nc', plain],
            ['legacy.nc', Buffer.from('x')],
          ] as const
        ).map(async ([path, data]) => [path, await fsxEntry(path, data)] as const),
      ),
    );
    const files = [...fsx.values()].map(({ path, size }) => ({ path, size }));

    const result = await checkContent({ s3: new S3Client({}) }, { bucket: 'b', prefix: 'p', files, fsx });

    expect(result.contentChecked).toBe(4);
    expect(result.checkedBy).toEqual({ SHA256: 1, CRC32: 1, 'CRC32 (composite)': 1, 'ETag (MD5)': 1 });
    expect(result.mismatches.map((m) => m.path)).toEqual(['bad.nc']);
    expect(result.sizeOnly).toBe(1);
    expect(result.sizeOnlyFiles).toEqual([{ path: 'legacy.nc', reason: 'no S3 checksum, multipart ETag' }]);
  });
});
