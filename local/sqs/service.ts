/**
 * Amazon SQS emulator of the local cloud, on the JSON 1.0 protocol the current SDKs and the AWS
 * CLI send (`X-Amz-Target: AmazonSQS.<Operation>`, query-compatible errors). Standard queues only:
 * CreateQueue, GetQueueUrl, GetQueueAttributes, SetQueueAttributes, ListQueues, DeleteQueue,
 * PurgeQueue, SendMessage(Batch), ReceiveMessage, DeleteMessage(Batch),
 * ChangeMessageVisibility(Batch), TagQueue, UntagQueue, ListQueueTags. Queue semantics (visibility,
 * long polling, redrive, retention) live in queue.ts. Queue URLs are `<endpoint>/<account>/<name>`.
 *
 * State is in memory: queues declared in serverless.yml are created again at every start.
 */

import type { LocalRequestContext } from '../server.js';
import { userIdFor } from '../sts.js';
import type { Clock, JsonService, RequestContext } from '../types.js';
import {
  invalidParameter,
  md5OfAttributes,
  messageSize,
  queueDoesNotExist,
  SqsError,
  validateAttributes,
  validateBody,
} from './messages.js';
import { DEFAULT_SETTINGS, Queue, type QueueSettings, type ReceivedMessage } from './queue.js';

export interface SqsEmulatorDeps {
  clock: Clock;
  accountId: string;
  region: string;
  /** The local cloud's endpoint (queue URLs). */
  endpoint: () => string;
}

/** Settable attributes with their integer ranges (SQS API reference, SetQueueAttributes). */
const INTEGER_ATTRIBUTES: Record<keyof QueueSettings, [number, number]> = {
  DelaySeconds: [0, 900],
  MaximumMessageSize: [1024, 1_048_576],
  MessageRetentionPeriod: [60, 1_209_600],
  ReceiveMessageWaitTimeSeconds: [0, 20],
  VisibilityTimeout: [0, 43_200],
};
const STORED_ATTRIBUTES = new Set([
  'Policy',
  'RedriveAllowPolicy',
  'KmsMasterKeyId',
  'KmsDataKeyReusePeriodSeconds',
  'SqsManagedSseEnabled',
]);
const FIFO_ATTRIBUTES = new Set([
  'FifoQueue',
  'ContentBasedDeduplication',
  'DeduplicationScope',
  'FifoThroughputLimit',
]);
const READ_ONLY_ATTRIBUTES = [
  'QueueArn',
  'ApproximateNumberOfMessages',
  'ApproximateNumberOfMessagesNotVisible',
  'ApproximateNumberOfMessagesDelayed',
  'CreatedTimestamp',
  'LastModifiedTimestamp',
];
const QUEUE_NAME = /^[A-Za-z0-9_-]{1,80}$/;
const BATCH_ENTRY_ID = /^[A-Za-z0-9_-]{1,80}$/;
/** SQS refuses to reuse a deleted queue's name for 60 seconds. */
const DELETED_RECENTLY_MS = 60_000;
/** One PurgeQueue per queue every 60 seconds. */
const PURGE_INTERVAL_MS = 60_000;
const SYSTEM_ATTRIBUTE_NAMES = [
  'SenderId',
  'SentTimestamp',
  'ApproximateReceiveCount',
  'ApproximateFirstReceiveTimestamp',
  'AWSTraceHeader',
  'DeadLetterQueueSourceArn',
];

type Input = Record<string, unknown>;

function integerInRange(value: unknown, [min, max]: [number, number]): number | undefined {
  const text = String(value);
  if (!/^-?\d+$/.test(text)) return undefined;
  const number = Number(text);
  return number >= min && number <= max ? number : undefined;
}

/** An optional integer request parameter in its range, with SQS's message when it is not. */
function optionalInteger(input: Input, name: string, range: [number, number], reason: string) {
  if (input[name] === undefined || input[name] === null) return undefined;
  const value = integerInRange(input[name], range);
  if (value === undefined) {
    throw invalidParameter(
      `Value ${String(input[name])} for parameter ${name} is invalid. Reason: ${reason}`,
    );
  }
  return value;
}

function requiredString(input: Input, name: string): string {
  const value = input[name];
  if (typeof value !== 'string' || value === '') {
    throw new SqsError('MissingParameter', `The request must contain the parameter ${name}.`);
  }
  return value;
}

