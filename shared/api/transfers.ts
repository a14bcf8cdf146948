/**
 * The transfers API: `POST /transfers`, `GET /transfers/{id}`, `GET /transfers`,
 * `DELETE /transfers/{id}`. Each route checks its input with the shared schema, then works on the
 * transfer record and the execution; the handlers in functions/api-* only wire clients and HTTP.
 */
import { createHash } from 'node:crypto';
import { type SFNClient, StopExecutionCommand } from '@aws-sdk/client-sfn';
import * as z from 'zod';
import { isTransientAwsError } from '../aws/transient.js';
import type { Config } from '../config/schema.js';
import {
  awsErrorName,
  InvalidRequestError,
  TooManyRequestsError,
  TransferConflictError,
  TransferError,
} from '../errors.js';
import { describeIssues } from '../input.js';
import { executionNameFor } from '../sfn/executions.js';
import { startExecution } from '../transfers/finish.js';
import {
  createRecord,
  deleteUnstartedRecord,
  FINAL_STATUSES,
  listRecords,
  requestHash,
  TRANSFER_STATUSES,
  updateRecord,
} from '../transfers/records.js';
import { checkTransferRequest } from '../transfers/request.js';
import { getTransfer, type TransferView, type ViewDeps, viewOf } from '../transfers/view.js';
import type { ApiResult } from './http.js';

export interface ApiDeps extends ViewDeps {
  config: Config;
}

/** Idempotency keys: printable ASCII, as the IETF Idempotency-Key header draft suggests. */
const IdempotencyKey = z
  .string()
  .regex(/^[\x21-\x7e]{1,255}$/, 'must be 1-255 printable ASCII characters without spaces');
const TransferId = z
  .string()
  .regex(/^[A-Za-z0-9_-]{1,80}$/, 'must be a transfer id (1-80 letters, digits, _ or -)');

function invalid(field: string, rule: string, cause?: unknown): InvalidRequestError {
  return new InvalidRequestError(`Invalid request: ${field}: ${rule}`, { cause, details: { field, rule } });
}

/** The transfer id of an API request: derived from the caller and its Idempotency-Key, else new. */
export function apiTransferId(
  caller: string | undefined,
  key: string | undefined,
  mapping: string,
  direction: string,
) {
  if (!key) return executionNameFor({ mapping, direction: direction as 'stage-in' | 'export' });
  const digest = createHash('sha256')
    .update(`${caller ?? 'anonymous'}\n${key}`)
    .digest('hex');
  return `api-${digest.slice(0, 40)}`;
}

/**
 * `POST /transfers`: validates the body, records the transfer and starts its execution.
 * A repeated request with the same Idempotency-Key returns the same transfer (and starts its
 * execution if the first attempt could not); the same key with another body is a conflict.
 */
export async function startTransferRoute(
  deps: ApiDeps,
  input: { body: unknown; idempotencyKey?: string; caller?: string },
): Promise<ApiResult> {
  const key = input.idempotencyKey === undefined ? undefined : IdempotencyKey.safeParse(input.idempotencyKey);
  if (key && !key.success)
    throw invalid('Idempotency-Key', describeIssues(key.error).replace(/^\(input\): /, ''));
  const body = { ...(input.body as Record<string, unknown>) };
  if ('trigger' in body) throw invalid('trigger', 'is set by fsx-transfer, not by the caller');
  if (key?.data && 'transferId' in body) {
    throw invalid('transferId', 'give either an Idempotency-Key header or a transferId, not both');
  }
  const { request: parsed } = checkTransferRequest(deps.config, { ...body, trigger: 'api' }, 'request');
  const id = parsed.transferId ?? apiTransferId(input.caller, key?.data, parsed.mapping, parsed.direction);
  const request = { ...parsed, transferId: id };
  const hash = requestHash({ ...request, transferId: undefined });
  const now = (deps.now?.() ?? new Date()).toISOString();
  const created = await createRecord(deps, {
    id,
    mapping: request.mapping,
    direction: request.direction,
    trigger: 'api',
    request,
    requestHash: hash,
    status: 'QUEUED',
    ...(input.caller ? { caller: input.caller } : {}),
    createdAt: now,
    updatedAt: now,
  });
  if (!created.created) {
    const existing = created.existing;
    if (existing.requestHash !== hash) {
      throw new TransferConflictError(
        `Transfer ${id} was requested with another body; use a new Idempotency-Key for a different request`,
        { details: { id } },
      );
    }
  }
  let executionArn: string;
  try {
    executionArn = await startExecution(deps, id, request);
  } catch (error) {
    if (created.created) await deleteUnstartedRecord(deps, id);
    const name = awsErrorName(error) ?? '';
    if (name === 'ExecutionLimitExceeded' || isTransientAwsError(error)) {
      throw new TooManyRequestsError(`Step Functions refused to start the run now (${name}); retry later`, {
        cause: error,
      });
    }
    throw error;
  }
  const record = await updateRecord(
    deps,
    id,
    { executionArn },
    { mapping: request.mapping, direction: request.direction, trigger: 'api', request },
  );
  // The record as just written (UpdateItem returns it): a run this young has no history to read.
  const view = viewOf(id, record, undefined);
  return {
    statusCode: 202,
    headers: { location: view.links.self },
    body: { ...view, links: { ...view.links, execution: executionArn } },
  };
}

