/**
 * The DRA wait poller (schedule, every minute): FSx has no completion event for associations and
 * data repository tasks, so one function checks every waiting DRA state of every run and completes
 * it (SendTaskSuccess/SendTaskFailure) or sends its heartbeat (shared/dra/waits.ts). A task start
 * that waits for a busy file system is tried again here (same ClientRequestToken).
 */
import { getDynamoDb, getFsx, getS3, getSfn, getSsm } from '../../shared/aws/clients.js';
import { checkAssociation } from '../../shared/dra/ensure-association.js';
import { checkLustreCommand } from '../../shared/dra/lustre-client.js';
import { checkDataRepositoryTask, startTaskWhenIdle } from '../../shared/dra/tasks.js';
import { pollWaits } from '../../shared/dra/waits.js';
import { lambdaHandler, logger } from '../../shared/lambda.js';
import { transfersTable } from '../../shared/transfers/table.js';

export const handler = lambdaHandler(async () => {
  const fsx = getFsx();
  const s3 = getS3();
  const ssm = getSsm();
  const result = await pollWaits(
    { db: getDynamoDb(), table: transfersTable(), sfn: getSfn() },
    {
      association: (wait) => checkAssociation({ fsx }, wait.plan, wait.association),
      task: (wait) => checkDataRepositoryTask({ fsx, s3 }, wait.plan, wait.task),
      'start-task': (wait) => startTaskWhenIdle({ fsx }, wait),
      'lustre-command': (wait) => checkLustreCommand({ ssm }, wait.plan, wait.command),
    },
  );
  // A round without waits (most minutes) logs nothing.
  if (result.waits > 0) logger.info('DRA waits polled', { ...result });
  return result;
});
