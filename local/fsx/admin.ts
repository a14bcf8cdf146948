/**
 * Admin JSON endpoints of the FSx emulator under `/_local/fsx/...` (not AWS APIs: they stand for
 * what a console user, a Lustre client or a broken bucket would do, so tests and the CLI can set
 * the scene and look inside).
 *
 *   GET  /_local/fsx/state                           everything (file systems, DRAs, tasks, settings)
 *   GET  /_local/fsx/file-systems                    file systems with their local root directory
 *   POST /_local/fsx/file-systems                    create one: FileSystemSpec JSON -> 201 FileSystem
 *   GET  /_local/fsx/file-systems/<id>               one file system and its root directory
 *   POST /_local/fsx/file-systems/<id>/lifecycle     {"Lifecycle": "MISCONFIGURED", "Message"?: "..."}
 *   POST /_local/fsx/file-systems/<id>/restore       {"path": "/ExtData"} or {"paths": [...]}  (lfs hsm_restore)
 *   POST /_local/fsx/file-systems/<id>/access        {"path": "/ExtData/a.nc", "encoding"?: "utf8"|"base64"|"none"}
 *   GET  /_local/fsx/file-systems/<id>/hsm?path=/x   HSM state of every file below path (lfs hsm_state)
 *   POST /_local/fsx/associations/<id>/state         {"Lifecycle": "MISCONFIGURED"|"FAILED"|"AVAILABLE", "Message"?: "..."}
 *   POST /_local/fsx/buckets/<bucket>                {"unreachable"?: bool, "region"?: "...", "ownerAccountId"?: "..."}
 *   GET|POST /_local/fsx/faults                      FsxFaults (per-file task failures, slow tasks, failing DRAs)
 *   GET|POST /_local/fsx/timings                     simulated durations
 *   POST /_local/fsx/tick                            run the monitor now (bucket health, auto-export)
 *   POST /_local/fsx/s3-events                       feed an S3 event record (or {Records}) to auto-import
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { LocalAwsError } from '../types.js';
import type { FsxEmulator, FsxFaults, FsxTimings } from './service.js';
import type { AssociationLifecycle, FileSystemLifecycle } from './store.js';

export const FSX_ADMIN_PREFIX = '/_local/fsx';

export interface AdminRequest {
  method: string;
  /** URL path, e.g. `/_local/fsx/file-systems/fs-0123456789abcdef0/hsm`. */
  path: string;
  query?: URLSearchParams;
  /** Parsed JSON body (undefined for none). */
  body?: unknown;
}

export interface AdminResponse {
  status: number;
  body: unknown;
}

type Body = Record<string, unknown>;

const asBody = (body: unknown): Body =>
  body && typeof body === 'object' && !Array.isArray(body) ? (body as Body) : {};

function need(value: unknown, name: string): string {
  if (typeof value !== 'string' || value === '') throw new LocalAwsError('BadRequest', `${name} is required`);
  return value;
}

/**
 * Returns the handler of the FSx admin endpoints. It answers undefined for a path outside
 * `/_local/fsx`, so a router can try it first and fall through.
 */
