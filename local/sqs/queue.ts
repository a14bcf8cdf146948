/**
 * One SQS standard queue: its attributes and messages, with SQS's semantics on the local scaled
 * clock. A message is *delayed* until its delay ends, then *visible*; a receive makes it
 * *in flight* (invisible) for the visibility timeout and gives it a new receipt handle; only the
 * latest handle deletes it or changes its visibility. A visible message already received
 * `maxReceiveCount` times moves to the dead-letter queue when a receive meets it (keeping its id,
 * body, attributes, receive count and original enqueue time). Messages expire after the retention
 * period, counted from their first enqueue.
 *
 * Durations (seconds in the API) are simulated and scaled by the clock into real timers; timestamps
 * the API reports (SentTimestamp ...) come from `clock.now()`.
 */
import { randomUUID } from 'node:crypto';
import type { Clock } from '../types.js';
import { type MessageAttributes, md5, md5OfAttributes, SqsError } from './messages.js';

export interface QueueSettings {
  DelaySeconds: number;
  MaximumMessageSize: number;
  MessageRetentionPeriod: number;
  ReceiveMessageWaitTimeSeconds: number;
  VisibilityTimeout: number;
}

export const DEFAULT_SETTINGS: QueueSettings = {
  DelaySeconds: 0,
  MaximumMessageSize: 1_048_576,
  MessageRetentionPeriod: 345_600,
  ReceiveMessageWaitTimeSeconds: 0,
  VisibilityTimeout: 30,
};

export interface RedrivePolicy {
  deadLetterTargetArn: string;
  maxReceiveCount: number;
}

export interface StoredMessage {
  messageId: string;
  body: string;
  md5OfBody: string;
  messageAttributes: MessageAttributes;
  md5OfMessageAttributes?: string;
  /** `AWSTraceHeader` when the sender gave one. */
  systemAttributes: MessageAttributes;
  senderId: string;
  /** Epoch ms (clock.now()) of the first enqueue. */
  sentTimestamp: number;
  firstReceiveTimestamp?: number;
  receiveCount: number;
  /** Set on messages a redrive moved here. */
  deadLetterQueueSourceArn?: string;
  /** Real-time ms (Date.now()) when the message becomes visible. */
  visibleAt: number;
  /** Real-time ms of the first enqueue (retention counts from it, also in a dead-letter queue). */
  enqueuedAt: number;
  /** The latest receipt handle (undefined until received). */
  receiptHandle?: string;
}

/** A message as a receive returns it (a snapshot; the queue keeps the live record). */
export type ReceivedMessage = Readonly<StoredMessage> & { receiptHandle: string };

export interface SendInput {
  body: string;
  delaySeconds?: number;
  messageAttributes?: MessageAttributes;
  systemAttributes?: MessageAttributes;
  senderId: string;
}

export interface ReceiveInput {
  maxMessages: number;
  /** Seconds; default the queue's VisibilityTimeout. */
  visibilityTimeout?: number;
  /** Seconds of long polling; default the queue's ReceiveMessageWaitTimeSeconds. */
  waitTimeSeconds?: number;
  /** Real-time ms (Date.now()) to poll until, instead of waitTimeSeconds (batching windows). */
  deadline?: number;
  /** Ends a long poll early (with what is there). */
  signal?: AbortSignal;
}

export interface QueueDeps {
  clock: Clock;
  /** Finds a queue by ARN (the redrive target). */
  byArn(arn: string): Queue | undefined;
}

interface Waiter {
  wake(): void;
}

export class Queue {
  readonly createdTimestamp: number;
  lastModifiedTimestamp: number;
  settings: QueueSettings = { ...DEFAULT_SETTINGS };
  redrivePolicy?: RedrivePolicy;
  /** Attributes stored as given (Policy, RedriveAllowPolicy, KMS, SqsManagedSseEnabled). */
  extraAttributes: Record<string, string> = { SqsManagedSseEnabled: 'true' };
  tags: Record<string, string> = {};
  lastPurge?: number;
  private readonly messages = new Map<string, StoredMessage>();
  private readonly waiters = new Set<Waiter>();
  private closed = false;

