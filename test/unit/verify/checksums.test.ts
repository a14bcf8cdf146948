import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  CRC_ALGORITHMS,
  checksumOf,
  combinePartCrcs,
  compositeChecksum,
  crcCombine,
} from '../../../shared/verify/checksums.js';

describe('S3 checksums', () => {
  it('computes the values S3 documents for "hello"', async () => {
    const hello = Buffer.from('hello');

    const values = {
      CRC32: await checksumOf('CRC32', hello),
      CRC32C: await checksumOf('CRC32C', hello),
      SHA1: await checksumOf('SHA1', hello),
    };

    expect(values).toEqual({ CRC32: 'NhCmhg==', CRC32C: 'mnG7TA==', SHA1: 'qvTGHdzF6KLavt4PO0gs2a6pQ00=' });
  });

  it.each(CRC_ALGORITHMS)('combines the %s of two pieces into the CRC of the whole', async (algorithm) => {
    const a = randomBytes(1000 + Math.floor(Math.random() * 5000));
    const b = randomBytes(1 + Math.floor(Math.random() * 70000));

    const combined = crcCombine(
      algorithm,
      await checksumOf(algorithm, a),
      await checksumOf(algorithm, b),
      b.length,
    );

    expect(combined).toBe(await checksumOf(algorithm, Buffer.concat([a, b])));
  });

  it('derives the full-object CRC64NVME of three parts from their CRCs and sizes', async () => {
    const parts = [randomBytes(8192), randomBytes(8192), randomBytes(100)];
    const crcs = await Promise.all(
      parts.map(async (part) => ({ checksum: await checksumOf('CRC64NVME', part), size: part.length })),
    );

    expect(combinePartCrcs('CRC64NVME', crcs)).toBe(await checksumOf('CRC64NVME', Buffer.concat(parts)));
  });

  it('builds a composite checksum from the binary part checksums with the part count', async () => {
    const parts = [
      await checksumOf('SHA256', Buffer.from('a')),
      await checksumOf('SHA256', Buffer.from('b')),
    ];

    const composite = await compositeChecksum('SHA256', parts);

    const joined = Buffer.concat(parts.map((p) => Buffer.from(p, 'base64')));
    expect(composite).toBe(`${await checksumOf('SHA256', joined)}-2`);
  });
});
