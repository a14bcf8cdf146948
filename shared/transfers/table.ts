/**
 * The transfers table (DynamoDB, one table, on-demand): every item type, its keys, and the small
 * helpers every writer shares. Items:
 *
 * | item              | pk                            | sk              | gsi1pk / gsi1sk                |
 * | ----------------- | ----------------------------- | --------------- | ------------------------------ |
 * | transfer record   | `TRANSFER#<id>`               | `TRANSFER`      | `TRANSFERS` / `<createdAt>#<id>` |
 * | gate (lease)      | `GATE#<mapping>#<direction>`  | `GATE`          | `GATES` / `<mapping>#<direction>` |
 * | waiter            | `GATE#<mapping>#<direction>`  | `WAIT#<id>`     | -                              |
 * | seen S3 event     | `EVENT#<event id>`            | `EVENT`         | -                              |
 * | event counters    | `STATS#EVENTS`                | `<day>[#<mapping>]` | -                          |
 * | task token        | `TOKENS`                      | `TOKEN#<commandId>` | -                          |
 * | DRA wait          | `DRA_WAITS`                   | `WAIT#<executionArn>#<state>` | -                |
 *
 * `expiresAt` (epoch seconds) is the table's TTL attribute: records, seen events and task tokens
 * expire; gates and waiters never carry it. Task tokens (shared/ssm/task-tokens.ts) and the DRA
 * waits' tokens (shared/dra/waits.ts) live here because the transfer instance's role cannot read
 * this table.
 */
import { type DynamoDBDocumentClient, paginateQuery } from '@aws-sdk/lib-dynamodb';
import type { Direction } from '../config/schema.js';
import { awsErrorName } from '../errors.js';
import { stageName } from '../sfn/executions.js';

export interface TableDeps {
  db: DynamoDBDocumentClient;
  table: string;
  /** Injected clock (tests); defaults to the system clock. */
  now?: () => Date;
}

/** Name of the transfers table: `TRANSFERS_TABLE`, else `fsx-transfer-<stage>-transfers` (as serverless.yml names it). */
export function transfersTable(env: NodeJS.ProcessEnv = process.env): string {
  return env.TRANSFERS_TABLE || `fsx-transfer-${stageName(env)}-transfers`;
}

export const RECORD_SK = 'TRANSFER';
export const recordKey = (id: string) => ({ pk: `TRANSFER#${id}`, sk: RECORD_SK });
export const RECORDS_INDEX = 'gsi1';
export const RECORDS_PARTITION = 'TRANSFERS';
export const GATES_PARTITION = 'GATES';
export const gatePk = (mapping: string, direction: Direction) => `GATE#${mapping}#${direction}`;
export const gateKey = (mapping: string, direction: Direction) => ({
  pk: gatePk(mapping, direction),
  sk: 'GATE',
});
export const waiterKey = (mapping: string, direction: Direction, id: string) => ({
  pk: gatePk(mapping, direction),
  sk: `WAIT#${id}`,
});
export const eventKey = (eventId: string) => ({ pk: `EVENT#${eventId}`, sk: 'EVENT' });
export const TOKENS_PARTITION = 'TOKENS';
export const tokenKey = (commandId: string) => ({ pk: TOKENS_PARTITION, sk: `TOKEN#${commandId}` });

/** Records are kept 90 days, seen S3 events 7 (SQS keeps messages at most 14). */
export const RECORD_TTL_DAYS = 90;
export const EVENT_TTL_DAYS = 7;
/** A Run Command invocation runs at most 30 days (TimeoutSeconds 2592000): no token outlives that. */
export const TOKEN_TTL_DAYS = 30;

export function epochSeconds(date: Date, plusDays = 0): number {
  return Math.floor(date.getTime() / 1000) + plusDays * 86_400;
}

/** Every item of partition `pk` (consistent reads, all pages): the task tokens and the DRA waits. */
export async function queryPartition(store: TableDeps, pk: string): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  const pages = paginateQuery(
    { client: store.db },
    {
      TableName: store.table,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': pk },
      ConsistentRead: true,
    },
  );
  for await (const page of pages) items.push(...(page.Items ?? []));
  return items;
}

/** True for the error DynamoDB returns when a ConditionExpression did not hold. */
export function isConditionFailed(error: unknown): boolean {
  return awsErrorName(error) === 'ConditionalCheckFailedException';
}

/**
 * Runs a conditional write.
 * @returns true when it was written, false when its ConditionExpression did not hold.
 */
export async function whenCondition(write: () => Promise<unknown>): Promise<boolean> {
  try {
    await write();
    return true;
  } catch (error) {
    if (isConditionFailed(error)) return false;
    throw error;
  }
}

/**
 * Builds an UpdateExpression: `set` members are assigned, `setIfAbsent` only when the attribute
 * does not exist yet (creation fields; skipped where `set` has the attribute), `remove` members
 * are deleted. Names and values go through
 * placeholders (`status`, `error`, `mapping` are DynamoDB reserved words).
 */
export function updateExpression(parts: {
  set?: Record<string, unknown>;
  setIfAbsent?: Record<string, unknown>;
  remove?: string[];
}): {
  UpdateExpression: string;
  ExpressionAttributeNames: Record<string, string>;
  ExpressionAttributeValues?: Record<string, unknown>;
} {
  const names: Record<string, string> = {};
  const values: Record<string, unknown> = {};
  const assignments: string[] = [];
  let i = 0;
  const name = (attribute: string) => {
    const placeholder = `#u${Object.keys(names).length}`;
    names[placeholder] = attribute;
    return placeholder;
  };
  for (const [attribute, value] of Object.entries(parts.set ?? {})) {
    if (value === undefined) continue;
    values[`:u${i}`] = value;
    assignments.push(`${name(attribute)} = :u${i++}`);
  }
  for (const [attribute, value] of Object.entries(parts.setIfAbsent ?? {})) {
    // An attribute both set and set-if-absent is just set (DynamoDB refuses overlapping paths).
    if (value === undefined || parts.set?.[attribute] !== undefined) continue;
    const placeholder = name(attribute);
    values[`:u${i}`] = value;
    assignments.push(`${placeholder} = if_not_exists(${placeholder}, :u${i++})`);
  }
  const removals = (parts.remove ?? []).map(name);
  const expression = [
    assignments.length ? `SET ${assignments.join(', ')}` : '',
    removals.length ? `REMOVE ${removals.join(', ')}` : '',
  ]
    .filter(Boolean)
    .join(' ');
  return {
    UpdateExpression: expression,
    ExpressionAttributeNames: names,
    ...(Object.keys(values).length ? { ExpressionAttributeValues: values } : {}),
  };
}