  constructor(
    readonly name: string,
    readonly arn: string,
    readonly url: string,
    private readonly deps: QueueDeps,
  ) {
    this.createdTimestamp = Math.floor(deps.clock.now().getTime() / 1000);
    this.lastModifiedTimestamp = this.createdTimestamp;
  }

  /** Real milliseconds for simulated seconds. */
  private realMs(seconds: number): number {
    return this.deps.clock.scale(seconds * 1000);
  }

  send(input: SendInput): StoredMessage {
    const now = Date.now();
    const message: StoredMessage = {
      messageId: randomUUID(),
      body: input.body,
      md5OfBody: md5(input.body),
      messageAttributes: input.messageAttributes ?? {},
      md5OfMessageAttributes: md5OfAttributes(input.messageAttributes),
      systemAttributes: input.systemAttributes ?? {},
      senderId: input.senderId,
      sentTimestamp: this.deps.clock.now().getTime(),
      receiveCount: 0,
      visibleAt: now + this.realMs(input.delaySeconds ?? this.settings.DelaySeconds),
      enqueuedAt: now,
    };
    this.messages.set(message.messageId, message);
    this.notify();
    return message;
  }

  /** Takes a message a redrive moved from another queue (same id, count and enqueue time). */
  private acceptMoved(message: StoredMessage, sourceArn: string): void {
    this.messages.set(message.messageId, {
      ...message,
      receiptHandle: undefined,
      deadLetterQueueSourceArn: sourceArn,
      visibleAt: Date.now(),
    });
    this.notify();
  }

  private expired(message: StoredMessage, now: number): boolean {
    return now >= message.enqueuedAt + this.realMs(this.settings.MessageRetentionPeriod);
  }

  /**
   * Receives up to `maxMessages` visible messages, long polling up to `waitTimeSeconds` (scaled)
   * while none is there.
   */
  async receive(input: ReceiveInput): Promise<ReceivedMessage[]> {
    const wait = input.waitTimeSeconds ?? this.settings.ReceiveMessageWaitTimeSeconds;
    const deadline = input.deadline ?? Date.now() + this.realMs(wait);
    for (;;) {
      const taken = this.take(input.maxMessages, input.visibilityTimeout ?? this.settings.VisibilityTimeout);
      if (taken.length > 0 || this.closed || input.signal?.aborted || Date.now() >= deadline) return taken;
      await this.waitForChange(deadline, input.signal);
    }
  }

  private take(max: number, visibilityTimeout: number): ReceivedMessage[] {
    const now = Date.now();
    const out: ReceivedMessage[] = [];
    // The live map, not a copy: a queue may hold 100,000 messages and a receive takes ten (a
    // Map iterator stays valid while the loop deletes entries).
    for (const message of this.messages.values()) {
      if (out.length >= max) break;
      if (this.expired(message, now)) {
        this.messages.delete(message.messageId);
        continue;
      }
      if (message.visibleAt > now) continue;
      if (this.redriveIfSpent(message)) continue;
      message.receiveCount += 1;
      message.firstReceiveTimestamp ??= this.deps.clock.now().getTime();
      message.visibleAt = now + this.realMs(visibilityTimeout);
      message.receiptHandle = encodeReceiptHandle(this.name, message.messageId);
      out.push({ ...message, receiptHandle: message.receiptHandle });
    }
    return out;
  }

  /** Moves a message received maxReceiveCount times to the dead-letter queue; true when moved. */
  private redriveIfSpent(message: StoredMessage): boolean {
    const policy = this.redrivePolicy;
    if (!policy || message.receiveCount < policy.maxReceiveCount) return false;
    const target = this.deps.byArn(policy.deadLetterTargetArn);
    // SQS keeps the message in the source queue while its dead-letter queue does not exist.
    if (!target || target === this) return false;
    this.messages.delete(message.messageId);
    target.acceptMoved(message, this.arn);
    return true;
  }

