/**
 * Verifying a SigV4 `Authorization` header the way an AWS endpoint does: parse it, check the
 * credential scope and the date (at most 5 minutes from now), find the secret of the access key,
 * then recompute the signature from the received request with `@smithy/signature-v4` (the signer
 * the SDKs use) over exactly the headers the client signed, and compare. Each failure carries the
 * error type and message AWS answers with (local/iam/service.ts turns it into each protocol's
 * error; the HTTP API sends them as 403 `{"message": ...}`). Used for every service of the local
 * cloud: S3 signs its path as sent (no second encoding), and its streamed bodies are not read
 * here, so their `x-amz-content-sha256` is taken as signed.
 *
 * Query-string (presigned) signatures are verified the same way, with their expiry
 * (`X-Amz-Expires`). Not supported: the `Date` header instead of `X-Amz-Date`, SigV4a.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { SignatureV4 } from '@smithy/signature-v4';
import type { LocalPrincipal } from '../credentials.js';

export interface SignedRequest {
  method: string;
  /** The path as received (still percent-encoded), without the query string. */
  path: string;
  /** The raw query string (without `?`). */
  query: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

export interface SigV4Failure {
  /** `x-amzn-ErrorType`: MissingAuthenticationTokenException, IncompleteSignatureException, ... */
  errorType: string;
  message: string;
}

export type SigV4Result = { principal: LocalPrincipal } | { failure: SigV4Failure };

export interface VerifyOptions {
  /** The signing name the scope must carry (`execute-api`). */
  service: string;
  region: string;
  lookup(accessKeyId: string): LocalPrincipal | undefined;
  now?: Date;
  /**
   * The body was not read (S3 streams it on): trust its `x-amz-content-sha256` header, which is
   * part of the signature, instead of hashing it.
   */
  bodyNotRead?: boolean;
}

/** Requests are valid 5 minutes either side of their X-Amz-Date. */
const MAX_SKEW_MS = 5 * 60 * 1000;
const SIGNATURE_MISMATCH =
  'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.';

/** SHA-256 (and HMAC-SHA-256 when given a secret) in the shape the smithy signer takes. */
type SourceData = string | ArrayBuffer | ArrayBufferView;

function bytes(data: SourceData): string | Uint8Array {
  if (typeof data === 'string') return data;
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return new Uint8Array(data);
}

class Sha256 {
  private readonly hash;

  constructor(secret?: SourceData) {
    this.hash = secret === undefined ? createHash('sha256') : createHmac('sha256', bytes(secret));
  }

  update(data: SourceData): void {
    this.hash.update(bytes(data));
  }

  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest());
  }
}

/** `20240102T030405Z` -> Date, or undefined when it is not ISO-8601 basic format. */
function parseAmzDate(value: string): Date | undefined {
  const match = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value);
  if (!match) return undefined;
  const [, y, mo, d, h, mi, s] = match.map(Number) as number[];
  const date = new Date(Date.UTC(y!, mo! - 1, d!, h!, mi!, s!));
  return Number.isNaN(date.getTime()) ? undefined : date;
}

function amzDate(date: Date): string {
  return date
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
}

/** Query parameters as the signer takes them (decoded; repeated keys as lists). */
function parseQuery(query: string): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const part of query.split('&')) {
    if (!part) continue;
    const eq = part.indexOf('=');
    const decode = (text: string) => {
      try {
        return decodeURIComponent(text);
      } catch {
        return text;
      }
    };
    const key = decode(eq === -1 ? part : part.slice(0, eq));
    const value = eq === -1 ? '' : decode(part.slice(eq + 1));
    const existing = out[key];
    out[key] = existing === undefined ? value : [...(Array.isArray(existing) ? existing : [existing]), value];
  }
  return out;
}

/** The `Authorization` header's fields, or the IncompleteSignatureException AWS answers. */
function parseAuthorization(header: string): { fields: Record<string, string> } | { failure: SigV4Failure } {
  const space = header.indexOf(' ');
  const algorithm = space === -1 ? header : header.slice(0, space);
  const fields: Record<string, string> = {};
  for (const part of (space === -1 ? '' : header.slice(space + 1)).split(',')) {
    const item = part.trim();
    if (!item) continue;
    const eq = item.indexOf('=');
    if (eq === -1) {
      return {
        failure: {
          errorType: 'IncompleteSignatureException',
          message: `${item} not a valid key=value pair (missing equal-sign) in Authorization header: '${header}'.`,
        },
      };
    }
    fields[item.slice(0, eq)] = item.slice(eq + 1);
  }
  if (algorithm !== 'AWS4-HMAC-SHA256') {
    return {
      failure: {
        errorType: 'IncompleteSignatureException',
        message: `Unsupported AWS 'algorithm': '${algorithm}' (only AWS4-HMAC-SHA256 for now).`,
      },
    };
  }
  const missing = ['Credential', 'Signature', 'SignedHeaders'].filter((name) => !fields[name]);
  if (missing.length > 0) {
    return {
      failure: {
        errorType: 'IncompleteSignatureException',
        message: `${missing.map((name) => `Authorization header requires '${name}' parameter.`).join(' ')} Authorization=${header}`,
      },
    };
  }
  return { fields };
}

