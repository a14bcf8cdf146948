/**
 * Wraps a Lambda handler with middy and the Powertools logger, so every log line carries the
 * request id, the execution name and the transfer id. Handlers stay thin: validate input (with
 * `parseInput` of shared/input.ts), call shared/, return a small object. Errors are thrown, never
 * turned into `{ ok: false }`.
 */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { rethrowTransient } from './aws/transient.js';
import { logger } from './log.js';

export { logger };

interface Correlated {
  transferId?: string;
  executionName?: string;
  plan?: { transferId?: string; executionName?: string };
}

/**
 * Builds a Lambda handler: `fn(event, context)` wrapped with middy, the logger context and the
 * correlation keys found in the event (`transferId`, `executionName`, or the same inside `plan`).
 * A throttling, 5xx or network error that escapes `fn` leaves as TransientAwsError, the name every
 * state's Retry lists (a service helper that forgot to map it must not fail the run at once).
 * The event is never logged (`logEvent: false` whatever POWERTOOLS_LOGGER_LOG_EVENT says): events
 * carry task tokens.
 */
export function lambdaHandler<E, R>(fn: (event: E, context: Context) => Promise<R>) {
  const guarded = async (event: E, context: Context): Promise<R> => {
    try {
      return await fn(event, context);
    } catch (error) {
      return rethrowTransient(error, `an AWS call of ${context.functionName}`);
    }
  };
  return middy(guarded)
    .use(injectLambdaContext(logger, { resetKeys: true, logEvent: false }))
    .before(async (request) => {
      const event = (request.event ?? {}) as Correlated;
      const transferId = event.transferId ?? event.plan?.transferId;
      const executionName = event.executionName ?? event.plan?.executionName;
      logger.appendKeys({
        ...(transferId ? { transferId } : {}),
        ...(executionName ? { executionName } : {}),
      });
    });
}
