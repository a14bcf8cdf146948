/**
 * The Lambda wrapper every function uses (shared/lambda.ts): transient AWS errors leave as
 * TransientAwsError (the name every Retry lists), our own errors keep their names, and no log
 * line carries the event (events hold task tokens), even when Powertools is told to log events.
 */
import type { Context } from 'aws-lambda';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

// The logger reads its settings once, when shared/log.ts loads (before this file's imports run):
// every level, and Powertools told to log each event.
vi.hoisted(() => {
  process.env.LOG_LEVEL = 'DEBUG';
  process.env.POWERTOOLS_LOGGER_LOG_EVENT = 'true';
});

import { CommandFailedError } from '../../../shared/errors.js';
import { lambdaHandler, logger } from '../../../shared/lambda.js';

const context = {
  functionName: 'fsx-transfer-test-send-command',
  awsRequestId: 'req-1',
  invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:fsx-transfer-test-send-command',
  memoryLimitInMB: '512',
  getRemainingTimeInMillis: () => 60_000,
} as unknown as Context;

const sdkError = (name: string, status: number) =>
  Object.assign(new Error(`${name} from AWS`), { name, $metadata: { httpStatusCode: status } });

describe('lambdaHandler', () => {
  it('turns throttling and 5xx errors that escape a handler into TransientAwsError', async () => {
    const throttled = lambdaHandler(async () => {
      throw sdkError('ProvisionedThroughputExceededException', 400);
    });
    const failing = lambdaHandler(async () => {
      throw sdkError('InternalServerError', 500);
    });

    await expect(throttled({}, context)).rejects.toMatchObject({
      name: 'TransientAwsError',
      message: expect.stringContaining('ProvisionedThroughputExceededException'),
    });
    await expect(failing({}, context)).rejects.toMatchObject({ name: 'TransientAwsError' });
  });

  it('keeps the name of our own errors and of errors that are not transient', async () => {
    const ours = lambdaHandler(async () => {
      throw new CommandFailedError('exit code 1');
    });
    const denied = lambdaHandler(async () => {
      throw sdkError('AccessDeniedException', 400);
    });

    await expect(ours({}, context)).rejects.toMatchObject({ name: 'CommandFailedError' });
    await expect(denied({}, context)).rejects.toMatchObject({ name: 'AccessDeniedException' });
  });

  describe('logs', () => {
    const lines: string[] = [];

    beforeEach(() => {
      for (const stream of [process.stdout, process.stderr]) {
        vi.spyOn(stream, 'write').mockImplementation((chunk) => {
          lines.push(String(chunk));
          return true;
        });
      }
    });

    afterEach(() => {
      vi.restoreAllMocks();
    });

    it('never writes the event, which carries the task token', async () => {
      const handler = lambdaHandler(async (event: { taskToken: string }) => {
        logger.info('working', { has: Boolean(event.taskToken) });
        return { ok: true };
      });

      await handler({ taskToken: 'AAAA-secret-task-token' }, context);

      expect(lines.some((line) => line.includes('working'))).toBe(true);
      expect(lines.filter((line) => line.includes('AAAA-secret-task-token'))).toEqual([]);
    });
  });
});
