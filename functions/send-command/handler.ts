/**
 * `RunTransferCommand` (lambda:invoke.waitForTaskToken): sends the transfer document to the
 * instance and stores the task token; the state completes when the command callback (or this
 * function, for a command that already ended) calls SendTaskSuccess/SendTaskFailure. Also
 * `RunShardCommand` (with `shard`: the instance copies only its key range).
 */
import { getDynamoDb, getSfn, getSsm } from '../../shared/aws/clients.js';
import { SendCommandInput, sendCommandStep } from '../../shared/ec2/steps.js';
import { parseInput } from '../../shared/input.js';
import { lambdaHandler, logger } from '../../shared/lambda.js';
import { transfersTable } from '../../shared/transfers/table.js';

export const handler = lambdaHandler(async (event: unknown) => {
  const input = parseInput(SendCommandInput, event, 'RunTransferCommand input');
  const sent = await sendCommandStep(
    { ssm: getSsm(), sfn: getSfn(), db: getDynamoDb(), table: transfersTable() },
    input,
  );
  logger.info('transfer command sent', { ...sent, instanceId: input.instance.instanceId });
  return sent;
});
