/**
 * Lambda event source mappings for SQS (a function's `sqs` event in serverless.yml), as the Lambda
 * service runs them: pollers long-poll the queue, gather a batch (up to `batchSize`, waiting up to
 * `maximumBatchingWindow` seconds on the scaled clock once a first message is in), invoke the
 * function synchronously with the SQS event, and then:
 * - on success delete the batch, except the messages named in `batchItemFailures` when
 *   `functionResponseType: ReportBatchItemFailures` (a malformed failure list fails the whole batch);
 * - on a function error delete nothing: the messages come back after the queue's visibility
 *   timeout, so the queue's redrive policy moves them to its dead-letter queue in the end.
 * One poller assembles batches (messages arriving within a batching window share a batch) and
 * `maximumConcurrency` bounds the invocations in flight (default 5, the batches Lambda starts with);
 * `filterPatterns` drop (delete) messages that match none of them.
 *
 * Rules from the Lambda developer guide ("Using Lambda with Amazon SQS", "Handling errors for an
 * SQS event source"). Not modelled: poller scaling and back-off, the 6 MB payload limit.
 */

import { randomUUID } from 'node:crypto';
import { timerDelay } from '../clock.js';
import { matchesPattern, validatePattern } from '../event-pattern.js';
import type { LambdaRegistry } from '../lambda.js';
import type { Clock } from '../types.js';
import type { Queue, ReceivedMessage } from './queue.js';
import { type SqsEmulator, systemAttributesOf } from './service.js';

export interface SqsEventSourceSpec {
  /** Function key (serverless.yml) or name. */
  functionName: string;
  queueArn: string;
  /** 1-10000; default 10. */
  batchSize?: number;
  /** Seconds, 0-300; default 0. */
  maximumBatchingWindow?: number;
  reportBatchItemFailures?: boolean;
  /** 2-1000; default: 5 pollers. */
  maximumConcurrency?: number;
  enabled?: boolean;
  filterPatterns?: Record<string, unknown>[];
}

export interface EventSourceMapping {
  uuid: string;
  functionName: string;
  functionArn: string;
  queueArn: string;
  batchSize: number;
  maximumBatchingWindow: number;
  reportBatchItemFailures: boolean;
  maximumConcurrency?: number;
  enabled: boolean;
  filterPatterns?: Record<string, unknown>[];
  /** Messages received and not yet settled (deleted or left to time out). */
  inFlight: number;
  stats: {
    invocations: number;
    succeeded: number;
    failed: number;
    /** Messages deleted after a successful invocation. */
    deleted: number;
    /** Messages left in the queue (function error or reported batch item failure). */
    retried: number;
    /** Messages deleted because no filter pattern matched them. */
    filteredOut: number;
  };
  lastProcessingResult?: 'OK' | 'PROBLEM: Function call failed' | 'PROBLEM: Batch item failures';
  lastError?: string;
}

export interface SqsEventSourcesDeps {
  sqs: SqsEmulator;
  lambdas: LambdaRegistry;
  clock: Clock;
  region: string;
  log: (message: string) => void;
  /**
   * Whether the function's role allows `sqs:<action>` on the queue: the Lambda service reads the
   * queue's attributes when the mapping is created, then receives and deletes with that role.
   * Everything is allowed when absent.
   */
  authorize?: (functionName: string, action: string, queueArn: string) => boolean;
}

/** Lambda starts with 5 concurrent batches for a queue; maximumConcurrency sets the bound instead. */
const DEFAULT_CONCURRENCY = 5;
/** Pollers long-poll with the maximum wait. */
const POLL_WAIT_SECONDS = 20;

/**
 * Checks a mapping's settings like CreateEventSourceMapping.
 * @throws Error with Lambda's message (InvalidParameterValueException).
 */
export function validateSpec(spec: SqsEventSourceSpec): void {
  const fail = (message: string): never => {
    throw new Error(`InvalidParameterValueException: ${message} (function ${spec.functionName})`);
  };
  const batchSize = spec.batchSize ?? 10;
  const window = spec.maximumBatchingWindow ?? 0;
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 10_000) {
    fail('BatchSize must be between 1 and 10000 for an SQS standard queue.');
  }
  if (!(window >= 0 && window <= 300)) fail('MaximumBatchingWindowInSeconds must be between 0 and 300.');
  if (batchSize > 10 && window === 0) {
    fail('Maximum batch window in seconds must be greater than 0 if maximum batch size is greater than 10');
  }
  const concurrency = spec.maximumConcurrency;
  if (
    concurrency !== undefined &&
    !(Number.isInteger(concurrency) && concurrency >= 2 && concurrency <= 1000)
  ) {
    fail('MaximumConcurrency must be between 2 and 1000.');
  }
  for (const pattern of spec.filterPatterns ?? []) validatePattern(pattern);
}

