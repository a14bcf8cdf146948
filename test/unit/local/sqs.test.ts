/**
 * SQS semantics of the local cloud's emulator, called in-process (no HTTP): visibility timeouts
 * and receipt handles, redrive to a dead-letter queue, long polling, batches and validation. The
 * clock runs 100 times faster than real time (30 s of visibility = 300 ms).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ScaledClock } from '../../../local/clock.js';
import { md5OfAttributes } from '../../../local/sqs/messages.js';
import { SqsEmulator } from '../../../local/sqs/service.js';

const ENDPOINT = 'http://127.0.0.1:4566';
const CTX = {
  accountId: '000000000000',
  region: 'us-east-1',
  service: 'sqs',
  accessKeyId: 'test',
  requestId: 'r',
};

let clock: ScaledClock;
let sqs: SqsEmulator;

const call = (operation: string, input: Record<string, unknown>): Promise<any> =>
  sqs.handle(operation, input, CTX);

async function errorOf(
  promise: Promise<unknown>,
): Promise<{ code: string; message: string; headers?: Record<string, string> }> {
  try {
    await promise;
  } catch (error) {
    return error as { code: string; message: string };
  }
  throw new Error('expected the call to fail');
}

async function createQueue(name: string, attributes: Record<string, string> = {}): Promise<string> {
  return (await call('CreateQueue', { QueueName: name, Attributes: attributes })).QueueUrl;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

beforeEach(() => {
  clock = new ScaledClock(0.01);
  sqs = new SqsEmulator({ clock, accountId: '000000000000', region: 'us-east-1', endpoint: () => ENDPOINT });
});

afterEach(() => {
  sqs.close();
  clock.close();
});

describe('SQS queues', () => {
  it('creates a queue idempotently and refuses the same name with different attributes', async () => {
    const url = await createQueue('orders', { VisibilityTimeout: '60' });

    const again = await createQueue('orders', { VisibilityTimeout: '60' });
    const conflict = await errorOf(createQueue('orders', { VisibilityTimeout: '30' }));

    expect(url).toBe(`${ENDPOINT}/000000000000/orders`);
    expect(again).toBe(url);
    expect(conflict.code).toBe('QueueNameExists');
    expect(conflict.headers?.['x-amzn-query-error']).toBe('QueueAlreadyExists;Sender');
  });

  it('answers QueueDoesNotExist with the query-compatible code for an unknown queue URL', async () => {
    const error = await errorOf(
      call('SendMessage', { QueueUrl: `${ENDPOINT}/000000000000/nope`, MessageBody: 'x' }),
    );

    expect(error.code).toBe('QueueDoesNotExist');
    expect(error.headers?.['x-amzn-query-error']).toBe('AWS.SimpleQueueService.NonExistentQueue;Sender');
  });

  it('validates attribute names and ranges', async () => {
    const unknown = await errorOf(createQueue('a', { Colour: 'blue' }));
    const outOfRange = await errorOf(createQueue('b', { VisibilityTimeout: '43201' }));
    const badName = await errorOf(createQueue('has space'));

    expect(unknown.code).toBe('InvalidAttributeName');
    expect(outOfRange.code).toBe('InvalidAttributeValue');
    expect(badName.code).toBe('InvalidParameterValue');
  });

  it('lists queues by prefix with MaxResults pages', async () => {
    for (const name of ['b-1', 'b-2', 'b-3', 'other']) await createQueue(name);

    const first = await call('ListQueues', { QueueNamePrefix: 'b-', MaxResults: 2 });
    const second = await call('ListQueues', {
      QueueNamePrefix: 'b-',
      MaxResults: 2,
      NextToken: first.NextToken,
    });

    expect(first.QueueUrls.map((url: string) => url.split('/').pop())).toEqual(['b-1', 'b-2']);
    expect(second.QueueUrls.map((url: string) => url.split('/').pop())).toEqual(['b-3']);
    expect(second.NextToken).toBeUndefined();
  });

  it('reports approximate counts of visible, in-flight and delayed messages', async () => {
    const url = await createQueue('counts');
    await call('SendMessage', { QueueUrl: url, MessageBody: 'a' });
    await call('SendMessage', { QueueUrl: url, MessageBody: 'b' });
    await call('SendMessage', { QueueUrl: url, MessageBody: 'c', DelaySeconds: 900 });
    await call('ReceiveMessage', { QueueUrl: url });

    const { Attributes } = await call('GetQueueAttributes', { QueueUrl: url, AttributeNames: ['All'] });

    expect(Attributes).toMatchObject({
      ApproximateNumberOfMessages: '1',
      ApproximateNumberOfMessagesNotVisible: '1',
      ApproximateNumberOfMessagesDelayed: '1',
      QueueArn: 'arn:aws:sqs:us-east-1:000000000000:counts',
      VisibilityTimeout: '30',
    });
  });
});

describe('SQS messages', () => {
  it('returns the body and attribute MD5s SQS computes', async () => {
    const url = await createQueue('md5');
    const MessageAttributes = { SellerName: { DataType: 'String', StringValue: 'Example Store' } };

    const sent = await call('SendMessage', { QueueUrl: url, MessageBody: 'hello', MessageAttributes });

    expect(sent.MD5OfMessageBody).toBe('5d41402abc4b2a76b9719d911017c592');
    // The digest AWS documents for this attribute map.
    expect(sent.MD5OfMessageAttributes).toBe('cd28f3b68aeee4b2eac9c66f2f694b58');
    expect(md5OfAttributes(MessageAttributes)).toBe(sent.MD5OfMessageAttributes);
  });

  it('hides a received message for its visibility timeout, then delivers it again with a new handle', async () => {
    const url = await createQueue('visibility', { VisibilityTimeout: '30' });
    await call('SendMessage', { QueueUrl: url, MessageBody: 'job' });

    const first = await call('ReceiveMessage', { QueueUrl: url, AttributeNames: ['All'] });
    const hidden = await call('ReceiveMessage', { QueueUrl: url });
    await sleep(clock.scale(30_000) + 50);
    const again = await call('ReceiveMessage', {
      QueueUrl: url,
      MessageSystemAttributeNames: ['ApproximateReceiveCount'],
    });

    expect(first.Messages).toHaveLength(1);
    expect(first.Messages[0].Attributes.ApproximateReceiveCount).toBe('1');
    expect(first.Messages[0].Attributes.SenderId).toMatch(/^AIDA/);
    expect(hidden.Messages).toBeUndefined();
    expect(again.Messages[0].MessageId).toBe(first.Messages[0].MessageId);
    expect(again.Messages[0].ReceiptHandle).not.toBe(first.Messages[0].ReceiptHandle);
    expect(again.Messages[0].Attributes).toEqual({ ApproximateReceiveCount: '2' });
  });

  it('deletes only with the latest receipt handle (an older one succeeds without deleting)', async () => {
    const url = await createQueue('handles');
    await call('SendMessage', { QueueUrl: url, MessageBody: 'job' });
    const first = await call('ReceiveMessage', { QueueUrl: url, VisibilityTimeout: 0 });
    const second = await call('ReceiveMessage', { QueueUrl: url, VisibilityTimeout: 0 });

    await call('DeleteMessage', { QueueUrl: url, ReceiptHandle: first.Messages[0].ReceiptHandle });
    const stillThere = await call('ReceiveMessage', { QueueUrl: url, VisibilityTimeout: 0 });
    await call('DeleteMessage', { QueueUrl: url, ReceiptHandle: stillThere.Messages[0].ReceiptHandle });
    const gone = await call('ReceiveMessage', { QueueUrl: url });
    const garbage = await errorOf(call('DeleteMessage', { QueueUrl: url, ReceiptHandle: 'not-a-handle' }));

    expect(second.Messages[0].MessageId).toBe(first.Messages[0].MessageId);
    expect(stillThere.Messages).toHaveLength(1);
    expect(gone.Messages).toBeUndefined();
    expect(garbage.code).toBe('ReceiptHandleIsInvalid');
  });

  it('makes a message visible at once with ChangeMessageVisibility 0 and refuses it for a visible one', async () => {
    const url = await createQueue('change', { VisibilityTimeout: '600' });
    await call('SendMessage', { QueueUrl: url, MessageBody: 'job' });
    const received = await call('ReceiveMessage', { QueueUrl: url });
    const handle = received.Messages[0].ReceiptHandle;

    await call('ChangeMessageVisibility', { QueueUrl: url, ReceiptHandle: handle, VisibilityTimeout: 0 });
    const notInFlight = await errorOf(
      call('ChangeMessageVisibility', { QueueUrl: url, ReceiptHandle: handle, VisibilityTimeout: 10 }),
    );
    const again = await call('ReceiveMessage', { QueueUrl: url });

    expect(notInFlight.code).toBe('MessageNotInflight');
    expect(again.Messages[0].MessageId).toBe(received.Messages[0].MessageId);
  });

  it('delays a message by DelaySeconds on the scaled clock', async () => {
    const url = await createQueue('delay');
    await call('SendMessage', { QueueUrl: url, MessageBody: 'later', DelaySeconds: 10 });

    const early = await call('ReceiveMessage', { QueueUrl: url });
    await sleep(clock.scale(10_000) + 50);
    const late = await call('ReceiveMessage', { QueueUrl: url });

    expect(early.Messages).toBeUndefined();
    expect(late.Messages[0].Body).toBe('later');
  });

  it('rejects bodies with characters SQS does not allow, and oversized messages', async () => {
    const url = await createQueue('contents', { MaximumMessageSize: '1024' });

    const control = await errorOf(call('SendMessage', { QueueUrl: url, MessageBody: 'a\u0001b' }));
    const large = await errorOf(call('SendMessage', { QueueUrl: url, MessageBody: 'x'.repeat(1025) }));

    expect(control.code).toBe('InvalidMessageContents');
    expect(large.code).toBe('InvalidParameterValue');
    expect(large.message).toContain('Message must be shorter than 1024 bytes');
  });

  it('returns only the message attributes asked for (names, prefixes, All)', async () => {
    const url = await createQueue('attributes');
    await call('SendMessage', {
      QueueUrl: url,
      MessageBody: 'x',
      MessageAttributes: {
        'trace.id': { DataType: 'String', StringValue: 't' },
        count: { DataType: 'Number', StringValue: '3' },
      },
    });

    const prefixed = await call('ReceiveMessage', {
      QueueUrl: url,
      MessageAttributeNames: ['trace.*'],
      VisibilityTimeout: 0,
    });
    const all = await call('ReceiveMessage', { QueueUrl: url, MessageAttributeNames: ['All'] });

    expect(Object.keys(prefixed.Messages[0].MessageAttributes)).toEqual(['trace.id']);
    expect(Object.keys(all.Messages[0].MessageAttributes).sort()).toEqual(['count', 'trace.id']);
  });
});

describe('SQS redrive', () => {
  it('moves a message received maxReceiveCount times to the dead-letter queue on the next receive', async () => {
    const dlqUrl = await createQueue('work-dlq');
    const url = await createQueue('work', {
      RedrivePolicy: JSON.stringify({
        deadLetterTargetArn: 'arn:aws:sqs:us-east-1:000000000000:work-dlq',
        maxReceiveCount: 2,
      }),
    });
    const { MessageId } = await call('SendMessage', { QueueUrl: url, MessageBody: 'poison' });

    const receives = [];
    for (let i = 0; i < 3; i++)
      receives.push(await call('ReceiveMessage', { QueueUrl: url, VisibilityTimeout: 0 }));
    const dead = await call('ReceiveMessage', { QueueUrl: dlqUrl, AttributeNames: ['All'] });

    expect(receives.map((r) => r.Messages?.length ?? 0)).toEqual([1, 1, 0]);
    expect(dead.Messages[0].MessageId).toBe(MessageId);
    expect(dead.Messages[0].Body).toBe('poison');
    expect(dead.Messages[0].Attributes).toMatchObject({
      DeadLetterQueueSourceArn: 'arn:aws:sqs:us-east-1:000000000000:work',
      // SQS counts receives across all queues.
      ApproximateReceiveCount: '3',
    });
  });

  it('refuses a redrive policy whose dead-letter queue does not exist', async () => {
    const error = await errorOf(
      createQueue('orphan', {
        RedrivePolicy: JSON.stringify({
          deadLetterTargetArn: 'arn:aws:sqs:us-east-1:000000000000:missing',
          maxReceiveCount: 3,
        }),
      }),
    );

    expect(error.code).toBe('InvalidAttributeValue');
    expect(error.message).toContain('Dead letter target does not exist');
  });
});

describe('SQS long polling', () => {
  it('returns as soon as a message arrives during WaitTimeSeconds', async () => {
    const url = await createQueue('poll');
    const started = Date.now();

    const receiving = call('ReceiveMessage', { QueueUrl: url, WaitTimeSeconds: 20 });
    await sleep(20);
    await call('SendMessage', { QueueUrl: url, MessageBody: 'wake' });
    const result = await receiving;

    expect(result.Messages[0].Body).toBe('wake');
    expect(Date.now() - started).toBeLessThan(clock.scale(20_000));
  });

  it('returns nothing after the (scaled) wait when no message comes', async () => {
    const url = await createQueue('idle');
    const started = Date.now();

    const result = await call('ReceiveMessage', { QueueUrl: url, WaitTimeSeconds: 5 });

    expect(result.Messages).toBeUndefined();
    expect(Date.now() - started).toBeGreaterThanOrEqual(clock.scale(5_000) - 5);
  });

  it('wakes a long poll when an in-flight message becomes visible again', async () => {
    const url = await createQueue('return', { VisibilityTimeout: '5' });
    await call('SendMessage', { QueueUrl: url, MessageBody: 'back' });
    await call('ReceiveMessage', { QueueUrl: url });

    const result = await call('ReceiveMessage', { QueueUrl: url, WaitTimeSeconds: 20 });

    expect(result.Messages[0].Body).toBe('back');
  });

  it('refuses WaitTimeSeconds and MaxNumberOfMessages outside their ranges', async () => {
    const url = await createQueue('ranges');

    const wait = await errorOf(call('ReceiveMessage', { QueueUrl: url, WaitTimeSeconds: 21 }));
    const max = await errorOf(call('ReceiveMessage', { QueueUrl: url, MaxNumberOfMessages: 11 }));

    expect(wait.code).toBe('InvalidParameterValue');
    expect(max.message).toBe(
      'Value 11 for parameter MaxNumberOfMessages is invalid. Reason: Must be between 1 and 10, if provided.',
    );
  });
});

describe('SQS batches', () => {
  it('reports each failed entry and keeps the others', async () => {
    const url = await createQueue('batch');

    const result = await call('SendMessageBatch', {
      QueueUrl: url,
      Entries: [
        { Id: 'ok', MessageBody: 'fine' },
        { Id: 'bad', MessageBody: 'x', DelaySeconds: 901 },
      ],
    });

    expect(result.Successful.map((e: { Id: string }) => e.Id)).toEqual(['ok']);
    expect(result.Failed).toEqual([
      expect.objectContaining({ Id: 'bad', SenderFault: true, Code: 'InvalidParameterValue' }),
    ]);
  });

  it('refuses empty, oversized and duplicate-id batches', async () => {
    const url = await createQueue('batch-rules');
    const entries = (n: number) => Array.from({ length: n }, (_, i) => ({ Id: `m${i}`, MessageBody: 'x' }));

    const empty = await errorOf(call('SendMessageBatch', { QueueUrl: url, Entries: [] }));
    const tooMany = await errorOf(call('SendMessageBatch', { QueueUrl: url, Entries: entries(11) }));
    const duplicate = await errorOf(
      call('DeleteMessageBatch', {
        QueueUrl: url,
        Entries: [
          { Id: 'a', ReceiptHandle: 'x' },
          { Id: 'a', ReceiptHandle: 'y' },
        ],
      }),
    );

    expect(empty.code).toBe('EmptyBatchRequest');
    expect(tooMany.code).toBe('TooManyEntriesInBatchRequest');
    expect(duplicate.code).toBe('BatchEntryIdsNotDistinct');
  });

  it('deletes and changes visibility in batches, failing bad handles per entry', async () => {
    const url = await createQueue('batch-ops');
    await call('SendMessageBatch', {
      QueueUrl: url,
      Entries: [
        { Id: 'a', MessageBody: '1' },
        { Id: 'b', MessageBody: '2' },
      ],
    });
    const { Messages } = await call('ReceiveMessage', { QueueUrl: url, MaxNumberOfMessages: 10 });

    const changed = await call('ChangeMessageVisibilityBatch', {
      QueueUrl: url,
      Entries: [
        { Id: 'a', ReceiptHandle: Messages[0].ReceiptHandle, VisibilityTimeout: 0 },
        { Id: 'z', ReceiptHandle: 'garbage', VisibilityTimeout: 0 },
      ],
    });
    const deleted = await call('DeleteMessageBatch', {
      QueueUrl: url,
      Entries: Messages.map((m: { ReceiptHandle: string }, i: number) => ({
        Id: `d${i}`,
        ReceiptHandle: m.ReceiptHandle,
      })),
    });
    const { Attributes } = await call('GetQueueAttributes', {
      QueueUrl: url,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    });

    expect(Messages).toHaveLength(2);
    expect(changed.Successful).toEqual([{ Id: 'a' }]);
    expect(changed.Failed[0]).toMatchObject({ Id: 'z', Code: 'ReceiptHandleIsInvalid' });
    expect(deleted.Successful).toHaveLength(2);
    expect(Attributes).toEqual({
      ApproximateNumberOfMessages: '0',
      ApproximateNumberOfMessagesNotVisible: '0',
    });
  });

  it('purges a queue once per 60 (scaled) seconds', async () => {
    const url = await createQueue('purge');
    await call('SendMessage', { QueueUrl: url, MessageBody: 'x' });

    await call('PurgeQueue', { QueueUrl: url });
    const second = await errorOf(call('PurgeQueue', { QueueUrl: url }));
    const { Messages } = await call('ReceiveMessage', { QueueUrl: url });

    expect(second.code).toBe('PurgeQueueInProgress');
    expect(Messages).toBeUndefined();
  });
});