export function fsxAdminRoutes(
  emulator: FsxEmulator,
): (req: AdminRequest) => Promise<AdminResponse | undefined> {
  return async (req) => {
    if (req.path !== FSX_ADMIN_PREFIX && !req.path.startsWith(`${FSX_ADMIN_PREFIX}/`)) return undefined;
    const parts = req.path
      .slice(FSX_ADMIN_PREFIX.length)
      .split('/')
      .filter(Boolean)
      .map((part) => decodeURIComponent(part));
    const method = req.method.toUpperCase();
    const body = asBody(req.body);
    const ok = (value: unknown, status = 200): AdminResponse => ({ status, body: value });
    try {
      const [resource, id, action] = parts;
      if (resource === 'state' && method === 'GET') return ok(emulator.snapshot());
      if (resource === 'file-systems') {
        if (!id) {
          if (method === 'GET') {
            return ok({
              FileSystems: emulator
                .listFileSystems()
                .map((fs) => ({ ...fs, root: emulator.fileSystemRoot(fs.FileSystemId) })),
            });
          }
          if (method === 'POST') return ok(await emulator.createFileSystem(body), 201);
        } else if (!action && method === 'GET') {
          const fs = emulator.listFileSystems().find((f) => f.FileSystemId === id);
          if (!fs) throw new LocalAwsError('FileSystemNotFound', `File system '${id}' does not exist.`, 404);
          return ok({ FileSystem: fs, root: emulator.fileSystemRoot(id) });
        } else if (action === 'lifecycle' && method === 'POST') {
          const lifecycle = need(body.Lifecycle, 'Lifecycle') as FileSystemLifecycle;
          return ok({
            FileSystem: emulator.setFileSystemLifecycle(id, lifecycle, body.Message as string | undefined),
          });
        } else if (action === 'restore' && method === 'POST') {
          const paths = Array.isArray(body.paths) ? (body.paths as string[]) : [need(body.path, 'path')];
          const results = [];
          for (const path of paths) results.push({ path, ...(await emulator.restore(id, path)) });
          return ok({ results });
        } else if (action === 'access' && method === 'POST') {
          const result = await emulator.access(id, need(body.path, 'path'));
          const encoding = (body.encoding as string | undefined) ?? 'utf8';
          const { contents, ...rest } = result;
          if (encoding === 'none') return ok(rest);
          return ok({
            ...rest,
            encoding,
            contents: contents.toString(encoding === 'base64' ? 'base64' : 'utf8'),
          });
        } else if (action === 'hsm' && method === 'GET') {
          return ok({ files: emulator.hsmStates(id, req.query?.get('path') ?? '/') });
        }
      }
      if (resource === 'associations' && id && action === 'state' && method === 'POST') {
        const lifecycle = need(body.Lifecycle, 'Lifecycle') as AssociationLifecycle;
        if (!['MISCONFIGURED', 'FAILED', 'AVAILABLE'].includes(lifecycle)) {
          throw new LocalAwsError('BadRequest', 'Lifecycle must be MISCONFIGURED, FAILED or AVAILABLE');
        }
        return ok({
          Association: emulator.forceAssociationState(id, lifecycle, body.Message as string | undefined),
        });
      }
      if (resource === 'buckets' && id && (method === 'POST' || method === 'PUT')) {
        return ok({
          bucket: id,
          settings: emulator.setBucket(id, {
            unreachable: body.unreachable as boolean | undefined,
            region: body.region as string | undefined,
            ownerAccountId: body.ownerAccountId as string | undefined,
          }),
        });
      }
      if (resource === 'faults') {
        if (method === 'GET') return ok(emulator.faults);
        if (method === 'POST' || method === 'PUT') return ok(emulator.setFaults(body as FsxFaults));
        if (method === 'DELETE') return ok(emulator.setFaults({}));
      }
      if (resource === 'timings') {
        if (method === 'GET') return ok(emulator.timings);
        if (method === 'POST' || method === 'PUT')
          return ok(emulator.setTimings(body as Partial<FsxTimings>));
      }
      if (resource === 'tick' && method === 'POST') {
        await emulator.tick();
        return ok({});
      }
      if (resource === 's3-events' && method === 'POST') {
        await emulator.onS3Event(req.body);
        return ok({}, 202);
      }
      return {
        status: 404,
        body: { error: 'NotFound', message: `No FSx admin endpoint ${method} ${req.path}` },
      };
    } catch (error) {
      if (error instanceof LocalAwsError) {
        const status = error.code.endsWith('NotFound') ? 404 : error.status;
        return { status, body: { error: error.code, message: error.message } };
      }
      return { status: 500, body: { error: 'InternalError', message: (error as Error).message } };
    }
  };
}

/** The part of the local router's admin API this module needs (`LocalRouter.admin`). */
export interface AdminRegistry {
  admin(route: {
    method: 'GET' | 'POST' | 'PUT' | 'DELETE';
    path: string | RegExp;
    handler: (request: { method: string; path: string; query: URLSearchParams; body: unknown }) => unknown;
    description?: string;
  }): void;
}

