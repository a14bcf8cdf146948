/**
 * `WaitForImportTask` / `WaitForExportTask` / `WaitForReleaseTask`: one status check (no completion
 * event exists); NotReadyYetError makes the state machine poll again with back-off. A FAILED task
 * fails with the files named in its completion report.
 */
import { getFsx, getS3 } from '../../shared/aws/clients.js';
import { WaitForTaskInput } from '../../shared/dra/steps.js';
import { checkDataRepositoryTask } from '../../shared/dra/tasks.js';
import { parseInput } from '../../shared/input.js';
import { lambdaHandler } from '../../shared/lambda.js';

export const handler = lambdaHandler(async (event: unknown) => {
  const { plan, task } = parseInput(WaitForTaskInput, event, 'WaitForDataRepositoryTask input');
  return checkDataRepositoryTask({ fsx: getFsx(), s3: getS3() }, plan, task);
});