/** A signer with the principal's secret, as the client's SDK built it for this scope. */
function signerFor(principal: LocalPrincipal, scopeService: string, scopeRegion: string): SignatureV4 {
  return new SignatureV4({
    service: scopeService,
    region: scopeRegion,
    credentials: {
      accessKeyId: principal.accessKeyId,
      secretAccessKey: principal.secretAccessKey,
      ...(principal.sessionToken ? { sessionToken: principal.sessionToken } : {}),
    },
    sha256: Sha256,
    applyChecksum: false,
    // S3 signs the path as sent; every other service signs it URI-encoded once more.
    uriEscapePath: scopeService !== 's3',
  });
}

/** The values of the headers the client signed, as received. */
function signedHeaderValues(request: SignedRequest, names: string[]): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const name of names) {
    const value = request.headers[name];
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(',') : value;
  }
  return headers;
}

/** The request as the signer takes it (hostname without the port; the Host header is signed as sent). */
function requestToSign(request: SignedRequest, headers: Record<string, string>) {
  return {
    method: request.method.toUpperCase(),
    protocol: 'http:',
    hostname: String(request.headers.host ?? '').replace(/:\d+$/, ''),
    path: request.path,
    headers,
  };
}

/** Constant-time comparison of the recomputed and the given signature. */
function sameSignature(expected: string, given: string): boolean {
  return expected.length === given.length && timingSafeEqual(Buffer.from(expected), Buffer.from(given));
}

/**
 * Verifies a request's SigV4 signature.
 * @returns the signing principal, or the failure AWS would answer with.
 */
export async function verifySigV4(request: SignedRequest, options: VerifyOptions): Promise<SigV4Result> {
  const header = request.headers.authorization;
  const query = parseQuery(request.query);
  if ((typeof header !== 'string' || header.trim() === '') && typeof query['X-Amz-Signature'] === 'string') {
    return verifyPresigned(request, query as Record<string, string>, options);
  }
  if (typeof header !== 'string' || header.trim() === '') {
    return {
      failure: { errorType: 'MissingAuthenticationTokenException', message: 'Missing Authentication Token' },
    };
  }
  const parsed = parseAuthorization(header.trim());
  if ('failure' in parsed) return parsed;
  const { fields } = parsed;
  const dateHeader = request.headers['x-amz-date'];
  if (typeof dateHeader !== 'string') {
    return {
      failure: {
        errorType: 'IncompleteSignatureException',
        message: `Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. Authorization=${header}`,
      },
    };
  }
  const date = parseAmzDate(dateHeader);
  if (!date) {
    return {
      failure: {
        errorType: 'IncompleteSignatureException',
        message: `Date must be in ISO-8601 'basic format'. Got '${dateHeader}'. See http://en.wikipedia.org/wiki/ISO_8601`,
      },
    };
  }
  const scope = fields.Credential!.split('/');
  if (scope.length !== 5) {
    return {
      failure: {
        errorType: 'IncompleteSignatureException',
        message: `Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '${fields.Credential}'`,
      },
    };
  }
  const [accessKeyId, scopeDate, scopeRegion, scopeService, terminator] = scope as [
    string,
    string,
    string,
    string,
    string,
  ];
  const scopeErrors = [
    scopeRegion !== options.region
      ? `Credential should be scoped to a valid region, not '${scopeRegion}'. `
      : '',
    scopeService !== options.service
      ? `Credential should be scoped to correct service: '${options.service}'. `
      : '',
    terminator !== 'aws4_request'
      ? `Credential should be scoped with a valid terminator: 'aws4_request', not '${terminator}'. `
      : '',
    scopeDate !== dateHeader.slice(0, 8)
      ? `Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '${scopeDate}' != '${dateHeader.slice(0, 8)}', from '${dateHeader}'.`
      : '',
  ].join('');
  if (scopeErrors)
    return { failure: { errorType: 'InvalidSignatureException', message: scopeErrors.trim() } };
  const signedHeaders = fields.SignedHeaders!.split(';').map((name) => name.trim().toLowerCase());
  if (!signedHeaders.includes('host')) {
    return {
      failure: {
        errorType: 'InvalidSignatureException',
        message: "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.",
      },
    };
  }
  const now = options.now ?? new Date();
  if (date.getTime() < now.getTime() - MAX_SKEW_MS) {
    return {
      failure: {
        errorType: 'InvalidSignatureException',
        message: `Signature expired: ${dateHeader} is now earlier than ${amzDate(new Date(now.getTime() - MAX_SKEW_MS))} (${amzDate(now)} - 5 min.)`,
      },
    };
  }
  if (date.getTime() > now.getTime() + MAX_SKEW_MS) {
    return {
      failure: {
        errorType: 'InvalidSignatureException',
        message: `Signature not yet current: ${dateHeader} is still later than ${amzDate(new Date(now.getTime() + MAX_SKEW_MS))} (${amzDate(now)} + 5 min.)`,
      },
    };
  }
  const principal = options.lookup(accessKeyId);
  const token = request.headers['x-amz-security-token'];
  if (
    !principal ||
    (token !== undefined && token !== principal.sessionToken) ||
    (principal.sessionToken && token === undefined)
  ) {
    return {
      failure: {
        errorType: 'UnrecognizedClientException',
        message: 'The security token included in the request is invalid.',
      },
    };
  }
  const contentHash = request.headers['x-amz-content-sha256'];
  if (
    !options.bodyNotRead &&
    typeof contentHash === 'string' &&
    contentHash !== 'UNSIGNED-PAYLOAD' &&
    contentHash !== createHash('sha256').update(request.body).digest('hex')
  ) {
    return { failure: { errorType: 'InvalidSignatureException', message: SIGNATURE_MISMATCH } };
  }

  // Recompute over exactly the headers the client signed (the signer adds X-Amz-Date and the
  // token itself, with the values the client signed).
  const signed = await signerFor(principal, scopeService, scopeRegion).sign(
    {
      ...requestToSign(request, signedHeaderValues(request, signedHeaders)),
      query: parseQuery(request.query),
      body: !options.bodyNotRead && request.body.length > 0 ? request.body : undefined,
    },
    { signingDate: date, signableHeaders: new Set(signedHeaders) },
  );
  const expected = /Signature=([0-9a-f]+)/.exec(String(signed.headers.authorization))?.[1] ?? '';
  if (!sameSignature(expected, fields.Signature!)) {
    return { failure: { errorType: 'InvalidSignatureException', message: SIGNATURE_MISMATCH } };
  }
  return { principal };
}

