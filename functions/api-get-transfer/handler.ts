/**
 * `GET /transfers/{id}` (AWS_IAM): status, method and reasons, live progress (the sync's progress
 * object, the DRA task's counts), timestamps, error, summary and cost.
 */
import { httpHandler } from '../../shared/api/http.js';
import { getTransferRoute } from '../../shared/api/transfers.js';
import { getFsx, getS3 } from '../../shared/aws/clients.js';
import { transferDeps } from '../../shared/transfers/deps.js';

export const handler = httpHandler(async (event) =>
  getTransferRoute(
    { ...(await transferDeps()), live: { s3: getS3(), fsx: getFsx() } },
    event.pathParameters?.id,
  ),
);
