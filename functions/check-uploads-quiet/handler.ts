/**
 * `CheckUploadsQuiet`: an S3-event run waits until no new event joined it for a whole wait, so one
 * upload starts one run. Logic: shared/triggers/settle.ts.
 */
import { lambdaHandler } from '../../shared/lambda.js';
import { transferDeps } from '../../shared/transfers/deps.js';
import { checkUploadsQuiet } from '../../shared/triggers/settle.js';

export const handler = lambdaHandler(async (event: unknown) =>
  checkUploadsQuiet(await transferDeps(), event),
);
