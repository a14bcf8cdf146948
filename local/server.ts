/**
 * The local cloud's one HTTP endpoint (127.0.0.1, one port). Requests are routed by protocol:
 *
 * - `/_local/...`                 -> the admin JSON API (health, faults, clock, state, emulator hooks)
 * - a registered path prefix      -> its handler (the HTTP API under `/_aws/execute-api/`)
 * - `X-Amz-Target: <Prefix>.<Op>` -> the JsonService registered for that prefix (FSx, SSM, Step
 *                                    Functions, SQS, EventBridge), or the raw handler registered
 *                                    for it (DynamoDB: dynalite answers the request itself)
 * - form-encoded `Action=...`     -> a QueryService (EC2, STS), chosen by the SigV4 credential scope's
 *                                    service name, else by which service knows the action
 * - anything else                 -> S3 (s3rver behind a streaming proxy)
 *
 * Every AWS request is authenticated (SigV4) and authorized (the principal's IAM policies) here,
 * before fault rules and dispatch (local/iam/service.ts; `--iam off` skips both). Fault rules are
 * applied here too. Every failure becomes an AWS-shaped error in the protocol of the request;
 * nothing a client sends can crash the server.
 */
import { randomUUID } from 'node:crypto';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ScaledClock } from './clock.js';
import type { LocalPrincipal } from './credentials.js';
import { type FaultInjector, flattenAttributes } from './faults.js';
import { accessDeniedError, type IamProtocol, type LocalIam, signatureError } from './iam/service.js';
import { jsonErrorBody, parseJsonBody, toAwsJson } from './protocols/json.js';
import { ec2ErrorXml, parseForm, queryErrorXml } from './protocols/query.js';
import { credentialScope } from './protocols/sigv4.js';
import { deleteObjectsKeys, type S3Backend, s3Operation, s3Target, sendS3Error } from './s3/service.js';
import { type JsonService, LocalAwsError, type QueryService, type RequestContext } from './types.js';

/** What emulators receive: the agreed RequestContext plus the caller's access key, principal and request id. */
export interface LocalRequestContext extends RequestContext {
  accessKeyId?: string;
  /** The verified caller (undefined with `--iam off` for an unknown access key). */
  principal?: LocalPrincipal;
  requestId: string;
}

export interface AdminRequest {
  method: string;
  path: string;
  /** Capture groups of a RegExp route. */
  params: string[];
  query: URLSearchParams;
  body: unknown;
}

export interface AdminRoute {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** Path below `/_local` (e.g. `/fsx/file-systems`), or a RegExp matched against it. */
  path: string | RegExp;
  handler: (request: AdminRequest) => unknown | Promise<unknown>;
  description?: string;
}

/** A JSON-protocol service that answers the HTTP request itself (dynalite), after fault rules. */
export interface RawJsonService {
  readonly targetPrefix: string;
  readonly jsonVersion: '1.0' | '1.1';
  handle(req: IncomingMessage, res: ServerResponse, body: Buffer): void | Promise<void>;
}

/** Answers every request under a path prefix (its own protocol, its own errors). */
export type PathHandler = (
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  ready: boolean,
) => Promise<void>;

/** Optional hook: an emulator that adds attributes fault rules can `match` on (e.g. EC2 SubnetId). */
export interface FaultAttributeSource {
  faultAttributes(operation: string, input: Record<string, unknown>): Record<string, unknown>;
}

export interface LocalRouterOptions {
  accountId: string;
  region: string;
  faults: FaultInjector;
  clock: ScaledClock;
  log?: (message: string) => void;
  /** Log one line per request (LOCAL_CLOUD_DEBUG=1). */
  debug?: boolean;
}

const MAX_BODY_BYTES = 32 * 1024 * 1024;
/** Header the local cloud's own internal clients set so fault rules never hit emulator-to-emulator calls. */
export const INTERNAL_HEADER = 'x-local-cloud-internal';

interface SdkClient {
  middlewareStack: { add(middleware: never, options: { step: 'build'; name: string }): void };
}