/** The `Entries` of a batch request, checked like SQS (count, ids, distinct ids). */
function batchEntries(input: Input): Input[] {
  const entries = input.Entries;
  if (!Array.isArray(entries) || entries.length === 0) {
    throw new SqsError(
      'EmptyBatchRequest',
      'There should be at least one SendMessageBatchRequestEntry in the request.',
    );
  }
  if (entries.length > 10) {
    throw new SqsError(
      'TooManyEntriesInBatchRequest',
      `Maximum number of entries per request are 10. You have sent ${entries.length}.`,
    );
  }
  const ids = new Set<string>();
  for (const entry of entries as Input[]) {
    const id = String(entry?.Id ?? '');
    if (!BATCH_ENTRY_ID.test(id)) {
      throw new SqsError(
        'InvalidBatchEntryId',
        'A batch entry id can only contain alphanumeric characters, hyphens and underscores. It can be at most 80 letters long.',
      );
    }
    if (ids.has(id)) throw new SqsError('BatchEntryIdsNotDistinct', `Id ${id} repeated.`);
    ids.add(id);
  }
  return entries as Input[];
}

/** Runs `fn` for each batch entry; failures become `Failed` entries (SenderFault, Code, Message). */
function eachEntry<T>(entries: Input[], fn: (entry: Input) => T) {
  const Successful: (T & { Id: string })[] = [];
  const Failed: { Id: string; SenderFault: boolean; Code: string; Message: string }[] = [];
  for (const entry of entries) {
    const id = String(entry.Id);
    try {
      Successful.push({ Id: id, ...fn(entry) });
    } catch (error) {
      if (!(error instanceof SqsError)) throw error;
      Failed.push({ Id: id, SenderFault: true, Code: error.queryCode, Message: error.message });
    }
  }
  return { Successful, Failed };
}

export class SqsEmulator implements JsonService {
  readonly targetPrefix = 'AmazonSQS';
  readonly jsonVersion = '1.0' as const;
  private readonly queues = new Map<string, Queue>();
  private readonly deletedAt = new Map<string, number>();

  constructor(private readonly deps: SqsEmulatorDeps) {}

  /** Fault rules may match `QueueName` whichever way the request names the queue. */
  faultAttributes(_operation: string, input: Input): Record<string, unknown> {
    if (typeof input.QueueName === 'string') return {};
    const name =
      typeof input.QueueUrl === 'string' ? input.QueueUrl.split('/').filter(Boolean).pop() : undefined;
    return name ? { QueueName: name } : {};
  }

