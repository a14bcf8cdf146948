/**
 * S3 object events (EventBridge `Object Created` / `Object Deleted`) -> mappings: which mapping an
 * object belongs to, and what its event asks of that mapping. Pure functions: the trigger
 * (stage-on-events.ts) does the I/O.
 */
import * as z from 'zod';
import type { Config, MappingConfig } from '../config/schema.js';
import { REPORT_FOLDER } from '../dra/tasks.js';
import { InvalidRequestError } from '../errors.js';
import { parseS3Uri } from '../paths.js';
import { RESERVED_PREFIX } from '../ssm/document.js';

/** The EventBridge event S3 sends for an object (https://docs.aws.amazon.com/AmazonS3/latest/userguide/ev-events.html). */
export const S3ObjectEvent = z.object({
  id: z.string().min(1),
  source: z.literal('aws.s3'),
  'detail-type': z.enum(['Object Created', 'Object Deleted']),
  time: z.string().optional(),
  detail: z.object({
    bucket: z.object({ name: z.string().min(1) }),
    object: z.object({
      key: z.string().min(1),
      size: z.number().optional(),
      sequencer: z.string().optional(),
    }),
    reason: z.string().optional(),
  }),
});
export type S3ObjectEvent = z.infer<typeof S3ObjectEvent>;

/**
 * The object key of an S3 event: S3 URL-encodes keys in event notifications the way HTML forms
 * do ("red flower.jpg" -> "red+flower.jpg", "+" -> "%2B"), so `+` is a space and `%XX` a byte.
 * @throws InvalidRequestError for a malformed escape.
 */
export function decodeEventKey(key: string): string {
  try {
    return decodeURIComponent(key.replace(/\+/g, ' '));
  } catch (error) {
    throw new InvalidRequestError(`detail.object.key: ${key} is not URL-encoded as S3 encodes event keys`, {
      cause: error,
      details: { field: 'detail.object.key', rule: 'must be URL-encoded (form encoding)' },
    });
  }
}

/** How S3 encodes a key in an event (the inverse of decodeEventKey; `/` stays as it is). */
export function encodeEventKey(key: string): string {
  return key
    .split('/')
    .map((segment) => encodeURIComponent(segment).replace(/%20/g, '+'))
    .join('/');
}

/** Why an event starts nothing. */
export type DropReason = 'no-mapping' | 'not-watched' | 'internal' | 'duplicate';
/** Why a matched event needs no run of its own. */
export type SkipReason = 'auto-import' | 'deletion-not-propagated';

export type EventMatch =
  | { action: 'stage'; mapping: MappingConfig }
  | { action: 'skip'; mapping: MappingConfig; reason: SkipReason };

export type Classification =
  | { kind: 'matched'; key: string; matches: EventMatch[] }
  | { kind: 'dropped'; key: string; reason: DropReason; detail: string };

/** True when `key` is one of fsx-transfer's own objects (transfer listings, DRA completion reports). */
export function isInternalKey(key: string, mappingPrefix: string): boolean {
  const relative = mappingPrefix ? key.slice(mappingPrefix.length + 1) : key;
  const first = relative.split('/')[0];
  return key.split('/')[0] === RESERVED_PREFIX || first === REPORT_FOLDER || first === RESERVED_PREFIX;
}

/** True when `key` lies under the mapping's S3 location. */
function within(mapping: MappingConfig, bucket: string, key: string): boolean {
  const location = parseS3Uri(mapping.s3Uri);
  return location.bucket === bucket && (location.prefix === '' || key.startsWith(`${location.prefix}/`));
}

/** What an event under `mapping` asks for (the mapping has autoStage). */
function matchFor(mapping: MappingConfig, deleted: boolean): EventMatch {
  // Automatic import already links new, changed and deleted objects (lazily): only preload needs a run.
  if (mapping.method === 'dra')
    return mapping.preload && !deleted
      ? { action: 'stage', mapping }
      : { action: 'skip', mapping, reason: 'auto-import' };
  // aws s3 sync never deletes on FSx unless the mapping opts into `delete`.
  if (deleted && !mapping.delete) return { action: 'skip', mapping, reason: 'deletion-not-propagated' };
  return { action: 'stage', mapping };
}

/**
 * Maps an S3 object event to the mappings it concerns. A key can lie under mappings of several
 * file systems (each stages its own copy); on one file system mappings never overlap.
 */
export function classifyS3Event(config: Config, event: S3ObjectEvent): Classification {
  const bucket = event.detail.bucket.name;
  const key = decodeEventKey(event.detail.object.key);
  const containing = config.mappings.filter((mapping) => within(mapping, bucket, key));
  if (containing.length === 0) {
    return {
      kind: 'dropped',
      key,
      reason: 'no-mapping',
      detail: `s3://${bucket}/${key} is under no mapping`,
    };
  }
  const watched = containing.filter((mapping) => mapping.autoStage);
  if (watched.length === 0) {
    return {
      kind: 'dropped',
      key,
      reason: 'not-watched',
      detail: `mapping ${containing.map((m) => m.name).join(', ')} does not have autoStage`,
    };
  }
  if (watched.some((mapping) => isInternalKey(key, parseS3Uri(mapping.s3Uri).prefix))) {
    return { kind: 'dropped', key, reason: 'internal', detail: `${key} is written by fsx-transfer itself` };
  }
  const deleted = event['detail-type'] === 'Object Deleted';
  return { kind: 'matched', key, matches: watched.map((mapping) => matchFor(mapping, deleted)) };
}

/**
 * The EventBridge pattern of the S3 event rule: Object Created/Deleted under the prefix of every
 * mapping with autoStage (`$or` of bucket + key prefix). Keys in S3 events are URL-encoded, so a
 * prefix is matched in its encoded form too when that differs.
 * @returns undefined when no mapping has autoStage (the rule is then disabled).
 */
export function s3EventPattern(config: Config): Record<string, unknown> | undefined {
  const watched = config.mappings.filter((mapping) => mapping.autoStage);
  if (watched.length === 0) return undefined;
  const branches = watched.map((mapping) => {
    const { bucket, prefix } = parseS3Uri(mapping.s3Uri);
    const prefixes = prefix ? [...new Set([`${prefix}/`, `${encodeEventKey(prefix)}/`])] : [];
    return {
      bucket: { name: [bucket] },
      ...(prefixes.length ? { object: { key: prefixes.map((p) => ({ prefix: p })) } } : {}),
    };
  });
  return {
    source: ['aws.s3'],
    'detail-type': ['Object Created', 'Object Deleted'],
    detail: branches.length === 1 ? branches[0] : { $or: branches },
  };
}
