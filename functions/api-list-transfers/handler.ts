/** `GET /transfers?mapping=&status=&limit=&nextToken=` (AWS_IAM): recent transfers, newest first, paginated. */
import { httpHandler } from '../../shared/api/http.js';
import { listTransfersRoute } from '../../shared/api/transfers.js';
import { transferDeps } from '../../shared/transfers/deps.js';

export const handler = httpHandler(async (event) =>
  listTransfersRoute(await transferDeps(), event.queryStringParameters ?? {}),
);
