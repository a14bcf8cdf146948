/**
 * `WaitForImportTask` / `WaitForExportTask` / `WaitForReleaseTask` (lambda:invoke.waitForTaskToken):
 * one status check; the state completes at once when the task ended, else functions/poll-dra-waits
 * completes it (there is no completion event). A FAILED task fails with the files named in its
 * completion report.
 */
import { getDynamoDb, getFsx, getS3, getSfn } from '../../shared/aws/clients.js';
import { checkDataRepositoryTask } from '../../shared/dra/tasks.js';
import { startWait, TaskWait } from '../../shared/dra/waits.js';
import { parseInput } from '../../shared/input.js';
import { lambdaHandler } from '../../shared/lambda.js';
import { transfersTable } from '../../shared/transfers/table.js';

export const handler = lambdaHandler(async (event: unknown) => {
  const input = parseInput(TaskWait, event, 'WaitForDataRepositoryTask input');
  const deps = { fsx: getFsx(), s3: getS3() };
  return startWait(
    { db: getDynamoDb(), table: transfersTable(), sfn: getSfn() },
    { kind: 'task', ...input },
    (wait) => checkDataRepositoryTask(deps, wait.plan, wait.task),
  );
});