export class SqsEventSources {
  private readonly mappings = new Map<string, EventSourceMapping>();
  private readonly pollers = new Map<
    string,
    { abort: AbortController; poller: Promise<void>; batches: Set<Promise<void>> }
  >();
  private closed = false;

  constructor(private readonly deps: SqsEventSourcesDeps) {}

  /** Adds a mapping (started at once when enabled). @throws Error for invalid settings or an unknown function. */
  add(spec: SqsEventSourceSpec): EventSourceMapping {
    validateSpec(spec);
    const fn = this.deps.lambdas.find(spec.functionName);
    const functionArn = this.deps.lambdas.arnOf(spec.functionName);
    if (!fn || !functionArn)
      throw new Error(`ResourceNotFoundException: Function not found: ${spec.functionName}`);
    const visibilityTimeout = this.deps.sqs.queueByArn(spec.queueArn)?.settings.VisibilityTimeout;
    if (visibilityTimeout !== undefined && visibilityTimeout < fn.timeout) {
      throw new Error(
        `InvalidParameterValueException: Queue visibility timeout: ${visibilityTimeout} seconds is less than Function timeout: ${fn.timeout} seconds (function ${spec.functionName})`,
      );
    }
    if (this.deps.authorize && !this.deps.authorize(fn.name, 'GetQueueAttributes', spec.queueArn)) {
      throw new Error(
        `InvalidParameterValueException: The provided execution role does not have permissions to call GetQueueAttributes on SQS (function ${spec.functionName})`,
      );
    }
    const mapping: EventSourceMapping = {
      uuid: randomUUID(),
      functionName: spec.functionName,
      functionArn,
      queueArn: spec.queueArn,
      batchSize: spec.batchSize ?? 10,
      maximumBatchingWindow: spec.maximumBatchingWindow ?? 0,
      reportBatchItemFailures: Boolean(spec.reportBatchItemFailures),
      maximumConcurrency: spec.maximumConcurrency,
      enabled: spec.enabled !== false,
      filterPatterns: spec.filterPatterns,
      inFlight: 0,
      stats: { invocations: 0, succeeded: 0, failed: 0, deleted: 0, retried: 0, filteredOut: 0 },
    };
    this.mappings.set(mapping.uuid, mapping);
    if (mapping.enabled) this.start(mapping);
    return mapping;
  }

  list(): EventSourceMapping[] {
    return [...this.mappings.values()].map((mapping) => ({ ...mapping, stats: { ...mapping.stats } }));
  }

  /** A mapping by UUID, function key/name/ARN or queue ARN (the first that matches). */
  find(key: string): EventSourceMapping | undefined {
    const byUuid = this.mappings.get(key);
    if (byUuid) return byUuid;
    const arn = this.deps.lambdas.arnOf(key);
    return [...this.mappings.values()].find(
      (mapping) => mapping.functionArn === arn || mapping.functionArn === key || mapping.queueArn === key,
    );
  }

  /** Enables or disables a mapping (UpdateEventSourceMapping `Enabled`); batches in flight finish. */
  async setEnabled(key: string, enabled: boolean): Promise<EventSourceMapping> {
    const mapping = this.find(key);
    if (!mapping) throw new Error(`ResourceNotFoundException: no event source mapping for ${key}`);
    mapping.enabled = enabled;
    if (enabled) this.start(mapping);
    else await this.stop(mapping.uuid);
    return mapping;
  }

