/**
 * The EventBridge API of the local default bus (JSON 1.1, `X-Amz-Target: AWSEvents.<Operation>`):
 * PutEvents, so functions and users put events with `@aws-sdk/client-eventbridge` or
 * `aws events put-events`. Entries are checked as EventBridge checks them: at most 10; Source,
 * DetailType and Detail required; Detail a JSON object; sources `aws.*` reserved to AWS services;
 * the total entry size (as "Calculating PutEvents event entry size" counts it) at most 256 KB.
 * Failed entries come back with ErrorCode/ErrorMessage and count in FailedEntryCount; accepted
 * ones with their EventId, and go to the bus's rules.
 */
import type { BusEvent } from './events.js';
import { type JsonService, LocalAwsError, type LocalEvent, type RequestContext } from './types.js';

/** PutEvents refuses requests whose entries total more than 256 KB. */
const MAX_ENTRIES_BYTES = 256 * 1024;

interface Entry {
  Time?: number | string;
  Source?: string;
  Resources?: string[];
  DetailType?: string;
  Detail?: string;
  EventBusName?: string;
  TraceHeader?: string;
}

type EntryResult = { EventId: string } | { ErrorCode: string; ErrorMessage: string };

/** The size EventBridge counts for an entry: Time (14 bytes), Source, DetailType, Detail, Resources. */
export function entrySize(entry: Entry): number {
  let size = entry.Time !== undefined ? 14 : 0;
  size += Buffer.byteLength(String(entry.Source ?? ''), 'utf8');
  size += Buffer.byteLength(String(entry.DetailType ?? ''), 'utf8');
  size += Buffer.byteLength(String(entry.Detail ?? ''), 'utf8');
  for (const resource of entry.Resources ?? []) size += Buffer.byteLength(String(resource), 'utf8');
  return size;
}

/** Why EventBridge would fail an entry, or undefined when it is accepted. */
function entryError(entry: Entry, busArn: string): { ErrorCode: string; ErrorMessage: string } | undefined {
  const invalid = (field: string, reason: string) => ({
    ErrorCode: 'InvalidArgument',
    ErrorMessage: `Parameter ${field} is not valid. Reason: ${reason}`,
  });
  if (!entry.Source) return invalid('Source', 'Source is a required argument.');
  if (!entry.DetailType) return invalid('DetailType', 'DetailType is a required argument.');
  if (!entry.Detail) return invalid('Detail', 'Detail is a required argument.');
  let detail: unknown;
  try {
    detail = JSON.parse(entry.Detail);
  } catch {
    detail = undefined;
  }
  if (!detail || typeof detail !== 'object' || Array.isArray(detail)) {
    return { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' };
  }
  if (entry.Source.startsWith('aws.')) {
    return { ErrorCode: 'NotAuthorizedForSourceException', ErrorMessage: 'Not authorized for the source.' };
  }
  const bus = entry.EventBusName;
  if (bus !== undefined && bus !== 'default' && bus !== busArn) {
    return { ErrorCode: 'ResourceNotFoundException', ErrorMessage: `Event bus ${bus} does not exist.` };
  }
  return undefined;
}

/** RFC 3339 without milliseconds, as EventBridge writes `time`. */
function eventTime(time: number | string | undefined): string | undefined {
  if (time === undefined) return undefined;
  const date = typeof time === 'number' ? new Date(time * 1000) : new Date(time);
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export class EventsApi implements JsonService {
  readonly targetPrefix = 'AWSEvents';
  readonly jsonVersion = '1.1' as const;

  constructor(
    private readonly deps: {
      accountId: string;
      region: string;
      /** Puts a complete event on the local bus (and its log). */
      emit: (event: LocalEvent & Partial<BusEvent>) => BusEvent;
    },
  ) {}

  async handle(operation: string, input: Record<string, unknown>, _ctx: RequestContext): Promise<unknown> {
    if (operation !== 'PutEvents') {
      throw new LocalAwsError(
        'UnknownOperationException',
        `The local cloud's EventBridge implements PutEvents only (not ${operation}).`,
      );
    }
    return this.putEvents(input.Entries);
  }

  putEvents(value: unknown): { FailedEntryCount: number; Entries: EntryResult[] } {
    const entries = Array.isArray(value) ? (value as Entry[]) : [];
    if (entries.length < 1 || entries.length > 10) {
      throw new LocalAwsError(
        'ValidationException',
        `1 validation error detected: Value at 'entries' failed to satisfy constraint: Member must have length ${entries.length < 1 ? 'greater than or equal to 1' : 'less than or equal to 10'}`,
      );
    }
    if (entries.reduce((sum, entry) => sum + entrySize(entry), 0) > MAX_ENTRIES_BYTES) {
      throw new LocalAwsError(
        'ValidationException',
        'Total size of the entries in the request is over the limit.',
      );
    }
    const busArn = `arn:aws:events:${this.deps.region}:${this.deps.accountId}:event-bus/default`;
    const results: EntryResult[] = entries.map((entry) => {
      const error = entryError(entry, busArn);
      if (error) return error;
      const event = this.deps.emit({
        source: entry.Source!,
        'detail-type': entry.DetailType!,
        detail: JSON.parse(entry.Detail!),
        resources: entry.Resources ?? [],
        ...(eventTime(entry.Time) ? { time: eventTime(entry.Time) } : {}),
      });
      return { EventId: event.id };
    });
    return {
      FailedEntryCount: results.filter((result) => 'ErrorCode' in result).length,
      Entries: results,
    };
  }
}
