/**
 * Scale-out of the EC2 method: the scope's key space cut into size-balanced contiguous key ranges,
 * one per transfer instance (the `TransferShards` Map of statemachines/transfer.asl.json).
 *
 * `aws s3 sync` has no key-range option, so a shard is expressed as exclude filters (the AWS CLI's
 * fnmatch globs) that drop every key below the shard's first boundary and every key at or above
 * its end boundary. The boundaries are the shortest key prefixes that separate two neighbouring
 * keys, made of characters that are never glob syntax (`BOUNDARY_CHARS`), so the filters stay
 * exact for any key a neighbour may have: quotes, `*`, `[`, newlines or any Unicode. Keys sort by
 * UTF-8 bytes in S3 and by code point in the CLI's filters: the same order, and with ASCII-only
 * boundaries JavaScript's UTF-16 comparison agrees with both.
 */
import type { ListedFile } from '../verify/listing.js';

/** Characters a shard boundary may contain: no glob syntax, and none whose predecessor would end a class. */
export const BOUNDARY_CHARS = /^[A-Za-z0-9._/-]+$/;
/** Longest boundary (the filters grow with its length, and it travels as an SSM parameter). */
export const MAX_BOUNDARY_LENGTH = 200;

/** One instance's part of the scope: keys k with start <= k < end (relative to the scope prefix). */
export interface Shard {
  index: number;
  count: number;
  /** Inclusive lower boundary; absent for the first shard. */
  start?: string;
  /** Exclusive upper boundary; absent for the last shard. */
  end?: string;
  files: number;
  bytes: number;
}

/**
 * The shortest boundary b with `previous < b <= next` that BOUNDARY_CHARS allows: a prefix of
 * `next`, so every key in the cut's upper part starts at or above it.
 * @returns undefined when no allowed prefix separates the two keys.
 */
export function shortestBoundary(previous: string, next: string): string | undefined {
  for (let length = 1; length <= Math.min(next.length, MAX_BOUNDARY_LENGTH); length += 1) {
    const candidate = next.slice(0, length);
    if (!BOUNDARY_CHARS.test(candidate)) return undefined;
    if (candidate > previous) return candidate;
  }
  return undefined;
}

/** True when `path` (relative to the scope) belongs to the shard. */
export function inShard(path: string, shard: Pick<Shard, 'start' | 'end'>): boolean {
  return (shard.start === undefined || path >= shard.start) && (shard.end === undefined || path < shard.end);
}

/**
 * Cuts a listing (any order) into at most `count` contiguous key ranges of about equal bytes (a file
 * counts at least `perFileBytes`, so many small files weigh like the requests they cost). A cut
 * moves to the nearest pair of neighbours an allowed boundary separates; shards that would be empty
 * are dropped, so the result may have fewer shards than asked (never zero).
 */
export function planShards(files: readonly ListedFile[], count: number, perFileBytes = 64 * 1024): Shard[] {
  const sorted = [...files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const weight = (file: ListedFile) => Math.max(file.size, perFileBytes);
  const total = sorted.reduce((sum, file) => sum + weight(file), 0);
  const cuts: { at: number; boundary: string }[] = [];
  let running = 0;
  let wanted = 1;
  for (let i = 0; i < sorted.length - 1 && wanted < count; i += 1) {
    running += weight(sorted[i]!);
    if (running < (total * wanted) / count) continue;
    const boundary = shortestBoundary(sorted[i]!.path, sorted[i + 1]!.path);
    if (boundary === undefined) continue;
    cuts.push({ at: i + 1, boundary });
    wanted += 1;
  }
  const shards: Shard[] = [];
  let from = 0;
  for (let c = 0; c <= cuts.length; c += 1) {
    const to = c < cuts.length ? cuts[c]!.at : sorted.length;
    const part = sorted.slice(from, to);
    shards.push({
      index: c,
      count: cuts.length + 1,
      ...(c > 0 ? { start: cuts[c - 1]!.boundary } : {}),
      ...(c < cuts.length ? { end: cuts[c]!.boundary } : {}),
      files: part.length,
      bytes: part.reduce((sum, file) => sum + file.size, 0),
    });
    from = to;
  }
  return shards;
}

/**
 * How many instances a scope gets: the planner's suggestion (shared/cost/estimate.ts
 * `suggestScaleOut`) when scaling out is worthwhile, bounded by `maxInstances` and by one file per
 * instance. Small scopes keep one instance.
 */
export function instanceCount(
  suggestion: { instances: number; worthwhile: boolean },
  maxInstances: number,
  files: number,
): number {
  if (!suggestion.worthwhile) return 1;
  return Math.max(1, Math.min(suggestion.instances, maxInstances, files));
}

/** The lowest character a file or key name can hold (a file name has no NUL byte). */
const LOWEST = '\u0001';

/**
 * The AWS CLI filter globs matching every key below `boundary` (keys < boundary). The transfer
 * document builds the same list (ssm/transfer-document.yaml, `shard_patterns`); a unit test keeps
 * them equal. Shown here to document and test the construction.
 */
export function patternsBelow(boundary: string): string[] {
  const patterns: string[] = [];
  for (let i = 0; i < boundary.length; i += 1) {
    const before = String.fromCharCode(boundary.charCodeAt(i) - 1);
    patterns.push(`${boundary.slice(0, i)}[${LOWEST}-${before}]*`);
    if (i > 0) patterns.push(boundary.slice(0, i));
  }
  return patterns;
}

/** The AWS CLI filter globs matching every key at or above `boundary` (keys >= boundary). */
export function patternsFrom(boundary: string): string[] {
  const patterns = [`${boundary}*`];
  for (let i = 0; i < boundary.length; i += 1) {
    patterns.push(`${boundary.slice(0, i)}[!${LOWEST}-${boundary[i]}]*`);
  }
  return patterns;
}
