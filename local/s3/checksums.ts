/**
 * S3's additional checksums for the local S3 (s3rver knows only MD5 ETags). The router keeps them
 * beside s3rver's store: what a request asks for (`x-amz-checksum-<algorithm>` value headers, an
 * `aws-chunked` trailer named by `x-amz-trailer`, `x-amz-sdk-checksum-algorithm`), the upload's
 * validation (S3's `BadDigest` / `InvalidRequest` errors), and the stored value with its type, read
 * back on HeadObject/GetObject with `x-amz-checksum-mode: ENABLED`.
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/checking-object-integrity.html
 *
 * A stored checksum belongs to one version of the object: it keeps the object's ETag and is only
 * used while s3rver's ETag is the same (s3rver overwrites and deletes without telling us).
 */
import { createHash } from 'node:crypto';
import {
  createReadStream,
  createWriteStream,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { readFile, rm, stat, writeFile } from 'node:fs/promises';
import type { IncomingHttpHeaders } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  CHECKSUM_ALGORITHMS,
  type ChecksumAlgorithm,
  type ChecksumType,
  checksumOf,
  compositeChecksum,
  createChecksum,
  DIGEST_BYTES,
  isChecksumAlgorithm,
} from '../../shared/verify/checksums.js';
import { flipBit } from '../fsx/corrupt.js';
import { LocalAwsError } from '../types.js';
import { multipartEtag, partAt, type StoredPart } from './parts.js';

/** An object's additional checksum. */
export interface ObjectChecksum {
  algorithm: ChecksumAlgorithm;
  type: ChecksumType;
  /** Base64 value; composite values end in `-<parts>`. */
  value: string;
}

/** What the local S3 keeps about one object version beside s3rver's bytes and MD5. */
export interface StoredObject {
  /** s3rver's ETag (quoted) of the object version this describes. */
  etag: string;
  /** The additional checksum (none for an upload that sent none). */
  checksum?: ObjectChecksum;
  /** A multipart object's parts, in order (GetObject/HeadObject `partNumber`). */
  parts?: StoredPart[];
}

interface UploadChecksums {
  algorithm: ChecksumAlgorithm;
  type: ChecksumType;
  parts: Record<string, { size: number; checksum: string; etag: string }>;
}

/** What an upload request (PutObject, UploadPart) asks the server to check. */
export interface RequestedChecksum {
  algorithm: ChecksumAlgorithm;
  /** The value sent in a header (validated before the object is stored). */
  value?: string;
  /** The trailer that carries the value (`x-amz-checksum-crc32`), in an aws-chunked body. */
  trailer?: string;
}

const headerOf = (algorithm: ChecksumAlgorithm) => `x-amz-checksum-${algorithm.toLowerCase()}`;
const algorithmOfHeader = (name: string): ChecksumAlgorithm | undefined => {
  const upper = name.replace(/^x-amz-checksum-/i, '').toUpperCase();
  return isChecksumAlgorithm(upper) ? upper : undefined;
};

const invalid = (message: string) => new LocalAwsError('InvalidRequest', message, 400);

/** Checks that a value is the base64 of a digest of the algorithm (S3 answers InvalidRequest). */
function checkValue(algorithm: ChecksumAlgorithm, value: string): string {
  const bytes = Buffer.from(value, 'base64');
  if (bytes.length !== DIGEST_BYTES[algorithm] || bytes.toString('base64') !== value) {
    throw invalid(`Value for ${headerOf(algorithm)} header is invalid.`);
  }
  return value;
}

/**
 * The checksum an upload asks for, or undefined.
 * @throws LocalAwsError InvalidRequest (several checksums, an unknown algorithm, a malformed value)
 *   or BadDigest (the SDK algorithm names another algorithm than the value header).
 */
