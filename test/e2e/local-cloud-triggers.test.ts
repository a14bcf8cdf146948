/**
 * The trigger path on the local cloud, with the fixture project: an S3 object event goes through
 * the EventBridge rule to the SQS queue and its event source mapping to the function, with the
 * real SQS event; batch item failures and function errors leave messages to come back, and
 * redrive moves them to the dead-letter queue after maxReceiveCount receives; PutEvents puts
 * (validated) events on the bus.
 */
import { createHash } from 'node:crypto';
import { PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { GetQueueUrlCommand, SendMessageBatchCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localClients } from '../support/local-clients.js';
import { errorOf, type TestCloud, waitFor } from './local-cloud-helpers.js';
import { BUCKET, startFixtureCloud, WORK_DLQ, WORK_QUEUE } from './triggers-helpers.js';

let t: TestCloud;
let clients: ReturnType<typeof localClients>;
let queueUrl: string;

beforeAll(async () => {
  t = await startFixtureCloud();
  clients = localClients(t.cloud.endpoint, { maxAttempts: 1 });
  queueUrl = (await clients.sqs().send(new GetQueueUrlCommand({ QueueName: WORK_QUEUE }))).QueueUrl!;
}, 60_000);

afterAll(async () => {
  await t?.stop();
});

/** Every record the SQS-triggered function received, with the invocation's outcome. */
function workerRecords(): { record: SQSRecord; failed: boolean }[] {
  return t.cloud.lambdas.invocations
    .filter((invocation) => invocation.functionName === 'fixture-local-sqs-worker')
    .flatMap((invocation) =>
      (invocation.event as SQSEvent).Records.map((record) => ({ record, failed: Boolean(invocation.error) })),
    );
}

async function queueState(name: string) {
  return (await t.admin('GET', `/sqs/queues/${name}`)).body as {
    visible: number;
    notVisible: number;
    delayed: number;
    messages: { messageId: string; body: string; receiveCount: number; deadLetterQueueSourceArn?: string }[];
  };
}

describe('S3 object events -> rule -> queue -> function', () => {
  it('delivers an object event under a matching prefix to the SQS-triggered function as an SQS event', async () => {
    const s3 = clients.s3();

    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'input/day 1/a+b.nc', Body: 'data' }));
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'elsewhere/c.nc', Body: 'data' }));
    await t.cloud.idle();

    const bodies = workerRecords().map(({ record }) => JSON.parse(record.body));
    const keys = bodies.filter((b) => b.source === 'aws.s3').map((b) => b.detail.object.key);
    // The key as S3 sends it in events: URL-encoded (space -> +, + -> %2B).
    expect(keys).toEqual(['input/day+1/a%2Bb.nc']);
    const { record } = workerRecords().find(({ record }) => JSON.parse(record.body).source === 'aws.s3')!;
    expect(record).toMatchObject({
      eventSource: 'aws:sqs',
      eventSourceARN: `arn:aws:sqs:us-east-1:000000000000:${WORK_QUEUE}`,
      awsRegion: 'us-east-1',
      md5OfBody: createHash('md5').update(record.body).digest('hex'),
      messageAttributes: {},
      attributes: {
        ApproximateReceiveCount: '1',
        SentTimestamp: expect.stringMatching(/^\d{13}$/),
        ApproximateFirstReceiveTimestamp: expect.stringMatching(/^\d{13}$/),
        SenderId: expect.any(String),
      },
    });
    expect(record.receiptHandle).toEqual(expect.any(String));
    expect(JSON.parse(record.body)).toMatchObject({
      'detail-type': 'Object Created',
      resources: [`arn:aws:s3:::${BUCKET}`],
      detail: {
        bucket: { name: BUCKET },
        object: { key: 'input/day+1/a%2Bb.nc', size: 4 },
        reason: 'PutObject',
      },
    });
    const queue = await queueState(WORK_QUEUE);
    expect(queue.messages).toEqual([]);
  });
});

