/**
 * The S3-event trigger: one SQS batch of S3 object events -> at most one new run per mapping.
 *
 * Every message is accounted for: received = matched + dropped (no-mapping, not-watched,
 * internal, duplicate) + invalid (left on the queue: after a few receives SQS moves it to the
 * dead-letter queue). A matched event either starts a run (`started`), joins the run already
 * waiting for the mapping (`coalesced`), or needs none (`skipped`: DRA automatic import covers
 * it, or a deletion the mapping does not propagate).
 *
 * Coalescing: the gate of a mapping holds one slot for the event run that has not got its turn
 * yet; events that find it taken are covered by that run (it lists S3 after it gets its turn).
 * Event ids are recorded once their run is secured, so a redelivered batch starts nothing. Run
 * names derive from the batch's event ids, so a retried batch restarts the same execution.
 */
import { createHash } from 'node:crypto';
import type { SFNClient } from '@aws-sdk/client-sfn';
import {
  BatchGetCommand,
  type BatchGetCommandOutput,
  BatchWriteCommand,
  type BatchWriteCommandOutput,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import type { Config, TransferRequest } from '../config/schema.js';
import { TransientAwsError } from '../errors.js';
import { logger } from '../log.js';
import { startExecution } from '../transfers/finish.js';
import { addPendingEvents, claimPendingRun, type GateId, readGate } from '../transfers/gate.js';
import { EVENT_TTL_DAYS, epochSeconds, eventKey, type TableDeps } from '../transfers/table.js';
import { classifyS3Event, type DropReason, S3ObjectEvent, type SkipReason } from './s3-events.js';

export interface TriggerDeps extends TableDeps {
  config: Config;
  sfn: SFNClient;
  stateMachineArn: string;
}

export interface QueueMessage {
  messageId: string;
  body: string;
}

/** Counters of one batch (also added to the table's daily counters). */
export interface EventCounts {
  received: number;
  matched: number;
  invalid: number;
  dropped: Partial<Record<DropReason, number>>;
  started: number;
  coalesced: number;
  skipped: Partial<Record<SkipReason, number>>;
}

export interface BatchOutcome {
  /** Messages to leave on the queue (SQS partial batch response). */
  failedMessageIds: string[];
  counts: EventCounts;
  /** Runs started or joined, by mapping. */
  runs: { mapping: string; transferId: string; outcome: 'started' | 'coalesced'; events: number }[];
}

interface Pending {
  messageId: string;
  eventId: string;
}

const GATE_ATTEMPTS = 5;

/** A run name derived from the events it was started for (1-80 of [A-Za-z0-9_-]; transfer ids allow 64). */
export function eventRunName(mapping: string, eventIds: string[]): string {
  const digest = createHash('sha256')
    .update([...eventIds].sort().join('\n'))
    .digest('hex');
  return `s3-${mapping}-${digest}`.slice(0, 64);
}

/**
 * Handles one batch.
 * @returns the message ids to retry and the batch's counters; never throws for one bad message.
 */
export async function stageOnEvents(deps: TriggerDeps, messages: QueueMessage[]): Promise<BatchOutcome> {
  const counts: EventCounts = {
    received: messages.length,
    matched: 0,
    invalid: 0,
    dropped: {},
    started: 0,
    coalesced: 0,
    skipped: {},
  };
  const failed = new Set<string>();
  const drop = (reason: DropReason) => {
    counts.dropped[reason] = (counts.dropped[reason] ?? 0) + 1;
  };

  const parsed: { message: QueueMessage; event: S3ObjectEvent }[] = [];
  for (const message of messages) {
    const event = parseMessage(message);
    if (event) parsed.push({ message, event });
    else {
      counts.invalid += 1;
      failed.add(message.messageId);
    }
  }
  const seen = await seenEvents(
    deps,
    parsed.map(({ event }) => event.id),
  );

  const groups = new Map<string, Pending[]>();
  for (const { message, event } of parsed) {
    if (seen.has(event.id)) {
      drop('duplicate');
      continue;
    }
    let classification: ReturnType<typeof classifyS3Event>;
    try {
      classification = classifyS3Event(deps.config, event);
    } catch (error) {
      logger.warn('S3 event with a malformed key', {
        messageId: message.messageId,
        error: (error as Error).message,
      });
      counts.invalid += 1;
      failed.add(message.messageId);
      continue;
    }
    if (classification.kind === 'dropped') {
      logger.info('S3 event dropped', { reason: classification.reason, detail: classification.detail });
      drop(classification.reason);
      continue;
    }
    counts.matched += 1;
    for (const match of classification.matches) {
      if (match.action === 'skip') {
        counts.skipped[match.reason] = (counts.skipped[match.reason] ?? 0) + 1;
        logger.info('S3 event covered without a run', {
          mapping: match.mapping.name,
          reason: match.reason,
          key: classification.key,
        });
        continue;
      }
      const group = groups.get(match.mapping.name) ?? [];
      group.push({ messageId: message.messageId, eventId: event.id });
      groups.set(match.mapping.name, group);
    }
  }

  const runs: BatchOutcome['runs'] = [];
  for (const [mapping, pending] of groups) {
    try {
      const run = await ensureRun(deps, mapping, pending);
      runs.push({ mapping, ...run, events: pending.length });
      if (run.outcome === 'started') counts.started += 1;
      else counts.coalesced += 1;
      await markSeen(deps, pending, mapping, run.transferId);
    } catch (error) {
      logger.error('S3 events of a mapping could not be handed to a run; they will be retried', {
        mapping,
        events: pending.length,
        error: (error as Error).message,
      });
      for (const item of pending) failed.add(item.messageId);
    }
  }
  await addCounts(deps, counts);
  logger.info('S3 event batch', { ...counts, runs });
  return { failedMessageIds: [...failed], counts, runs };
}

function parseMessage(message: QueueMessage): S3ObjectEvent | undefined {
  let body: unknown;
  try {
    body = JSON.parse(message.body);
  } catch {
    logger.warn('SQS message is not JSON; it goes to the dead-letter queue after its last receive', {
      messageId: message.messageId,
    });
    return undefined;
  }
  const result = S3ObjectEvent.safeParse(body);
  if (result.success) return result.data;
  logger.warn(
    'SQS message is not an S3 object event; it goes to the dead-letter queue after its last receive',
    {
      messageId: message.messageId,
      problems: result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`),
    },
  );
  return undefined;
}

/**
 * Makes sure a run covers these events: joins the event run waiting for the mapping's turn, or
 * claims the slot and starts one.
 */
async function ensureRun(
  deps: TriggerDeps,
  mapping: string,
  pending: Pending[],
): Promise<{ transferId: string; outcome: 'started' | 'coalesced' }> {
  const gate: GateId = { mapping, direction: 'stage-in' };
  const candidate = eventRunName(
    mapping,
    pending.map((p) => p.eventId),
  );
  const request: TransferRequest = {
    mapping,
    direction: 'stage-in',
    trigger: 's3-event',
    transferId: candidate,
  };
  for (let attempt = 0; attempt < GATE_ATTEMPTS; attempt++) {
    const current = await readGate(deps, gate);
    if (current.pendingRun && current.pendingRun !== candidate) {
      if (await addPendingEvents(deps, gate, current.pendingRun, pending.length)) {
        return { transferId: current.pendingRun, outcome: 'coalesced' };
      }
      continue; // it just got its turn: claim the slot for a follow-up run
    }
    if (await claimPendingRun(deps, gate, candidate, request, pending.length)) {
      await startExecution(deps, candidate, request);
      return { transferId: candidate, outcome: 'started' };
    }
  }
  throw new TransientAwsError(`the gate of ${mapping} kept changing; the batch is retried`);
}

/** Event ids already handed to a run (a redelivered message). */
async function seenEvents(deps: TableDeps, ids: string[]): Promise<Set<string>> {
  const seen = new Set<string>();
  const unique = [...new Set(ids)];
  for (let i = 0; i < unique.length; i += 100) {
    let keys: Record<string, unknown>[] | undefined = unique.slice(i, i + 100).map(eventKey);
    for (let round = 0; keys?.length && round < 5; round++) {
      const out: BatchGetCommandOutput = await deps.db.send(
        new BatchGetCommand({ RequestItems: { [deps.table]: { Keys: keys, ProjectionExpression: 'pk' } } }),
      );
      for (const item of out.Responses?.[deps.table] ?? []) seen.add(String(item.pk).slice('EVENT#'.length));
      keys = out.UnprocessedKeys?.[deps.table]?.Keys;
    }
    if (keys?.length) throw new TransientAwsError('DynamoDB left event ids unread; the batch is retried');
  }
  return seen;
}

/** Records the events as handed to `transferId` (kept EVENT_TTL_DAYS, longer than SQS keeps a message). */
async function markSeen(
  deps: TableDeps,
  pending: Pending[],
  mapping: string,
  transferId: string,
): Promise<void> {
  const now = deps.now?.() ?? new Date();
  const items = [...new Set(pending.map((p) => p.eventId))].map((eventId) => ({
    PutRequest: {
      Item: {
        ...eventKey(eventId),
        mapping,
        transferId,
        at: now.toISOString(),
        expiresAt: epochSeconds(now, EVENT_TTL_DAYS),
      },
    },
  }));
  for (let i = 0; i < items.length; i += 25) {
    let requests: typeof items | undefined = items.slice(i, i + 25);
    for (let round = 0; requests?.length && round < 5; round++) {
      const out: BatchWriteCommandOutput = await deps.db.send(
        new BatchWriteCommand({ RequestItems: { [deps.table]: requests } }),
      );
      requests = out.UnprocessedItems?.[deps.table] as typeof items | undefined;
    }
    if (requests?.length)
      throw new TransientAwsError('DynamoDB left event ids unwritten; the batch is retried');
  }
}

/** Adds the batch's counters to today's totals (`STATS#EVENTS`, sort key = the UTC day). */
async function addCounts(deps: TableDeps, counts: EventCounts): Promise<void> {
  const day = (deps.now?.() ?? new Date()).toISOString().slice(0, 10);
  const flat: Record<string, number> = {
    received: counts.received,
    matched: counts.matched,
    invalid: counts.invalid,
    started: counts.started,
    coalesced: counts.coalesced,
    ...Object.fromEntries(Object.entries(counts.dropped).map(([k, v]) => [`dropped_${k}`, v])),
    ...Object.fromEntries(Object.entries(counts.skipped).map(([k, v]) => [`skipped_${k}`, v])),
  };
  const entries = Object.entries(flat).filter(([, value]) => value > 0);
  if (entries.length === 0) return;
  await deps.db.send(
    new UpdateCommand({
      TableName: deps.table,
      Key: { pk: 'STATS#EVENTS', sk: day },
      UpdateExpression: `ADD ${entries.map((_, i) => `#c${i} :c${i}`).join(', ')}`,
      ExpressionAttributeNames: Object.fromEntries(
        entries.map(([name], i) => [`#c${i}`, name.replace(/-/g, '_')]),
      ),
      ExpressionAttributeValues: Object.fromEntries(entries.map(([, value], i) => [`:c${i}`, value])),
    }),
  );
}
