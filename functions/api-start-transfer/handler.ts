/** `POST /transfers` (AWS_IAM): starts a transfer; `Idempotency-Key` makes repeats safe. Logic: shared/api/transfers.ts. */
import { callerOf, httpHandler, jsonBody } from '../../shared/api/http.js';
import { startTransferRoute } from '../../shared/api/transfers.js';
import { transferDeps } from '../../shared/transfers/deps.js';

export const handler = httpHandler(async (event) =>
  startTransferRoute(await transferDeps(), {
    body: jsonBody(event),
    idempotencyKey: event.headers?.['idempotency-key'],
    caller: callerOf(event),
  }),
);