const ID = '([^/]+)';
const ROUTES: Array<{
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  path: string | RegExp;
  description: string;
}> = [
  {
    method: 'GET',
    path: '/fsx/state',
    description: 'FSx: file systems, DRAs, tasks, bucket settings, faults, timings',
  },
  {
    method: 'GET',
    path: '/fsx/file-systems',
    description: 'FSx: file systems with their local root directory',
  },
  {
    method: 'POST',
    path: '/fsx/file-systems',
    description: 'FSx: create a file system {deploymentType, fileSystemTypeVersion, storageCapacity, ...}',
  },
  {
    method: 'GET',
    path: new RegExp(`^/fsx/file-systems/${ID}$`),
    description: 'FSx: one file system and its root directory',
  },
  {
    method: 'POST',
    path: new RegExp(`^/fsx/file-systems/${ID}/lifecycle$`),
    description: 'FSx: force a file system lifecycle {Lifecycle, Message?}',
  },
  {
    method: 'POST',
    path: new RegExp(`^/fsx/file-systems/${ID}/restore$`),
    description: 'FSx: lfs hsm_restore {path} or {paths}',
  },
  {
    method: 'POST',
    path: new RegExp(`^/fsx/file-systems/${ID}/access$`),
    description: 'FSx: read a file as a Lustre client (fetches lazy contents) {path, encoding?}',
  },
  {
    method: 'GET',
    path: new RegExp(`^/fsx/file-systems/${ID}/hsm$`),
    description: 'FSx: lfs hsm_state of the files below ?path=',
  },
  {
    method: 'POST',
    path: new RegExp(`^/fsx/associations/${ID}/state$`),
    description: 'FSx: force a DRA to MISCONFIGURED, FAILED or AVAILABLE {Lifecycle, Message?}',
  },
  {
    method: 'POST',
    path: new RegExp(`^/fsx/buckets/${ID}$`),
    description: 'FSx: how FSx sees a bucket {unreachable?, region?, ownerAccountId?}',
  },
  { method: 'GET', path: '/fsx/faults', description: 'FSx: fault settings' },
  {
    method: 'POST',
    path: '/fsx/faults',
    description: 'FSx: set faults {taskFileFailures?, taskFileDelayMs?, associationCreateFailures?}',
  },
  { method: 'DELETE', path: '/fsx/faults', description: 'FSx: clear faults' },
  { method: 'GET', path: '/fsx/timings', description: 'FSx: simulated durations' },
  { method: 'POST', path: '/fsx/timings', description: 'FSx: change simulated durations' },
  { method: 'POST', path: '/fsx/tick', description: 'FSx: run the monitor now (bucket health, auto-export)' },
  { method: 'POST', path: '/fsx/s3-events', description: 'FSx: feed an S3 event record to automatic import' },
];

/** Registers the FSx admin endpoints on the local router (paths below `/_local`). */
export function registerFsxAdmin(router: AdminRegistry, emulator: FsxEmulator): void {
  const route = fsxAdminRoutes(emulator);
  for (const { method, path, description } of ROUTES) {
    router.admin({
      method,
      path,
      description,
      handler: async (request) => {
        const response = await route({
          method,
          path: `/_local${request.path}`,
          query: request.query,
          body: request.body,
        });
        const body = (response?.body ?? {}) as { error?: string; message?: string };
        if (!response || response.status >= 400) {
          throw new LocalAwsError(
            body.error ?? 'NotFound',
            body.message ?? 'not found',
            response?.status ?? 404,
          );
        }
        return response.body;
      },
    });
  }
}

/**
 * The same endpoints as a Node http middleware: resolves true when it answered the request.
 * The body is read here (JSON), so call it before anything else consumes the request stream.
 */
export function fsxAdminMiddleware(
  emulator: FsxEmulator,
): (req: IncomingMessage, res: ServerResponse) => Promise<boolean> {
  const route = fsxAdminRoutes(emulator);
  return async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname !== FSX_ADMIN_PREFIX && !url.pathname.startsWith(`${FSX_ADMIN_PREFIX}/`)) return false;
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    let body: unknown;
    try {
      body = text.trim() ? JSON.parse(text) : undefined;
    } catch {
      res.writeHead(400, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: 'BadRequest', message: 'body must be JSON' }));
      return true;
    }
    const response = await route({
      method: req.method ?? 'GET',
      path: url.pathname,
      query: url.searchParams,
      body,
    });
    const out = response ?? { status: 404, body: { error: 'NotFound' } };
    res.writeHead(out.status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(out.body));
    return true;
  };
}
