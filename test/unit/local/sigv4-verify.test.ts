/**
 * SigV4 verification of the local cloud (the HTTP API's AWS_IAM routes): requests signed the way
 * the SDKs sign them verify; a wrong secret, an unknown key, a stale date, a changed body, path or
 * query, or a missing signature fail with the error AWS answers.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { SignatureV4 } from '@smithy/signature-v4';
import { describe, expect, it } from 'vitest';
import { LocalCredentials } from '../../../local/credentials.js';
import { type SignedRequest, verifySigV4 } from '../../../local/protocols/sigv4-verify.js';
import { NodeSha256 } from '../../support/sigv4.js';

const credentials = new LocalCredentials('000000000000');
const HOST = '127.0.0.1:4566';
const PATH = '/_aws/execute-api/abcdefghij/transfers/t-1';

interface Sign {
  method?: string;
  path?: string;
  query?: Record<string, string | string[]>;
  body?: string;
  secret?: string;
  accessKeyId?: string;
  service?: string;
  date?: Date;
  applyChecksum?: boolean;
}

/** A request signed as the SDK signs it, in the shape the server receives it. */
async function signed(options: Sign = {}): Promise<SignedRequest> {
  const body = options.body ?? '';
  const signer = new SignatureV4({
    service: options.service ?? 'execute-api',
    region: 'us-east-1',
    credentials: { accessKeyId: options.accessKeyId ?? 'test', secretAccessKey: options.secret ?? 'test' },
    sha256: NodeSha256 as never,
    applyChecksum: options.applyChecksum,
  });
  const request = await signer.sign(
    {
      method: options.method ?? 'POST',
      protocol: 'http:',
      hostname: '127.0.0.1',
      port: 4566,
      path: options.path ?? PATH,
      query: options.query ?? {},
      headers: {
        host: HOST,
        'content-type': 'application/json',
        ...(body ? { 'content-length': String(body.length) } : {}),
      },
      body: body || undefined,
    },
    { signingDate: options.date ?? new Date() },
  );
  const query = Object.entries(options.query ?? {})
    .flatMap(([key, value]) =>
      (Array.isArray(value) ? value : [value]).map(
        (v) => `${encodeURIComponent(key)}=${encodeURIComponent(v)}`,
      ),
    )
    .join('&');
  const headers: IncomingHttpHeaders = {};
  for (const [name, value] of Object.entries(request.headers)) headers[name.toLowerCase()] = value;
  return { method: request.method, path: options.path ?? PATH, query, headers, body: Buffer.from(body) };
}

const verify = (request: SignedRequest, now?: Date) =>
  verifySigV4(request, {
    service: 'execute-api',
    region: 'us-east-1',
    lookup: (key) => credentials.get(key),
    now,
  });

describe('verifySigV4', () => {
  it('accepts a request signed with the local credentials and names the principal', async () => {
    const request = await signed({ body: '{"mapping":"data"}' });

    const result = await verify(request);

    expect(result).toEqual({
      principal: expect.objectContaining({
        accessKeyId: 'test',
        accountId: '000000000000',
        arn: 'arn:aws:iam::000000000000:user/test',
        userId: expect.stringMatching(/^AIDA[0-9A-F]{17}$/),
      }),
    });
  });

  it('accepts signatures without x-amz-content-sha256 and with encoded, repeated query parameters', async () => {
    const request = await signed({
      method: 'GET',
      applyChecksum: false,
      query: { status: ['RUNNING', 'QUEUED'], mapping: 'a b+c/d' },
    });

    const result = await verify(request);

    expect(request.headers['x-amz-content-sha256']).toBeUndefined();
    expect('principal' in result).toBe(true);
  });

  it('refuses a wrong secret with the signature mismatch message', async () => {
    const request = await signed({ secret: 'not-the-secret' });

    const result = await verify(request);

    expect(result).toEqual({
      failure: {
        errorType: 'InvalidSignatureException',
        message: expect.stringMatching(
          /^The request signature we calculated does not match the signature you provided\./,
        ),
      },
    });
  });

  it('refuses a changed body, path or query', async () => {
    const original = await signed({ body: '{"a":1}', applyChecksum: false });
    const withChecksum = await signed({ body: '{"a":1}' });

    const body = await verify({ ...original, body: Buffer.from('{"a":2}') });
    const checksummedBody = await verify({ ...withChecksum, body: Buffer.from('{"a":2}') });
    const path = await verify({ ...original, path: `${PATH}x` });
    const query = await verify({ ...original, query: 'extra=1' });

    for (const result of [body, checksummedBody, path, query]) {
      expect(result).toMatchObject({ failure: { errorType: 'InvalidSignatureException' } });
    }
  });

  it('refuses an unknown access key as an invalid security token', async () => {
    const result = await verify(await signed({ accessKeyId: 'AKIDUNKNOWN', secret: 'x' }));

    expect(result).toEqual({
      failure: {
        errorType: 'UnrecognizedClientException',
        message: 'The security token included in the request is invalid.',
      },
    });
  });

  it('refuses an unsigned request as missing its authentication token', async () => {
    const request = await signed();
    delete request.headers.authorization;

    const result = await verify(request);

    expect(result).toEqual({
      failure: { errorType: 'MissingAuthenticationTokenException', message: 'Missing Authentication Token' },
    });
  });

  it('refuses a signature more than 5 minutes old', async () => {
    const signedAt = new Date('2030-01-01T00:00:00Z');
    const request = await signed({ date: signedAt });

    const result = await verify(request, new Date('2030-01-01T00:10:00Z'));

    expect(result).toEqual({
      failure: {
        errorType: 'InvalidSignatureException',
        message:
          'Signature expired: 20300101T000000Z is now earlier than 20300101T000500Z (20300101T001000Z - 5 min.)',
      },
    });
  });

  it('refuses a credential scoped to another service, and an Authorization header that is not SigV4', async () => {
    const otherService = await verify(await signed({ service: 's3' }));
    const bearer = await signed();
    bearer.headers.authorization = 'Bearer abc';

    const notSigV4 = await verify(bearer);

    expect(otherService).toMatchObject({
      failure: {
        errorType: 'InvalidSignatureException',
        message: "Credential should be scoped to correct service: 'execute-api'.",
      },
    });
    expect(notSigV4).toMatchObject({ failure: { errorType: 'IncompleteSignatureException' } });
  });
});
