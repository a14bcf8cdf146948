/**
 * SQS on the local cloud's wire protocol, as the SDK v3 client and the AWS CLI speak it (JSON 1.0,
 * query-compatible errors): the SDK's MD5 checks pass, errors surface under SQS's names in both
 * clients, long polling waits on the scaled clock, and fault rules apply.
 */
import {
  ChangeMessageVisibilityCommand,
  CreateQueueCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  QueueDoesNotExist,
  ReceiveMessageCommand,
  SendMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localClients } from '../support/local-clients.js';
import { errorOf, startTestCloud, type TestCloud } from './local-cloud-helpers.js';

let t: TestCloud;
let sqs: SQSClient;

beforeAll(async () => {
  t = await startTestCloud();
  sqs = localClients(t.cloud.endpoint, { maxAttempts: 1 }).sqs();
}, 60_000);

afterAll(async () => {
  sqs?.destroy();
  await t?.stop();
});

describe('SQS through the SDK', () => {
  it('sends and receives a message with attributes (the SDK verifies the body MD5)', async () => {
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: 'sdk-queue' }));
    const sent = await sqs.send(
      new SendMessageCommand({
        QueueUrl,
        MessageBody: '{"key":"ExtData/é + %.nc"}',
        MessageAttributes: { kind: { DataType: 'String', StringValue: 'object' } },
      }),
    );

    const { Messages } = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl,
        MessageSystemAttributeNames: ['All'],
        MessageAttributeNames: ['All'],
        WaitTimeSeconds: 1,
      }),
    );
    await sqs.send(new DeleteMessageCommand({ QueueUrl, ReceiptHandle: Messages![0]!.ReceiptHandle }));
    const { Attributes } = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['All'] }),
    );

    expect(QueueUrl).toBe(`${t.cloud.endpoint}/000000000000/sdk-queue`);
    expect(Messages).toHaveLength(1);
    expect(Messages![0]).toMatchObject({
      MessageId: sent.MessageId,
      Body: '{"key":"ExtData/é + %.nc"}',
      MD5OfMessageAttributes: sent.MD5OfMessageAttributes,
      MessageAttributes: { kind: { DataType: 'String', StringValue: 'object' } },
      Attributes: { ApproximateReceiveCount: '1', SenderId: expect.stringMatching(/^AIDA/) },
    });
    expect(Attributes).toMatchObject({
      ApproximateNumberOfMessages: '0',
      ApproximateNumberOfMessagesNotVisible: '0',
    });
  });

  it('raises QueueDoesNotExist with the query-compatible code', async () => {
    const error = await errorOf(sqs.send(new GetQueueUrlCommand({ QueueName: 'no-such-queue' })));

    expect(error).toBeInstanceOf(QueueDoesNotExist);
    expect((error as unknown as { Code: string }).Code).toBe('AWS.SimpleQueueService.NonExistentQueue');
  });

  it('raises MessageNotInflight and ReceiptHandleIsInvalid by name', async () => {
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: 'sdk-handles' }));
    await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: 'x' }));
    const { Messages } = await sqs.send(new ReceiveMessageCommand({ QueueUrl, VisibilityTimeout: 0 }));

    const notInFlight = await errorOf(
      sqs.send(
        new ChangeMessageVisibilityCommand({
          QueueUrl,
          ReceiptHandle: Messages![0]!.ReceiptHandle,
          VisibilityTimeout: 5,
        }),
      ),
    );
    const invalid = await errorOf(sqs.send(new DeleteMessageCommand({ QueueUrl, ReceiptHandle: 'nope' })));

    expect(notInFlight.name).toBe('MessageNotInflight');
    expect(invalid.name).toBe('ReceiptHandleIsInvalid');
    expect(invalid.$metadata?.httpStatusCode).toBe(404);
  });

  it('long-polls until a message arrives (WaitTimeSeconds on the scaled clock)', async () => {
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: 'sdk-long-poll' }));
    const consumer = localClients(t.cloud.endpoint).sqs();

    const receiving = consumer.send(new ReceiveMessageCommand({ QueueUrl, WaitTimeSeconds: 20 }));
    await new Promise((resolve) => setTimeout(resolve, 30));
    await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: 'arrived' }));
    const { Messages } = await receiving;
    consumer.destroy();

    expect(Messages?.map((m) => m.Body)).toEqual(['arrived']);
  });

  it('applies fault rules to SQS operations', async () => {
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: 'sdk-faults' }));
    t.cloud.faults.add({
      service: 'sqs',
      operation: 'SendMessage',
      code: 'RequestThrottled',
      status: 403,
      count: 1,
      match: { QueueName: 'sdk-faults' },
    });

    const error = await errorOf(sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: 'x' })));
    const next = await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: 'x' }));

    expect(error.name).toBe('RequestThrottled');
    expect(next.MessageId).toEqual(expect.any(String));
  });
});

describe('SQS through the AWS CLI', () => {
  it('creates a queue, sends, receives with attributes, and reports SQS error codes', async () => {
    const created = await t.aws([
      'sqs',
      'create-queue',
      '--queue-name',
      'cli-queue',
      '--attributes',
      'VisibilityTimeout=60',
    ]);
    const url = JSON.parse(created.stdout).QueueUrl as string;
    const sent = await t.aws([
      'sqs',
      'send-message',
      '--queue-url',
      url,
      '--message-body',
      'hello from the CLI',
    ]);
    const received = await t.aws([
      'sqs',
      'receive-message',
      '--queue-url',
      url,
      '--attribute-names',
      'All',
      '--wait-time-seconds',
      '1',
    ]);
    const missing = await t.aws(['sqs', 'get-queue-url', '--queue-name', 'cli-missing']);

    expect(created.code, created.stderr).toBe(0);
    expect(sent.code, sent.stderr).toBe(0);
    expect(received.code, received.stderr).toBe(0);
    const message = JSON.parse(received.stdout).Messages[0];
    expect(message).toMatchObject({
      MessageId: JSON.parse(sent.stdout).MessageId,
      Body: 'hello from the CLI',
      Attributes: { ApproximateReceiveCount: '1' },
    });
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toContain('AWS.SimpleQueueService.NonExistentQueue');
  }, 30_000);
});