  /**
   * Resolves once no poller holds a message and the mapped queues of enabled mappings have no
   * visible message (messages waiting for their visibility timeout, e.g. after a failure, or for a
   * delay do not count).
   * @throws Error after `timeoutMs` (real time).
   */
  async idle(timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let quietChecks = 0;
    while (quietChecks < 2) {
      if (Date.now() > deadline) throw new Error(`event source mappings not idle after ${timeoutMs} ms`);
      quietChecks = this.isIdle() ? quietChecks + 1 : 0;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  isIdle(): boolean {
    return [...this.mappings.values()].every((mapping) => {
      if (mapping.inFlight > 0) return false;
      if (!mapping.enabled) return true;
      const queue = this.deps.sqs.queueByArn(mapping.queueArn);
      return !queue || queue.counts().visible === 0;
    });
  }

  /** Stops every poller (long polls end at once) and waits for batches in flight. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.pollers.keys()].map((uuid) => this.stop(uuid)));
  }

  private start(mapping: EventSourceMapping): void {
    if (this.closed || this.pollers.has(mapping.uuid)) return;
    const abort = new AbortController();
    const batches = new Set<Promise<void>>();
    const poller = this.poll(mapping, abort.signal, batches).catch((error) =>
      this.deps.log(`[sqs] poller of ${mapping.functionName} stopped: ${(error as Error).stack ?? error}`),
    );
    this.pollers.set(mapping.uuid, { abort, poller, batches });
  }

  private async stop(uuid: string): Promise<void> {
    const poller = this.pollers.get(uuid);
    if (!poller) return;
    this.pollers.delete(uuid);
    poller.abort.abort();
    await poller.poller;
    await Promise.allSettled([...poller.batches]);
  }

  /**
   * The mapping's poller: assembles one batch at a time (so messages arriving within a batching
   * window share a batch) and hands it to an invocation, at most `maximumConcurrency` at once.
   */
  private async poll(
    mapping: EventSourceMapping,
    signal: AbortSignal,
    batches: Set<Promise<void>>,
  ): Promise<void> {
    const slots = mapping.maximumConcurrency ?? DEFAULT_CONCURRENCY;
    while (!signal.aborted) {
      const queue = this.deps.sqs.queueByArn(mapping.queueArn);
      if (!queue) {
        // The queue does not exist (yet): Lambda keeps the mapping and retries.
        await this.pause(1000, signal);
        continue;
      }
      // Receive only with a free invocation slot, so no message waits invisible for capacity.
      while (batches.size >= slots && !signal.aborted) await Promise.race(batches);
      if (signal.aborted) break;
      if (!this.allowed(mapping, 'ReceiveMessage')) {
        // The role may not receive: Lambda keeps the mapping and retries (the denial is logged).
        await this.pause(5000, signal);
        continue;
      }
      const batch = await this.gather(mapping, queue, signal);
      if (batch.length === 0) continue;
      const work = this.process(mapping, queue, batch)
        .catch((error) =>
          this.deps.log(`[sqs] batch of ${mapping.functionName}: ${(error as Error).stack ?? error}`),
        )
        .finally(() => {
          mapping.inFlight -= batch.length;
          batches.delete(work);
        });
      batches.add(work);
    }
  }

  private pause(simulatedMs: number, signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, timerDelay(this.deps.clock, simulatedMs));
      timer.unref?.();
      signal.addEventListener('abort', () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  private allowed(mapping: EventSourceMapping, action: string): boolean {
    const fn = this.deps.lambdas.find(mapping.functionArn);
    return !this.deps.authorize || !fn || this.deps.authorize(fn.name, action, mapping.queueArn);
  }

  /** One batch: the first receive long-polls; then more until batchSize or the batching window ends. */
  private async gather(mapping: EventSourceMapping, queue: Queue, signal: AbortSignal) {
    const receive = async (max: number, options: { waitTimeSeconds?: number; deadline?: number }) => {
      const messages = await queue.receive({ maxMessages: Math.min(10, max), signal, ...options });
      mapping.inFlight += messages.length;
      return messages;
    };
    const batch = await receive(mapping.batchSize, { waitTimeSeconds: POLL_WAIT_SECONDS });
    if (batch.length === 0 || mapping.maximumBatchingWindow === 0) return batch;
    const windowEnd = Date.now() + this.deps.clock.scale(mapping.maximumBatchingWindow * 1000);
    while (batch.length < mapping.batchSize && Date.now() < windowEnd && !signal.aborted) {
      batch.push(...(await receive(mapping.batchSize - batch.length, { deadline: windowEnd })));
    }
    return batch;
  }

  private async process(mapping: EventSourceMapping, queue: Queue, batch: ReceivedMessage[]): Promise<void> {
    const records = batch.map((message) => toRecord(message, mapping.queueArn, this.deps.region));
    let delivered = records;
    if (mapping.filterPatterns?.length) {
      delivered = records.filter((record) =>
        mapping.filterPatterns!.some((p) => matchesPattern(p, filterView(record))),
      );
      for (const record of records) {
        if (delivered.includes(record) || !this.allowed(mapping, 'DeleteMessage')) continue;
        queue.delete(record.receiptHandle);
        mapping.stats.filteredOut++;
      }
      if (delivered.length === 0) return;
    }
    mapping.stats.invocations++;
    let result: unknown;
    try {
      result = await this.deps.lambdas.invoke(mapping.functionArn, { Records: delivered });
    } catch (error) {
      mapping.stats.failed++;
      mapping.stats.retried += delivered.length;
      mapping.lastProcessingResult = 'PROBLEM: Function call failed';
      mapping.lastError = `${(error as Error).name}: ${(error as Error).message}`;
      this.deps.log(
        `[sqs] ${mapping.functionName} failed on ${delivered.length} message(s): ${mapping.lastError}`,
      );
      return;
    }
    const failed = mapping.reportBatchItemFailures
      ? batchItemFailures(
          result,
          delivered.map((r) => r.messageId),
        )
      : new Set<string>();
    if (failed === 'all') {
      mapping.stats.failed++;
      mapping.stats.retried += delivered.length;
      mapping.lastProcessingResult = 'PROBLEM: Batch item failures';
      mapping.lastError = 'the response is not a valid batchItemFailures list: the whole batch is retried';
      return;
    }
    // Without sqs:DeleteMessage the processed messages come back after the visibility timeout.
    const mayDelete =
      delivered.some((record) => !failed.has(record.messageId)) && this.allowed(mapping, 'DeleteMessage');
    for (const record of delivered) {
      if (failed.has(record.messageId) || !mayDelete) continue;
      queue.delete(record.receiptHandle);
      mapping.stats.deleted++;
    }
    mapping.stats.retried += failed.size;
    mapping.stats.succeeded++;
    mapping.lastProcessingResult = failed.size > 0 ? 'PROBLEM: Batch item failures' : 'OK';
  }
}

/**
 * The failed message ids of a ReportBatchItemFailures response, or 'all' when Lambda would treat
 * the batch as a complete failure (a failure list that is not a list, or an item whose
 * itemIdentifier is missing, empty or not a message of the batch). No response, an empty response
 * and an empty or null list are complete successes.
 */
export function batchItemFailures(response: unknown, messageIds: string[]): Set<string> | 'all' {
  if (response === null || response === undefined || typeof response !== 'object') return new Set();
  const list = (response as { batchItemFailures?: unknown }).batchItemFailures;
  if (list === undefined || list === null) return new Set();
  if (!Array.isArray(list)) return 'all';
  const ids = new Set<string>();
  for (const item of list) {
    const id = (item as { itemIdentifier?: unknown } | null)?.itemIdentifier;
    if (typeof id !== 'string' || id === '' || !messageIds.includes(id)) return 'all';
    ids.add(id);
  }
  return ids;
}

export interface SqsRecord {
  messageId: string;
  receiptHandle: string;
  body: string;
  attributes: Record<string, string>;
  messageAttributes: Record<
    string,
    {
      stringValue?: string;
      binaryValue?: string;
      stringListValues: string[];
      binaryListValues: string[];
      dataType: string;
    }
  >;
  md5OfBody: string;
  md5OfMessageAttributes?: string;
  eventSource: 'aws:sqs';
  eventSourceARN: string;
  awsRegion: string;
}

/** A message as Lambda puts it in the SQS event's `Records`. */
export function toRecord(message: ReceivedMessage, queueArn: string, region: string): SqsRecord {
  const messageAttributes: SqsRecord['messageAttributes'] = {};
  for (const [name, value] of Object.entries(message.messageAttributes)) {
    messageAttributes[name] = {
      ...(value.StringValue !== undefined ? { stringValue: value.StringValue } : {}),
      ...(value.BinaryValue !== undefined ? { binaryValue: value.BinaryValue } : {}),
      stringListValues: [],
      binaryListValues: [],
      dataType: value.DataType,
    };
  }
  return {
    messageId: message.messageId,
    receiptHandle: message.receiptHandle,
    body: message.body,
    attributes: systemAttributesOf(message),
    messageAttributes,
    md5OfBody: message.md5OfBody,
    ...(message.md5OfMessageAttributes ? { md5OfMessageAttributes: message.md5OfMessageAttributes } : {}),
    eventSource: 'aws:sqs',
    eventSourceARN: queueArn,
    awsRegion: region,
  };
}

/** What filter patterns see: the record, with a JSON body parsed (as Lambda filtering does). */
function filterView(record: SqsRecord): Record<string, unknown> {
  try {
    const body = JSON.parse(record.body);
    if (body && typeof body === 'object') return { ...record, body };
  } catch {
    // A plain-string body is matched as a string.
  }
  return { ...record };
}
