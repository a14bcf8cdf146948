/**
 * The principals the local cloud knows, by access key: what a SigV4 signature is verified against
 * (every service, and the HTTP API's `AWS_IAM` routes) and who the caller is. The IAM user `test`
 * (`test`/`test`, an administrator: the CLI, tests and the demo) is always there; local/iam adds a
 * role session for every principal of the project (each function, each state machine, each
 * transfer instance), whose policies are its role's. Users added through the admin API are
 * administrators too.
 */
import { createHash, randomBytes } from 'node:crypto';
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
  /** For a role session: the logical id of the role whose policies apply (local/iam/roles.ts). */
  roleId?: string;
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

  /**
   * Temporary credentials of a session of a role (`ASIA...` key, secret and session token, as STS
   * gives a Lambda function or an instance profile): `arn:aws:sts::<account>:assumed-role/<role>/<session>`.
   */
  addRoleSession(role: { logicalId: string; name: string }, sessionName: string): LocalPrincipal {
    const digest = createHash('sha256').update(`${role.name}/${sessionName}`).digest('hex').toUpperCase();
    const roleUniqueId = `AROA${createHash('sha256').update(role.name).digest('hex').slice(0, 17).toUpperCase()}`;
    return this.add({
      accessKeyId: `ASIA${digest.slice(0, 16)}`,
      secretAccessKey: randomBytes(30).toString('base64'),
      sessionToken: randomBytes(60).toString('base64'),
      arn: `arn:aws:sts::${this.accountId}:assumed-role/${role.name}/${sessionName}`,
      userId: `${roleUniqueId}:${sessionName}`,
      roleId: role.logicalId,
    });
  }

  get(accessKeyId: string): LocalPrincipal | undefined {
    return this.byKey.get(accessKeyId);
  }

  /** Every principal without its secret (admin API). */
  list(): Omit<LocalPrincipal, 'secretAccessKey' | 'sessionToken'>[] {
    return [...this.byKey.values()].map(({ secretAccessKey: _s, sessionToken: _t, ...rest }) => rest);
  }
}
