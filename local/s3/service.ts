/**
 * Local S3: s3rver (npm) in a child process on an internal port, behind the router. The router
 * forwards every S3 request unsigned (s3rver only accepts its own credentials or anonymous
 * requests), decoding aws-chunked bodies, and streams bodies both ways.
 *
 * Additions on top of s3rver, all done here: `x-amz-expected-bucket-owner` is enforced against the
 * bucket's owner (the local account unless set through the admin API), `GetBucketLocation` and
 * `HeadBucket` report the bucket's region (settable through the admin API, to model cross-region
 * buckets), and DeleteObjects (which s3rver does not report) produces object-removed events.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createReadStream, mkdirSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import http, { type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { XMLParser } from 'fast-xml-parser';
import {
  type ChecksumAlgorithm,
  CRC_ALGORITHMS,
  compositeChecksum,
  createChecksum,
  isChecksumAlgorithm,
} from '../../shared/verify/checksums.js';
import type { FaultInjector } from '../faults.js';
import { escapeXml } from '../protocols/query.js';
import { PRESIGN_PARAMETERS } from '../protocols/sigv4-verify.js';
import { LocalAwsError } from '../types.js';
import {
  badDigest,
  ChecksumStore,
  checksumHeaders,
  checksumOfFile,
  md5OfFile,
  type ObjectChecksum,
  type RequestedChecksum,
  requestedChecksum,
  spoolBody,
} from './checksums.js';
import { AwsChunkedDecoder, isAwsChunked } from './chunked.js';
import {
  invalidPartNumber,
  multipartEtag,
  parseCopySource,
  parseCopySourceRange,
  parsePartNumber,
  partRange,
  type StoredPart,
} from './parts.js';

/** An S3 event record as s3rver emits it (the S3 notification shape; keys are NOT URL-encoded). */
export interface S3EventRecord {
  eventVersion: string;
  eventSource: 'aws:s3';
  awsRegion: string;
  eventTime: string;
  /** `ObjectCreated:Put` | `ObjectCreated:Post` | `ObjectCreated:Copy` | `ObjectRemoved:Delete`. */
  eventName: string;
  s3: {
    bucket: { name: string; arn?: string };
    object: { key: string; size?: number; eTag?: string; sequencer: string };
  };
  [key: string]: unknown;
}

export interface BucketAttributes {
  owner?: string;
  region?: string;
}

export interface S3BackendOptions {
  dataDir: string;
  accountId: string;
  region: string;
  /** Buckets created at start (existing ones are kept). */
  buckets?: string[];
  onEvent: (record: S3EventRecord) => void;
  /** Fault rules (the `corrupt-object` behaviour). */
  faults?: FaultInjector;
  log?: (message: string) => void;
}

/** Signing parameters of presigned URLs (SigV4, and SigV2's), never forwarded to s3rver. */
const SIGNING_QUERY_PARAMS = new Set(
  [
    ...PRESIGN_PARAMETERS,
    'X-Amz-Content-Sha256',
    'X-Amz-User-Agent',
    'Signature',
    'AWSAccessKeyId',
    'Expires',
  ].map((p) => p.toLowerCase()),
);

const DROPPED_HEADERS = new Set([
  'authorization',
  'host',
  'expect',
  'connection',
  'x-amz-security-token',
  'x-amz-trailer',
  'x-amz-decoded-content-length',
]);

export interface S3Target {
  bucket?: string;
  key?: string;
  /** Raw path as sent (still percent-encoded), with a virtual-host bucket folded in. */
  rawPath: string;
  query: URLSearchParams;
  /** The query string without presigning params, original encoding kept. */
  forwardQuery: string;
}

