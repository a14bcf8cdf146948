/**
 * The project's HTTP API (API Gateway v2, `httpApi` events in serverless.yml) on the local cloud,
 * under `<endpoint>/_aws/execute-api/<apiId>` (stage `$default`, so no stage in the path; S3
 * bucket names cannot start with `_`, so the prefix never collides with path-style S3).
 *
 * Each request selects a route as API Gateway does; routes with `authorizer: {type: aws_iam}`
 * require a SigV4 signature (service `execute-api`, the cloud's region) that verifies against the
 * local credentials, else 403 with API Gateway's message and `x-amzn-ErrorType`. The route's
 * function runs in the Lambda registry with the payload 2.0 event; its result becomes the
 * response (payload.ts). Unknown routes answer 404 `{"message":"Not Found"}`, function errors 500
 * `{"message":"Internal Server Error"}`. Fault rules with `service: execute-api` (operation
 * `Invoke`, match `routeKey`, `method`, `path`) answer their status with `{"message": ...}`.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { LocalCredentials, LocalPrincipal } from '../credentials.js';
import type { FaultInjector } from '../faults.js';
import type { LambdaRegistry } from '../lambda.js';
import { verifySigV4 } from '../protocols/sigv4-verify.js';
import { readRequestBody } from '../server.js';
import type { ServerlessProject } from '../serverless-config.js';
import type { Clock } from '../types.js';
import { buildEvent, type HttpResponse, INTERNAL_SERVER_ERROR, jsonResponse, mapResult } from './payload.js';
import { type HttpRoute, routesOf, selectRoute } from './routes.js';

/** Where every HTTP API of the local cloud lives. */
export const EXECUTE_API_PREFIX = '/_aws/execute-api/';
/** API Gateway's payload limit for HTTP APIs. */
const MAX_PAYLOAD_BYTES = 10 * 1024 * 1024;

export interface HttpApiDeps {
  project: ServerlessProject;
  lambdas: LambdaRegistry;
  credentials: LocalCredentials;
  faults: FaultInjector;
  clock: Clock;
  accountId: string;
  region: string;
  endpoint: () => string;
  log: (message: string) => void;
  /**
   * AWS's refusal message when the caller's policies do not allow `execute-api:Invoke` on the
   * route's ARN (local/iam); every signed caller may invoke when absent.
   */
  refuseInvoke?: (principal: LocalPrincipal, routeArn: string) => string | undefined;
}

/** A deterministic API id (10 lowercase letters and digits, like API Gateway's) from the API's name. */
export function apiIdFor(name: string): string {
  const digest = createHash('sha256').update(name).digest();
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  return Array.from(digest.subarray(0, 10), (byte) => alphabet[byte % alphabet.length]).join('');
}

/** API Gateway request ids look like `JKJaXmPLvHcESHA=`. */
function requestId(): string {
  return randomBytes(10).toString('base64');
}

export class HttpApi {
  readonly name: string;
  readonly apiId: string;
  readonly routes: HttpRoute[];

  constructor(private readonly deps: HttpApiDeps) {
    const settings = ((deps.project.raw.provider as Record<string, unknown> | undefined)?.httpApi ??
      {}) as Record<string, unknown>;
    this.name =
      typeof settings.name === 'string' ? settings.name : `${deps.project.stage}-${deps.project.service}`;
    this.apiId = apiIdFor(this.name);
    this.routes = routesOf(deps.project, deps.log);
    if (settings.payload !== undefined && String(settings.payload) !== '2.0') {
      deps.log(
        `[http-api] payload ${String(settings.payload)} is not modelled: functions get payload 2.0 events`,
      );
    }
  }

  /** `<endpoint>/_aws/execute-api/<apiId>` (what `FSX_TRANSFER_API_URL` holds). */
  get url(): string {
    return `${this.deps.endpoint()}${EXECUTE_API_PREFIX}${this.apiId}`;
  }

