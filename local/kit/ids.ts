/**
 * Resource ids of the local cloud's emulators, shaped as AWS shapes them: a prefix and 17
 * lower-case hex digits for EC2 and FSx resources (`i-0123456789abcdef0`, `fs-…`, `dra-…`,
 * `task-…`, `r-…`, `vol-…`, `eni-…`). Ids that AWS writes as UUIDs (SSM command ids, request ids,
 * KMS key ids) come from node:crypto's `randomUUID()`.
 *
 * Usage:
 *   resourceId('i')  // 'i-0a1b2c3d4e5f60718'
 *   randomHex(8)     // '9f86d081'
 */
import { randomBytes } from 'node:crypto';

/** `n` random lower-case hex digits. */
export function randomHex(n: number): string {
  return randomBytes(Math.ceil(n / 2))
    .toString('hex')
    .slice(0, n);
}

/** `<prefix>-` and `digits` (default 17) random hex digits, as EC2 and FSx write their ids. */
export function resourceId(prefix: string, digits = 17): string {
  return `${prefix}-${randomHex(digits)}`;
}
