/**
 * `checksum` verification: the content of each transferred file on the file system (its checksums,
 * computed by a Lustre client: checksum-listing.ts) against S3's own record of the object's
 * content, read with HeadObject (ChecksumMode=ENABLED), never by downloading the object again:
 *
 * 1. a full-object checksum (CRC32, CRC32C, CRC64NVME, SHA1, SHA256): compared with the file's;
 * 2. a composite CRC (multipart upload): the part CRCs and sizes (HeadObject PartNumber=n) combine
 *    into the full-object CRC, compared with the file's;
 * 3. no usable checksum, but the ETag of a single-part upload without SSE-KMS/SSE-C (the MD5 of
 *    the content): compared with the file's MD5;
 * 4. anything else (a composite SHA, a multipart upload without checksums, an encrypted ETag, an
 *    algorithm the Lustre client could not compute) is counted and listed as checked by size only.
 * docs/verification.md documents what each case guarantees.
 */
import { HeadObjectCommand, type HeadObjectCommandOutput, type S3Client } from '@aws-sdk/client-s3';
import { rethrowTransient } from '../aws/transient.js';
import type { VerifyMode } from '../config/schema.js';
import type { FileChecksums } from './checksum-listing.js';
import { CHECKSUM_ALGORITHMS, type ChecksumAlgorithm, CRC_ALGORITHMS, combinePartCrcs } from './checksums.js';
import type { ListedFile } from './listing.js';

/** What a run's verification covered (the summary's `verification`). */
export interface Verification {
  mode: VerifyMode;
  /** Files of the source scope that verification looked at. */
  files: number;
  /** Files whose content was compared end to end. */
  contentChecked: number;
  /** Files compared by name and size only (all of them in `size` mode). */
  sizeOnly: number;
  /** How the content-checked files were compared (`CRC32`, `CRC32 (composite)`, `ETag (MD5)`). */
  checkedBy?: Record<string, number>;
  /** The first size-only files of a `checksum` run, with why. */
  sizeOnlyFiles?: { path: string; reason: string }[];
  /** Why verification covers less than asked (e.g. a DRA run without a Lustre client). */
  note?: string;
}

export interface ContentMismatch {
  path: string;
  /** How it was compared (`CRC32`, `ETag (MD5)`...). */
  how: string;
  s3: string;
  fsx: string;
}

export interface ContentCheck {
  contentChecked: number;
  sizeOnly: number;
  checkedBy: Record<string, number>;
  sizeOnlyFiles: { path: string; reason: string }[];
  mismatches: ContentMismatch[];
}

/** What S3 says about one object's content. */
type S3Evidence =
  | { kind: 'checksum'; how: string; algorithm: ChecksumAlgorithm; value: string }
  | { kind: 'md5'; how: string; value: string }
  | { kind: 'none'; reason: string };

const KEPT_SIZE_ONLY = 100;
const CONCURRENCY = 16;

async function head(s3: S3Client, bucket: string, key: string, partNumber?: number) {
  try {
    return await s3.send(
      new HeadObjectCommand({
        Bucket: bucket,
        Key: key,
        ChecksumMode: 'ENABLED',
        ...(partNumber ? { PartNumber: partNumber } : {}),
      }),
    );
  } catch (error) {
    rethrowTransient(error, `reading the checksum of s3://${bucket}/${key}`);
  }
}

const storedChecksum = (out: HeadObjectCommandOutput) => {
  for (const algorithm of CHECKSUM_ALGORITHMS) {
    const value = out[`Checksum${algorithm}`];
    if (value) return { algorithm, value };
  }
  return undefined;
};

