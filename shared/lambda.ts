/**
 * Wraps a Lambda handler with middy and the Powertools logger, so every log line carries the
 * request id, the execution name and the transfer id. Handlers stay thin: validate input (with
 * `parseInput` of shared/input.ts), call shared/, return a small object. Errors are thrown, never
 * turned into `{ ok: false }`.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';

export const logger = new Logger({
  serviceName: 'fsx-transfer',
  // On Lambda every line goes to CloudWatch (INFO). Handlers run in-process by the CLI (demo, local
  // up) and on the local cloud only show warnings unless LOG_LEVEL asks for more.
  logLevel:
    (process.env.LOG_LEVEL as 'INFO' | undefined) ??
    (process.env.FSX_TRANSFER_LOCAL || process.env.FSX_TRANSFER_CLI ? 'WARN' : 'INFO'),
});

interface Correlated {
  transferId?: string;
  executionName?: string;
  plan?: { transferId?: string; executionName?: string };
}

/**
 * Builds a Lambda handler: `fn(event, context)` wrapped with middy, the logger context and the
 * correlation keys found in the event (`transferId`, `executionName`, or the same inside `plan`).
 */
export function lambdaHandler<E, R>(fn: (event: E, context: Context) => Promise<R>) {
  return middy(fn)
    .use(injectLambdaContext(logger, { resetKeys: true }))
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