  async handle(operation: string, input: Input, ctx: RequestContext): Promise<unknown> {
    const senderId = userIdFor((ctx as LocalRequestContext).accessKeyId ?? 'anonymous', this.deps.accountId);
    switch (operation) {
      case 'CreateQueue':
        return {
          QueueUrl: this.createQueue(requiredString(input, 'QueueName'), input.Attributes, input.tags).url,
        };
      case 'GetQueueUrl': {
        const name = requiredString(input, 'QueueName');
        const owner = input.QueueOwnerAWSAccountId;
        const queue = this.queues.get(name);
        if (!queue || (owner !== undefined && owner !== this.deps.accountId)) throw queueDoesNotExist();
        return { QueueUrl: queue.url };
      }
      case 'ListQueues':
        return this.listQueues(input);
      case 'DeleteQueue': {
        const queue = this.queueFromInput(input);
        queue.close();
        this.queues.delete(queue.name);
        this.deletedAt.set(queue.name, Date.now());
        return {};
      }
      case 'PurgeQueue': {
        const queue = this.queueFromInput(input);
        const now = Date.now();
        if (
          queue.lastPurge !== undefined &&
          now - queue.lastPurge < this.deps.clock.scale(PURGE_INTERVAL_MS)
        ) {
          throw new SqsError(
            'PurgeQueueInProgress',
            `Only one PurgeQueue operation on ${queue.name} is allowed every 60 seconds.`,
          );
        }
        queue.lastPurge = now;
        queue.purge();
        return {};
      }
      case 'GetQueueAttributes':
        return { Attributes: this.queueAttributes(this.queueFromInput(input), input.AttributeNames) };
      case 'SetQueueAttributes':
        this.setQueueAttributes(this.queueFromInput(input), input.Attributes ?? {});
        return {};
      case 'TagQueue':
        Object.assign(this.queueFromInput(input).tags, (input.Tags ?? {}) as Record<string, string>);
        return {};
      case 'UntagQueue': {
        const queue = this.queueFromInput(input);
        for (const key of (input.TagKeys ?? []) as string[]) delete queue.tags[key];
        return {};
      }
      case 'ListQueueTags': {
        const tags = this.queueFromInput(input).tags;
        return Object.keys(tags).length > 0 ? { Tags: tags } : {};
      }
      case 'SendMessage':
        return this.sendMessage(this.queueFromInput(input), input, senderId);
      case 'SendMessageBatch': {
        const queue = this.queueFromInput(input);
        const entries = batchEntries(input);
        const total = entries.reduce(
          (sum, entry) =>
            sum +
            messageSize(String(entry.MessageBody ?? ''), validateAttributesLenient(entry.MessageAttributes)),
          0,
        );
        if (total > queue.settings.MaximumMessageSize) {
          throw new SqsError(
            'BatchRequestTooLong',
            `Batch requests cannot be longer than ${queue.settings.MaximumMessageSize} bytes. You have sent ${total} bytes.`,
          );
        }
        return eachEntry(entries, (entry) => this.sendMessage(queue, entry, senderId));
      }
      case 'ReceiveMessage':
        return this.receiveMessage(this.queueFromInput(input), input);
      case 'DeleteMessage':
        this.queueFromInput(input).delete(requiredString(input, 'ReceiptHandle'));
        return {};
      case 'DeleteMessageBatch': {
        const queue = this.queueFromInput(input);
        return eachEntry(batchEntries(input), (entry) => {
          queue.delete(requiredString(entry, 'ReceiptHandle'));
          return {};
        });
      }
      case 'ChangeMessageVisibility': {
        const queue = this.queueFromInput(input);
        queue.changeVisibility(requiredString(input, 'ReceiptHandle'), visibilityTimeoutOf(input, true)!);
        return {};
      }
      case 'ChangeMessageVisibilityBatch': {
        const queue = this.queueFromInput(input);
        return eachEntry(batchEntries(input), (entry) => {
          queue.changeVisibility(requiredString(entry, 'ReceiptHandle'), visibilityTimeoutOf(entry, true)!);
          return {};
        });
      }
      default:
        throw new SqsError('UnsupportedOperation', `The local cloud does not implement SQS ${operation}.`);
    }
  }

  // ---------------------------------------------------------------- queues

  private arnOf(name: string): string {
    return `arn:aws:sqs:${this.deps.region}:${this.deps.accountId}:${name}`;
  }

  /**
   * Creates a queue, or returns the existing one when every given attribute has its value
   * (CreateQueue is idempotent that way).
   * @throws SqsError QueueNameExists, QueueDeletedRecently, InvalidAttributeName/Value.
   */
  createQueue(name: string, attributes: unknown = {}, tags: unknown = {}): Queue {
    const given = (attributes ?? {}) as Record<string, unknown>;
    if (name.endsWith('.fifo') || Object.keys(given).some((key) => FIFO_ATTRIBUTES.has(key))) {
      throw new SqsError(
        'UnsupportedOperation',
        'FIFO queues are not modelled by the local cloud (standard queues only).',
      );
    }
    if (!QUEUE_NAME.test(name)) {
      throw invalidParameter(
        'Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length',
      );
    }
    const existing = this.queues.get(name);
    if (existing) {
      const current = this.queueAttributes(existing, ['All']);
      for (const [key, value] of Object.entries(given)) {
        if (
          current[key] !== undefined &&
          normalizeAttribute(key, current[key]) !== normalizeAttribute(key, String(value))
        ) {
          throw new SqsError(
            'QueueNameExists',
            `A queue already exists with the same name and a different value for attribute ${key}`,
          );
        }
      }
      return existing;
    }
    const deleted = this.deletedAt.get(name);
    if (deleted !== undefined && Date.now() - deleted < this.deps.clock.scale(DELETED_RECENTLY_MS)) {
      throw new SqsError(
        'QueueDeletedRecently',
        'You must wait 60 seconds after deleting a queue before you can create another with the same name.',
      );
    }
    const base = this.deps.endpoint().replace(/\/+$/, '');
    const queue = new Queue(name, this.arnOf(name), `${base}/${this.deps.accountId}/${name}`, {
      clock: this.deps.clock,
      byArn: (arn) => this.queueByArn(arn),
    });
    this.applyAttributes(queue, given);
    Object.assign(queue.tags, (tags ?? {}) as Record<string, string>);
    this.queues.set(name, queue);
    return queue;
  }

