/**
 * Signed HTTP requests for tests of the local HTTP API: `signedFetch` signs like the SDKs (the
 * smithy SigV4 signer, service `execute-api`); `botocoreHeaders` signs with botocore (the AWS CLI's
 * Python library, an independent implementation, as awscurl does).
 */
import { execFileSync } from 'node:child_process';
import { createHash, createHmac } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';
import { LOCAL_CREDENTIALS } from './local-clients.js';

/** SHA-256 / HMAC-SHA-256 from node:crypto in the shape the smithy signer takes. */
export class NodeSha256 {
  private readonly hash;
  constructor(secret?: string | Uint8Array) {
    this.hash = secret === undefined ? createHash('sha256') : createHmac('sha256', secret);
  }
  update(data: string | Uint8Array) {
    this.hash.update(data);
  }
  async digest() {
    return new Uint8Array(this.hash.digest());
  }
}

export interface SignedFetchOptions {
  method?: string;
  body?: string;
  headers?: Record<string, string>;
  credentials?: { accessKeyId: string; secretAccessKey: string };
  region?: string;
}

/** fetch() with a SigV4 signature for `execute-api` (as `@smithy/signature-v4` computes it). */
export async function signedFetch(url: string, options: SignedFetchOptions = {}): Promise<Response> {
  const target = new URL(url);
  const query: Record<string, string | string[]> = {};
  for (const [key, value] of target.searchParams) {
    const existing = query[key];
    query[key] =
      existing === undefined ? value : [...(Array.isArray(existing) ? existing : [existing]), value];
  }
  const signer = new SignatureV4({
    service: 'execute-api',
    region: options.region ?? 'us-east-1',
    credentials: options.credentials ?? LOCAL_CREDENTIALS,
    sha256: NodeSha256 as never,
  });
  const signed = await signer.sign({
    method: options.method ?? 'GET',
    protocol: target.protocol,
    hostname: target.hostname,
    port: Number(target.port),
    path: target.pathname,
    query,
    headers: { host: target.host, ...(options.headers ?? {}) },
    body: options.body,
  });
  const { host: _host, ...headers } = signed.headers;
  return fetch(url, { method: options.method ?? 'GET', headers, body: options.body });
}

/** The headers botocore's SigV4Auth adds for a request (X-Amz-Date, Authorization). */
export function botocoreHeaders(request: {
  method: string;
  url: string;
  body?: string;
  headers?: Record<string, string>;
}): Record<string, string> {
  const script = `
import json, sys
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
r = json.load(sys.stdin)
req = AWSRequest(method=r['method'], url=r['url'], data=r.get('body') or '', headers=r.get('headers') or {})
SigV4Auth(Credentials('test', 'test'), 'execute-api', 'us-east-1').add_auth(req)
print(json.dumps(dict(req.headers.items())))
`;
  const output = execFileSync('python3', ['-c', script], { input: JSON.stringify(request) });
  return JSON.parse(output.toString()) as Record<string, string>;
}
