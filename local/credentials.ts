/**
 * The principals the local cloud knows, by access key: what a SigV4 signature is verified against
 * (the HTTP API's `AWS_IAM` routes) and who the caller is (`requestContext.authorizer.iam`).
 * Today there is one, the local default `test`/`test` (an IAM user `test` of the local account);
 * more can be added (e.g. per-principal credentials to test IAM-scoped access).
 */
import { userIdFor } from './sts.js';

export interface LocalPrincipal {
  accessKeyId: string;
  secretAccessKey: string;
  /** Required on requests signed with temporary credentials. */
  sessionToken?: string;
  accountId: string;
  /** `arn:aws:iam::<account>:user/<name>` (or a role session ARN). */
  arn: string;
  /** `AIDA...` for a user (`AROA...:<session>` for a role session). */
  userId: string;
  principalOrgId?: string;
}

export type PrincipalInput = Pick<LocalPrincipal, 'accessKeyId' | 'secretAccessKey'> &
  Partial<LocalPrincipal>;

export class LocalCredentials {
  private readonly byKey = new Map<string, LocalPrincipal>();

  constructor(private readonly accountId: string) {
    this.add({ accessKeyId: 'test', secretAccessKey: 'test' });
  }

  /** Adds (or replaces) a principal; the ARN and user id default to an IAM user named after the key. */
  add(input: PrincipalInput): LocalPrincipal {
    const principal: LocalPrincipal = {
      accountId: this.accountId,
      arn: `arn:aws:iam::${input.accountId ?? this.accountId}:user/${input.accessKeyId}`,
      userId: userIdFor(input.accessKeyId, input.accountId ?? this.accountId),
      ...input,
    };
    this.byKey.set(principal.accessKeyId, principal);
    return principal;
  }

  get(accessKeyId: string): LocalPrincipal | undefined {
    return this.byKey.get(accessKeyId);
  }

  /** Every principal without its secret (admin API). */
  list(): Omit<LocalPrincipal, 'secretAccessKey' | 'sessionToken'>[] {
    return [...this.byKey.values()].map(({ secretAccessKey: _s, sessionToken: _t, ...rest }) => rest);
  }
}
