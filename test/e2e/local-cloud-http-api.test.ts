/**
 * The project's HTTP API on the local cloud (fixture routes): a SigV4-signed request reaches the
 * function with the API Gateway payload 2.0 event and its response comes back as API Gateway
 * maps it; unsigned, wrongly signed and unknown-key requests get API Gateway's 403s and never
 * reach the function; unknown routes are 404, function errors 500. `local up --json` prints the
 * API's base URL.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { APIGatewayProxyEventV2WithIAMAuthorizer } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { botocoreHeaders, signedFetch } from '../support/sigv4.js';
import type { TestCloud } from './local-cloud-helpers.js';
import { startFixtureCloud } from './triggers-helpers.js';

let t: TestCloud;

beforeAll(async () => {
  t = await startFixtureCloud();
}, 60_000);

afterAll(async () => {
  await t?.stop();
});

const invocationsOf = (key: string) =>
  t.cloud.lambdas.invocations.filter((invocation) => invocation.functionName === `fixture-local-${key}`);

describe('HTTP API: signed requests reach the handlers', () => {
  it('passes a payload 2.0 event with the IAM caller to the function, and maps its response', async () => {
    const url = `${t.cloud.apiUrl}/items?mapping=input&status=RUNNING&status=QUEUED`;
    const body = JSON.stringify({ mapping: 'input', direction: 'stage-in' });

    const res = await signedFetch(url, {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/json', cookie: 'session=abc; theme=dark', 'x-custom': 'One' },
    });
    const event = (await res.json()) as APIGatewayProxyEventV2WithIAMAuthorizer;

    expect(res.status).toBe(201);
    expect(res.headers.get('x-fixture-route')).toBe('POST /items');
    expect(res.headers.get('set-cookie')).toBe('fixture=1; Path=/');
    expect(res.headers.get('apigw-requestid')).toBe(event.requestContext.requestId);
    const host = new URL(t.cloud.endpoint).host;
    expect(event).toMatchObject({
      version: '2.0',
      routeKey: 'POST /items',
      rawPath: '/items',
      rawQueryString: 'mapping=input&status=RUNNING&status=QUEUED',
      cookies: ['session=abc', 'theme=dark'],
      queryStringParameters: { mapping: 'input', status: 'RUNNING,QUEUED' },
      body,
      isBase64Encoded: false,
      requestContext: {
        accountId: '000000000000',
        apiId: t.cloud.httpApi.apiId,
        authorizer: {
          iam: {
            accessKey: 'test',
            accountId: '000000000000',
            callerId: expect.stringMatching(/^AIDA/),
            cognitoIdentity: null,
            principalOrgId: null,
            userArn: 'arn:aws:iam::000000000000:user/test',
            userId: expect.stringMatching(/^AIDA/),
          },
        },
        domainName: host,
        http: { method: 'POST', path: '/items', protocol: 'HTTP/1.1', sourceIp: '127.0.0.1' },
        routeKey: 'POST /items',
        stage: '$default',
        time: expect.stringMatching(/^\d\d\/[A-Z][a-z]{2}\/\d{4}:\d\d:\d\d:\d\d \+0000$/),
        timeEpoch: expect.any(Number),
      },
    });
    expect(event.headers).toMatchObject({ 'content-type': 'application/json', 'x-custom': 'One', host });
    expect(event.headers.cookie).toBeUndefined();
    expect(Object.keys(event.headers).every((name) => name === name.toLowerCase())).toBe(true);
    expect(event.pathParameters).toBeUndefined();
  });

  it('selects the route with a path parameter and decodes it', async () => {
    const res = await signedFetch(`${t.cloud.apiUrl}/items/run%20one`);
    const event = (await res.json()) as APIGatewayProxyEventV2WithIAMAuthorizer;

    expect(res.status).toBe(200);
    expect(event).toMatchObject({
      routeKey: 'GET /items/{id}',
      rawPath: '/items/run%20one',
      pathParameters: { id: 'run one' },
    });
    expect(event.body).toBeUndefined();
  });

  it('accepts a request signed by botocore (as awscurl signs)', async () => {
    const url = `${t.cloud.apiUrl}/items?from=botocore`;
    const body = '{"signed":"by botocore"}';
    const headers = botocoreHeaders({
      method: 'POST',
      url,
      body,
      headers: { 'Content-Type': 'application/json' },
    });

    const res = await fetch(url, { method: 'POST', headers, body });

    expect(res.status).toBe(201);
    expect(((await res.json()) as { body: string }).body).toBe(body);
  });

  it('answers 200 JSON with the result of a function that returns no statusCode', async () => {
    const res = await fetch(`${t.cloud.apiUrl}/public/docs/readme`);

    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(await res.json()).toMatchObject({
      routeKey: 'GET /public/{proxy+}',
      pathParameters: { proxy: 'docs/readme' },
    });
  });
});

describe('HTTP API: what API Gateway refuses', () => {
  it('refuses an unsigned request to an AWS_IAM route with 403 Missing Authentication Token', async () => {
    const before = invocationsOf('api-echo').length;

    const res = await fetch(`${t.cloud.apiUrl}/items`, { method: 'POST', body: '{}' });

    expect(res.status).toBe(403);
    expect(res.headers.get('x-amzn-errortype')).toBe('MissingAuthenticationTokenException');
    expect(await res.json()).toEqual({ message: 'Missing Authentication Token' });
    expect(invocationsOf('api-echo')).toHaveLength(before);
  });

  it('refuses a request signed with the wrong secret, or an unknown key, with 403', async () => {
    const before = invocationsOf('api-echo').length;

    const wrongSecret = await signedFetch(`${t.cloud.apiUrl}/items`, {
      method: 'POST',
      body: '{}',
      credentials: { accessKeyId: 'test', secretAccessKey: 'wrong' },
    });
    const unknownKey = await signedFetch(`${t.cloud.apiUrl}/items`, {
      method: 'POST',
      body: '{}',
      credentials: { accessKeyId: 'AKIAUNKNOWN', secretAccessKey: 'test' },
    });

    expect(wrongSecret.status).toBe(403);
    expect(((await wrongSecret.json()) as { message: string }).message).toMatch(
      /^The request signature we calculated does not match the signature you provided\./,
    );
    expect(unknownKey.status).toBe(403);
    expect(await unknownKey.json()).toEqual({
      message: 'The security token included in the request is invalid.',
    });
    expect(invocationsOf('api-echo')).toHaveLength(before);
  });

  it('refuses a signed request whose body was changed on the way', async () => {
    const url = `${t.cloud.apiUrl}/items`;
    const headers = botocoreHeaders({
      method: 'POST',
      url,
      body: '{"a":1}',
      headers: { 'Content-Type': 'application/json' },
    });

    const res = await fetch(url, { method: 'POST', headers, body: '{"a":2}' });

    expect(res.status).toBe(403);
    expect(res.headers.get('x-amzn-errortype')).toBe('InvalidSignatureException');
  });

  it('answers 404 Not Found for an unknown route or API id, and 500 for a function error', async () => {
    const unknownRoute = await signedFetch(`${t.cloud.apiUrl}/nothing-here`);
    const unknownApi = await fetch(`${t.cloud.endpoint}/_aws/execute-api/aaaaaaaaaa/items`);
    const boom = await signedFetch(`${t.cloud.apiUrl}/boom`);

    expect(unknownRoute.status).toBe(404);
    expect(await unknownRoute.json()).toEqual({ message: 'Not Found' });
    expect(unknownApi.status).toBe(404);
    expect(boom.status).toBe(500);
    expect(await boom.json()).toEqual({ message: 'Internal Server Error' });
    expect(invocationsOf('api-fail').at(-1)?.error?.errorType).toBe('BoomError');
  });

  it('answers injected faults with their status', async () => {
    t.cloud.faults.add({
      service: 'execute-api',
      code: 'TooManyRequestsException',
      status: 429,
      count: 1,
      match: { routeKey: 'GET /items/{id}' },
    });

    const throttled = await signedFetch(`${t.cloud.apiUrl}/items/x`);
    const next = await signedFetch(`${t.cloud.apiUrl}/items/x`);

    expect(throttled.status).toBe(429);
    expect(next.status).toBe(200);
  });
});

describe('fsx-transfer local up', () => {
  it('prints the API base URL as apiUrl (and FSX_TRANSFER_API_URL) with --json', async () => {
    const root = fileURLToPath(new URL('../..', import.meta.url));
    const dir = mkdtempSync(join(tmpdir(), 'fsx-transfer-local-up-'));
    const child = spawn(
      process.execPath,
      [join(root, 'cli/bin.mjs'), 'local', 'up', '--json', '--port', '0', '--data-dir', join(dir, 'data')],
      { cwd: root, env: { ...process.env, FSX_TRANSFER_CONFIG: join(root, 'fsx-transfer.config.yaml') } },
    );
    try {
      const line = await new Promise<string>((resolve, reject) => {
        let out = '';
        child.stdout.on('data', (chunk) => {
          out += String(chunk);
          if (out.includes('\n')) resolve(out.split('\n')[0]!);
        });
        child.once('exit', (code) => reject(new Error(`local up exited with ${code}`)));
      });
      const printed = JSON.parse(line) as { endpoint: string; apiUrl: string; env: Record<string, string> };

      expect(printed.apiUrl).toMatch(new RegExp(`^${printed.endpoint}/_aws/execute-api/[a-z0-9]{10}$`));
      expect(printed.env.FSX_TRANSFER_API_URL).toBe(printed.apiUrl);
    } finally {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