/** Marks an SDK client's requests as the local cloud's own, so fault rules never hit them. */
export function markInternal<T extends SdkClient>(client: T): T {
  const middleware = (next: (args: unknown) => Promise<unknown>) => async (args: { request?: unknown }) => {
    const request = args.request as { headers?: Record<string, string> };
    if (request?.headers) request.headers[INTERNAL_HEADER] = '1';
    return next(args);
  };
  client.middlewareStack.add(middleware as never, { step: 'build', name: 'localCloudInternalHeader' });
  return client;
}

export class LocalRouter {
  private readonly server: http.Server;
  private readonly jsonServices = new Map<string, JsonService>();
  private readonly rawJsonServices = new Map<string, RawJsonService>();
  private readonly pathHandlers: { prefix: string; handler: PathHandler }[] = [];
  private readonly queryServices: QueryService[] = [];
  private readonly adminRoutes: AdminRoute[] = [];
  private s3?: S3Backend;
  private iam?: LocalIam;
  private ready = false;
  private portValue = 0;

  constructor(private readonly options: LocalRouterOptions) {
    this.server = http.createServer((req, res) => {
      this.handle(req, res).catch((error) => this.crashGuard(req, res, error));
    });
    // Long uploads and SDK connection reuse: no request timeout, keep-alive longer than clients'.
    this.server.requestTimeout = 0;
    this.server.keepAliveTimeout = 65_000;
    this.server.headersTimeout = 66_000;
  }

  get port(): number {
    return this.portValue;
  }

  get endpoint(): string {
    return `http://127.0.0.1:${this.portValue}`;
  }

  registerJson(service: JsonService): void {
    this.jsonServices.set(service.targetPrefix, service);
  }

  registerRawJson(service: RawJsonService): void {
    this.rawJsonServices.set(service.targetPrefix, service);
  }

  /** Serves every path starting with `prefix` (e.g. `/_aws/execute-api/`) with `handler`. */
  registerPath(prefix: string, handler: PathHandler): void {
    this.pathHandlers.push({ prefix, handler });
  }

  registerQuery(service: QueryService): void {
    this.queryServices.push(service);
  }

  setS3(backend: S3Backend): void {
    this.s3 = backend;
  }

  /** Authenticates and authorizes every AWS request from now on. */
  setIam(iam: LocalIam): void {
    this.iam = iam;
  }

  admin(route: AdminRoute): void {
    this.adminRoutes.push(route);
  }

  listAdminRoutes(): { method: string; path: string; description?: string }[] {
    return this.adminRoutes.map((r) => ({
      method: r.method,
      path:
        typeof r.path === 'string' ? `/_local${r.path}` : `/_local${r.path.source.replace(/^\^|\$$/g, '')}`,
      description: r.description,
    }));
  }

  /** Accept AWS requests (admin requests are served as soon as the server listens). */
  setReady(ready = true): void {
    this.ready = ready;
  }