  queueByArn(arn: string): Queue | undefined {
    const match = /^arn:aws[\w-]*:sqs:([^:]*):(\d{12}):(.+)$/.exec(arn);
    if (!match || match[2] !== this.deps.accountId) return undefined;
    return this.queues.get(match[3]!);
  }

  queueByName(name: string): Queue | undefined {
    return this.queues.get(name);
  }

  /** Finds the queue of a URL of any host (`<scheme>://<host>/<account>/<name>`). */
  queueByUrl(url: string): Queue | undefined {
    let path: string;
    try {
      path = new URL(url).pathname;
    } catch {
      return undefined;
    }
    const [account, name, ...rest] = path.split('/').filter(Boolean);
    if (rest.length > 0 || account !== this.deps.accountId || !name) return undefined;
    return this.queues.get(name);
  }

  list(): Queue[] {
    return [...this.queues.values()];
  }

  private queueFromInput(input: Input): Queue {
    const queue = this.queueByUrl(requiredString(input, 'QueueUrl'));
    if (!queue) throw queueDoesNotExist();
    return queue;
  }

  private listQueues(input: Input) {
    const prefix = typeof input.QueueNamePrefix === 'string' ? input.QueueNamePrefix : '';
    const max = optionalInteger(input, 'MaxResults', [1, 1000], 'Must be between 1 and 1000, if provided.');
    let names = [...this.queues.keys()].filter((name) => name.startsWith(prefix)).sort();
    if (input.NextToken !== undefined) {
      const after = decodeNextToken(input.NextToken);
      if (after === undefined) throw invalidParameter('Invalid NextToken value.');
      names = names.filter((name) => name > after);
    }
    const page = names.slice(0, max ?? 1000);
    const more = max !== undefined && names.length > page.length;
    return {
      ...(page.length > 0 ? { QueueUrls: page.map((name) => this.queues.get(name)!.url) } : {}),
      ...(more ? { NextToken: encodeNextToken(page[page.length - 1]!) } : {}),
    };
  }

  /**
   * SetQueueAttributes.
   * @throws SqsError InvalidAttributeName/Value (nothing changes when one attribute is invalid).
   */
  setQueueAttributes(queue: Queue, attributes: unknown): void {
    this.applyAttributes(queue, attributes);
    queue.lastModifiedTimestamp = Math.floor(this.deps.clock.now().getTime() / 1000);
  }

  /** Applies attributes after checking them all (nothing changes when one is invalid). */
  private applyAttributes(queue: Queue, attributes: unknown): void {
    if (!attributes || typeof attributes !== 'object') return;
    const settings: Partial<QueueSettings> = {};
    const stored: Record<string, string> = {};
    let redrive: Queue['redrivePolicy'] | null | undefined;
    for (const [name, raw] of Object.entries(attributes as Record<string, unknown>)) {
      const value = String(raw);
      if (name in INTEGER_ATTRIBUTES) {
        const number = integerInRange(value, INTEGER_ATTRIBUTES[name as keyof QueueSettings]);
        if (number === undefined) {
          throw new SqsError('InvalidAttributeValue', `Invalid value for the parameter ${name}.`);
        }
        settings[name as keyof QueueSettings] = number;
      } else if (name === 'RedrivePolicy') {
        redrive = value === '' ? null : this.parseRedrivePolicy(queue, value);
      } else if (STORED_ATTRIBUTES.has(name)) {
        if (name === 'SqsManagedSseEnabled' && value !== 'true' && value !== 'false') {
          throw new SqsError('InvalidAttributeValue', `Invalid value for the parameter ${name}.`);
        }
        stored[name] = value;
      } else {
        throw new SqsError('InvalidAttributeName', `Unknown Attribute ${name}.`);
      }
    }
    Object.assign(queue.settings, settings);
    Object.assign(queue.extraAttributes, stored);
    if (redrive === null) queue.redrivePolicy = undefined;
    else if (redrive) queue.redrivePolicy = redrive;
  }

