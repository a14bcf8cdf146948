/**
 * `WaitForTurn` (lambda:invoke.waitForTaskToken, right after Validate): takes the run's turn at the
 * gate of its mapping and direction, or queues it; the task completes (output: the run's new
 * deadline) now or when the run ahead of it ends. Logic: shared/transfers/turns.ts.
 */
import { lambdaHandler, logger } from '../../shared/lambda.js';
import { transferDeps } from '../../shared/transfers/deps.js';
import { waitForTurn } from '../../shared/transfers/turns.js';

export const handler = lambdaHandler(async (event: unknown) => {
  const turn = await waitForTurn(await transferDeps(), event);
  logger.info('turn', turn);
  return turn;
});