  listen(port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, '127.0.0.1', () => {
        this.server.off('error', reject);
        this.portValue = (this.server.address() as AddressInfo).port;
        resolve(this.portValue);
      });
    });
  }

  async close(): Promise<void> {
    this.ready = false;
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  private log(message: string): void {
    this.options.log?.(message);
  }

  private crashGuard(req: IncomingMessage, res: ServerResponse, error: unknown): void {
    this.log(`internal error on ${req.method} ${req.url}: ${(error as Error)?.stack ?? String(error)}`);
    if (res.headersSent) {
      res.destroy();
      return;
    }
    const body = JSON.stringify({
      __type: 'InternalFailure',
      message: String((error as Error)?.message ?? error),
    });
    res.writeHead(500, { 'content-type': 'application/json', 'x-amzn-errortype': 'InternalFailure' });
    res.end(body);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const requestId = randomUUID();
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (url.pathname === '/_local' || url.pathname.startsWith('/_local/')) {
      await this.handleAdmin(req, res, url);
      return;
    }
    const path = this.pathHandlers.find((p) => url.pathname.startsWith(p.prefix));
    if (path) {
      await path.handler(req, res, url, this.ready);
      return;
    }
    const scope = credentialScope(req.headers, url.searchParams);
    const target = req.headers['x-amz-target'];
    const contentType = String(req.headers['content-type'] ?? '');
    const isRoot = url.pathname === '/' || url.pathname === '';
    const looksQuery =
      isRoot &&
      ((req.method === 'POST' && contentType.startsWith('application/x-www-form-urlencoded')) ||
        (req.method === 'GET' && url.searchParams.has('Action')) ||
        (scope !== undefined &&
          scope.service !== 's3' &&
          this.queryServices.some((s) => s.signingName === scope.service)));

    if (!this.ready) {
      const error = new LocalAwsError('ServiceUnavailable', 'The local cloud is starting or stopping', 503);
      if (typeof target === 'string') return this.sendJsonError(res, error, requestId);
      if (looksQuery) return this.sendQueryError(res, error, requestId, scope?.service === 'ec2');
      return sendS3Error(res, req, error, requestId);
    }

    const raw = typeof target === 'string' ? this.rawJsonServices.get(target.split('.')[0]!) : undefined;
    if (raw && req.method === 'POST') {
      await this.handleRawJson(req, res, raw, String(target), scope, requestId);
    } else if (typeof target === 'string' && req.method === 'POST') {
      await this.handleJson(req, res, target, scope, requestId);
    } else if (looksQuery) {
      await this.handleQuery(req, res, url, scope, requestId);
    } else {
      await this.handleS3(req, res, requestId);
    }
  }

  private context(
    scope: ReturnType<typeof credentialScope>,
    service: string,
    requestId: string,
    principal?: LocalPrincipal,
  ): LocalRequestContext {
    return {
      accountId: this.options.accountId,
      region: scope?.region ?? this.options.region,
      service: scope?.service ?? service,
      accessKeyId: scope?.accessKeyId,
      principal,
      requestId,
    };
  }

  private async readBody(req: IncomingMessage): Promise<string> {
    return (await readRequestBody(req)).toString('utf8');
  }

  /**
   * The verified signer of a request (SigV4 for `service`).
   * @throws LocalAwsError: the signature error AWS answers with, in `protocol`.
   */
  private async authenticate(
    req: IncomingMessage,
    body: Buffer,
    service: string,
    protocol: IamProtocol,
  ): Promise<LocalPrincipal | undefined> {
    if (!this.iam) return undefined;
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const result = await this.iam.authenticate(
      {
        method: req.method ?? 'GET',
        path: q === -1 ? url : url.slice(0, q),
        query: q === -1 ? '' : url.slice(q + 1),
        headers: req.headers,
        body,
      },
      service,
      { bodyNotRead: protocol === 's3' },
    );
    if (result.failure) throw signatureError(protocol, result.failure);
    return result.principal;
  }

  /** Refuses the request as AWS would when the principal's policies do not allow it. */
  private authorize(
    principal: LocalPrincipal | undefined,
    service: string,
    operation: string,
    input: Record<string, unknown>,
    protocol: IamProtocol,
  ): void {
    const denial = this.iam?.authorizeRequest(principal, service, operation, input);
    if (denial) throw accessDeniedError(protocol, denial);
  }

  private async applyFault(
    serviceName: string,
    operation: string,
    attrs: Record<string, unknown>,
    internal: boolean,
  ): Promise<void> {
    if (internal) return;
    const fault = this.options.faults.check(serviceName, operation, attrs);
    if (!fault) return;
    if (fault.delayMs > 0) await this.options.clock.sleep(fault.delayMs);
    if (fault.error) {
      if (this.options.debug)
        this.log(`fault ${fault.rule.id}: ${serviceName}.${operation} -> ${fault.error.code}`);
      throw fault.error;
    }
  }

  private debugLog(line: string): void {
    if (this.options.debug) this.log(line);
  }

  // ---------------------------------------------------------------- JSON protocols

  private sendJsonError(
    res: ServerResponse,
    error: LocalAwsError,
    requestId: string,
    jsonVersion = '1.1',
  ): void {
    const body = jsonErrorBody(error);
    res.writeHead(error.status, {
      // Extra headers of an error (SQS's query-compatible `x-amzn-query-error`).
      ...(error as LocalAwsError & { headers?: Record<string, string> }).headers,
      'content-type': `application/x-amz-json-${jsonVersion}`,
      'content-length': Buffer.byteLength(body),
      'x-amzn-requestid': requestId,
      'x-amzn-errortype': error.code,
    });
    res.end(body);
  }

  private async handleJson(
    req: IncomingMessage,
    res: ServerResponse,
    target: string,
    scope: ReturnType<typeof credentialScope>,
    requestId: string,
  ): Promise<void> {
    const dot = target.lastIndexOf('.');
    const prefix = dot === -1 ? target : target.slice(0, dot);
    const operation = dot === -1 ? '' : target.slice(dot + 1);
    const service = this.jsonServices.get(prefix);
    const jsonVersion = service?.jsonVersion ?? '1.1';
    try {
      const raw = await readRequestBody(req);
      if (!service || !operation) {
        throw new LocalAwsError('UnknownOperationException', `Unknown X-Amz-Target ${target}`);
      }
      const principal = await this.authenticate(req, raw, prefixSigningName(prefix), 'json');
      const input = parseJsonBody(raw.toString('utf8'));
      if (!input) {
        throw new LocalAwsError(
          'SerializationException',
          'Start of structure or map found where not expected, or the body is not valid JSON.',
        );
      }
      const signingName = scope?.service ?? prefixSigningName(prefix);
      this.authorize(principal, prefixSigningName(prefix), operation, input, 'json');
      const attrs = flattenAttributes(input);
      const extra = (service as Partial<FaultAttributeSource>).faultAttributes?.(operation, input);
      await this.applyFault(
        signingName,
        operation,
        { ...attrs, ...extra },
        Boolean(req.headers[INTERNAL_HEADER]),
      );
      const ctx = this.context(scope, signingName, requestId, principal);
      const output = await service.handle(operation, input, ctx);
      const body = toAwsJson(output);
      this.debugLog(`${prefix}.${operation} 200`);
      res.writeHead(200, {
        'content-type': `application/x-amz-json-${jsonVersion}`,
        'content-length': Buffer.byteLength(body),
        'x-amzn-requestid': requestId,
      });
      res.end(body);
    } catch (error) {
      const awsError = toLocalAwsError(error, (message) => this.log(`${target}: ${message}`));
      this.debugLog(`${target} ${awsError.status} ${awsError.code}`);
      this.sendJsonError(res, awsError, requestId, jsonVersion);
    }
  }

  /** A JSON request a raw service answers itself: fault rules first, from the parsed body. */
  private async handleRawJson(
    req: IncomingMessage,
    res: ServerResponse,
    service: RawJsonService,
    target: string,
    scope: ReturnType<typeof credentialScope>,
    requestId: string,
  ): Promise<void> {
    const operation = target.slice(target.indexOf('.') + 1);
    try {
      const body = await readRequestBody(req);
      const signingName = prefixSigningName(service.targetPrefix);
      const principal = await this.authenticate(req, body, signingName, 'json');
      const input = parseJsonBody(body.toString('utf8')) ?? {};
      this.authorize(principal, signingName, operation, input, 'json');
      await this.applyFault(
        scope?.service ?? prefixSigningName(service.targetPrefix),
        operation,
        flattenAttributes(input),
        Boolean(req.headers[INTERNAL_HEADER]),
      );
      this.debugLog(`${target} -> ${service.targetPrefix}`);
      await service.handle(req, res, body);
    } catch (error) {
      const awsError = toLocalAwsError(error, (message) => this.log(`${target}: ${message}`));
      this.debugLog(`${target} ${awsError.status} ${awsError.code}`);
      this.sendJsonError(res, awsError, requestId, service.jsonVersion);
    }
  }

  // ---------------------------------------------------------------- query protocol

  private sendQueryError(
    res: ServerResponse,
    error: LocalAwsError,
    requestId: string,
    ec2Style: boolean,
  ): void {
    const body = ec2Style ? ec2ErrorXml(error, requestId) : queryErrorXml(error, requestId);
    res.writeHead(error.status, {
      'content-type': 'text/xml;charset=UTF-8',
      'content-length': Buffer.byteLength(body),
      'x-amzn-requestid': requestId,
    });
    res.end(body);
  }

  private async handleQuery(
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
    scope: ReturnType<typeof credentialScope>,
    requestId: string,
  ): Promise<void> {
    let service: QueryService | undefined;
    try {
      const raw = req.method === 'POST' ? await readRequestBody(req) : Buffer.alloc(0);
      const params = { ...Object.fromEntries(url.searchParams), ...parseForm(raw.toString('utf8')) };
      const action = params.Action;
      service =
        (scope && this.queryServices.find((s) => s.signingName === scope.service)) ||
        (action ? this.queryServices.find((s) => s.actions.has(action)) : undefined);
      const signingName = service?.signingName ?? scope?.service ?? 'ec2';
      const protocol = signingName === 'ec2' ? 'ec2' : 'query';
      const principal = await this.authenticate(req, raw, signingName, protocol);
      if (!action) throw new LocalAwsError('MissingAction', 'The request must contain the parameter Action.');
      if (!service?.actions.has(action)) {
        throw new LocalAwsError('InvalidAction', `The action ${action} is not valid for this web service.`);
      }
      this.authorize(principal, service.signingName, action, params, protocol);
      const extra = (service as Partial<FaultAttributeSource>).faultAttributes?.(action, params);
      await this.applyFault(
        service.signingName,
        action,
        { ...params, ...extra },
        Boolean(req.headers[INTERNAL_HEADER]),
      );
      const xml = await service.handle(
        action,
        params,
        this.context(scope, service.signingName, requestId, principal),
      );
      this.debugLog(`${service.signingName}:${action} 200`);
      res.writeHead(200, {
        'content-type': 'text/xml;charset=UTF-8',
        'content-length': Buffer.byteLength(xml),
        'x-amzn-requestid': requestId,
      });
      res.end(xml);
    } catch (error) {
      const awsError = toLocalAwsError(error, (message) => this.log(`query ${url.pathname}: ${message}`));
      const ec2Style = (service?.signingName ?? scope?.service ?? 'ec2') === 'ec2';
      this.debugLog(`query ${awsError.status} ${awsError.code}`);
      this.sendQueryError(res, awsError, requestId, ec2Style);
    }
  }

  // ---------------------------------------------------------------- S3

  private async handleS3(req: IncomingMessage, res: ServerResponse, requestId: string): Promise<void> {
    const target = s3Target(req);
    const operation = s3Operation(req.method ?? 'GET', target, req.headers);
    try {
      if (!this.s3) throw new LocalAwsError('ServiceUnavailable', 'S3 is not running', 503);
      // DeleteObjects names its keys in the (small) body: read it to authorize each key.
      const body = operation === 'DeleteObjects' ? await readRequestBody(req) : undefined;
      const principal = await this.authenticate(req, body ?? Buffer.alloc(0), 's3', 's3');
      const denial = this.iam?.authorizeS3(
        principal,
        {
          method: req.method ?? 'GET',
          bucket: target.bucket,
          key: target.key,
          query: target.query,
          headers: req.headers,
          deleteKeys: body ? deleteObjectsKeys(body.toString('utf8')) : undefined,
        },
        operation,
      );
      if (denial) throw accessDeniedError('s3', denial);
      await this.applyFault(
        's3',
        operation,
        { Bucket: target.bucket, Key: target.key },
        Boolean(req.headers[INTERNAL_HEADER]),
      );
      this.debugLog(`s3:${operation} ${target.bucket ?? ''}/${target.key ?? ''}`);
      // Without s3:ListBucket, S3 answers a missing object with AccessDenied, not NoSuchKey.
      const missing = () => {
        const refused = this.iam?.authorizeS3(
          principal,
          { method: 'GET', bucket: target.bucket, query: new URLSearchParams(), headers: {} },
          `${operation} (missing object)`,
        );
        return refused && accessDeniedError('s3', refused);
      };
      this.s3.proxy(req, res, target, operation, requestId, body, missing);
    } catch (error) {
      req.resume();
      sendS3Error(
        res,
        req,
        toLocalAwsError(error, (m) => this.log(`s3 ${operation}: ${m}`)),
        requestId,
      );
    }
  }

  // ---------------------------------------------------------------- admin API

  private async handleAdmin(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const path = url.pathname.replace(/^\/_local/, '') || '/';
    const send = (status: number, value: unknown) => {
      const body = `${JSON.stringify(value, null, 2)}\n`;
      res.writeHead(status, {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(body),
      });
      res.end(body);
    };
    try {
      const text = await this.readBody(req);
      let body: unknown;
      if (text.trim()) {
        try {
          body = JSON.parse(text);
        } catch {
          throw new LocalAwsError('SerializationException', 'admin request body must be JSON');
        }
      }
      for (const route of this.adminRoutes) {
        if (route.method !== req.method) continue;
        let params: string[] | undefined;
        if (typeof route.path === 'string') {
          if (route.path === path) params = [];
        } else {
          const m = route.path.exec(path);
          if (m) params = m.slice(1).map((p) => decodeURIComponent(p ?? ''));
        }
        if (!params) continue;
        const result = await route.handler({
          method: req.method,
          path,
          params,
          query: url.searchParams,
          body,
        });
        send(200, result ?? { ok: true });
        return;
      }
      send(404, {
        error: { code: 'NotFound', message: `no admin route ${req.method} /_local${path}` },
        routes: this.listAdminRoutes(),
      });
    } catch (error) {
      const awsError = toLocalAwsError(error, (m) => this.log(`admin ${path}: ${m}`));
      send(awsError.status, { error: { code: awsError.code, message: awsError.message } });
    }
  }
}