  private parseRedrivePolicy(queue: Queue, text: string): NonNullable<Queue['redrivePolicy']> {
    const fail = (reason: string): never => {
      throw new SqsError(
        'InvalidAttributeValue',
        `Value ${text} for parameter RedrivePolicy is invalid. Reason: ${reason}`,
      );
    };
    let policy: Record<string, unknown> = {};
    try {
      policy = JSON.parse(text);
    } catch {
      fail('Invalid JSON.');
    }
    const arn = policy.deadLetterTargetArn;
    const count = integerInRange(policy.maxReceiveCount, [1, 1000]);
    if (typeof arn !== 'string')
      return fail('Redrive policy does not contain mandatory attribute: deadLetterTargetArn.');
    if (count === undefined)
      return fail('Invalid value for maxReceiveCount: must be an integer from 1 to 1000.');
    const target = this.queueByArn(arn);
    if (!target || target === queue) return fail('Dead letter target does not exist.');
    const allow = target.extraAttributes.RedriveAllowPolicy;
    if (allow) {
      const parsed = JSON.parse(allow) as { redrivePermission?: string; sourceQueueArns?: string[] };
      if (
        parsed.redrivePermission === 'denyAll' ||
        (parsed.redrivePermission === 'byQueue' && !parsed.sourceQueueArns?.includes(queue.arn))
      ) {
        fail('Dead letter target does not allow this queue as its source (RedriveAllowPolicy).');
      }
    }
    return { deadLetterTargetArn: arn, maxReceiveCount: count };
  }

  private queueAttributes(queue: Queue, names: unknown): Record<string, string> {
    const requested = Array.isArray(names) ? (names as string[]) : [];
    const all: Record<string, string> = {};
    const counts = queue.counts();
    all.QueueArn = queue.arn;
    all.ApproximateNumberOfMessages = String(counts.visible);
    all.ApproximateNumberOfMessagesNotVisible = String(counts.notVisible);
    all.ApproximateNumberOfMessagesDelayed = String(counts.delayed);
    all.CreatedTimestamp = String(queue.createdTimestamp);
    all.LastModifiedTimestamp = String(queue.lastModifiedTimestamp);
    for (const [name, value] of Object.entries(queue.settings)) all[name] = String(value);
    Object.assign(all, queue.extraAttributes);
    if (queue.redrivePolicy) all.RedrivePolicy = JSON.stringify(queue.redrivePolicy);
    if (requested.includes('All')) return all;
    const known = new Set([
      ...READ_ONLY_ATTRIBUTES,
      ...Object.keys(DEFAULT_SETTINGS),
      ...STORED_ATTRIBUTES,
      'RedrivePolicy',
    ]);
    const out: Record<string, string> = {};
    for (const name of requested) {
      if (!known.has(name)) throw new SqsError('InvalidAttributeName', `Unknown Attribute ${name}.`);
      if (all[name] !== undefined) out[name] = all[name]!;
    }
    return out;
  }

  // ---------------------------------------------------------------- messages

  /** SendMessage (also the entries of SendMessageBatch); EventBridge targets use it in-process. */
  sendMessage(queue: Queue, input: Input, senderId: string) {
    const body = validateBody(input.MessageBody);
    const delaySeconds = optionalInteger(
      input,
      'DelaySeconds',
      [0, 900],
      'Must be >= 0 and <= 900, if provided.',
    );
    const messageAttributes = validateAttributes(input.MessageAttributes);
    const systemAttributes = validateAttributes(input.MessageSystemAttributes, true);
    const size = messageSize(body, messageAttributes);
    if (size > queue.settings.MaximumMessageSize) {
      throw invalidParameter(
        `One or more parameters are invalid. Reason: Message must be shorter than ${queue.settings.MaximumMessageSize} bytes.`,
      );
    }
    const message = queue.send({ body, delaySeconds, messageAttributes, systemAttributes, senderId });
    return {
      MessageId: message.messageId,
      MD5OfMessageBody: message.md5OfBody,
      ...(message.md5OfMessageAttributes ? { MD5OfMessageAttributes: message.md5OfMessageAttributes } : {}),
      ...(Object.keys(systemAttributes).length > 0
        ? { MD5OfMessageSystemAttributes: md5OfAttributes(systemAttributes) }
        : {}),
    };
  }

