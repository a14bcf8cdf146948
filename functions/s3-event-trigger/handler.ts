/**
 * S3 object events from the SQS queue (EventBridge rule -> queue -> this function): maps each key
 * to its mapping and starts or joins one stage-in run per mapping. Returns the SQS partial batch
 * response, so only the messages that failed come back (and end in the dead-letter queue after
 * the queue's maxReceiveCount). Logic: shared/triggers/stage-on-events.ts.
 */
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { lambdaHandler } from '../../shared/lambda.js';
import { transferDeps } from '../../shared/transfers/deps.js';
import { stageOnEvents } from '../../shared/triggers/stage-on-events.js';

export const handler = lambdaHandler(async (event: SQSEvent): Promise<SQSBatchResponse> => {
  const outcome = await stageOnEvents(
    await transferDeps(),
    event.Records.map((record) => ({ messageId: record.messageId, body: record.body })),
  );
  return { batchItemFailures: outcome.failedMessageIds.map((itemIdentifier) => ({ itemIdentifier })) };
});
