/** `GET /transfers/{id}` (AWS_IAM): status, method and reasons, progress, timestamps, error, summary. */
import { httpHandler } from '../../shared/api/http.js';
import { getTransferRoute } from '../../shared/api/transfers.js';
import { transferDeps } from '../../shared/transfers/deps.js';

export const handler = httpHandler(async (event) =>
  getTransferRoute(await transferDeps(), event.pathParameters?.id),
);
