/**
 * SQS message rules shared by the queue model and the API: the MD5 digests SQS returns (and the
 * SDKs verify), message attribute validation, message size, the allowed body characters, and the
 * errors in SQS's JSON protocol shape (the query-compatible `x-amzn-query-error` header included).
 */
import { createHash } from 'node:crypto';
import { LocalAwsError } from '../types.js';

/** A message attribute as the JSON protocol carries it (BinaryValue is base64). */
export interface MessageAttributeValue {
  DataType: string;
  StringValue?: string;
  BinaryValue?: string;
  StringListValues?: string[];
  BinaryListValues?: string[];
}

export type MessageAttributes = Record<string, MessageAttributeValue>;

/**
 * SQS's errors: the JSON `__type` is the model's shape name; `x-amzn-query-error` carries the
 * query-protocol code, which botocore reports and the SDK v3 maps back to the shape.
 * (Codes and statuses from the SQS model's `awsQueryError` traits.)
 */
const QUERY_CODES: Record<string, [string, number]> = {
  BatchEntryIdsNotDistinct: ['AWS.SimpleQueueService.BatchEntryIdsNotDistinct', 400],
  BatchRequestTooLong: ['AWS.SimpleQueueService.BatchRequestTooLong', 400],
  EmptyBatchRequest: ['AWS.SimpleQueueService.EmptyBatchRequest', 400],
  InvalidAddress: ['InvalidAddress', 404],
  InvalidBatchEntryId: ['AWS.SimpleQueueService.InvalidBatchEntryId', 400],
  MessageNotInflight: ['AWS.SimpleQueueService.MessageNotInflight', 400],
  OverLimit: ['OverLimit', 403],
  PurgeQueueInProgress: ['AWS.SimpleQueueService.PurgeQueueInProgress', 403],
  QueueDeletedRecently: ['AWS.SimpleQueueService.QueueDeletedRecently', 400],
  QueueDoesNotExist: ['AWS.SimpleQueueService.NonExistentQueue', 400],
  QueueNameExists: ['QueueAlreadyExists', 400],
  ReceiptHandleIsInvalid: ['ReceiptHandleIsInvalid', 404],
  TooManyEntriesInBatchRequest: ['AWS.SimpleQueueService.TooManyEntriesInBatchRequest', 400],
  UnsupportedOperation: ['AWS.SimpleQueueService.UnsupportedOperation', 400],
};

export class SqsError extends LocalAwsError {
  /** Extra response headers (read by the router). */
  readonly headers: Record<string, string>;

  constructor(shape: string, message: string) {
    const [queryCode, status] = QUERY_CODES[shape] ?? [shape, 400];
    super(shape, message, status);
    this.headers = { 'x-amzn-query-error': `${queryCode};Sender` };
  }

  /** The code a batch result entry carries for this error. */
  get queryCode(): string {
    return this.headers['x-amzn-query-error']!.split(';')[0]!;
  }
}

export const invalidParameter = (message: string) => new SqsError('InvalidParameterValue', message);

export const queueDoesNotExist = () =>
  new SqsError('QueueDoesNotExist', 'The specified queue does not exist.');

export function md5(data: string | Buffer): string {
  return createHash('md5').update(data).digest('hex');
}

function lengthPrefixed(data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  return Buffer.concat([length, data]);
}

/**
 * MD5 of message attributes as SQS computes it: attributes sorted by name, each as the
 * length-prefixed name, the length-prefixed data type, a transport byte (1 string, 2 binary) and
 * the length-prefixed value.
 */
export function md5OfAttributes(attributes: MessageAttributes | undefined): string | undefined {
  const names = Object.keys(attributes ?? {}).sort();
  if (names.length === 0) return undefined;
  const parts: Buffer[] = [];
  for (const name of names) {
    const value = attributes![name]!;
    parts.push(lengthPrefixed(Buffer.from(name, 'utf8')));
    parts.push(lengthPrefixed(Buffer.from(value.DataType, 'utf8')));
    if (value.BinaryValue !== undefined) {
      parts.push(Buffer.from([2]), lengthPrefixed(Buffer.from(value.BinaryValue, 'base64')));
    } else {
      parts.push(Buffer.from([1]), lengthPrefixed(Buffer.from(value.StringValue ?? '', 'utf8')));
    }
  }
  return md5(Buffer.concat(parts));
}