export function requestedChecksum(
  headers: IncomingHttpHeaders,
  uploadAlgorithm?: ChecksumAlgorithm,
): RequestedChecksum | undefined {
  const values = CHECKSUM_ALGORITHMS.filter((algorithm) => headers[headerOf(algorithm)] !== undefined);
  const trailers = String(headers['x-amz-trailer'] ?? '')
    .split(',')
    .map((name) => name.trim().toLowerCase())
    .filter((name) => name.startsWith('x-amz-checksum-'));
  if (values.length + trailers.length > 1) {
    throw invalid('Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.');
  }
  const sdk = headers['x-amz-sdk-checksum-algorithm'];
  const sdkAlgorithm = sdk === undefined ? undefined : String(sdk).toUpperCase();
  if (sdkAlgorithm !== undefined && !isChecksumAlgorithm(sdkAlgorithm)) {
    throw invalid('Value for x-amz-sdk-checksum-algorithm header is invalid.');
  }
  const trailer = trailers[0];
  const named = values[0] ?? (trailer ? algorithmOfHeader(trailer) : undefined);
  if (trailer && !named) throw invalid(`The trailer ${trailer} names no supported checksum algorithm.`);
  if (sdkAlgorithm && named && sdkAlgorithm !== named) {
    throw new LocalAwsError(
      'BadDigest',
      `The ${sdkAlgorithm} you specified through x-amz-sdk-checksum-algorithm does not match the ${named} checksum sent.`,
      400,
    );
  }
  const algorithm = named ?? sdkAlgorithm ?? uploadAlgorithm;
  if (!algorithm) return undefined;
  if (uploadAlgorithm && algorithm !== uploadAlgorithm) {
    throw invalid(
      `Checksum Type mismatch occurred, expected checksum Type: ${uploadAlgorithm.toLowerCase()}, actual checksum Type: ${algorithm.toLowerCase()}`,
    );
  }
  const value = values[0] ? checkValue(values[0], String(headers[headerOf(values[0])])) : undefined;
  return { algorithm, ...(value ? { value } : {}), ...(trailer ? { trailer } : {}) };
}

/** S3's answer to a checksum that differs from the data. */
export function badDigest(algorithm: ChecksumAlgorithm): LocalAwsError {
  return new LocalAwsError(
    'BadDigest',
    `The ${algorithm} you specified did not match the calculated checksum.`,
    400,
  );
}

/** A request body spooled to a temporary file, with its size and checksum. */
export interface SpooledBody {
  path: string;
  size: number;
  checksum: string;
  md5: string;
  remove: () => Promise<void>;
}

/**
 * Reads a body to a temporary file while computing its checksum: S3 stores nothing when the
 * checksum differs, and s3rver writes straight into the object, so the router validates first.
 */
