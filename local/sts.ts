/**
 * STS (query protocol): GetCallerIdentity. Every access key is accepted and belongs to the local
 * account; the caller is `arn:aws:iam::<account>:user/<access key id>` (`root` for the key `root`).
 */
import { createHash } from 'node:crypto';
import { queryResponse, STS_NAMESPACE } from './protocols/query.js';
import type { LocalRequestContext } from './server.js';
import { LocalAwsError, type QueryService, type RequestContext } from './types.js';

/** The IAM user id the local cloud gives an access key (`AIDA...`; the account id for `root`). */
export function userIdFor(accessKeyId: string, accountId: string): string {
  if (accessKeyId === 'root') return accountId;
  return `AIDA${createHash('sha256').update(accessKeyId).digest('hex').slice(0, 17).toUpperCase()}`;
}

export class StsEmulator implements QueryService {
  readonly signingName = 'sts';
  readonly actions: ReadonlySet<string> = new Set(['GetCallerIdentity']);

  constructor(private readonly deps: { accountId: string }) {}

  async handle(action: string, _params: Record<string, string>, ctx: RequestContext): Promise<string> {
    const local = ctx as LocalRequestContext;
    if (action !== 'GetCallerIdentity') {
      throw new LocalAwsError('InvalidAction', `Could not find operation ${action} for version 2011-06-15`);
    }
    const accessKeyId = local.accessKeyId || 'anonymous';
    const account = this.deps.accountId;
    const isRoot = accessKeyId === 'root';
    const userId = userIdFor(accessKeyId, account);
    const arn = isRoot ? `arn:aws:iam::${account}:root` : `arn:aws:iam::${account}:user/${accessKeyId}`;
    return queryResponse('GetCallerIdentity', STS_NAMESPACE, local.requestId ?? '', {
      UserId: userId,
      Account: account,
      Arn: arn,
    });
  }
}
