/**
 * SQS event source mappings in-process (queue emulator + Lambda registry, no HTTP): batching
 * windows, batch sizes, maximumConcurrency, ReportBatchItemFailures responses, filters and the
 * settings Lambda refuses.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ScaledClock } from '../../../local/clock.js';
import { LambdaRegistry } from '../../../local/lambda.js';
import { batchItemFailures, SqsEventSources, validateSpec } from '../../../local/sqs/event-source.js';
import type { Queue } from '../../../local/sqs/queue.js';
import { SqsEmulator } from '../../../local/sqs/service.js';
import { FIXTURE } from './sfn-helpers.js';

interface Record {
  messageId: string;
  body: string;
}

let clock: ScaledClock;
let sqs: SqsEmulator;
let lambdas: LambdaRegistry;
let sources: SqsEventSources;
let queue: Queue;
let batches: Record[][];

const send = (body: string) => sqs.sendMessage(queue, { MessageBody: body }, 'AIDATEST');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

beforeEach(() => {
  clock = new ScaledClock(0.01);
  sqs = new SqsEmulator({
    clock,
    accountId: '000000000000',
    region: 'us-east-1',
    endpoint: () => 'http://x',
  });
  queue = sqs.createQueue('jobs', { VisibilityTimeout: '5' });
  lambdas = new LambdaRegistry({ rootDir: FIXTURE });
  sources = new SqsEventSources({ sqs, lambdas, clock, region: 'us-east-1', log: () => {} });
  batches = [];
});

afterEach(async () => {
  await sources.close();
  sqs.close();
  clock.close();
});

function consumer(handler: (records: Record[]) => Promise<unknown> = async () => ({})) {
  lambdas.register(
    'consumer',
    async (event: { Records: Record[] }) => {
      batches.push(event.Records);
      return handler(event.Records);
    },
    { timeout: 1 },
  );
}

describe('SQS event source mappings', () => {
  it('gathers messages arriving within the batching window into one invocation', async () => {
    // Longer than the window, as Lambda advises (else a message can come back within its own batch).
    sqs.setQueueAttributes(queue, { VisibilityTimeout: '30' });
    consumer();
    sources.add({ functionName: 'consumer', queueArn: queue.arn, batchSize: 50, maximumBatchingWindow: 10 });

    for (const n of [1, 2, 3]) {
      send(`m${n}`);
      await sleep(15);
    }
    await sources.idle();

    expect(batches.map((batch) => batch.map((record) => record.body))).toEqual([['m1', 'm2', 'm3']]);
    expect(queue.counts()).toEqual({ visible: 0, notVisible: 0, delayed: 0 });
  });

  it('invokes with at most batchSize records', async () => {
    consumer();
    for (let n = 0; n < 7; n++) send(`m${n}`);

    sources.add({ functionName: 'consumer', queueArn: queue.arn, batchSize: 3, maximumConcurrency: 2 });
    await sources.idle();

    expect(batches.every((batch) => batch.length <= 3)).toBe(true);
    expect(
      batches
        .flat()
        .map((record) => record.body)
        .sort(),
    ).toEqual(['m0', 'm1', 'm2', 'm3', 'm4', 'm5', 'm6']);
  });

  it('never runs more batches at once than maximumConcurrency', async () => {
    let running = 0;
    let most = 0;
    consumer(async () => {
      running++;
      most = Math.max(most, running);
      await sleep(30);
      running--;
      return {};
    });
    for (let n = 0; n < 8; n++) send(`m${n}`);

    sources.add({ functionName: 'consumer', queueArn: queue.arn, batchSize: 1, maximumConcurrency: 2 });
    await sources.idle();

    expect(batches).toHaveLength(8);
    expect(most).toBe(2);
  });

  it('keeps only the reported batch item failures, which come back after the visibility timeout', async () => {
    consumer(async (records) => ({
      batchItemFailures: records
        .filter((r) => r.body === 'bad')
        .map((r) => ({ itemIdentifier: r.messageId })),
    }));
    send('good');
    send('bad');
    sources.add({
      functionName: 'consumer',
      queueArn: queue.arn,
      batchSize: 10,
      reportBatchItemFailures: true,
    });

    await sources.idle();
    const afterFirst = queue.counts();
    await sleep(clock.scale(5_000) + 30);
    await sources.idle();

    expect(afterFirst).toEqual({ visible: 0, notVisible: 1, delayed: 0 });
    const bodies = batches.map((batch) => batch.map((record) => record.body).sort());
    expect(bodies[0]).toEqual(['bad', 'good']);
    expect(
      bodies
        .slice(1)
        .flat()
        .every((body) => body === 'bad'),
    ).toBe(true);
    expect(bodies.length).toBeGreaterThanOrEqual(2);
  });

  it('deletes the messages no filter pattern matches without invoking the function', async () => {
    consumer();
    sources.add({
      functionName: 'consumer',
      queueArn: queue.arn,
      filterPatterns: [{ body: { kind: ['wanted'] } }],
    });

    send(JSON.stringify({ kind: 'wanted' }));
    send(JSON.stringify({ kind: 'other' }));
    await sources.idle();

    expect(batches.flat().map((record) => JSON.parse(record.body).kind)).toEqual(['wanted']);
    expect(sources.list()[0]?.stats.filteredOut).toBe(1);
    expect(queue.counts().visible + queue.counts().notVisible).toBe(0);
  });
});

describe('batch item failure responses', () => {
  const ids = ['a', 'b'];

  it('treats no response, an empty one and an empty or null list as complete success', () => {
    for (const response of [null, undefined, {}, { batchItemFailures: [] }, { batchItemFailures: null }]) {
      expect(batchItemFailures(response, ids)).toEqual(new Set());
    }
  });

  it('names the failed messages', () => {
    expect(batchItemFailures({ batchItemFailures: [{ itemIdentifier: 'b' }] }, ids)).toEqual(new Set(['b']));
  });

  it('fails the whole batch for an empty, missing or unknown itemIdentifier, or a list that is not a list', () => {
    for (const response of [
      { batchItemFailures: [{ itemIdentifier: '' }] },
      { batchItemFailures: [{}] },
      { batchItemFailures: [{ itemIdentifier: 'zzz' }] },
      { batchItemFailures: 'a' },
    ]) {
      expect(batchItemFailures(response, ids)).toBe('all');
    }
  });
});

describe('mapping settings', () => {
  it('refuses a queue whose visibility timeout is shorter than the function timeout', () => {
    lambdas.register('slow-consumer', async () => ({}), { timeout: 10 });

    expect(() => sources.add({ functionName: 'slow-consumer', queueArn: queue.arn })).toThrow(
      'InvalidParameterValueException: Queue visibility timeout: 5 seconds is less than Function timeout: 10 seconds',
    );
  });

  it('refuses what CreateEventSourceMapping refuses', () => {
    expect(() => validateSpec({ functionName: 'f', queueArn: 'q', batchSize: 20 })).toThrow(
      /Maximum batch window in seconds must be greater than 0 if maximum batch size is greater than 10/,
    );
    expect(() => validateSpec({ functionName: 'f', queueArn: 'q', maximumConcurrency: 1 })).toThrow(
      /MaximumConcurrency/,
    );
    expect(() => validateSpec({ functionName: 'f', queueArn: 'q', maximumBatchingWindow: 301 })).toThrow(
      /300/,
    );
    expect(() =>
      validateSpec({ functionName: 'f', queueArn: 'q', batchSize: 20, maximumBatchingWindow: 1 }),
    ).not.toThrow();
  });
});
