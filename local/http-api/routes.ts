/**
 * The HTTP API's routes, from functions' `httpApi` events in serverless.yml (`httpApi: '*'`,
 * `httpApi: 'GET /path'`, `httpApi: {method, path, authorizer}`), and API Gateway's route
 * selection: the most specific route wins (literal segments before `{variables}` before a greedy
 * `{proxy+}`; a route for the method before `ANY`), `$default` catches the rest.
 */
import type { ServerlessProject } from '../serverless-config.js';

export interface HttpRoute {
  /** `GET /transfers/{id}`, `ANY /files/{proxy+}` or `$default`. */
  routeKey: string;
  method: string;
  path: string;
  /** Function key in serverless.yml. */
  functionKey: string;
  /** Signed requests only (SigV4, service `execute-api`). */
  iam: boolean;
}

export interface RouteMatch {
  route: HttpRoute;
  pathParameters?: Record<string, string>;
}

/**
 * The routes of a project; events with an authorizer the local cloud does not model (JWT, Lambda)
 * are logged and left out, so they answer 404 rather than run unauthenticated.
 */
export function routesOf(project: ServerlessProject, log: (message: string) => void): HttpRoute[] {
  const routes: HttpRoute[] = [];
  for (const fn of project.functions.values()) {
    for (const event of fn.events) {
      const spec = event.httpApi;
      if (spec === undefined) continue;
      let method: string;
      let path: string;
      let authorizer: Record<string, unknown> | undefined;
      if (typeof spec === 'string') {
        if (spec.trim() === '*') [method, path] = ['*', '*'];
        else [method = '', path = ''] = spec.trim().split(/\s+/);
      } else {
        const settings = (spec ?? {}) as Record<string, unknown>;
        method = String(settings.method ?? '*');
        path = String(settings.path ?? '*');
        authorizer = settings.authorizer as Record<string, unknown> | undefined;
      }
      const iam = String(authorizer?.type ?? '').toLowerCase() === 'aws_iam';
      if (authorizer && !iam) {
        log(
          `[http-api] route ${method} ${path} of ${fn.key} skipped: only aws_iam authorizers are modelled locally`,
        );
        continue;
      }
      const upper = method === '*' ? 'ANY' : method.toUpperCase();
      const routeKey = path === '*' ? '$default' : `${upper} ${path}`;
      routes.push({ routeKey, method: upper, path, functionKey: fn.key, iam });
    }
  }
  return routes;
}

function decode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/** Path parameters when `path` (encoded, e.g. `/transfers/a%20b`) fits the template, else undefined. */
function matchPath(template: string, path: string): Record<string, string> | undefined {
  const want = template.split('/').slice(1);
  const got = path.split('/').slice(1);
  const params: Record<string, string> = {};
  for (let i = 0; i < want.length; i++) {
    const segment = want[i]!;
    const greedy = /^\{(.+)\+\}$/.exec(segment);
    if (greedy && i === want.length - 1) {
      const rest = got.slice(i);
      if (rest.length === 0 || rest.join('/') === '') return undefined;
      params[greedy[1]!] = decode(rest.join('/'));
      return params;
    }
    const value = got[i];
    if (value === undefined) return undefined;
    const variable = /^\{(.+)\}$/.exec(segment);
    if (variable) {
      if (value === '') return undefined;
      params[variable[1]!] = decode(value);
    } else if (segment !== value) {
      return undefined;
    }
  }
  return want.length === got.length ? params : undefined;
}

/** Specificity of a template: [not greedy, literal segments, variables]. */
function specificity(template: string): number[] {
  const segments = template.split('/').slice(1);
  const greedy = segments.some((s) => /^\{.+\+\}$/.test(s));
  const literals = segments.filter((s) => !/^\{.+\}$/.test(s)).length;
  return [greedy ? 0 : 1, literals, segments.length];
}

function compare(a: number[], b: number[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const diff = (a[i] ?? 0) - (b[i] ?? 0);
    if (diff !== 0) return diff;
  }
  return 0;
}

/** The route API Gateway selects for a request, or undefined (404). */
export function selectRoute(routes: HttpRoute[], method: string, path: string): RouteMatch | undefined {
  let best: { match: RouteMatch; score: number[] } | undefined;
  for (const route of routes) {
    if (route.routeKey === '$default') continue;
    if (route.method !== 'ANY' && route.method !== method.toUpperCase()) continue;
    const params = matchPath(route.path, path);
    if (!params) continue;
    const score = [...specificity(route.path), route.method === 'ANY' ? 0 : 1];
    if (!best || compare(score, best.score) > 0) {
      best = {
        match: { route, ...(Object.keys(params).length > 0 ? { pathParameters: params } : {}) },
        score,
      };
    }
  }
  if (best) return best.match;
  const fallback = routes.find((route) => route.routeKey === '$default');
  return fallback ? { route: fallback } : undefined;
}
