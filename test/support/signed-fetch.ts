/**
 * Raw HTTP requests to a local cloud, signed with SigV4 as an SDK would sign them (the local cloud
 * verifies every signature): for tests of the wire protocols themselves (malformed bodies, unknown
 * operations, error shapes) where an SDK client would refuse to send the request.
 */
import { SignatureV4 } from '@smithy/signature-v4';
import { Sha256 } from '../../shared/aws/sha256.js';
import { LOCAL_CREDENTIALS } from './local-clients.js';

export interface RawRequest {
  path?: string;
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  /** The signing name (`ssm`, `ec2`, `s3` ...); unsigned when absent. */
  service?: string;
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  region?: string;
}

export interface RawResponse {
  status: number;
  headers: Headers;
  text: string;
}

/** Sends `init` to `endpoint`, signed for `init.service` (default credentials: the local administrator). */
export async function rawRequest(endpoint: string, init: RawRequest): Promise<RawResponse> {
  const url = new URL(`${endpoint}${init.path ?? '/'}`);
  const method = init.method ?? 'POST';
  let headers: Record<string, string> = { ...init.headers };
  if (init.service) {
    const signer = new SignatureV4({
      service: init.service,
      region: init.region ?? 'us-east-1',
      credentials: init.credentials ?? LOCAL_CREDENTIALS,
      sha256: Sha256,
      uriEscapePath: init.service !== 's3',
    });
    const signed = await signer.sign({
      method,
      protocol: url.protocol,
      hostname: url.hostname,
      port: Number(url.port),
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers: { ...headers, host: url.host },
      body: init.body,
    });
    headers = signed.headers as Record<string, string>;
  }
  const { host: _host, ...sent } = headers;
  const res = await fetch(url, { method, headers: sent, body: init.body });
  return { status: res.status, headers: res.headers, text: await res.text() };
}

/** A presigned GET URL of an S3 object on `endpoint` (path-style), valid for `expiresIn` seconds from `signingDate`. */
export async function presignedGetUrl(
  endpoint: string,
  bucket: string,
  key: string,
  options: { expiresIn?: number; signingDate?: Date; credentials?: RawRequest['credentials'] } = {},
): Promise<string> {
  const url = new URL(`${endpoint}/${bucket}/${encodeURIComponent(key)}`);
  const signer = new SignatureV4({
    service: 's3',
    region: 'us-east-1',
    credentials: options.credentials ?? LOCAL_CREDENTIALS,
    sha256: Sha256,
    uriEscapePath: false,
  });
  const presigned = await signer.presign(
    {
      method: 'GET',
      protocol: url.protocol,
      hostname: url.hostname,
      port: Number(url.port),
      path: url.pathname,
      query: {},
      headers: { host: url.host, 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' },
    },
    {
      expiresIn: options.expiresIn ?? 900,
      signingDate: options.signingDate,
      unsignableHeaders: new Set(['x-amz-content-sha256']),
    },
  );
  const query = new URLSearchParams(presigned.query as Record<string, string>).toString();
  return `${url.origin}${url.pathname}?${query}`;
}
