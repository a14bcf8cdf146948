/**
 * The end of every run: Step Functions Execution Status Change (SUCCEEDED, FAILED, TIMED_OUT,
 * ABORTED) frees the run's turn, gives it to the next waiter, records the outcome and puts the
 * `Transfer Succeeded` / `Transfer Failed` event; every 5 minutes a scheduled call repairs what
 * lost events left behind. Logic: shared/transfers/finish.ts.
 */
import * as z from 'zod';
import { parseInput } from '../../shared/input.js';
import { lambdaHandler, logger } from '../../shared/lambda.js';
import { transferDeps } from '../../shared/transfers/deps.js';
import { finishTransfer, reconcile } from '../../shared/transfers/finish.js';

const Event = z.object({ 'detail-type': z.string(), detail: z.unknown() });

export const handler = lambdaHandler(async (event: unknown) => {
  const { 'detail-type': detailType, detail } = parseInput(Event, event, 'EventBridge event');
  const deps = await transferDeps();
  if (detailType === 'Scheduled Event') {
    const repaired = await reconcile(deps);
    logger.info('reconciled', { ...repaired });
    return repaired;
  }
  const record = await finishTransfer(deps, detail);
  return record ? { transferId: record.id, status: record.status } : { skipped: true };
});
