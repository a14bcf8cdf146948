/**
 * STS (query protocol): GetCallerIdentity: the verified caller (a role session of a function,
 * state machine or instance, or the user `test`). With `--iam off` every access key is accepted
 * and belongs to the local account; the caller is `arn:aws:iam::<account>:user/<access key id>`
 * (`root` for the key `root`).
 */
import { createHash } from 'node:crypto';
import { dispatch, type OperationTable } from './kit/dispatch.js';
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
  readonly actions: ReadonlySet<string>;
  private readonly operations: OperationTable<Record<string, string>, LocalRequestContext, string>;

  constructor(private readonly deps: { accountId: string }) {
    this.operations = { GetCallerIdentity: (_params, ctx) => this.getCallerIdentity(ctx) };
    this.actions = new Set(Object.keys(this.operations));
  }

  async handle(action: string, params: Record<string, string>, ctx: RequestContext): Promise<string> {
    return dispatch(
      this.operations,
      action,
      params,
      ctx as LocalRequestContext,
      (name) => new LocalAwsError('InvalidAction', `Could not find operation ${name} for version 2011-06-15`),
    );
  }

  private getCallerIdentity(local: LocalRequestContext): string {
    if (local.principal) {
      return queryResponse('GetCallerIdentity', STS_NAMESPACE, local.requestId ?? '', {
        UserId: local.principal.userId,
        Account: local.principal.accountId,
        Arn: local.principal.arn,
      });
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
