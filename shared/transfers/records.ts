/**
 * Transfer records: one item per run in the transfers table, whoever started it. The API creates
 * it before starting the execution (the record is the idempotency key); runs started otherwise
 * (CLI, schedule, S3 events) get theirs when they reach `WaitForTurn`, or when they end.
 */
import { createHash } from 'node:crypto';
import { DeleteCommand, GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod';
import { Direction, TransferRequest, Trigger } from '../config/schema.js';
import { RunCost } from '../cost/actual.js';
import {
  epochSeconds,
  isConditionFailed,
  RECORD_TTL_DAYS,
  RECORDS_INDEX,
  RECORDS_PARTITION,
  recordKey,
  type TableDeps,
  updateExpression,
  whenCondition,
} from './table.js';

/** QUEUED: accepted, waiting for its turn; RUNNING: holds the mapping's turn; the rest are final (Step Functions' words). */
export const TRANSFER_STATUSES = [
  'QUEUED',
  'RUNNING',
  'SUCCEEDED',
  'FAILED',
  'ABORTED',
  'TIMED_OUT',
] as const;
export type TransferStatus = (typeof TRANSFER_STATUSES)[number];
export const FINAL_STATUSES: ReadonlySet<string> = new Set(['SUCCEEDED', 'FAILED', 'ABORTED', 'TIMED_OUT']);

const ReasonSchema = z.object({
  code: z.string(),
  ok: z.boolean(),
  message: z.string(),
  seen: z.record(z.string(), z.unknown()).optional(),
  fix: z.string().optional(),
});

/** A transfer record as stored (the table is ours, but a schema keeps reads honest and typed). */
export const TransferRecordSchema = z.object({
  id: z.string(),
  mapping: z.string(),
  direction: Direction,
  trigger: Trigger,
  request: TransferRequest,
  /** SHA-256 of the request as first accepted (an Idempotency-Key reused with another body is a conflict). */
  requestHash: z.string().optional(),
  status: z.enum(TRANSFER_STATUSES),
  executionArn: z.string().optional(),
  /** Principal that asked (API: the caller's ARN). */
  caller: z.string().optional(),
  createdAt: z.string(),
  updatedAt: z.string(),
  /** When the run got its turn (its transfer began). */
  startedAt: z.string().optional(),
  endedAt: z.string().optional(),
  method: z.enum(['dra', 'ec2']).optional(),
  methodReasons: z.array(ReasonSchema).optional(),
  /** While QUEUED: the run that holds the turn. */
  waitingFor: z.string().optional(),
  /** The execution output (`TransferSummary`) of a run that succeeded. */
  summary: z.record(z.string(), z.unknown()).optional(),
  error: z.string().optional(),
  cause: z.string().optional(),
  /** What the run cost, from its execution history when it ended (shared/cost/actual.ts). */
  cost: RunCost.optional(),
  /** Set once the completion event is on the bus. */
  completionEventAt: z.string().optional(),
});
export type TransferRecord = z.infer<typeof TransferRecordSchema>;

/** A stable hash of a request (keys sorted), for Idempotency-Key conflicts. */
export function requestHash(request: TransferRequest): string {
  const canonical = JSON.stringify(
    Object.fromEntries(Object.entries(request).sort(([a], [b]) => a.localeCompare(b))),
  );
  return createHash('sha256').update(canonical).digest('hex');
}

function itemOf(record: TransferRecord, now: Date) {
  return {
    ...recordKey(record.id),
    ...record,
    gsi1pk: RECORDS_PARTITION,
    gsi1sk: `${record.createdAt}#${record.id}`,
    expiresAt: epochSeconds(now, RECORD_TTL_DAYS),
  };
}

function recordOf(item: Record<string, unknown> | undefined): TransferRecord | undefined {
  return item ? TransferRecordSchema.parse(item) : undefined;
}

/**
 * Creates a record unless one with this id exists.
 * @returns `{created: true}` or `{created: false, existing}` (the id was taken: a repeated request).
 */
export async function createRecord(
  deps: TableDeps,
  record: TransferRecord,
): Promise<{ created: true } | { created: false; existing: TransferRecord }> {
  const now = deps.now?.() ?? new Date();
  try {
    await deps.db.send(
      new PutCommand({
        TableName: deps.table,
        Item: itemOf(record, now),
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
    return { created: true };
  } catch (error) {
    if (!isConditionFailed(error)) throw error;
    const existing = await getRecord(deps, record.id);
    if (!existing) throw error;
    return { created: false, existing };
  }
}

export async function getRecord(deps: TableDeps, id: string): Promise<TransferRecord | undefined> {
  const out = await deps.db.send(
    new GetCommand({ TableName: deps.table, Key: recordKey(id), ConsistentRead: true }),
  );
  return recordOf(out.Item);
}

/** Deletes a record that never got an execution (its start failed), so a retry can create it again. */
export async function deleteUnstartedRecord(deps: TableDeps, id: string): Promise<void> {
  await whenCondition(() =>
    deps.db.send(
      new DeleteCommand({
        TableName: deps.table,
        Key: recordKey(id),
        ConditionExpression: 'attribute_not_exists(executionArn)',
      }),
    ),
  );
}

/**
 * Final records created since `since` whose completion event was never put (PutEvents failed on
 * every attempt of finish-transfer), oldest first. The reconciler puts their events.
 */
export async function listUnsentCompletions(deps: TableDeps, since: Date): Promise<TransferRecord[]> {
  const records: TransferRecord[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const out = await deps.db.send(
      new QueryCommand({
        TableName: deps.table,
        IndexName: RECORDS_INDEX,
        KeyConditionExpression: 'gsi1pk = :p AND gsi1sk >= :since',
        FilterExpression: '#s IN (:a, :b, :c, :d) AND attribute_not_exists(completionEventAt)',
        ExpressionAttributeNames: { '#s': 'status' },
        ExpressionAttributeValues: {
          ':p': RECORDS_PARTITION,
          ':since': since.toISOString(),
          ':a': 'SUCCEEDED',
          ':b': 'FAILED',
          ':c': 'ABORTED',
          ':d': 'TIMED_OUT',
        },
        ExclusiveStartKey: startKey,
      }),
    );
    for (const item of out.Items ?? []) records.push(recordOf(item)!);
    startKey = out.LastEvaluatedKey;
  } while (startKey);
  return records;
}

/**
 * Sets fields of a record, creating it from `create` when it does not exist (runs started by the
 * CLI or a schedule). A final record is never moved back to QUEUED or RUNNING.
 * @returns the record after the update, or undefined when the record is already final and
 *   `fields.status` is not final.
 */
export async function updateRecord(
  deps: TableDeps,
  id: string,
  fields: Partial<TransferRecord>,
  create: Pick<TransferRecord, 'mapping' | 'direction' | 'trigger' | 'request'>,
  remove: (keyof TransferRecord)[] = [],
): Promise<TransferRecord | undefined> {
  const now = deps.now?.() ?? new Date();
  const iso = now.toISOString();
  const update = updateExpression({
    set: { ...fields, updatedAt: iso },
    setIfAbsent: {
      id,
      ...create,
      status: 'QUEUED',
      createdAt: iso,
      gsi1pk: RECORDS_PARTITION,
      gsi1sk: `${iso}#${id}`,
      expiresAt: epochSeconds(now, RECORD_TTL_DAYS),
    },
    remove,
  });
  const guard = fields.status && !FINAL_STATUSES.has(fields.status);
  try {
    const out = await deps.db.send(
      new UpdateCommand({
        TableName: deps.table,
        Key: recordKey(id),
        ...update,
        ...(guard
          ? {
              ConditionExpression: 'attribute_not_exists(#cs) OR NOT #cs IN (:f0, :f1, :f2, :f3)',
              ExpressionAttributeNames: { ...update.ExpressionAttributeNames, '#cs': 'status' },
              ExpressionAttributeValues: {
                ...update.ExpressionAttributeValues,
                ':f0': 'SUCCEEDED',
                ':f1': 'FAILED',
                ':f2': 'ABORTED',
                ':f3': 'TIMED_OUT',
              },
            }
          : {}),
        ReturnValues: 'ALL_NEW',
      }),
    );
    return recordOf(out.Attributes);
  } catch (error) {
    if (guard && isConditionFailed(error)) return undefined;
    throw error;
  }
}

/**
 * Marks the completion event of a record as sent, once.
 * @returns false when it was already marked (another invocation sent it).
 */
export async function markCompletionEvent(deps: TableDeps, id: string, at: string): Promise<boolean> {
  return whenCondition(() =>
    deps.db.send(
      new UpdateCommand({
        TableName: deps.table,
        Key: recordKey(id),
        UpdateExpression: 'SET completionEventAt = :at',
        ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(completionEventAt)',
        ExpressionAttributeValues: { ':at': at },
      }),
    ),
  );
}

/** Undoes markCompletionEvent when putting the event failed (the retry sends it). */
export async function unmarkCompletionEvent(deps: TableDeps, id: string): Promise<void> {
  await deps.db.send(
    new UpdateCommand({
      TableName: deps.table,
      Key: recordKey(id),
      UpdateExpression: 'REMOVE completionEventAt',
    }),
  );
}

export interface ListFilter {
  mapping?: string;
  status?: TransferStatus;
  /** Page size before filtering (1-100). */
  limit: number;
  /** LastEvaluatedKey of the previous page. */
  startKey?: Record<string, unknown>;
}

/**
 * One page of records, newest first. Filters apply after DynamoDB's page limit, so a page may hold
 * fewer than `limit` records while `nextKey` is still set.
 */
export async function listRecords(
  deps: TableDeps,
  filter: ListFilter,
): Promise<{ records: TransferRecord[]; nextKey?: Record<string, unknown> }> {
  const conditions: string[] = [];
  const names: Record<string, string> = {};
  const values: Record<string, unknown> = { ':p': RECORDS_PARTITION };
  if (filter.mapping) {
    conditions.push('#m = :m');
    names['#m'] = 'mapping';
    values[':m'] = filter.mapping;
  }
  if (filter.status) {
    conditions.push('#s = :s');
    names['#s'] = 'status';
    values[':s'] = filter.status;
  }
  const out = await deps.db.send(
    new QueryCommand({
      TableName: deps.table,
      IndexName: RECORDS_INDEX,
      KeyConditionExpression: 'gsi1pk = :p',
      ScanIndexForward: false,
      Limit: filter.limit,
      ExclusiveStartKey: filter.startKey,
      ExpressionAttributeValues: values,
      ...(conditions.length
        ? { FilterExpression: conditions.join(' AND '), ExpressionAttributeNames: names }
        : {}),
    }),
  );
  return {
    records: (out.Items ?? []).map((item) => recordOf(item)!),
    ...(out.LastEvaluatedKey ? { nextKey: out.LastEvaluatedKey } : {}),
  };
}
