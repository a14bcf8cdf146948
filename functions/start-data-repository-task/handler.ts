/**
 * `StartImportTask` / `StartExportTask` / `StartReleaseTask` (lambda:invoke.waitForTaskToken):
 * start the run's data repository task and complete the state with it at once; while another task
 * (or automatic export) holds the file system, store the wait so functions/poll-dra-waits starts
 * it once the file system is free (no retry count: the run's deadline bounds the wait).
 */
import { getDynamoDb, getFsx, getSfn } from '../../shared/aws/clients.js';
import { getConfig } from '../../shared/config/load.js';
import { startTaskWhenIdle } from '../../shared/dra/tasks.js';
import { StartTaskWait, startWait } from '../../shared/dra/waits.js';
import { parseInput } from '../../shared/input.js';
import { lambdaHandler } from '../../shared/lambda.js';
import { transfersTable } from '../../shared/transfers/table.js';

export const handler = lambdaHandler(async (event: unknown) => {
  const input = parseInput(StartTaskWait, event, 'StartDataRepositoryTask input');
  const reportPath = getConfig().defaults.reportPath;
  const fsx = getFsx();
  return startWait(
    { db: getDynamoDb(), table: transfersTable(), sfn: getSfn() },
    { kind: 'start-task', ...input, ...(reportPath ? { reportPath } : {}) },
    (wait) => startTaskWhenIdle({ fsx }, wait),
  );
});