/** Reads a request body (at most 32 MiB; more is RequestEntityTooLarge). */
export async function readRequestBody(req: IncomingMessage, maxBytes = MAX_BODY_BYTES): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > maxBytes) throw new LocalAwsError('RequestEntityTooLarge', 'Request body too large', 413);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** Signing name for a JSON target prefix (used when the request carries no SigV4 scope). */
function prefixSigningName(prefix: string): string {
  if (prefix.startsWith('AWSSimbaAPIService')) return 'fsx';
  if (prefix === 'AmazonSSM') return 'ssm';
  if (prefix === 'AWSStepFunctions') return 'states';
  if (prefix === 'AWSEvents') return 'events';
  if (prefix === 'AmazonSQS') return 'sqs';
  if (prefix.startsWith('DynamoDB_')) return 'dynamodb';
  return prefix.toLowerCase();
}

/** Any thrown value as an AWS-shaped error; unexpected ones become 500 InternalFailure (and are logged). */
export function toLocalAwsError(error: unknown, log: (message: string) => void): LocalAwsError {
  if (error instanceof LocalAwsError) return error;
  // A LocalAwsError from another copy of local/types.ts (e.g. loaded twice by a test runner).
  const e = error as Partial<LocalAwsError> | undefined;
  if (e && typeof e.code === 'string' && typeof e.status === 'number' && e.name === e.code) {
    return new LocalAwsError(e.code, String(e.message), e.status);
  }
  log((error as Error)?.stack ?? String(error));
  return new LocalAwsError(
    'InternalFailure',
    `internal error in the local cloud: ${(error as Error)?.message ?? String(error)}`,
    500,
  );
}
