/**
 * aws-local-stepfunctions uses `Promise.withResolvers` (Node 22+). This module must be imported
 * before the library is loaded (local/sfn modules import the library dynamically, after this).
 */
type Resolvers<T> = { promise: Promise<T>; resolve: (value: T) => void; reject: (reason?: unknown) => void };

const promiseConstructor = Promise as unknown as { withResolvers?: <T>() => Resolvers<T> };

if (typeof promiseConstructor.withResolvers !== 'function') {
  promiseConstructor.withResolvers = <T>(): Resolvers<T> => {
    let resolve!: (value: T) => void;
    let reject!: (reason?: unknown) => void;
    const promise = new Promise<T>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    return { promise, resolve, reject };
  };
}

/** Loads aws-local-stepfunctions after the polyfill is in place. */
export async function loadInterpreter(): Promise<typeof import('aws-local-stepfunctions')> {
  return import('aws-local-stepfunctions');
}
