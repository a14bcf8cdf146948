/**
 * Pure helpers of the local S3 for multipart objects and copies: the multipart ETag, where a part
 * lies in the object, and the copy headers (`x-amz-copy-source`, `x-amz-copy-source-range`).
 */
import { createHash } from 'node:crypto';
import { LocalAwsError } from '../types.js';

/** One part of a completed multipart object, as the local S3 keeps it. */
export interface StoredPart {
  size: number;
  /** The part's MD5 (hex): its ETag at upload, and an input of the object's ETag. */
  md5: string;
  /** The part's additional checksum (base64), when the upload was created with an algorithm. */
  checksum?: string;
}

/** S3's ETag of a multipart object (quoted): the MD5 of the parts' binary MD5s, `-<parts>`. */
export function multipartEtag(md5s: readonly string[]): string {
  const digest = createHash('md5')
    .update(Buffer.concat(md5s.map((md5) => Buffer.from(md5, 'hex'))))
    .digest('hex');
  return `"${digest}-${md5s.length}"`;
}

/** The bytes (first and last offset) of part `partNumber` (1-based), or undefined past the last. */
export function partRange(
  parts: readonly Pick<StoredPart, 'size'>[],
  partNumber: number,
): { start: number; end: number } | undefined {
  if (!Number.isInteger(partNumber) || partNumber < 1 || partNumber > parts.length) return undefined;
  const start = parts.slice(0, partNumber - 1).reduce((sum, part) => sum + part.size, 0);
  return { start, end: start + (parts[partNumber - 1] as StoredPart).size - 1 };
}

/** The index of the part that holds byte `offset`, or -1. */
export function partAt(parts: readonly Pick<StoredPart, 'size'>[], offset: number): number {
  let start = 0;
  for (const [index, part] of parts.entries()) {
    if (offset >= start && offset < start + part.size) return index;
    start += part.size;
  }
  return -1;
}

/**
 * The `partNumber` of a GetObject/HeadObject.
 * @throws LocalAwsError InvalidArgument when it is not an integer from 1 to 10,000.
 */
export function parsePartNumber(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1 || n > 10_000) {
    throw new LocalAwsError(
      'InvalidArgument',
      'Part number must be an integer between 1 and 10000, inclusive',
      400,
    );
  }
  return n;
}

/** S3's answer to a part number past the object's last part. */
export function invalidPartNumber(): LocalAwsError {
  return new LocalAwsError('InvalidPartNumber', 'The requested partnumber is not satisfiable', 416);
}

/**
 * The object `x-amz-copy-source` names: `<bucket>/<key>` or `/<bucket>/<key>`, URL-encoded, with
 * an optional `?versionId=`.
 * @throws LocalAwsError InvalidArgument when it names no bucket and key.
 */
export function parseCopySource(header: string): { bucket: string; key: string; versionId?: string } {
  const [path = '', query] = header.split('?', 2) as [string, string | undefined];
  const decoded = decodeURIComponent(path).replace(/^\//, '');
  const slash = decoded.indexOf('/');
  if (slash <= 0 || slash === decoded.length - 1) {
    throw new LocalAwsError(
      'InvalidArgument',
      'Copy Source must mention the source bucket and key: sourcebucket/sourcekey',
      400,
    );
  }
  const versionId = query ? new URLSearchParams(query).get('versionId') : null;
  return {
    bucket: decoded.slice(0, slash),
    key: decoded.slice(slash + 1),
    ...(versionId ? { versionId } : {}),
  };
}

/**
 * The bytes `x-amz-copy-source-range` (`bytes=first-last`) names in a source of `size` bytes
 * (the whole source when absent).
 * @throws LocalAwsError InvalidArgument (malformed) or InvalidRange (past the end), as S3 answers.
 */
export function parseCopySourceRange(
  header: string | undefined,
  size: number,
): { start: number; end: number } {
  if (header === undefined) return { start: 0, end: size - 1 };
  const match = /^bytes=(\d+)-(\d+)$/.exec(header);
  if (!match) {
    throw new LocalAwsError(
      'InvalidArgument',
      'The x-amz-copy-source-range value must be of the form bytes=first-last where first and last are the zero-based offsets of the first and last bytes to copy',
      400,
    );
  }
  const start = Number(match[1]);
  const end = Number(match[2]);
  if (start > end || end >= size) {
    throw new LocalAwsError('InvalidRange', 'The requested range is not satisfiable', 416);
  }
  return { start, end };
}