describe('failures and redrive', () => {
  it('deletes the messages a batch processed and redrives a reported failure to the DLQ after 3 receives', async () => {
    const sqs = clients.sqs();
    const sent = await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: [
          { Id: 'ok1', MessageBody: JSON.stringify({ n: 1 }) },
          { Id: 'bad', MessageBody: JSON.stringify({ fail: true, n: 2 }) },
          { Id: 'ok2', MessageBody: JSON.stringify({ n: 3 }) },
        ],
      }),
    );
    const badId = sent.Successful!.find((entry) => entry.Id === 'bad')!.MessageId!;

    const dead = await waitFor(async () => {
      const dlq = await queueState(WORK_DLQ);
      return dlq.messages.find((message) => message.messageId === badId);
    });
    await t.cloud.idle();

    expect(dead).toMatchObject({
      body: JSON.stringify({ fail: true, n: 2 }),
      receiveCount: 3,
      deadLetterQueueSourceArn: `arn:aws:sqs:us-east-1:000000000000:${WORK_QUEUE}`,
    });
    const deliveries = workerRecords().filter(({ record }) => record.messageId === badId);
    expect(deliveries.map(({ record }) => record.attributes.ApproximateReceiveCount)).toEqual([
      '1',
      '2',
      '3',
    ]);
    const okIds = sent.Successful!.filter((entry) => entry.Id !== 'bad').map((entry) => entry.MessageId);
    for (const id of okIds) {
      expect(workerRecords().filter(({ record }) => record.messageId === id)).toHaveLength(1);
    }
    expect((await queueState(WORK_QUEUE)).messages).toEqual([]);
  });

  it('deletes nothing when the function fails: the message comes back and ends in the DLQ', async () => {
    const { MessageId } = await clients
      .sqs()
      .send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: JSON.stringify({ crash: true }) }));

    await waitFor(async () => (await queueState(WORK_DLQ)).messages.some((m) => m.messageId === MessageId));

    const deliveries = workerRecords().filter(({ record }) => record.messageId === MessageId);
    expect(deliveries).toHaveLength(3);
    expect(deliveries.every(({ failed }) => failed)).toBe(true);
    const mapping = (await t.admin('GET', '/sqs/event-source-mappings')).body.mappings[0];
    expect(mapping).toMatchObject({
      functionName: 'sqs-worker',
      lastError: expect.stringContaining('CrashError'),
    });
  });

  it('leaves messages in the queue while the mapping is disabled, and processes them once enabled', async () => {
    await t.admin('POST', '/sqs/event-source-mappings/sqs-worker', { enabled: false });
    const { MessageId } = await clients
      .sqs()
      .send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: '{}' }));
    await new Promise((resolve) => setTimeout(resolve, 100));

    const waiting = await queueState(WORK_QUEUE);
    await t.admin('POST', '/sqs/event-source-mappings/sqs-worker', { enabled: true });
    await t.cloud.idle();

    expect(waiting.messages.map((m) => m.messageId)).toEqual([MessageId]);
    expect(workerRecords().filter(({ record }) => record.messageId === MessageId)).toHaveLength(1);
    expect((await queueState(WORK_QUEUE)).messages).toEqual([]);
  });
});

describe('EventBridge PutEvents', () => {
  it('puts valid entries on the bus and fails the others one by one, as EventBridge does', async () => {
    const events = clients.eventbridge();

    const result = await events.send(
      new PutEventsCommand({
        Entries: [
          {
            Source: 'fixture.audit',
            DetailType: 'Audit',
            Detail: JSON.stringify({ kind: 'login', user: 'ada' }),
          },
          { Source: 'fixture.audit', DetailType: 'Audit', Detail: '[1, 2]' },
          { Source: 'fixture.audit', Detail: '{}' },
          { Source: 'aws.s3', DetailType: 'Object Created', Detail: '{}' },
        ],
      }),
    );
    await t.cloud.idle();

    expect(result.FailedEntryCount).toBe(3);
    expect(result.Entries![0]).toEqual({ EventId: expect.stringMatching(/^[0-9a-f-]{36}$/) });
    expect(result.Entries!.slice(1)).toEqual([
      { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' },
      {
        ErrorCode: 'InvalidArgument',
        ErrorMessage: 'Parameter DetailType is not valid. Reason: DetailType is a required argument.',
      },
      { ErrorCode: 'NotAuthorizedForSourceException', ErrorMessage: 'Not authorized for the source.' },
    ]);
    // The fixture's audit rule passes `$.detail` of fixture.* events to `echo`.
    const echoed = t.cloud.lambdas.invocations.filter((i) => i.functionName === 'fixture-local-echo');
    expect(echoed.map((i) => i.event)).toContainEqual({ kind: 'login', user: 'ada' });
    const logged = t.cloud.eventLog.find((e) => e.id === result.Entries![0]!.EventId);
    expect(logged).toMatchObject({
      source: 'fixture.audit',
      'detail-type': 'Audit',
      account: '000000000000',
    });
  });

  it('refuses more than 10 entries in one request', async () => {
    const entries = Array.from({ length: 11 }, () => ({
      Source: 'fixture.x',
      DetailType: 'X',
      Detail: '{}',
    }));

    const error = await errorOf(clients.eventbridge().send(new PutEventsCommand({ Entries: entries })));

    expect(error.name).toBe('ValidationException');
  });
});