  /** The router's handler for every path under EXECUTE_API_PREFIX. */
  async handle(req: IncomingMessage, res: ServerResponse, url: URL, ready: boolean): Promise<void> {
    const id = requestId();
    let response: HttpResponse;
    try {
      response = ready ? await this.answer(req, id) : jsonResponse(503, { message: 'Service Unavailable' });
    } catch (error) {
      this.deps.log(`[http-api] ${req.method} ${url.pathname}: ${(error as Error).stack ?? error}`);
      response = INTERNAL_SERVER_ERROR;
    }
    req.resume();
    res.writeHead(response.status, {
      ...response.headers,
      'content-length': response.body.length,
      'apigw-requestid': id,
      date: new Date().toUTCString(),
    });
    res.end(response.body);
  }

  private async answer(req: IncomingMessage, id: string): Promise<HttpResponse> {
    // The path and query exactly as sent (still encoded): what the client signed.
    const target = req.url ?? '/';
    const question = target.indexOf('?');
    const fullPath = question === -1 ? target : target.slice(0, question);
    const rawQueryString = question === -1 ? '' : target.slice(question + 1);
    const rest = fullPath.slice(EXECUTE_API_PREFIX.length);
    const slash = rest.indexOf('/');
    const apiId = slash === -1 ? rest : rest.slice(0, slash);
    const rawPath = slash === -1 ? '/' : rest.slice(slash);
    const notFound = jsonResponse(404, { message: 'Not Found' });
    if (apiId !== this.apiId) return notFound;
    const method = req.method ?? 'GET';
    const match = selectRoute(this.routes, method, rawPath);
    if (!match) return notFound;

    let body: Buffer;
    try {
      body = await readRequestBody(req, MAX_PAYLOAD_BYTES);
    } catch {
      return jsonResponse(413, { message: 'Request Entity Too Large' });
    }

    let principal: Parameters<typeof buildEvent>[3];
    if (match.route.iam) {
      const verified = await verifySigV4(
        { method, path: fullPath, query: rawQueryString, headers: req.headers, body },
        {
          service: 'execute-api',
          region: this.deps.region,
          lookup: (key) => this.deps.credentials.get(key),
        },
      );
      if ('failure' in verified) {
        return jsonResponse(
          403,
          { message: verified.failure.message },
          { 'x-amzn-errortype': verified.failure.errorType },
        );
      }
      principal = verified.principal;
      const routeArn = `arn:aws:execute-api:${this.deps.region}:${this.deps.accountId}:${apiId}/$default/${method}${rawPath}`;
      const refusal = this.deps.refuseInvoke?.(verified.principal, routeArn);
      if (refusal)
        return jsonResponse(403, { Message: refusal }, { 'x-amzn-errortype': 'AccessDeniedException' });
    }

    const fault = this.deps.faults.check('execute-api', 'Invoke', {
      routeKey: match.route.routeKey,
      method,
      path: rawPath,
      apiId,
    });
    if (fault) {
      if (fault.delayMs > 0) await this.deps.clock.sleep(fault.delayMs);
      if (fault.error) {
        return jsonResponse(
          fault.error.status,
          { message: fault.error.message },
          { 'x-amzn-errortype': fault.error.code },
        );
      }
    }

    const event = buildEvent(
      {
        method,
        rawPath,
        rawQueryString,
        headers: req.headers,
        body,
        sourceIp: (req.socket.remoteAddress ?? '127.0.0.1').replace(/^::ffff:/, ''),
        domainName: String(req.headers.host ?? new URL(this.deps.endpoint()).host),
        port: req.socket.localPort ?? 0,
      },
      match,
      { accountId: this.deps.accountId, apiId, requestId: id, now: this.deps.clock.now() },
      principal,
    );
    try {
      return mapResult(await this.deps.lambdas.invoke(match.route.functionKey, event));
    } catch (error) {
      this.deps.log(
        `[http-api] ${match.route.routeKey} -> ${match.route.functionKey} failed: ${(error as Error).name}: ${(error as Error).message}`,
      );
      return INTERNAL_SERVER_ERROR;
    }
  }

  /** Routes and base URL (admin API). */
  describe() {
    return {
      name: this.name,
      apiId: this.apiId,
      url: this.url,
      routes: this.routes.map(({ routeKey, functionKey, iam }) => ({
        routeKey,
        function: functionKey,
        authorization: iam ? 'AWS_IAM' : 'NONE',
      })),
    };
  }
}
