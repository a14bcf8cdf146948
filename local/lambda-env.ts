/**
 * Each invocation of a local Lambda function gets its own environment, as each function has its
 * own process on AWS, although every handler runs in this one process.
 *
 * `process.env` is replaced, once per process, by a view: inside an invocation it reads and writes
 * that invocation's environment (an AsyncLocalStorage store: a copy of the process's environment
 * with the function's variables over it, made when the invocation starts); outside any invocation
 * it is the process's own environment, unchanged. So concurrent invocations of functions with
 * different environments (each its own role's credentials) never see each other's values, and a
 * handler that sets a variable changes only its own invocation. The SDK clients of
 * shared/aws/clients.ts are cached per value of the variables they are built from, so each
 * invocation gets clients built for its own endpoint and credentials, and invocations run
 * concurrently.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

type Environment = Record<string, string>;

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

/**
 * Runs `fn` (an invocation: loading and running a handler) with its own environment: the process's
 * environment with `variables` over it.
 */
export function withInvocationEnvironment<T>(variables: Environment, fn: () => Promise<T>): Promise<T> {
  const { storage, base } = view();
  const environment: Environment = {};
  for (const [name, value] of Object.entries(base)) if (value !== undefined) environment[name] = value;
  Object.assign(environment, variables);
  return storage.run(environment, fn);
}
