/**
 * The one dispatch style of the local cloud's emulators: an operation table, a plain object from
 * the AWS operation (or query action) name to its handler, built from the per-resource modules
 * (`{...fileSystemOperations(core), ...associationOperations(core)}`), and `dispatch()` to run the
 * handler an operation names. Only the table's own keys are operations, so `toString` or
 * `__proto__` never dispatch.
 *
 * Usage:
 *   const operations: OperationTable<Record<string, unknown>> = { ListQueues: (input, ctx) => ... };
 *   handle(operation, input, ctx) {
 *     return dispatch(operations, operation, input, ctx, unknownOperation('SQS'));
 *   }
 */
import { LocalAwsError, type RequestContext } from '../types.js';

/** Handles one operation: the request's input (and context) in, the response's output out. */
export type OperationHandler<Input, Context = RequestContext, Output = unknown> = (
  input: Input,
  ctx: Context,
) => Output | Promise<Output>;

/** Operation name -> handler. */
export type OperationTable<Input, Context = RequestContext, Output = unknown> = Readonly<
  Record<string, OperationHandler<Input, Context, Output>>
>;

/** The handler of `operation`, or undefined when the table has none. */
export function handlerOf<Input, Context, Output>(
  table: OperationTable<Input, Context, Output>,
  operation: string,
): OperationHandler<Input, Context, Output> | undefined {
  return Object.hasOwn(table, operation) ? table[operation] : undefined;
}

/**
 * Runs the handler of `operation`.
 * @throws `unknown(operation)` when the table has no such operation; whatever the handler throws.
 */
export async function dispatch<Input, Context, Output>(
  table: OperationTable<Input, Context, Output>,
  operation: string,
  input: Input,
  ctx: Context,
  unknown: (operation: string) => Error,
): Promise<Output> {
  const handler = handlerOf(table, operation);
  if (!handler) throw unknown(operation);
  return handler(input, ctx);
}

/** The UnknownOperationException a JSON service answers for an operation the emulator does not have. */
export function unknownOperation(emulator: string): (operation: string) => LocalAwsError {
  return (operation) =>
    new LocalAwsError(
      'UnknownOperationException',
      `Operation ${operation} is not supported by the local ${emulator} emulator`,
    );
}
