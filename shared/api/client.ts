/**
 * A small client of the transfers API (AWS_IAM routes): every request is signed with SigV4 for
 * service `execute-api` by the SDK's own signer, with the default credential chain (environment,
 * profile, instance role ...). The demo and the end-to-end tests use it; pipelines can too.
 */
import { defaultProvider } from '@aws-sdk/credential-provider-node';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider, HttpRequest } from '@smithy/types';
import { Sha256 } from '../aws/sha256.js';

export interface ApiResponse<T = any> {
  status: number;
  headers: Record<string, string>;
  /** The parsed JSON body (a problem document for errors), or the text when it is not JSON. */
  body: T;
}

export interface TransfersApiOptions {
  region?: string;
  credentials?: AwsCredentialIdentity | AwsCredentialIdentityProvider;
}

/**
 * A client for the API at `baseUrl` (the stack's HttpApiUrl, or the local cloud's apiUrl).
 * Methods resolve with any HTTP status; they throw only when the request cannot be sent.
 */
export function transfersApi(baseUrl: string, options: TransfersApiOptions = {}) {
  const signer = new SignatureV4({
    service: 'execute-api',
    region: options.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1',
    credentials: options.credentials ?? defaultProvider(),
    sha256: Sha256,
  });
  const base = new URL(baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`);

  async function call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
    const url = new URL(path.replace(/^\//, ''), base);
    const payload = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
    const request: HttpRequest = {
      method,
      protocol: url.protocol,
      hostname: url.hostname,
      ...(url.port ? { port: Number(url.port) } : {}),
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers: {
        host: url.host,
        ...(payload === undefined ? {} : { 'content-type': 'application/json' }),
        ...Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v])),
      },
      ...(payload === undefined ? {} : { body: payload }),
    };
    const signed = await signer.sign(request);
    const response = await fetch(url, {
      method,
      headers: signed.headers as Record<string, string>,
      body: payload,
    });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // not JSON: keep the text
    }
    return {
      status: response.status,
      headers: Object.fromEntries(response.headers),
      body: parsed,
    } as ApiResponse;
  }

  return {
    post: (path: string, body: unknown, headers?: Record<string, string>) =>
      call('POST', path, body, headers),
    get: (path: string, headers?: Record<string, string>) => call('GET', path, undefined, headers),
    delete: (path: string, headers?: Record<string, string>) => call('DELETE', path, undefined, headers),
  };
}