/** S3's record of one object's content, as far as it can stand for the whole content. */
async function s3Evidence(s3: S3Client, bucket: string, key: string): Promise<S3Evidence> {
  const out = await head(s3, bucket, key);
  const stored = storedChecksum(out);
  const composite = stored && (out.ChecksumType === 'COMPOSITE' || /-\d+$/.test(stored.value));
  if (stored && !composite) return { kind: 'checksum', how: stored.algorithm, ...stored };
  if (stored && composite && CRC_ALGORITHMS.includes(stored.algorithm)) {
    const count = Number(/-(\d+)$/.exec(stored.value)?.[1] ?? 0);
    const parts: { checksum: string; size: number }[] = [];
    for (let n = 1; n <= count; n++) {
      const part = await head(s3, bucket, key, n);
      const checksum = part[`Checksum${stored.algorithm}`];
      if (!checksum) break;
      parts.push({ checksum, size: part.ContentLength ?? 0 });
    }
    if (count > 0 && parts.length === count) {
      return {
        kind: 'checksum',
        how: `${stored.algorithm} (composite)`,
        algorithm: stored.algorithm,
        value: combinePartCrcs(stored.algorithm, parts),
      };
    }
  }
  const etag = (out.ETag ?? '').replaceAll('"', '');
  const encrypted = out.ServerSideEncryption === 'aws:kms' || out.ServerSideEncryption === 'aws:kms:dsse';
  if (/^[0-9a-f]{32}$/.test(etag) && !encrypted && !out.SSECustomerAlgorithm) {
    return { kind: 'md5', how: 'ETag (MD5)', value: Buffer.from(etag, 'hex').toString('base64') };
  }
  if (stored)
    return { kind: 'none', reason: `S3 holds a composite ${stored.algorithm} of a multipart upload` };
  if (etag.includes('-')) return { kind: 'none', reason: 'no S3 checksum, multipart ETag' };
  return { kind: 'none', reason: 'no S3 checksum, ETag is not an MD5 (SSE-KMS or SSE-C)' };
}

/**
 * Compares the content of `files` (present on both sides with the same size) in S3 with their
 * checksums on the file system. Reads only object metadata (one HeadObject per object, one per part
 * of a composite CRC).
 * @throws TransientAwsError on throttling.
 */
export async function checkContent(
  deps: { s3: S3Client },
  input: {
    bucket: string;
    prefix: string;
    files: readonly ListedFile[];
    fsx: ReadonlyMap<string, FileChecksums>;
  },
): Promise<ContentCheck> {
  const result: ContentCheck = {
    contentChecked: 0,
    sizeOnly: 0,
    checkedBy: {},
    sizeOnlyFiles: [],
    mismatches: [],
  };
  const sizeOnly = (path: string, reason: string) => {
    result.sizeOnly++;
    if (result.sizeOnlyFiles.length < KEPT_SIZE_ONLY) result.sizeOnlyFiles.push({ path, reason });
  };
  const checkOne = async (file: ListedFile) => {
    const fsx = input.fsx.get(file.path);
    if (!fsx) return sizeOnly(file.path, 'not in the file system checksums');
    const key = input.prefix ? `${input.prefix}/${file.path}` : file.path;
    const evidence = await s3Evidence(deps.s3, input.bucket, key);
    if (evidence.kind === 'none') return sizeOnly(file.path, evidence.reason);
    const local = fsx.checksums[evidence.kind === 'md5' ? 'MD5' : evidence.algorithm];
    if (!local) {
      return sizeOnly(
        file.path,
        `the Lustre client did not compute ${evidence.kind === 'md5' ? 'MD5' : evidence.algorithm} (install awscrt for the CRC32C or CRC64NVME of files over 1 MiB)`,
      );
    }
    result.contentChecked++;
    result.checkedBy[evidence.how] = (result.checkedBy[evidence.how] ?? 0) + 1;
    if (local !== evidence.value)
      result.mismatches.push({ path: file.path, how: evidence.how, s3: evidence.value, fsx: local });
  };
  const queue = [...input.files];
  const workers = Array.from({ length: Math.min(CONCURRENCY, queue.length) }, async () => {
    for (let file = queue.shift(); file; file = queue.shift()) await checkOne(file);
  });
  await Promise.all(workers);
  result.mismatches.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return result;
}

/** The verification of a `size` (or `none`) run: nothing compared by content. */
export function sizeOnlyVerification(mode: VerifyMode, files: number, note?: string): Verification {
  return {
    mode,
    files,
    contentChecked: 0,
    sizeOnly: mode === 'none' ? 0 : files,
    ...(note ? { note } : {}),
  };
}

/** The difference line of a content mismatch (names the file, both values). */
export function mismatchLine(mismatch: ContentMismatch): string {
  return `content differs: ${mismatch.path} (${mismatch.how}: S3 ${mismatch.s3}, FSx ${mismatch.fsx})`;
}