/** Query parameters a presigned URL adds; the signature covers the request without them. */
export const PRESIGN_PARAMETERS = [
  'X-Amz-Algorithm',
  'X-Amz-Credential',
  'X-Amz-Date',
  'X-Amz-Expires',
  'X-Amz-SignedHeaders',
  'X-Amz-Signature',
  'X-Amz-Security-Token',
];

/** A presigned request (S3's `X-Amz-*` query parameters), as S3 verifies it. */
async function verifyPresigned(
  request: SignedRequest,
  query: Record<string, string>,
  options: VerifyOptions,
): Promise<SigV4Result> {
  const denied = (message: string): SigV4Result => ({
    failure: { errorType: 'AccessDeniedException', message },
  });
  const [accessKeyId = '', , scopeRegion = '', scopeService = ''] = (query['X-Amz-Credential'] ?? '').split(
    '/',
  );
  const date = parseAmzDate(query['X-Amz-Date'] ?? '');
  const expires = Number(query['X-Amz-Expires']);
  if (query['X-Amz-Algorithm'] !== 'AWS4-HMAC-SHA256' || !date || !Number.isInteger(expires)) {
    return {
      failure: {
        errorType: 'IncompleteSignatureException',
        message:
          'Query-string authentication requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Date, X-Amz-Expires, X-Amz-SignedHeaders and X-Amz-Signature parameters.',
      },
    };
  }
  if ((options.now ?? new Date()).getTime() > date.getTime() + expires * 1000)
    return denied('Request has expired');
  const principal = options.lookup(accessKeyId);
  if (!principal || query['X-Amz-Security-Token'] !== principal.sessionToken) {
    return {
      failure: {
        errorType: 'UnrecognizedClientException',
        message: 'The security token included in the request is invalid.',
      },
    };
  }
  const signedHeaders = (query['X-Amz-SignedHeaders'] ?? 'host').split(';');
  const rest = Object.fromEntries(Object.entries(query).filter(([key]) => !PRESIGN_PARAMETERS.includes(key)));
  const headers = signedHeaderValues(request, signedHeaders);
  // S3 presigned URLs sign no payload.
  if (scopeService === 's3') headers['x-amz-content-sha256'] = 'UNSIGNED-PAYLOAD';
  const presigned = await signerFor(principal, scopeService, scopeRegion).presign(
    { ...requestToSign(request, headers), query: rest },
    {
      signingDate: date,
      expiresIn: expires,
      signableHeaders: new Set(signedHeaders),
      unsignableHeaders: new Set(['x-amz-content-sha256']),
    },
  );
  const same = sameSignature(
    String(presigned.query?.['X-Amz-Signature'] ?? ''),
    query['X-Amz-Signature'] ?? '',
  );
  return same
    ? { principal }
    : { failure: { errorType: 'InvalidSignatureException', message: SIGNATURE_MISMATCH } };
}