/** Splits an S3 request URL into bucket/key (path-style, or `<bucket>.localhost` virtual-host style). */
export function s3Target(req: IncomingMessage): S3Target {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  let rawPath = q === -1 ? url : url.slice(0, q);
  const rawQuery = q === -1 ? '' : url.slice(q + 1);
  const host = String(req.headers.host ?? '').replace(/:\d+$/, '');
  const vhost = /^(.+)\.localhost$/.exec(host);
  if (vhost) rawPath = `/${vhost[1]}${rawPath}`;
  const segments = rawPath.replace(/^\//, '');
  const slash = segments.indexOf('/');
  const bucket = segments
    ? decodeURIComponent(slash === -1 ? segments : segments.slice(0, slash))
    : undefined;
  const rawKey = slash === -1 ? '' : segments.slice(slash + 1);
  const key = rawKey ? decodeURIComponent(rawKey) : undefined;
  const forwardQuery = rawQuery
    .split('&')
    .filter(
      (part) => part && !SIGNING_QUERY_PARAMS.has(decodeURIComponent(part.split('=')[0]!).toLowerCase()),
    )
    .join('&');
  return { bucket, key, rawPath, query: new URLSearchParams(rawQuery), forwardQuery };
}

/** Bucket sub-resources (query parameters) that name a Get/PutBucket<Sub> operation, in match order. */
const BUCKET_SUBRESOURCES = [
  'acl',
  'cors',
  'policy',
  'tagging',
  'website',
  'notification',
  'versioning',
  'lifecycle',
];

/** The S3 operation name of a request (used for fault rules and logs). */
export function s3Operation(method: string, target: S3Target, headers: IncomingMessage['headers']): string {
  const { bucket, key, query } = target;
  const has = (name: string) => query.has(name);
  /** `GetBucketAcl`, `PutBucketCors`, ...: the first bucket sub-resource named in the query. */
  const bucketSubresource = (verb: 'Get' | 'Put') => {
    const sub = BUCKET_SUBRESOURCES.find(has);
    return sub && `${verb}Bucket${sub[0]!.toUpperCase()}${sub.slice(1)}`;
  };
  if (!bucket) return method === 'GET' ? 'ListBuckets' : 'Unknown';
  if (!key) {
    switch (method) {
      case 'GET':
        if (query.get('list-type') === '2') return 'ListObjectsV2';
        if (has('location')) return 'GetBucketLocation';
        if (has('uploads')) return 'ListMultipartUploads';
        if (has('versions')) return 'ListObjectVersions';
        return bucketSubresource('Get') ?? 'ListObjects';
      case 'HEAD':
        return 'HeadBucket';
      case 'PUT':
        return bucketSubresource('Put') ?? 'CreateBucket';
      case 'DELETE':
        return 'DeleteBucket';
      case 'POST':
        return has('delete') ? 'DeleteObjects' : 'PostObject';
      default:
        return 'Unknown';
    }
  }
  switch (method) {
    case 'GET':
      if (has('uploadId')) return 'ListParts';
      if (has('tagging')) return 'GetObjectTagging';
      if (has('acl')) return 'GetObjectAcl';
      return 'GetObject';
    case 'HEAD':
      return 'HeadObject';
    case 'PUT':
      if (has('uploadId') && has('partNumber'))
        return headers['x-amz-copy-source'] ? 'UploadPartCopy' : 'UploadPart';
      if (has('tagging')) return 'PutObjectTagging';
      if (has('acl')) return 'PutObjectAcl';
      return headers['x-amz-copy-source'] ? 'CopyObject' : 'PutObject';
    case 'POST':
      if (has('uploads')) return 'CreateMultipartUpload';
      if (has('uploadId')) return 'CompleteMultipartUpload';
      return 'PostObject';
    case 'DELETE':
      return has('uploadId') ? 'AbortMultipartUpload' : 'DeleteObject';
    default:
      return 'Unknown';
  }
}

/** The keys a DeleteObjects body names (none when it cannot be parsed). */
export function deleteObjectsKeys(xml: string): string[] {
  try {
    const parsed = new XMLParser({ parseTagValue: false, isArray: (name) => name === 'Object' }).parse(xml);
    return (parsed?.Delete?.Object ?? []).map((o: { Key: unknown }) => String(o.Key));
  } catch {
    return [];
  }
}

/** An S3 REST error body. */
export function s3ErrorXml(error: LocalAwsError, requestId: string, resource?: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${escapeXml(error.code)}</Code><Message>${escapeXml(error.message)}</Message>${resource ? `<Resource>${escapeXml(resource)}</Resource>` : ''}<RequestId>${escapeXml(requestId)}</RequestId></Error>`;
}

export function sendS3Error(
  res: ServerResponse,
  req: IncomingMessage,
  error: LocalAwsError,
  requestId: string,
): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = req.method === 'HEAD' ? '' : s3ErrorXml(error, requestId, req.url);
  res.writeHead(error.status, {
    'content-type': 'application/xml',
    'content-length': Buffer.byteLength(body),
    'x-amz-request-id': requestId,
  });
  res.end(body);
}

/** One request on its way to s3rver. */
interface ForwardCall {
  req: IncomingMessage;
  res: ServerResponse;
  target: S3Target;
  operation: string;
  requestId: string;
  headers: Record<string, string | string[]>;
  body: NodeJS.ReadableStream;
  onMissingObject?: () => LocalAwsError | undefined;
}

interface ForwardHooks {
  /** Extra response headers of a successful answer (computed before it is sent). */
  headers?: (responseHeaders: IncomingHttpHeaders) => Promise<Record<string, string>>;
  /** Rewrites the XML body of a 200 answer (it may add response headers). */
  rewrite?: (xml: string, responseHeaders: IncomingHttpHeaders) => Promise<string>;
  /** Called once the answer went out (or failed). */
  done?: () => void;
}

/**
 * The algorithm `x-amz-checksum-algorithm` names (CreateMultipartUpload, CopyObject), if any.
 * @throws LocalAwsError InvalidRequest for an algorithm S3 does not know.
 */
function namedAlgorithm(headers: IncomingHttpHeaders): ChecksumAlgorithm | undefined {
  const named = headers['x-amz-checksum-algorithm'];
  if (named === undefined) return undefined;
  const upper = String(named).toUpperCase();
  if (!isChecksumAlgorithm(upper))
    throw new LocalAwsError('InvalidRequest', 'Checksum algorithm provided is unsupported.', 400);
  return upper;
}

const toS3Error = (error: unknown): LocalAwsError =>
  error instanceof LocalAwsError
    ? error
    : new LocalAwsError('InternalError', `local S3 failed: ${(error as Error).message}`, 500);

export class S3Backend {
  private child?: ChildProcess;
  private checksumStore?: ChecksumStore;
  private internalPort = 0;
  private readonly bucketAttributes = new Map<string, BucketAttributes>();
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  private stopping = false;

  constructor(private readonly options: S3BackendOptions) {}

  get port(): number {
    return this.internalPort;
  }

  get directory(): string {
    return join(this.options.dataDir, 's3');
  }

  /** Starts s3rver in a child process (with the legacy OpenSSL provider; without it if the flag is refused). */
  async start(): Promise<void> {
    mkdirSync(this.directory, { recursive: true });
    try {
      await this.startChild(['--openssl-legacy-provider']);
    } catch (error) {
      this.options.log?.(
        `s3rver did not start with --openssl-legacy-provider (${String(error)}); starting without it: paginated ListObjectsV2 will fail`,
      );
      await this.startChild([]);
    }
  }

  private startChild(execArgv: string[]): Promise<void> {
    const script = fileURLToPath(new URL('./s3rver-child.cjs', import.meta.url));
    const child = fork(script, [], {
      execArgv,
      env: {
        ...process.env,
        NODE_OPTIONS: '',
        S3RVER_DIRECTORY: this.directory,
        S3RVER_BUCKETS: JSON.stringify(this.options.buckets ?? []),
      },
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    });
    let stderr = '';
    child.stderr?.on('data', (data: Buffer) => {
      stderr = (stderr + data.toString()).slice(-4000);
    });
    return new Promise((resolve, reject) => {
      const timeout = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`s3rver did not start within 30 s: ${stderr}`));
      }, 30_000);
      child.on(
        'message',
        (message: {
          type: string;
          port?: number;
          event?: { Records?: S3EventRecord[] };
          message?: string;
        }) => {
          if (message.type === 'ready') {
            clearTimeout(timeout);
            this.internalPort = message.port!;
            this.child = child;
            resolve();
          } else if (message.type === 'event') {
            for (const record of message.event?.Records ?? []) this.dispatch(record);
          } else if (message.type === 'error') {
            clearTimeout(timeout);
            reject(new Error(message.message));
          }
        },
      );
      child.on('exit', (code, signal) => {
        clearTimeout(timeout);
        if (!this.child) reject(new Error(`s3rver exited (${code ?? signal}): ${stderr}`));
        else if (!this.stopping)
          this.options.log?.(`s3rver exited unexpectedly (${code ?? signal}): ${stderr}`);
      });
    });
  }

  private dispatch(record: S3EventRecord): void {
    record.awsRegion = this.bucketAttributes.get(record.s3.bucket.name)?.region ?? this.options.region;
    try {
      this.options.onEvent(record);
    } catch (error) {
      this.options.log?.(`S3 event listener failed: ${String(error)}`);
    }
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.agent.destroy();
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        resolve();
      }, 3000);
      child.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      if (child.connected) child.send({ type: 'stop' });
      else child.kill('SIGTERM');
    });
  }

  setBucketAttributes(bucket: string, attributes: BucketAttributes): void {
    this.bucketAttributes.set(bucket, { ...this.bucketAttributes.get(bucket), ...attributes });
  }

  getBucketAttributes(bucket: string): BucketAttributes {
    return {
      owner: this.options.accountId,
      region: this.options.region,
      ...this.bucketAttributes.get(bucket),
    };
  }

  allBucketAttributes(): Record<string, BucketAttributes> {
    return Object.fromEntries(this.bucketAttributes);
  }

  /** Creates a bucket (no error if it exists and is ours). */
  async createBucket(name: string): Promise<void> {
    const status = await new Promise<number>((resolve, reject) => {
      const req = http.request(
        {
          host: '127.0.0.1',
          port: this.internalPort,
          method: 'PUT',
          path: `/${encodeURIComponent(name)}`,
          agent: this.agent,
        },
        (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        },
      );
      req.on('error', reject);
      req.end();
    });
    if (status >= 300 && status !== 409) throw new Error(`CreateBucket ${name} failed with HTTP ${status}`);
  }

  /** Lists bucket names (through s3rver's ListBuckets). */
  async listBuckets(): Promise<string[]> {
    const body = await new Promise<string>((resolve, reject) => {
      const req = http.request(
        { host: '127.0.0.1', port: this.internalPort, method: 'GET', path: '/', agent: this.agent },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (d: string) => {
            text += d;
          });
          res.on('end', () => resolve(text));
        },
      );
      req.on('error', reject);
      req.end();
    });
    return [...body.matchAll(/<Name>([^<]*)<\/Name>/g)].map((m) => m[1]!);
  }

  /**
   * Forwards one S3 request to s3rver (unsigned) and streams the response back. Throws
   * LocalAwsError for requests the router must refuse (expected bucket owner mismatch, a malformed
   * checksum request).
   */
  proxy(
    req: IncomingMessage,
    res: ServerResponse,
    target: S3Target,
    operation: string,
    requestId: string,
    /** The body when the router already read it (DeleteObjects). */
    readBody?: Buffer,
    /**
     * Called when the object does not exist: an error to answer instead of NoSuchKey (S3 answers
     * AccessDenied to a caller that may not list the bucket).
     */
    onMissingObject?: () => LocalAwsError | undefined,
  ): void {
    const expectedOwner =
      req.headers['x-amz-expected-bucket-owner'] ?? target.query.get('x-amz-expected-bucket-owner');
    if (expectedOwner && target.bucket) {
      const owner = this.getBucketAttributes(target.bucket).owner;
      if (String(expectedOwner) !== owner) {
        throw new LocalAwsError('AccessDenied', 'Access Denied', 403);
      }
    }

    const headers: Record<string, string | string[]> = {};
    for (const [name, value] of Object.entries(req.headers)) {
      if (value === undefined || DROPPED_HEADERS.has(name)) continue;
      headers[name] = value;
    }
    headers.host = `127.0.0.1:${this.internalPort}`;
    let body: NodeJS.ReadableStream = readBody ? Readable.from([readBody]) : req;
    let decoder: AwsChunkedDecoder | undefined;
    if (!readBody && isAwsChunked(req.headers)) {
      const decoded = req.headers['x-amz-decoded-content-length'];
      const encodings = String(req.headers['content-encoding'] ?? '')
        .split(',')
        .map((e) => e.trim())
        .filter((e) => e && e !== 'aws-chunked');
      if (encodings.length > 0) headers['content-encoding'] = encodings.join(', ');
      else delete headers['content-encoding'];
      headers['x-amz-content-sha256'] = 'UNSIGNED-PAYLOAD';
      if (decoded !== undefined) {
        headers['content-length'] = String(decoded);
        delete headers['transfer-encoding'];
      } else {
        delete headers['content-length'];
        headers['transfer-encoding'] = 'chunked';
      }
      decoder = new AwsChunkedDecoder();
      body = req.pipe(decoder);
    }
    const call: ForwardCall = { req, res, target, operation, requestId, headers, body, onMissingObject };
    const checksums = this.checksums;
    if (target.bucket && target.key && (operation === 'PutObject' || operation === 'UploadPart')) {
      const uploadId = target.query.get('uploadId') ?? '';
      const uploadAlgorithm = operation === 'UploadPart' ? checksums.uploadAlgorithm(uploadId) : undefined;
      const requested = requestedChecksum(req.headers, uploadAlgorithm);
      if (requested) {
        for (const name of Object.keys(headers)) if (name.startsWith('x-amz-checksum-')) delete headers[name];
        this.forwardValidated(call, requested, decoder).catch((error) =>
          sendS3Error(res, req, toS3Error(error), requestId),
        );
        return;
      }
    }
    if (target.bucket && target.key && operation === 'CreateMultipartUpload') {
      const named = namedAlgorithm(req.headers);
      if (named) {
        const type = String(
          req.headers['x-amz-checksum-type'] ?? (named === 'CRC64NVME' ? 'FULL_OBJECT' : 'COMPOSITE'),
        );
        if (type !== 'COMPOSITE' && type !== 'FULL_OBJECT')
          throw new LocalAwsError('InvalidRequest', 'Value for x-amz-checksum-type header is invalid.', 400);
        if (type === 'COMPOSITE' && named === 'CRC64NVME')
          throw new LocalAwsError(
            'InvalidRequest',
            'The COMPOSITE checksum type cannot be used with the crc64nvme checksum algorithm.',
            400,
          );
        if (type === 'FULL_OBJECT' && !CRC_ALGORITHMS.includes(named))
          throw new LocalAwsError(
            'InvalidRequest',
            `The FULL_OBJECT checksum type cannot be used with the ${named.toLowerCase()} checksum algorithm.`,
            400,
          );
        this.forward(call, {
          rewrite: async (xml, responseHeaders) => {
            const uploadId = /<UploadId>([^<]+)<\/UploadId>/.exec(xml)?.[1];
            if (uploadId) checksums.startUpload(uploadId, named, type);
            responseHeaders['x-amz-checksum-algorithm'] = named;
            responseHeaders['x-amz-checksum-type'] = type;
            return xml;
          },
        });
        return;
      }
    }
    if (target.bucket && target.key && operation === 'CompleteMultipartUpload') {
      this.forwardComplete(call).catch((error) => sendS3Error(res, req, toS3Error(error), requestId));
      return;
    }
    if (target.bucket && target.key && operation === 'CopyObject') {
      this.forwardCopy(call).catch((error) => sendS3Error(res, req, toS3Error(error), requestId));
      return;
    }
    if (target.bucket && target.key && operation === 'UploadPartCopy') {
      this.forwardPartCopy(call).catch((error) => sendS3Error(res, req, toS3Error(error), requestId));
      return;
    }
    const checksumMode = String(
      req.headers['x-amz-checksum-mode'] ?? target.query.get('x-amz-checksum-mode') ?? '',
    ).toUpperCase();
    if (
      target.bucket &&
      target.key &&
      (operation === 'GetObject' || operation === 'HeadObject') &&
      target.query.has('partNumber')
    ) {
      this.forwardPart(
        call,
        parsePartNumber(target.query.get('partNumber') ?? ''),
        checksumMode === 'ENABLED',
      ).catch((error) => sendS3Error(res, req, toS3Error(error), requestId));
      return;
    }
    // S3 returns no checksum of the whole object for a range (it would not describe the bytes).
    if (
      target.bucket &&
      target.key &&
      (operation === 'GetObject' || operation === 'HeadObject') &&
      checksumMode === 'ENABLED' &&
      !req.headers.range
    ) {
      const { bucket, key } = target;
      this.forward(call, {
        headers: async (responseHeaders) => {
          const checksum = checksums.get(bucket, key, String(responseHeaders.etag ?? ''))?.checksum;
          return checksum ? checksumHeaders(checksum.algorithm, checksum.value, checksum.type) : {};
        },
      });
      return;
    }
    if (target.bucket && target.key && operation === 'PutObject') {
      // A PutObject without a checksum (the FSx emulator's exports among them) can be corrupted too.
      const { bucket, key } = target;
      this.forward(call, { headers: () => this.corruptionHeaders(bucket, key) });
      return;
    }
    this.forward(call);
  }

  /** The additional checksums beside s3rver's store. */
  get checksums(): ChecksumStore {
    this.checksumStore ??= new ChecksumStore(join(this.options.dataDir, 's3-checksums'), this.directory);
    return this.checksumStore;
  }

  /**
   * PutObject/UploadPart with a checksum: spools the body, compares the checksum (a header's, or
   * the aws-chunked trailer's) and only then lets s3rver store it; remembers the checksum.
   */
  private async forwardValidated(
    call: ForwardCall,
    requested: RequestedChecksum,
    decoder: AwsChunkedDecoder | undefined,
  ): Promise<void> {
    const { target, operation } = call;
    const bucket = target.bucket as string;
    const key = target.key as string;
    const spooled = await spoolBody(call.body, requested.algorithm);
    try {
      const expected =
        requested.value ?? (requested.trailer ? decoder?.trailers.get(requested.trailer) : undefined);
      if (requested.trailer && expected === undefined) {
        throw new LocalAwsError(
          'InvalidRequest',
          `The request is missing the trailer ${requested.trailer}.`,
          400,
        );
      }
      if (expected !== undefined && expected !== spooled.checksum) throw badDigest(requested.algorithm);
      const headers: Record<string, string | string[]> = {
        ...call.headers,
        'content-length': String(spooled.size),
      };
      delete headers['transfer-encoding'];
      const checksums = this.checksums;
      await new Promise<void>((resolve) => {
        this.forward(
          { ...call, headers, body: createReadStream(spooled.path) },
          {
            headers: async (responseHeaders) => {
              const etag = String(responseHeaders.etag ?? '');
              if (operation === 'UploadPart') {
                await checksums.putPart(
                  target.query.get('uploadId') ?? '',
                  target.query.get('partNumber') ?? '',
                  {
                    size: spooled.size,
                    checksum: spooled.checksum,
                    etag,
                  },
                );
                return checksumHeaders(requested.algorithm, spooled.checksum);
              }
              checksums.put(bucket, key, {
                etag,
                checksum: { algorithm: requested.algorithm, type: 'FULL_OBJECT', value: spooled.checksum },
              });
              return {
                ...checksumHeaders(requested.algorithm, spooled.checksum, 'FULL_OBJECT'),
                ...(await this.corruptionHeaders(bucket, key)),
              };
            },
            done: resolve,
          },
        );
      });
    } finally {
      await spooled.remove();
    }
  }

  /**
   * CompleteMultipartUpload: checks the parts' checksums against the uploaded ones, then keeps the
   * object's parts (size, MD5, checksum: for `partNumber` reads) and checksum (composite, or
   * full-object over the assembled bytes), and gives the object S3's multipart ETag (the MD5 of the
   * parts' MD5s, `-<parts>`; s3rver would give the MD5 of it all).
   */
  private async forwardComplete(call: ForwardCall): Promise<void> {
    const { target } = call;
    const bucket = target.bucket as string;
    const key = target.key as string;
    const uploadId = target.query.get('uploadId') ?? '';
    const chunks: Buffer[] = [];
    for await (const chunk of call.body) chunks.push(Buffer.from(chunk as Buffer));
    const requestBody = Buffer.concat(chunks);
    const parsed = new XMLParser({ parseTagValue: false, isArray: (name) => name === 'Part' }).parse(
      requestBody.toString('utf8'),
    );
    const listed: Record<string, string>[] = parsed?.CompleteMultipartUpload?.Part ?? [];
    const checksums = this.checksums;
    const upload = checksums.upload(uploadId);
    if (upload) {
      const field = `Checksum${upload.algorithm}`;
      for (const part of listed) {
        const sent = part[field];
        const stored = upload.parts[String(part.PartNumber)];
        if (sent === undefined) {
          throw new LocalAwsError(
            'InvalidRequest',
            `The upload was created using a ${upload.algorithm.toLowerCase()} checksum. The complete request must include the checksum for each part. It was missing for part ${part.PartNumber} in the request.`,
            400,
          );
        }
        if (!stored || stored.checksum !== sent) {
          throw new LocalAwsError(
            'InvalidPart',
            "One or more of the specified parts could not be found.  The part may not have been uploaded, or the specified entity tag may not match the part's entity tag.",
            400,
          );
        }
      }
    }
    // s3rver removes its part files when it assembles the object: read their sizes first.
    const found = await Promise.all(
      listed.map((part) => checksums.uploadedPart(bucket, uploadId, Number(part.PartNumber))),
    );
    const parts: StoredPart[] | undefined = found.every((part) => part !== undefined)
      ? found.map((part, i) => ({
          ...part,
          ...(upload ? { checksum: upload.parts[String(listed[i]?.PartNumber)]?.checksum } : {}),
        }))
      : undefined;
    const etag = multipartEtag(listed.map((part) => String(part.ETag ?? '').replaceAll('"', '')));
    await new Promise<void>((resolve) => {
      this.forward(
        { ...call, body: Readable.from([requestBody]) },
        {
          rewrite: async (xml, responseHeaders) => {
            if (!xml.includes('<CompleteMultipartUploadResult')) return xml;
            await checksums.setEtag(bucket, key, etag);
            let extra = '';
            let checksum: ObjectChecksum | undefined;
            if (upload) {
              const value =
                upload.type === 'COMPOSITE'
                  ? await compositeChecksum(
                      upload.algorithm,
                      listed.map((part) => upload.parts[String(part.PartNumber)]?.checksum as string),
                    )
                  : await checksumOfFile(upload.algorithm, checksums.objectPaths(bucket, key).data);
              const expected = call.req.headers[`x-amz-checksum-${upload.algorithm.toLowerCase()}`];
              if (expected !== undefined && String(expected) !== value) throw badDigest(upload.algorithm);
              checksum = { algorithm: upload.algorithm, type: upload.type, value };
              await checksums.endUpload(uploadId);
              extra = `<Checksum${upload.algorithm}>${escapeXml(value)}</Checksum${upload.algorithm}><ChecksumType>${upload.type}</ChecksumType>`;
              Object.assign(responseHeaders, checksumHeaders(upload.algorithm, value, upload.type));
            }
            if (checksum || parts)
              checksums.put(bucket, key, {
                etag,
                ...(checksum ? { checksum } : {}),
                ...(parts ? { parts } : {}),
              });
            else checksums.remove(bucket, key);
            const corrupted = await this.applyCorruption(bucket, key);
            if (corrupted?.checksum) {
              const { algorithm, value, type } = corrupted.checksum;
              extra = `<Checksum${algorithm}>${escapeXml(value)}</Checksum${algorithm}><ChecksumType>${type}</ChecksumType>`;
              Object.assign(responseHeaders, checksumHeaders(algorithm, value, type));
            }
            return xml
              .replace(/<ETag>[^<]*<\/ETag>/, `<ETag>${escapeXml(corrupted?.etag ?? etag)}</ETag>`)
              .replace('</CompleteMultipartUploadResult>', `${extra}</CompleteMultipartUploadResult>`);
          },
          done: resolve,
        },
      );
    });
  }

  /**
   * GetObject/HeadObject with `partNumber`: the part's bytes (a range of the object),
   * `x-amz-mp-parts-count` and, with ChecksumMode ENABLED, the part's checksum with the object's
   * checksum type, as S3 answers. Part 1 of an object not uploaded in parts is the whole object.
   */
  private async forwardPart(call: ForwardCall, partNumber: number, checksumMode: boolean): Promise<void> {
    const bucket = call.target.bucket as string;
    const key = call.target.key as string;
    const checksums = this.checksums;
    const etag = await checksums.etag(bucket, key);
    const stored = checksums.get(bucket, key, etag);
    const forwardQuery = call.target.forwardQuery
      .split('&')
      .filter((part) => part.split('=')[0] !== 'partNumber')
      .join('&');
    const target = { ...call.target, forwardQuery };
    const parts = stored?.parts;
    // A missing object: s3rver answers NoSuchKey.
    if (etag === undefined || !parts) {
      if (etag !== undefined && partNumber !== 1) throw invalidPartNumber();
      const checksum = checksumMode ? stored?.checksum : undefined;
      this.forward(
        { ...call, target },
        {
          headers: async () =>
            checksum ? checksumHeaders(checksum.algorithm, checksum.value, checksum.type) : {},
        },
      );
      return;
    }
    const range = partRange(parts, partNumber);
    if (!range) throw invalidPartNumber();
    const part = parts[partNumber - 1] as StoredPart;
    const checksum = checksumMode ? stored?.checksum : undefined;
    const headers = {
      ...call.headers,
      ...(range.end >= range.start ? { range: `bytes=${range.start}-${range.end}` } : {}),
    };
    this.forward(
      { ...call, target, headers },
      {
        headers: async () => ({
          'x-amz-mp-parts-count': String(parts.length),
          ...(checksum && part.checksum
            ? checksumHeaders(checksum.algorithm, part.checksum, checksum.type)
            : {}),
        }),
      },
    );
  }

  /**
   * CopyObject: s3rver copies the bytes. S3 makes the copy "as a single action" whatever the
   * source, so it is a single-part object: its ETag is the MD5 of its bytes and its checksum is
   * full-object: of the requested algorithm, else of the source's (the value carried over when it
   * already was full-object, computed over the bytes when it was composite), else CRC64NVME, the
   * checksum S3 has given every new object since December 2024.
   * https://docs.aws.amazon.com/AmazonS3/latest/userguide/checking-object-integrity.html
   */
  private async forwardCopy(call: ForwardCall): Promise<void> {
    const bucket = call.target.bucket as string;
    const key = call.target.key as string;
    const source = parseCopySource(String(call.req.headers['x-amz-copy-source']));
    const requested = namedAlgorithm(call.req.headers);
    const checksums = this.checksums;
    const sourceChecksum = checksums.get(
      source.bucket,
      source.key,
      await checksums.etag(source.bucket, source.key),
    )?.checksum;
    const headers = { ...call.headers };
    delete headers['x-amz-checksum-algorithm'];
    await new Promise<void>((resolve) => {
      this.forward(
        { ...call, headers },
        {
          rewrite: async (xml) => {
            if (!xml.includes('<CopyObjectResult')) return xml;
            const { data } = checksums.objectPaths(bucket, key);
            const etag = `"${await md5OfFile(data)}"`;
            await checksums.setEtag(bucket, key, etag);
            const algorithm = requested ?? sourceChecksum?.algorithm ?? 'CRC64NVME';
            const value =
              !requested && sourceChecksum?.type === 'FULL_OBJECT'
                ? sourceChecksum.value
                : await checksumOfFile(algorithm, data);
            checksums.put(bucket, key, { etag, checksum: { algorithm, type: 'FULL_OBJECT', value } });
            return xml
              .replace(/<ETag>[^<]*<\/ETag>/, `<ETag>${escapeXml(etag)}</ETag>`)
              .replace(
                '</CopyObjectResult>',
                `<Checksum${algorithm}>${escapeXml(value)}</Checksum${algorithm}><ChecksumType>FULL_OBJECT</ChecksumType></CopyObjectResult>`,
              );
          },
          done: resolve,
        },
      );
    });
  }

  /**
   * UploadPartCopy (s3rver has none): uploads the source's bytes (all, or `x-amz-copy-source-range`)
   * as the part, with the upload's checksum when it was created with an algorithm, and answers
   * CopyPartResult (ETag, LastModified, the part's checksum) as S3 does.
   */
  private async forwardPartCopy(call: ForwardCall): Promise<void> {
    const { target } = call;
    const source = parseCopySource(String(call.req.headers['x-amz-copy-source']));
    const checksums = this.checksums;
    const { data } = checksums.objectPaths(source.bucket, source.key);
    const size = await stat(data).then(
      (info) => info.size,
      () => {
        throw new LocalAwsError('NoSuchKey', 'The specified key does not exist.', 404);
      },
    );
    const rangeHeader = call.req.headers['x-amz-copy-source-range'];
    const range = parseCopySourceRange(rangeHeader === undefined ? undefined : String(rangeHeader), size);
    const length = range.end - range.start + 1;
    const uploadId = target.query.get('uploadId') ?? '';
    const partNumber = target.query.get('partNumber') ?? '';
    const algorithm = checksums.uploadAlgorithm(uploadId);
    const checksum = algorithm ? createChecksum(algorithm) : undefined;
    const body =
      length > 0
        ? createReadStream(data, { start: range.start, end: range.end }).pipe(
            new Transform({
              transform(chunk: Buffer, _encoding, callback) {
                checksum?.update(chunk);
                callback(null, chunk);
              },
            }),
          )
        : Readable.from([]);
    const headers: Record<string, string | string[]> = { 'content-length': String(length) };
    for (const [name, value] of Object.entries(call.headers)) {
      if (!name.startsWith('x-amz-copy-source') && name !== 'transfer-encoding' && name !== 'content-length')
        headers[name] = value;
    }
    await new Promise<void>((resolve) => {
      this.forward(
        { ...call, headers, body },
        {
          rewrite: async (_xml, responseHeaders) => {
            const etag = String(responseHeaders.etag ?? '');
            const value = checksum && Buffer.from(await checksum.digest()).toString('base64');
            if (algorithm && value)
              await checksums.putPart(uploadId, partNumber, { size: length, checksum: value, etag });
            responseHeaders['content-type'] = 'application/xml';
            const element = algorithm && value ? `<Checksum${algorithm}>${value}</Checksum${algorithm}>` : '';
            return `<?xml version="1.0" encoding="UTF-8"?>\n<CopyPartResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><ETag>${escapeXml(etag)}</ETag><LastModified>${new Date().toISOString()}</LastModified>${element}</CopyPartResult>`;
          },
          done: resolve,
        },
      );
    });
  }

  /**
   * The fault `corrupt-object`: flips a bit of a just stored object that a rule matches, whoever
   * wrote it (the FSx emulator's exports too). Returns what S3 then answers about the stored bytes
   * (their ETag and checksum) for the response, or undefined when no rule fired.
   */
  private async applyCorruption(
    bucket: string,
    key: string,
  ): Promise<{ etag: string; checksum?: ObjectChecksum } | undefined> {
    const rule = this.options.faults?.behavior('corrupt-object', { Bucket: bucket, Key: key });
    if (!rule) return undefined;
    const offset = await this.checksums.corrupt(bucket, key, rule.offset);
    this.options.log?.(`fault corrupt-object: flipped a bit of s3://${bucket}/${key} at byte ${offset}`);
    const etag = await this.checksums.etag(bucket, key);
    if (offset === undefined || etag === undefined) return undefined;
    const checksum = this.checksums.get(bucket, key, etag)?.checksum;
    return { etag, ...(checksum ? { checksum } : {}) };
  }

  /** The response headers of a stored object after `applyCorruption` (none when it did not fire). */
  private async corruptionHeaders(bucket: string, key: string): Promise<Record<string, string>> {
    const stored = await this.applyCorruption(bucket, key);
    if (!stored) return {};
    const { etag, checksum } = stored;
    return { etag, ...(checksum ? checksumHeaders(checksum.algorithm, checksum.value, checksum.type) : {}) };
  }

  /** Sends a prepared request to s3rver and its answer back (with the hooks of checksum requests). */
  private forward(call: ForwardCall, hooks: ForwardHooks = {}): void {
    const { req, res, target, operation, requestId, headers, body, onMissingObject } = call;
    // DeleteObjects: s3rver emits no events, so keep the (small) request body to report them.
    const deleteBody: Buffer[] | undefined = operation === 'DeleteObjects' ? [] : undefined;
    if (deleteBody) body.on('data', (chunk: Buffer) => deleteBody.push(chunk));

    const path = target.forwardQuery ? `${target.rawPath}?${target.forwardQuery}` : target.rawPath;
    const fail = (error: unknown) => {
      sendS3Error(res, req, toS3Error(error), requestId);
      hooks.done?.();
    };
    const upstream = http.request(
      { host: '127.0.0.1', port: this.internalPort, method: req.method, path, headers, agent: this.agent },
      (upstreamRes) => {
        const responseHeaders = { ...upstreamRes.headers };
        responseHeaders['x-amz-request-id'] ??= requestId;
        const bucketRegion = target.bucket ? this.getBucketAttributes(target.bucket).region : undefined;
        if (operation === 'HeadBucket' && bucketRegion) responseHeaders['x-amz-bucket-region'] = bucketRegion;
        const status = upstreamRes.statusCode ?? 500;
        const refused = status === 404 && target.key ? onMissingObject?.() : undefined;
        if (refused) {
          upstreamRes.resume();
          sendS3Error(res, req, refused, requestId);
          hooks.done?.();
          return;
        }
        if (operation === 'GetBucketLocation' && status === 200 && target.bucket) {
          upstreamRes.resume();
          const region = bucketRegion === 'us-east-1' ? '' : (bucketRegion ?? '');
          const xml = `<?xml version="1.0" encoding="UTF-8"?>\n<LocationConstraint xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${escapeXml(region)}</LocationConstraint>`;
          responseHeaders['content-length'] = String(Buffer.byteLength(xml));
          res.writeHead(200, responseHeaders);
          res.end(xml);
          return;
        }
        const rewrite = hooks.rewrite;
        if (rewrite && status === 200) {
          const chunks: Buffer[] = [];
          upstreamRes.on('data', (chunk: Buffer) => chunks.push(chunk));
          upstreamRes.on('end', () => {
            rewrite(Buffer.concat(chunks).toString('utf8'), responseHeaders).then((xml) => {
              responseHeaders['content-length'] = String(Buffer.byteLength(xml));
              delete responseHeaders['transfer-encoding'];
              res.writeHead(200, responseHeaders);
              res.end(xml);
              hooks.done?.();
            }, fail);
          });
          return;
        }
        const extraHeaders =
          hooks.headers && status < 300 ? hooks.headers(responseHeaders) : Promise.resolve({});
        extraHeaders.then((extra) => {
          res.writeHead(status, { ...responseHeaders, ...extra });
          upstreamRes.pipe(res);
          upstreamRes.on('end', () => hooks.done?.());
          if (deleteBody && status === 200) {
            upstreamRes.on('end', () =>
              this.reportDeletes(target.bucket!, Buffer.concat(deleteBody).toString('utf8')),
            );
          }
        }, fail);
      },
    );
    upstream.on('error', (error) => {
      fail(new LocalAwsError('InternalError', `local S3 backend failed: ${error.message}`, 500));
    });
    req.on('aborted', () => upstream.destroy());
    res.on('close', () => {
      if (!res.writableFinished) upstream.destroy();
      hooks.done?.();
    });
    body.pipe(upstream);
  }

  private reportDeletes(bucket: string, xml: string): void {
    for (const key of deleteObjectsKeys(xml)) {
      this.dispatch({
        eventVersion: '2.1',
        eventSource: 'aws:s3',
        awsRegion: this.options.region,
        eventTime: new Date().toISOString(),
        eventName: 'ObjectRemoved:Delete',
        s3: {
          bucket: { name: bucket, arn: `arn:aws:s3:::${bucket}` },
          object: { key, sequencer: Date.now().toString(16).toUpperCase() },
        },
        responseElements: { 'x-amz-request-id': randomUUID() },
      });
    }
  }
}
