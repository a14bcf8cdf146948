/**
 * `StartImportTask` / `StartExportTask` / `StartReleaseTask`: start the run's data repository task
 * (an import only when auto-import does not already cover it). DataRepositoryTaskBusyError makes
 * the state machine wait and retry.
 */
import { getFsx } from '../../shared/aws/clients.js';
import { getConfig } from '../../shared/config/load.js';
import { StartTaskInput } from '../../shared/dra/steps.js';
import { startDataRepositoryTask } from '../../shared/dra/tasks.js';
import { parseInput } from '../../shared/input.js';
import { lambdaHandler } from '../../shared/lambda.js';

export const handler = lambdaHandler(async (event: unknown) => {
  const input = parseInput(StartTaskInput, event, 'StartDataRepositoryTask input');
  return startDataRepositoryTask(
    { fsx: getFsx() },
    { ...input, reportPath: getConfig().defaults.reportPath },
  );
});
