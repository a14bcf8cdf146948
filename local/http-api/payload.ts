/**
 * API Gateway HTTP API payload format 2.0 for Lambda proxy integrations ("Create AWS Lambda proxy
 * integrations for HTTP APIs"): the event a function receives, and how its response becomes the
 * HTTP response.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { APIGatewayProxyEventV2WithIAMAuthorizer } from 'aws-lambda';
import type { LocalPrincipal } from '../credentials.js';
import type { RouteMatch } from './routes.js';

export interface HttpRequestFacts {
  method: string;
  /** Path below the API's base URL, still encoded (`/transfers/a%20b`). */
  rawPath: string;
  rawQueryString: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
  sourceIp: string;
  /** Host of the request (the local cloud's `127.0.0.1:<port>`). */
  domainName: string;
  port: number;
}

export interface ApiContext {
  accountId: string;
  apiId: string;
  requestId: string;
  now: Date;
}

/** Content types API Gateway passes as text; any other body reaches the function base64-encoded. */
function isTextContent(contentType: string | undefined): boolean {
  if (!contentType) return true;
  const type = contentType.split(';')[0]!.trim().toLowerCase();
  return (
    type.startsWith('text/') ||
    type === 'application/json' ||
    type.endsWith('+json') ||
    type === 'application/xml' ||
    type.endsWith('+xml') ||
    type === 'application/javascript'
  );
}

/** `12/Mar/2020:19:03:58 +0000`, as requestContext.time. */
function apiGatewayTime(date: Date): string {
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${pad(date.getUTCDate())}/${months[date.getUTCMonth()]}/${date.getUTCFullYear()}:${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())} +0000`;
}

function decode(text: string): string {
  try {
    return decodeURIComponent(text.replace(/\+/g, ' '));
  } catch {
    return text;
  }
}

/**
 * The payload 2.0 event: header names lowercased and repeated headers joined with commas, cookies
 * in `cookies`, repeated query parameters joined with commas, `authorizer.iam` for signed routes.
 */
export function buildEvent(
  request: HttpRequestFacts,
  match: RouteMatch,
  context: ApiContext,
  principal: LocalPrincipal | undefined,
): APIGatewayProxyEventV2WithIAMAuthorizer {
  const headers: Record<string, string> = {};
  let cookies: string[] = [];
  for (const [name, value] of Object.entries(request.headers)) {
    if (value === undefined) continue;
    const text = Array.isArray(value) ? value.join(',') : value;
    if (name === 'cookie') cookies = text.split(/;\s*/).filter(Boolean);
    else headers[name.toLowerCase()] = text;
  }
  headers['x-forwarded-for'] = request.sourceIp;
  headers['x-forwarded-port'] = String(request.port);
  headers['x-forwarded-proto'] = 'http';
  headers['x-amzn-trace-id'] =
    `Root=1-${Math.floor(context.now.getTime() / 1000).toString(16)}-${randomBytes(12).toString('hex')}`;
  const query: Record<string, string> = {};
  for (const part of request.rawQueryString.split('&')) {
    if (!part) continue;
    const eq = part.indexOf('=');
    const key = decode(eq === -1 ? part : part.slice(0, eq));
    const value = eq === -1 ? '' : decode(part.slice(eq + 1));
    query[key] = key in query ? `${query[key]},${value}` : value;
  }
  const text = isTextContent(headers['content-type']);
  const hasBody = request.body.length > 0;
  const event = {
    version: '2.0',
    routeKey: match.route.routeKey,
    rawPath: request.rawPath,
    rawQueryString: request.rawQueryString,
    ...(cookies.length > 0 ? { cookies } : {}),
    headers,
    ...(Object.keys(query).length > 0 ? { queryStringParameters: query } : {}),
    ...(match.pathParameters ? { pathParameters: match.pathParameters } : {}),
    requestContext: {
      accountId: context.accountId,
      apiId: context.apiId,
      ...(principal
        ? {
            authorizer: {
              iam: {
                accessKey: principal.accessKeyId,
                accountId: principal.accountId,
                callerId: principal.userId,
                cognitoIdentity: null,
                principalOrgId: principal.principalOrgId ?? null,
                userArn: principal.arn,
                userId: principal.userId,
              },
            },
          }
        : {}),
      domainName: request.domainName,
      domainPrefix: request.domainName.split('.')[0]!.split(':')[0]!,
      http: {
        method: request.method.toUpperCase(),
        path: request.rawPath,
        protocol: 'HTTP/1.1',
        sourceIp: request.sourceIp,
        userAgent: headers['user-agent'] ?? '',
      },
      requestId: context.requestId,
      routeKey: match.route.routeKey,
      stage: '$default',
      time: apiGatewayTime(context.now),
      timeEpoch: context.now.getTime(),
    },
    ...(hasBody ? { body: text ? request.body.toString('utf8') : request.body.toString('base64') } : {}),
    isBase64Encoded: hasBody && !text,
  };
  return event as unknown as APIGatewayProxyEventV2WithIAMAuthorizer;
}

export interface HttpResponse {
  status: number;
  headers: Record<string, string | string[]>;
  body: Buffer;
}

export const INTERNAL_SERVER_ERROR: HttpResponse = jsonResponse(500, { message: 'Internal Server Error' });

export function jsonResponse(
  status: number,
  value: unknown,
  headers: Record<string, string> = {},
): HttpResponse {
  return {
    status,
    headers: { 'content-type': 'application/json', ...headers },
    body: Buffer.from(JSON.stringify(value)),
  };
}

/**
 * What API Gateway answers for a function's result (payload 2.0): an object with `statusCode` is
 * the response (`headers`, `cookies` as Set-Cookie, `body` string, `isBase64Encoded`); any other
 * JSON value is a 200 `application/json` response with that value as the body. A malformed
 * response (bad statusCode, a body that is not a string) is a 500.
 */
export function mapResult(result: unknown): HttpResponse {
  if (!result || typeof result !== 'object' || Array.isArray(result) || !('statusCode' in result)) {
    return {
      status: 200,
      headers: { 'content-type': 'application/json' },
      body: Buffer.from(JSON.stringify(result ?? null)),
    };
  }
  const response = result as {
    statusCode: unknown;
    headers?: Record<string, unknown>;
    cookies?: unknown;
    body?: unknown;
    isBase64Encoded?: unknown;
  };
  const status = Number(response.statusCode);
  if (!Number.isInteger(status) || status < 100 || status > 599) return INTERNAL_SERVER_ERROR;
  if (response.body !== undefined && response.body !== null && typeof response.body !== 'string') {
    return INTERNAL_SERVER_ERROR;
  }
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(response.headers ?? {})) {
    headers[name.toLowerCase()] = String(value);
  }
  headers['content-type'] ??= 'application/json';
  if (Array.isArray(response.cookies) && response.cookies.length > 0) {
    headers['set-cookie'] = response.cookies.map(String);
  }
  const text = typeof response.body === 'string' ? response.body : '';
  const body = response.isBase64Encoded === true ? Buffer.from(text, 'base64') : Buffer.from(text, 'utf8');
  return { status, headers, body };
}