export async function spoolBody(
  body: NodeJS.ReadableStream,
  algorithm: ChecksumAlgorithm,
): Promise<SpooledBody> {
  const dir = join(tmpdir(), 'fsx-transfer-s3-spool');
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2)}`);
  const checksum = createChecksum(algorithm);
  const md5 = createHash('md5');
  let size = 0;
  const hasher = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      checksum.update(chunk);
      md5.update(chunk);
      size += chunk.length;
      callback(null, chunk);
    },
  });
  const remove = () => rm(path, { force: true });
  try {
    await pipeline(body, hasher, createWriteStream(path));
  } catch (error) {
    await remove();
    throw error;
  }
  return {
    path,
    size,
    checksum: Buffer.from(await checksum.digest()).toString('base64'),
    md5: md5.digest('hex'),
    remove,
  };
}

/** The checksum of a stored file (or of `length` bytes from `start`), read in pieces. */
export async function checksumOfFile(
  algorithm: ChecksumAlgorithm,
  path: string,
  start = 0,
  length?: number,
): Promise<string> {
  const checksum = createChecksum(algorithm);
  const end = length === undefined ? undefined : start + length - 1;
  if (length !== 0) {
    for await (const chunk of createReadStream(path, { start, ...(end !== undefined ? { end } : {}) })) {
      checksum.update(chunk as Buffer);
    }
  }
  return Buffer.from(await checksum.digest()).toString('base64');
}

/** The headers HeadObject, GetObject, PutObject and UploadPart answer with for a checksum. */
export function checksumHeaders(
  algorithm: ChecksumAlgorithm,
  value: string,
  type?: ChecksumType,
): Record<string, string> {
  return { [headerOf(algorithm)]: value, ...(type ? { 'x-amz-checksum-type': type } : {}) };
}

/**
 * The additional checksums of the local S3, stored as JSON files under the data directory
 * (`s3-checksums/objects/<bucket>/<sha1 of key>.json`, `s3-checksums/uploads/<upload id>.json`).
 */
export class ChecksumStore {
  constructor(
    private readonly root: string,
    /** s3rver's directory (objects at `<bucket>/<key>._S3rver_object`). */
    private readonly s3rverDir: string,
  ) {}

  private objectFile(bucket: string, key: string): string {
    return join(this.root, 'objects', bucket, `${createHash('sha1').update(key).digest('hex')}.json`);
  }

  /** An upload's folder: `upload.json` (algorithm and type) and one `part-<n>.json` per part. */
  private uploadDir(uploadId: string): string {
    return join(this.root, 'uploads', uploadId.replace(/[^A-Za-z0-9_-]/g, '_'));
  }

  /** Where s3rver keeps an object's bytes and its MD5 (the ETag). */
  objectPaths(bucket: string, key: string): { data: string; md5: string } {
    const parts = key.split('/');
    const last = parts.pop() as string;
    const data = join(this.s3rverDir, bucket, ...parts, `${last}._S3rver_object`);
    return { data, md5: `${data}.md5` };
  }

  /** What is kept about the object version with this ETag, if anything. */
  get(bucket: string, key: string, etag: string | undefined): StoredObject | undefined {
    try {
      const stored = JSON.parse(readFileSync(this.objectFile(bucket, key), 'utf8')) as StoredObject;
      return etag !== undefined && stored.etag === etag ? stored : undefined;
    } catch {
      return undefined;
    }
  }

  put(bucket: string, key: string, stored: StoredObject): void {
    const file = this.objectFile(bucket, key);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, JSON.stringify(stored));
  }

  /** The object's current ETag (quoted), from s3rver's MD5 file; undefined when it does not exist. */
  async etag(bucket: string, key: string): Promise<string | undefined> {
    try {
      return `"${(await readFile(this.objectPaths(bucket, key).md5, 'utf8')).trim()}"`;
    } catch {
      return undefined;
    }
  }

  /** Gives the object another ETag (s3rver serves the content of its MD5 file as the ETag). */
  async setEtag(bucket: string, key: string, etag: string): Promise<void> {
    await writeFile(this.objectPaths(bucket, key).md5, etag.replaceAll('"', ''));
  }

  /**
   * The size and MD5 of an uploaded part in s3rver's upload folder
   * (`<bucket>/._S3rver_uploads/<upload id>/<part number>`), until the upload completes.
   */
  async uploadedPart(bucket: string, uploadId: string, partNumber: number): Promise<StoredPart | undefined> {
    const file = join(this.s3rverDir, bucket, '._S3rver_uploads', uploadId, String(partNumber));
    try {
      const [info, md5] = await Promise.all([stat(file), readFile(`${file}.md5`, 'utf8')]);
      return { size: info.size, md5: md5.trim() };
    } catch {
      return undefined;
    }
  }

  remove(bucket: string, key: string): void {
    rmSync(this.objectFile(bucket, key), { force: true });
  }

  startUpload(uploadId: string, algorithm: ChecksumAlgorithm, type: ChecksumType): void {
    const dir = this.uploadDir(uploadId);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'upload.json'), JSON.stringify({ algorithm, type }));
  }

  /** The upload's algorithm, type and parts so far (parts arrive in parallel: one file each). */
  upload(uploadId: string): UploadChecksums | undefined {
    const dir = this.uploadDir(uploadId);
    try {
      const upload = JSON.parse(readFileSync(join(dir, 'upload.json'), 'utf8')) as Omit<
        UploadChecksums,
        'parts'
      >;
      const parts: UploadChecksums['parts'] = {};
      for (const name of readdirSync(dir)) {
        const number = /^part-(\d+)\.json$/.exec(name)?.[1];
        if (number) parts[number] = JSON.parse(readFileSync(join(dir, name), 'utf8'));
      }
      return { ...upload, parts };
    } catch {
      return undefined;
    }
  }

  /** Whether the upload was created with a checksum algorithm (without reading its parts). */
  uploadAlgorithm(uploadId: string): ChecksumAlgorithm | undefined {
    try {
      return (
        JSON.parse(readFileSync(join(this.uploadDir(uploadId), 'upload.json'), 'utf8')) as UploadChecksums
      ).algorithm;
    } catch {
      return undefined;
    }
  }

  async putPart(uploadId: string, partNumber: string, part: UploadChecksums['parts'][string]): Promise<void> {
    const dir = this.uploadDir(uploadId);
    if (!existsSync(join(dir, 'upload.json')) || !/^\d+$/.test(partNumber)) return;
    await writeFile(join(dir, `part-${Number(partNumber)}.json`), JSON.stringify(part));
  }

  async endUpload(uploadId: string): Promise<void> {
    await rm(this.uploadDir(uploadId), { recursive: true, force: true });
  }

  /**
   * Flips one bit of a stored object (same size), as the fault `corrupt-object` does, and makes
   * everything S3 computes from the bytes describe the new ones: the ETag (the MD5, or a multipart
   * ETag from the parts' MD5s), the part's checksum and the object's checksum. It models bytes that
   * were already wrong when S3 received them (an uploader that read bad data and checksummed it, a
   * same-size overwrite): S3 validates and stores what it is sent, and never serves bytes that
   * differ from its own checksums, so a comparison with the source is what must catch it.
   * @returns the offset of the flipped byte, or undefined when the object is missing or empty.
   */
  async corrupt(bucket: string, key: string, offset?: number): Promise<number | undefined> {
    const { data } = this.objectPaths(bucket, key);
    const etag = await this.etag(bucket, key);
    if (etag === undefined) return undefined;
    const stored = this.get(bucket, key, etag);
    const at = await flipBit(data, offset);
    if (at === undefined) return undefined;
    const updated = await this.describe(data, at, stored);
    if (updated.etag) await this.setEtag(bucket, key, updated.etag);
    else if (!etag.includes('-')) await this.setEtag(bucket, key, `"${await md5OfFile(data)}"`);
    if (stored)
      this.put(bucket, key, { ...stored, ...updated, etag: (await this.etag(bucket, key)) as string });
    return at;
  }

  /** The parts, ETag and checksum of an object whose byte `at` changed (from what was stored). */
  private async describe(
    data: string,
    at: number,
    stored: StoredObject | undefined,
  ): Promise<Partial<StoredObject>> {
    const algorithm = stored?.checksum?.algorithm;
    let parts = stored?.parts;
    let etag: string | undefined;
    if (parts) {
      const index = partAt(parts, at);
      const from = parts.slice(0, index).reduce((sum, part) => sum + part.size, 0);
      parts = await Promise.all(
        parts.map(async (part, i) =>
          i !== index
            ? part
            : {
                ...part,
                md5: await md5OfFile(data, from, part.size),
                ...(algorithm ? { checksum: await checksumOfFile(algorithm, data, from, part.size) } : {}),
              },
        ),
      );
      etag = multipartEtag(parts.map((part) => part.md5));
    }
    const checksum = stored?.checksum;
    if (!checksum) return { ...(parts ? { parts } : {}), ...(etag ? { etag } : {}) };
    const value =
      checksum.type === 'COMPOSITE' && parts
        ? await compositeChecksum(
            checksum.algorithm,
            parts.map((part) => part.checksum as string),
          )
        : await checksumOfFile(checksum.algorithm, data);
    return { ...(parts ? { parts } : {}), ...(etag ? { etag } : {}), checksum: { ...checksum, value } };
  }
}

/** The MD5 (hex) of a stored file, or of `length` bytes from `start`. */
export async function md5OfFile(path: string, start = 0, length?: number): Promise<string> {
  const hash = createHash('md5');
  if (length === 0) return hash.digest('hex');
  const end = length === undefined ? undefined : start + length - 1;
  for await (const chunk of createReadStream(path, { start, ...(end !== undefined ? { end } : {}) }))
    hash.update(chunk as Buffer);
  return hash.digest('hex');
}

export { checksumOf, headerOf };
