/**
 * Command callback (EventBridge): SSM command status changes of the transfer document, and a
 * schedule that reports lost events and sends heartbeats. Completes the waiting task.
 */
import { getDynamoDb, getSfn, getSsm } from '../../shared/aws/clients.js';
import { ec2Settings } from '../../shared/ec2/steps.js';
import { parseInput } from '../../shared/input.js';
import { lambdaHandler, logger } from '../../shared/lambda.js';
import { CommandCallbackEvent, handleCommandCallback } from '../../shared/ssm/callback.js';
import { transfersTable } from '../../shared/transfers/table.js';

export const handler = lambdaHandler(async (event: unknown) => {
  const input = parseInput(CommandCallbackEvent, event, 'command callback event');
  const result = await handleCommandCallback(
    { ssm: getSsm(), sfn: getSfn(), db: getDynamoDb(), table: transfersTable() },
    input,
    ec2Settings(),
  );
  logger.info('command callback', { ...result });
  return result;
});