  private async receiveMessage(queue: Queue, input: Input) {
    const maxMessages =
      optionalInteger(input, 'MaxNumberOfMessages', [1, 10], 'Must be between 1 and 10, if provided.') ?? 1;
    const waitTimeSeconds = optionalInteger(
      input,
      'WaitTimeSeconds',
      [0, 20],
      'Must be >= 0 and <= 20, if provided.',
    );
    const visibilityTimeout = visibilityTimeoutOf(input, false);
    const received = await queue.receive({ maxMessages, waitTimeSeconds, visibilityTimeout });
    if (received.length === 0) return {};
    const systemNames = new Set([
      ...((input.AttributeNames ?? []) as string[]),
      ...((input.MessageSystemAttributeNames ?? []) as string[]),
    ]);
    const attributeNames = (input.MessageAttributeNames ?? []) as string[];
    return {
      Messages: received.map((message) => toApiMessage(message, systemNames, attributeNames)),
    };
  }

  /** Ends every long poll (stopping the cloud). */
  close(): void {
    for (const queue of this.queues.values()) queue.close();
  }
}

function visibilityTimeoutOf(input: Input, required: boolean): number | undefined {
  if (required && (input.VisibilityTimeout === undefined || input.VisibilityTimeout === null)) {
    throw new SqsError('MissingParameter', 'The request must contain the parameter VisibilityTimeout.');
  }
  return optionalInteger(
    input,
    'VisibilityTimeout',
    [0, 43_200],
    'Must be between 0 and 43200, if provided.',
  );
}

/** Attributes for a size estimate that must not throw (the entries are validated one by one). */
function validateAttributesLenient(attributes: unknown) {
  try {
    return validateAttributes(attributes);
  } catch {
    return {};
  }
}

/** The system attributes of a message by name, as strings (SQS's ReceiveMessage `Attributes`). */
export function systemAttributesOf(message: ReceivedMessage): Record<string, string> {
  const out: Record<string, string> = {
    SenderId: message.senderId,
    SentTimestamp: String(message.sentTimestamp),
    ApproximateReceiveCount: String(message.receiveCount),
    ApproximateFirstReceiveTimestamp: String(message.firstReceiveTimestamp ?? message.sentTimestamp),
  };
  if (message.systemAttributes.AWSTraceHeader?.StringValue) {
    out.AWSTraceHeader = message.systemAttributes.AWSTraceHeader.StringValue;
  }
  if (message.deadLetterQueueSourceArn) out.DeadLetterQueueSourceArn = message.deadLetterQueueSourceArn;
  return out;
}

function toApiMessage(message: ReceivedMessage, systemNames: Set<string>, attributeNames: string[]) {
  const system = systemAttributesOf(message);
  const all = systemNames.has('All');
  const Attributes = Object.fromEntries(
    Object.entries(system).filter(
      ([name]) => all || (systemNames.has(name) && SYSTEM_ATTRIBUTE_NAMES.includes(name)),
    ),
  );
  const wanted = (name: string) =>
    attributeNames.some(
      (pattern) =>
        pattern === 'All' ||
        pattern === '.*' ||
        pattern === name ||
        (pattern.endsWith('.*') && name.startsWith(pattern.slice(0, -1))),
    );
  const MessageAttributes = Object.fromEntries(
    Object.entries(message.messageAttributes).filter(([name]) => wanted(name)),
  );
  return {
    MessageId: message.messageId,
    ReceiptHandle: message.receiptHandle,
    MD5OfBody: message.md5OfBody,
    Body: message.body,
    ...(Object.keys(Attributes).length > 0 ? { Attributes } : {}),
    ...(Object.keys(MessageAttributes).length > 0
      ? { MessageAttributes, MD5OfMessageAttributes: message.md5OfMessageAttributes }
      : {}),
  };
}

/** Attribute values compare as SQS stores them (RedrivePolicy as JSON with a numeric count). */
function normalizeAttribute(name: string, value: string): string {
  if (name !== 'RedrivePolicy') return value;
  try {
    const policy = JSON.parse(value);
    return JSON.stringify({
      deadLetterTargetArn: policy.deadLetterTargetArn,
      maxReceiveCount: Number(policy.maxReceiveCount),
    });
  } catch {
    return value;
  }
}

/** ListQueues NextToken: the last name of the page (opaque to callers). */
function encodeNextToken(lastName: string): string {
  return Buffer.from(JSON.stringify({ k: 'ListQueues', after: lastName })).toString('base64');
}

function decodeNextToken(token: unknown): string | undefined {
  try {
    const value = JSON.parse(Buffer.from(String(token), 'base64').toString('utf8'));
    return value?.k === 'ListQueues' && typeof value.after === 'string' ? value.after : undefined;
  } catch {
    return undefined;
  }
}
