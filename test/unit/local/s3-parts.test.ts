import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  multipartEtag,
  parseCopySource,
  parseCopySourceRange,
  parsePartNumber,
  partAt,
  partRange,
} from '../../../local/s3/parts.js';

const parts = [{ size: 5 }, { size: 3 }, { size: 2 }];

describe('local S3 multipart parts', () => {
  it('gives the multipart ETag: the MD5 of the binary part MD5s and the part count', () => {
    const md5s = ['a', 'b'].map((data) => createHash('md5').update(data).digest('hex'));

    const etag = multipartEtag(md5s);

    const expected = createHash('md5')
      .update(Buffer.concat(md5s.map((md5) => Buffer.from(md5, 'hex'))))
      .digest('hex');
    expect(etag).toBe(`"${expected}-2"`);
  });

  it('finds the bytes of a part and the part of a byte', () => {
    expect(partRange(parts, 1)).toEqual({ start: 0, end: 4 });
    expect(partRange(parts, 3)).toEqual({ start: 8, end: 9 });
    expect(partRange(parts, 4)).toBeUndefined();
    expect(partAt(parts, 4)).toBe(0);
    expect(partAt(parts, 5)).toBe(1);
    expect(partAt(parts, 10)).toBe(-1);
  });

  it('accepts part numbers from 1 to 10,000 only', () => {
    expect(parsePartNumber('10000')).toBe(10_000);
    expect(() => parsePartNumber('0')).toThrow(/between 1 and 10000/);
    expect(() => parsePartNumber('1.5')).toThrow(/between 1 and 10000/);
  });
});

describe('local S3 copy headers', () => {
  it('reads the bucket, the decoded key and a version of x-amz-copy-source', () => {
    expect(parseCopySource('/b/dir/a%20b%2Bc.nc')).toEqual({ bucket: 'b', key: 'dir/a b+c.nc' });
    expect(parseCopySource('b/k?versionId=v1')).toEqual({ bucket: 'b', key: 'k', versionId: 'v1' });
    expect(() => parseCopySource('only-a-bucket')).toThrow(/source bucket and key/);
  });

  it('reads x-amz-copy-source-range and refuses a malformed range or one past the end', () => {
    expect(parseCopySourceRange(undefined, 10)).toEqual({ start: 0, end: 9 });
    expect(parseCopySourceRange('bytes=2-5', 10)).toEqual({ start: 2, end: 5 });
    expect(() => parseCopySourceRange('bytes=2-', 10)).toThrow(
      expect.objectContaining({ code: 'InvalidArgument' }),
    );
    expect(() => parseCopySourceRange('bytes=5-10', 10)).toThrow(
      expect.objectContaining({ code: 'InvalidRange' }),
    );
  });
});