const ATTRIBUTE_NAME = /^[A-Za-z0-9_.-]{1,256}$/;
const DATA_TYPE = /^(String|Number|Binary)(\.[^\s]{1,255})?$/;

/**
 * Checks message (or system) attributes like SendMessage does.
 * @throws SqsError InvalidParameterValue naming the attribute and the rule.
 */
export function validateAttributes(attributes: unknown, system = false): MessageAttributes {
  if (attributes === undefined || attributes === null) return {};
  if (typeof attributes !== 'object' || Array.isArray(attributes)) {
    throw invalidParameter('MessageAttributes must be a map of name to attribute value.');
  }
  const entries = Object.entries(attributes as Record<string, unknown>);
  if (entries.length > 10) {
    throw invalidParameter(
      `Number of message attributes [${entries.length}] exceeds the allowed maximum [10].`,
    );
  }
  const out: MessageAttributes = {};
  for (const [name, raw] of entries) {
    if (system && name !== 'AWSTraceHeader') {
      throw invalidParameter(`Message system attribute name '${name}' is invalid.`);
    }
    if (
      !system &&
      (!ATTRIBUTE_NAME.test(name) ||
        /^(aws\.|amazon\.)/i.test(name) ||
        name.startsWith('.') ||
        name.endsWith('.') ||
        name.includes('..'))
    ) {
      throw invalidParameter(`Message (user) attribute name '${name}' is invalid.`);
    }
    const value = (raw ?? {}) as MessageAttributeValue;
    const type = String(value.DataType ?? '');
    if (!type)
      throw invalidParameter(`The message attribute '${name}' must contain a non-empty attribute type.`);
    if (!DATA_TYPE.test(type)) {
      throw invalidParameter(
        `The type of message (user) attribute '${name}' is invalid. You must use only the following supported type prefixes: Binary, Number, String.`,
      );
    }
    const base = type.split('.')[0];
    if (base === 'Binary') {
      if (typeof value.BinaryValue !== 'string' || value.BinaryValue === '') {
        throw invalidParameter(`The message attribute '${name}' with type 'Binary' must use field 'Binary'.`);
      }
      out[name] = { DataType: type, BinaryValue: value.BinaryValue };
      continue;
    }
    if (typeof value.StringValue !== 'string' || value.StringValue === '') {
      throw invalidParameter(
        `The message attribute '${name}' must contain non-empty message attribute value for message attribute type '${base}'.`,
      );
    }
    if (base === 'Number' && !Number.isFinite(Number(value.StringValue))) {
      throw invalidParameter(`Can't cast the value of message (user) attribute '${name}' to a number.`);
    }
    out[name] = { DataType: type, StringValue: value.StringValue };
  }
  return out;
}

/** Bytes SQS counts against MaximumMessageSize: the body plus every attribute's name, type and value. */
export function messageSize(body: string, attributes: MessageAttributes): number {
  let size = Buffer.byteLength(body, 'utf8');
  for (const [name, value] of Object.entries(attributes)) {
    size += Buffer.byteLength(name, 'utf8') + Buffer.byteLength(value.DataType, 'utf8');
    size +=
      value.BinaryValue !== undefined
        ? Buffer.from(value.BinaryValue, 'base64').length
        : Buffer.byteLength(value.StringValue ?? '', 'utf8');
  }
  return size;
}

/**
 * Checks a body against SQS's allowed characters (#x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to
 * #xFFFD | #x10000 to #x10FFFF).
 * @throws SqsError InvalidMessageContents
 */
export function validateBody(body: unknown): string {
  if (typeof body !== 'string' || body.length === 0) {
    throw new SqsError('MissingParameter', 'The request must contain the parameter MessageBody.');
  }
  for (const char of body) {
    const code = char.codePointAt(0)!;
    const allowed =
      code === 0x9 ||
      code === 0xa ||
      code === 0xd ||
      (code >= 0x20 && code <= 0xd7ff) ||
      (code >= 0xe000 && code <= 0xfffd) ||
      (code >= 0x10000 && code <= 0x10ffff);
    if (!allowed) {
      throw new SqsError(
        'InvalidMessageContents',
        `Invalid binary character '#x${code.toString(16).toUpperCase()}' was found in the message body, the set of allowed characters is #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF`,
      );
    }
  }
  return body;
}
