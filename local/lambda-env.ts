/**
 * Each invocation of a local Lambda function gets its own environment, as each function has its
 * own process on AWS, although every handler runs in this one process.
 *
 * - `process.env` is replaced, once per process, by a view: inside an invocation it reads and
 *   writes that invocation's environment (an AsyncLocalStorage store: a copy of the process's
 *   environment with the function's variables over it, made when the invocation starts); outside
 *   any invocation it is the process's own environment, unchanged. So concurrent invocations of
 *   functions with different environments never see each other's values, and a handler that sets
 *   a variable changes only its own invocation.
 * - The SDK clients of shared/aws/clients.ts are built on first use from the environment of the
 *   caller and cached for the whole process. So that an invocation never uses clients built for
 *   another environment, invocations whose client variables (CLIENT_VARIABLES) differ do not run
 *   at the same time: one waits until the others have ended, and the cache is reset
 *   (`resetClients`) before it runs. Invocations whose client variables are the same (in the local
 *   cloud, all of them: its endpoint and credentials are applied to every function) run
 *   concurrently and share the cached clients.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { resetClients } from '../shared/aws/clients.js';

type Environment = Record<string, string>;

/** What the cached clients are built from: endpoints, region, credentials, retry attempts. */
const CLIENT_VARIABLES = /^(AWS_.*|FSX_TRANSFER_MAX_ATTEMPTS)$/;

interface EnvironmentView {
  storage: AsyncLocalStorage<Environment>;
  /** The process's own environment (the object `process.env` was before the view replaced it). */
  base: NodeJS.ProcessEnv;
}

// One view per process, even if this module is loaded twice (a test runner may do so).
const VIEW_KEY = Symbol.for('fsx-transfer.local.lambda-env');

function view(): EnvironmentView {
  const global = globalThis as { [VIEW_KEY]?: EnvironmentView };
  let existing = global[VIEW_KEY];
  if (!existing) {
    existing = { storage: new AsyncLocalStorage<Environment>(), base: process.env };
    global[VIEW_KEY] = existing;
    process.env = environmentProxy(existing);
  }
  return existing;
}

function environmentProxy({ storage, base }: EnvironmentView): NodeJS.ProcessEnv {
  const target = (): Record<string, string | undefined> => storage.getStore() ?? base;
  return new Proxy({} as NodeJS.ProcessEnv, {
    get: (_, key) => Reflect.get(target(), key),
    has: (_, key) => Reflect.has(target(), key),
    set: (_, key, value) => {
      // process.env stores strings: `process.env.X = 1` reads back '1'.
      if (typeof key === 'symbol') return false;
      target()[key] = String(value);
      return true;
    },
    deleteProperty: (_, key) => Reflect.deleteProperty(target(), key),
    ownKeys: () => Reflect.ownKeys(target()),
    getOwnPropertyDescriptor: (_, key) => {
      const descriptor = Reflect.getOwnPropertyDescriptor(target(), key);
      return descriptor && { ...descriptor, configurable: true };
    },
    defineProperty: (_, key, descriptor) => {
      if (typeof key === 'symbol' || !('value' in descriptor)) return false;
      target()[key] = String(descriptor.value);
      return true;
    },
  });
}

/** The client variables of an environment, as one comparable string. */
function clientFingerprint(env: Record<string, string | undefined>): string {
  const entries = Object.keys(env)
    .filter((name) => CLIENT_VARIABLES.test(name) && env[name] !== undefined)
    .sort()
    .map((name) => [name, env[name]]);
  return JSON.stringify(entries);
}

/** Invocations in flight share one client environment; the others wait (see the top comment). */
const gate = {
  active: '',
  inFlight: 0,
  waiting: [] as Array<() => void>,
  /** The client environment the cached clients were last built for, when an invocation built them. */
  cachedFor: undefined as string | undefined,
  /** The process's own client environment when an invocation last started. */
  lastBase: undefined as string | undefined,
};

async function enterClientEnvironment(fingerprint: string, base: NodeJS.ProcessEnv): Promise<() => void> {
  while (gate.inFlight > 0 && gate.active !== fingerprint) {
    await new Promise<void>((resolve) => gate.waiting.push(resolve));
  }
  if (gate.inFlight === 0) {
    // Code outside invocations builds clients from the process's environment: when that changed,
    // the cache may hold such clients.
    const baseFingerprint = clientFingerprint(base);
    const builtFor =
      baseFingerprint !== gate.lastBase ? baseFingerprint : (gate.cachedFor ?? baseFingerprint);
    gate.lastBase = baseFingerprint;
    if (builtFor !== fingerprint) resetClients();
    gate.cachedFor = fingerprint;
    gate.active = fingerprint;
  }
  gate.inFlight += 1;
  let released = false;
  return () => {
    if (released) return;
    released = true;
    gate.inFlight -= 1;
    if (gate.inFlight === 0) for (const wake of gate.waiting.splice(0)) wake();
  };
}

/**
 * Runs `fn` (an invocation: loading and running a handler) with its own environment: the process's
 * environment with `variables` over it. Waits first while invocations with other client variables
 * run.
 */
export async function withInvocationEnvironment<T>(variables: Environment, fn: () => Promise<T>): Promise<T> {
  const { storage, base } = view();
  const environment: Environment = {};
  for (const [name, value] of Object.entries(base)) if (value !== undefined) environment[name] = value;
  Object.assign(environment, variables);
  const release = await enterClientEnvironment(clientFingerprint(environment), base);
  try {
    return await storage.run(environment, fn);
  } finally {
    release();
  }
}