  private waitForChange(deadline: number, signal?: AbortSignal): Promise<void> {
    const now = Date.now();
    let until = deadline;
    for (const message of this.messages.values()) {
      if (message.visibleAt > now && message.visibleAt < until) until = message.visibleAt;
    }
    return new Promise((resolve) => {
      const waiter: Waiter = {
        wake: () => {
          clearTimeout(timer);
          this.waiters.delete(waiter);
          signal?.removeEventListener('abort', waiter.wake);
          resolve();
        },
      };
      const timer = setTimeout(waiter.wake, Math.max(0, until - now));
      timer.unref?.();
      this.waiters.add(waiter);
      signal?.addEventListener('abort', waiter.wake, { once: true });
    });
  }

  private notify(): void {
    for (const waiter of [...this.waiters]) waiter.wake();
  }

  /** The live message a receipt handle names, if the handle is its latest one. */
  private byHandle(receiptHandle: string): StoredMessage | undefined {
    const decoded = decodeReceiptHandle(receiptHandle);
    if (!decoded || decoded.queue !== this.name) {
      throw new SqsError(
        'ReceiptHandleIsInvalid',
        `The input receipt handle "${receiptHandle}" is not a valid receipt handle.`,
      );
    }
    const message = this.messages.get(decoded.messageId);
    return message?.receiptHandle === receiptHandle ? message : undefined;
  }

  /**
   * Deletes the message of a receipt handle. A handle of a deleted message, or one superseded by
   * a later receive, succeeds without deleting anything (as SQS documents for standard queues).
   * @throws SqsError ReceiptHandleIsInvalid for a handle that is not one of this queue's.
   */
  delete(receiptHandle: string): boolean {
    const message = this.byHandle(receiptHandle);
    if (!message) return false;
    this.messages.delete(message.messageId);
    return true;
  }

  /**
   * Sets a received message's visibility timeout, counted from now (0 makes it visible at once).
   * @throws SqsError ReceiptHandleIsInvalid, MessageNotInflight, InvalidParameterValue.
   */
  changeVisibility(receiptHandle: string, visibilityTimeout: number): void {
    const message = this.byHandle(receiptHandle);
    const now = Date.now();
    if (!message) {
      throw new SqsError(
        'InvalidParameterValue',
        `Value ${receiptHandle} for parameter ReceiptHandle is invalid. Reason: Message does not exist or is not available for visibility timeout change.`,
      );
    }
    if (message.visibleAt <= now) {
      throw new SqsError('MessageNotInflight', 'The message referred to is not in flight.');
    }
    message.visibleAt = now + this.realMs(visibilityTimeout);
    if (visibilityTimeout === 0) this.notify();
  }

  purge(): void {
    this.messages.clear();
  }

  /** ApproximateNumberOfMessages / ...NotVisible / ...Delayed (expired messages dropped first). */
  counts(): { visible: number; notVisible: number; delayed: number } {
    const now = Date.now();
    let visible = 0;
    let notVisible = 0;
    let delayed = 0;
    for (const message of this.messages.values()) {
      if (this.expired(message, now)) this.messages.delete(message.messageId);
      else if (message.visibleAt <= now) visible++;
      else if (message.receiveCount > 0) notVisible++;
      else delayed++;
    }
    return { visible, notVisible, delayed };
  }

  /** Every message with its state (admin API and tests). */
  list(): (StoredMessage & { state: 'visible' | 'inFlight' | 'delayed' })[] {
    const now = Date.now();
    return [...this.messages.values()]
      .filter((message) => !this.expired(message, now))
      .map((message) => ({
        ...message,
        state: message.visibleAt <= now ? 'visible' : message.receiveCount > 0 ? 'inFlight' : 'delayed',
      }));
  }

  /** Ends long polls (they return what is there) and refuses new waits. */
  close(): void {
    this.closed = true;
    this.notify();
  }
}

/** Receipt handles name the queue, the message and the receive (a fresh nonce each time). */
export function encodeReceiptHandle(queue: string, messageId: string): string {
  return Buffer.from(JSON.stringify({ q: queue, m: messageId, n: randomUUID() })).toString('base64');
}

function decodeReceiptHandle(handle: string): { queue: string; messageId: string } | undefined {
  try {
    const value = JSON.parse(Buffer.from(handle, 'base64').toString('utf8'));
    if (typeof value?.q === 'string' && typeof value?.m === 'string') {
      return { queue: value.q, messageId: value.m };
    }
  } catch {
    // Not one of ours.
  }
  return undefined;
}
