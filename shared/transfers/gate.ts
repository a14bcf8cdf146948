/**
 * The concurrency gate: runs of one mapping and direction never overlap, whoever starts them.
 *
 * One gate item per mapping and direction holds a lease (`holder`, with an expiry so a lost
 * release cannot block the mapping forever); runs that find it taken wait as waiter items, in
 * arrival order, each with the task token of its `WaitForTurn` state. Every change is a
 * conditional write, so two Lambdas racing for the same gate cannot both win.
 *
 * The gate also holds the S3-event coalescing slot (`pendingRun`): the one event-started run that
 * has not got its turn yet. Events that find the slot taken are covered by that run (its sync
 * lists S3 after it gets its turn, so it sees their objects); the slot is freed when the run gets
 * its turn, so later events start exactly one follow-up run.
 */
import { DeleteCommand, GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { Direction, TransferRequest } from '../config/schema.js';
import {
  epochSeconds,
  GATES_PARTITION,
  gateKey,
  gatePk,
  type TableDeps,
  waiterKey,
  whenCondition,
} from './table.js';

export interface GateId {
  mapping: string;
  direction: Direction;
}

export interface Gate extends GateId {
  holder?: string;
  holderExecutionArn?: string;
  grantedAt?: string;
  /** Epoch seconds after which another run may take the lease. */
  leaseExpiresAt?: number;
  pendingRun?: string;
  pendingSince?: string;
  /** The request of the pending run, so the reconciler can start it if its start was lost. */
  pendingRequest?: TransferRequest;
  /** Events the pending run covers so far (the run waits until this stops growing). */
  pendingEvents?: number;
}

export interface Waiter {
  transferId: string;
  executionArn: string;
  taskToken: string;
  enqueuedAt: string;
  /** Minutes the run may take once it has its turn (its new deadline and lease). */
  transferMinutes: number;
}

/** Lease = the run's transfer time plus this margin; the run's own deadline ends it before. */
export const LEASE_MARGIN_MINUTES = 60;

export async function readGate(deps: TableDeps, id: GateId): Promise<Gate> {
  const out = await deps.db.send(
    new GetCommand({ TableName: deps.table, Key: gateKey(id.mapping, id.direction), ConsistentRead: true }),
  );
  return { ...(out.Item as Partial<Gate> | undefined), mapping: id.mapping, direction: id.direction };
}

/**
 * Takes the lease for `transferId` when it is free, already ours (a retried call), or expired.
 * @returns true when `transferId` holds the lease afterwards.
 */
export async function acquireLease(
  deps: TableDeps,
  id: GateId,
  holder: { transferId: string; executionArn: string; transferMinutes: number },
): Promise<boolean> {
  const now = deps.now?.() ?? new Date();
  const expires = epochSeconds(now) + (holder.transferMinutes + LEASE_MARGIN_MINUTES) * 60;
  return conditionalUpdate(deps, id, {
    UpdateExpression:
      'SET holder = :id, holderExecutionArn = :arn, grantedAt = :at, leaseExpiresAt = :exp, #m = :m, direction = :d, gsi1pk = :g, gsi1sk = :gs',
    ConditionExpression: 'attribute_not_exists(holder) OR holder = :id OR leaseExpiresAt < :nowEpoch',
    ExpressionAttributeNames: { '#m': 'mapping' },
    ExpressionAttributeValues: {
      ':id': holder.transferId,
      ':arn': holder.executionArn,
      ':at': now.toISOString(),
      ':exp': expires,
      ':nowEpoch': epochSeconds(now),
      ':m': id.mapping,
      ':d': id.direction,
      ':g': GATES_PARTITION,
      ':gs': `${id.mapping}#${id.direction}`,
    },
  });
}

/** Frees the lease if `transferId` holds it. @returns true when it did. */
export async function releaseLease(deps: TableDeps, id: GateId, transferId: string): Promise<boolean> {
  return conditionalUpdate(deps, id, {
    UpdateExpression: 'REMOVE holder, holderExecutionArn, grantedAt, leaseExpiresAt',
    ConditionExpression: 'holder = :id',
    ExpressionAttributeValues: { ':id': transferId },
  });
}

/** Frees the lease whoever holds it, if it expired (the reconciler; `holder` must still match). */
export async function releaseExpiredLease(deps: TableDeps, id: GateId, holder: string): Promise<boolean> {
  const now = deps.now?.() ?? new Date();
  return conditionalUpdate(deps, id, {
    UpdateExpression: 'REMOVE holder, holderExecutionArn, grantedAt, leaseExpiresAt',
    ConditionExpression: 'holder = :id AND leaseExpiresAt < :nowEpoch',
    ExpressionAttributeValues: { ':id': holder, ':nowEpoch': epochSeconds(now) },
  });
}

/**
 * Claims the coalescing slot for an event-started run.
 * @returns true when the slot was free (start the run); false when another run holds it.
 */
export async function claimPendingRun(
  deps: TableDeps,
  id: GateId,
  transferId: string,
  request: TransferRequest,
  events: number,
): Promise<boolean> {
  const now = deps.now?.() ?? new Date();
  return conditionalUpdate(deps, id, {
    UpdateExpression:
      'SET pendingRun = :id, pendingSince = if_not_exists(pendingSince, :at), pendingRequest = :r, #m = :m, direction = :d, gsi1pk = :g, gsi1sk = :gs ADD pendingEvents :n',
    ConditionExpression: 'attribute_not_exists(pendingRun) OR pendingRun = :id',
    ExpressionAttributeNames: { '#m': 'mapping' },
    ExpressionAttributeValues: {
      ':id': transferId,
      ':at': now.toISOString(),
      ':r': request,
      ':n': events,
      ':m': id.mapping,
      ':d': id.direction,
      ':g': GATES_PARTITION,
      ':gs': `${id.mapping}#${id.direction}`,
    },
  });
}

/**
 * Counts `events` more events as covered by the pending run `transferId`.
 * @returns false when `transferId` no longer holds the slot (it just got its turn).
 */
export async function addPendingEvents(
  deps: TableDeps,
  id: GateId,
  transferId: string,
  events: number,
): Promise<boolean> {
  return conditionalUpdate(deps, id, {
    UpdateExpression: 'ADD pendingEvents :n',
    ConditionExpression: 'pendingRun = :id',
    ExpressionAttributeValues: { ':id': transferId, ':n': events },
  });
}

/** Frees the coalescing slot if `transferId` holds it (it got its turn, or it ended). */
export async function clearPendingRun(deps: TableDeps, id: GateId, transferId: string): Promise<boolean> {
  return conditionalUpdate(deps, id, {
    UpdateExpression: 'REMOVE pendingRun, pendingSince, pendingRequest, pendingEvents',
    ConditionExpression: 'pendingRun = :id',
    ExpressionAttributeValues: { ':id': transferId },
  });
}

/** Adds (or refreshes, on a retried call) a waiter. */
export async function enqueueWaiter(deps: TableDeps, id: GateId, waiter: Waiter): Promise<void> {
  await deps.db.send(
    new PutCommand({
      TableName: deps.table,
      Item: { ...waiterKey(id.mapping, id.direction, waiter.transferId), ...waiter },
    }),
  );
}

export async function removeWaiter(deps: TableDeps, id: GateId, transferId: string): Promise<void> {
  await deps.db.send(
    new DeleteCommand({ TableName: deps.table, Key: waiterKey(id.mapping, id.direction, transferId) }),
  );
}

/** Waiters of a gate, first come first. */
export async function listWaiters(deps: TableDeps, id: GateId): Promise<Waiter[]> {
  const waiters: Waiter[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await deps.db.send(
      new QueryCommand({
        TableName: deps.table,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :w)',
        ExpressionAttributeValues: { ':pk': gatePk(id.mapping, id.direction), ':w': 'WAIT#' },
        ConsistentRead: true,
        ExclusiveStartKey: startKey,
      }),
    );
    for (const item of page.Items ?? []) {
      waiters.push({
        transferId: String(item.transferId),
        executionArn: String(item.executionArn),
        taskToken: String(item.taskToken),
        enqueuedAt: String(item.enqueuedAt),
        transferMinutes: Number(item.transferMinutes),
      });
    }
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  return waiters.sort(
    (a, b) => a.enqueuedAt.localeCompare(b.enqueuedAt) || a.transferId.localeCompare(b.transferId),
  );
}

/** Every gate (the reconciler walks them). */
export async function listGates(deps: TableDeps): Promise<Gate[]> {
  const gates: Gate[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await deps.db.send(
      new QueryCommand({
        TableName: deps.table,
        IndexName: 'gsi1',
        KeyConditionExpression: 'gsi1pk = :g',
        ExpressionAttributeValues: { ':g': GATES_PARTITION },
        ExclusiveStartKey: startKey,
      }),
    );
    for (const item of page.Items ?? []) gates.push(item as Gate);
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  return gates;
}

function conditionalUpdate(
  deps: TableDeps,
  id: GateId,
  update: Pick<
    ConstructorParameters<typeof UpdateCommand>[0],
    'UpdateExpression' | 'ConditionExpression' | 'ExpressionAttributeNames' | 'ExpressionAttributeValues'
  >,
): Promise<boolean> {
  return whenCondition(() =>
    deps.db.send(
      new UpdateCommand({ TableName: deps.table, Key: gateKey(id.mapping, id.direction), ...update }),
    ),
  );
}
