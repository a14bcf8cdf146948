/**
 * S3's additional checksums (https://docs.aws.amazon.com/AmazonS3/latest/userguide/checking-object-integrity.html),
 * computed the way S3 computes them: the value is the base64 of the digest (a CRC as its
 * big-endian bytes). A multipart object has either a full-object checksum (of all its bytes; the
 * CRCs only) or a composite one (the checksum of the parts' binary checksums, suffixed `-<parts>`).
 * The hashes come from `@aws-sdk/checksums`, the implementations the SDK itself uses.
 */
import { createHash } from 'node:crypto';
import { Crc32, Crc32c, Crc64Nvme } from '@aws-sdk/checksums/crc';
import type { Checksum } from '@smithy/types';

export const CHECKSUM_ALGORITHMS = ['CRC32', 'CRC32C', 'CRC64NVME', 'SHA1', 'SHA256'] as const;
export type ChecksumAlgorithm = (typeof CHECKSUM_ALGORITHMS)[number];
export type ChecksumType = 'FULL_OBJECT' | 'COMPOSITE';

/** The CRCs, whose values of two pieces combine into the value of the whole (`crcCombine`). */
export const CRC_ALGORITHMS: readonly ChecksumAlgorithm[] = ['CRC32', 'CRC32C', 'CRC64NVME'];

export function isChecksumAlgorithm(value: string): value is ChecksumAlgorithm {
  return (CHECKSUM_ALGORITHMS as readonly string[]).includes(value);
}

/** How many bytes a digest of the algorithm has (to check a base64 value before comparing). */
export const DIGEST_BYTES: Record<ChecksumAlgorithm, number> = {
  CRC32: 4,
  CRC32C: 4,
  CRC64NVME: 8,
  SHA1: 20,
  SHA256: 32,
};

class NodeHash implements Checksum {
  private hash;
  constructor(private readonly name: string) {
    this.hash = createHash(name);
  }
  update(data: Uint8Array): void {
    this.hash.update(data);
  }
  async digest(): Promise<Uint8Array> {
    return this.hash.digest();
  }
  reset(): void {
    this.hash = createHash(this.name);
  }
}

/** A running checksum of the algorithm (`update` with each piece, then `digest`). */
export function createChecksum(algorithm: ChecksumAlgorithm): Checksum {
  switch (algorithm) {
    case 'CRC32':
      return new Crc32();
    case 'CRC32C':
      return new Crc32c();
    case 'CRC64NVME':
      return new Crc64Nvme();
    case 'SHA1':
      return new NodeHash('sha1');
    case 'SHA256':
      return new NodeHash('sha256');
  }
}

/** The checksum of `data` as S3 writes it (base64). */
export async function checksumOf(algorithm: ChecksumAlgorithm, data: Uint8Array): Promise<string> {
  const checksum = createChecksum(algorithm);
  checksum.update(data);
  return Buffer.from(await checksum.digest()).toString('base64');
}

/** A composite checksum: of the parts' decoded checksums, concatenated, then `-<parts>`. */
export async function compositeChecksum(
  algorithm: ChecksumAlgorithm,
  parts: readonly string[],
): Promise<string> {
  const joined = Buffer.concat(parts.map((part) => Buffer.from(part, 'base64')));
  return `${await checksumOf(algorithm, joined)}-${parts.length}`;
}

/** The reflected polynomials of the CRCs (all three start from and end with all ones). */
const REFLECTED_POLYNOMIAL: Record<string, { poly: bigint; width: number }> = {
  CRC32: { poly: 0xedb88320n, width: 32 },
  CRC32C: { poly: 0x82f63b78n, width: 32 },
  CRC64NVME: { poly: 0x9a6c9329ac4bc9b5n, width: 64 },
};

function gf2Times(matrix: bigint[], vector: bigint): bigint {
  let sum = 0n;
  for (let i = 0; vector !== 0n; i++, vector >>= 1n) if (vector & 1n) sum ^= matrix[i] as bigint;
  return sum;
}

const gf2Square = (matrix: bigint[]) => matrix.map((row) => gf2Times(matrix, row));

/**
 * The CRC of `a` followed by `b` from the CRCs of both and the length of `b` (zlib's
 * crc32_combine, for any of the three CRCs). This is how a full-object CRC follows from the
 * CRCs and sizes of the parts, without reading the data again.
 */
export function crcCombine(
  algorithm: ChecksumAlgorithm,
  crcA: string,
  crcB: string,
  lengthB: number,
): string {
  const spec = REFLECTED_POLYNOMIAL[algorithm];
  if (!spec) throw new Error(`${algorithm} is not a CRC`);
  const toBig = (value: string) => BigInt(`0x${Buffer.from(value, 'base64').toString('hex') || '0'}`);
  let crc = toBig(crcA);
  let length = BigInt(lengthB);
  if (length > 0n) {
    // The operator for one zero bit, then squared to two and four zero bits.
    let odd = [spec.poly, ...Array.from({ length: spec.width - 1 }, (_, n) => 1n << BigInt(n))];
    let even = gf2Square(odd);
    odd = gf2Square(even);
    // Apply len(b) zero bytes to crc(a): squaring the operator doubles the zeros it appends.
    while (length > 0n) {
      even = gf2Square(odd);
      if (length & 1n) crc = gf2Times(even, crc);
      length >>= 1n;
      if (length === 0n) break;
      odd = gf2Square(even);
      if (length & 1n) crc = gf2Times(odd, crc);
      length >>= 1n;
    }
  }
  const value = crc ^ toBig(crcB);
  return Buffer.from(value.toString(16).padStart(spec.width / 4, '0'), 'hex').toString('base64');
}

/** The full-object CRC of an object from its parts' CRCs and sizes, in part order. */
export function combinePartCrcs(
  algorithm: ChecksumAlgorithm,
  parts: readonly { checksum: string; size: number }[],
): string {
  const [first, ...rest] = parts;
  if (!first) throw new Error('no parts to combine');
  return rest.reduce((crc, part) => crcCombine(algorithm, crc, part.checksum, part.size), first.checksum);
}