/** `GET /transfers/{id}`. */
export async function getTransferRoute(deps: ApiDeps, id: string | undefined): Promise<ApiResult> {
  const parsed = TransferId.safeParse(id ?? '');
  if (!parsed.success) throw invalid('id', parsed.error.issues[0]!.message);
  return { statusCode: 200, body: await getTransfer(deps, parsed.data) };
}

const ListQuery = z.strictObject({
  mapping: z.string().optional(),
  status: z.enum(TRANSFER_STATUSES).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(25),
  nextToken: z.string().optional(),
});

function decodeToken(token: string): Record<string, unknown> {
  try {
    const value = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
    if (value && typeof value === 'object' && typeof value.pk === 'string') return value;
  } catch {
    // reported below
  }
  throw invalid('nextToken', 'must be a nextToken this API returned');
}

/** `GET /transfers?mapping=&status=&limit=&nextToken=`: newest first. */
export async function listTransfersRoute(
  deps: ApiDeps,
  query: Record<string, string | undefined>,
): Promise<ApiResult> {
  const parsed = ListQuery.safeParse(query);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new InvalidRequestError(`Invalid request: ${describeIssues(parsed.error)}`, {
      cause: parsed.error,
      details: { field: issue.path.join('.'), rule: issue.message },
    });
  }
  const { mapping, status, limit, nextToken } = parsed.data;
  if (mapping && !deps.config.mappings.some((m) => m.name === mapping)) {
    throw invalid(
      'mapping',
      `must name a mapping of the config (${deps.config.mappings.map((m) => m.name).join(', ')})`,
    );
  }
  const page = await listRecords(deps, {
    mapping,
    status,
    limit,
    ...(nextToken ? { startKey: decodeToken(nextToken) } : {}),
  });
  return {
    statusCode: 200,
    body: {
      transfers: page.records.map((record) => viewOf(record.id, record, undefined)),
      nextToken: page.nextKey ? Buffer.from(JSON.stringify(page.nextKey)).toString('base64url') : null,
    },
  };
}

/**
 * `DELETE /transfers/{id}`: stops the execution; the cleanup rule terminates its instance and the
 * finish rule frees its turn. A run that already ended is a conflict.
 */
export async function cancelTransferRoute(
  deps: ApiDeps & { sfn: SFNClient },
  id: string | undefined,
  caller: string | undefined,
): Promise<ApiResult> {
  const before: TransferView = (await getTransferRoute(deps, id)).body as TransferView;
  if (FINAL_STATUSES.has(before.status) || !before.executionArn) {
    throw new TransferConflictError(
      `Transfer ${before.id} already ended (${before.status}); nothing to cancel`,
      {
        details: { id: before.id, status: before.status },
      },
    );
  }
  try {
    await deps.sfn.send(
      new StopExecutionCommand({
        executionArn: before.executionArn,
        error: 'Cancelled',
        cause: `cancelled through the transfers API${caller ? ` by ${caller}` : ''}`,
      }),
    );
  } catch (error) {
    if (error instanceof TransferError) throw error;
    if (isTransientAwsError(error))
      throw new TooManyRequestsError('Step Functions is busy; retry the cancel', { cause: error });
    throw error;
  }
  return { statusCode: 202, body: await getTransfer(deps, before.id) };
}
