/** `DELETE /transfers/{id}` (AWS_IAM): stops the run; the cleanup path terminates its instance. */
import { callerOf, httpHandler } from '../../shared/api/http.js';
import { cancelTransferRoute } from '../../shared/api/transfers.js';
import { transferDeps } from '../../shared/transfers/deps.js';

export const handler = httpHandler(async (event) =>
  cancelTransferRoute(await transferDeps(), event.pathParameters?.id, callerOf(event)),
);
