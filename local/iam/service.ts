/**
 * IAM on the local cloud: who signed a request (SigV4, verified for every service), and whether
 * the principal's policies allow what it asks (local/iam/requests.ts derives the checks,
 * local/iam/policy.ts evaluates them). The principals are the IAM user `test` (administrator: the
 * CLI, tests, the demo) and a role session per principal of the project: each Lambda function signs
 * with its role's credentials, each state machine with its role's, each transfer instance with its
 * instance profile role's (local/iam/roles.ts derives the roles from serverless.yml).
 *
 * Modes: `enforce` answers as AWS does (AccessDeniedException, UnauthorizedOperation,
 * AccessDenied; signature errors); `warn` verifies and evaluates the same way but only logs and
 * lists what it would refuse; `off` checks nothing (any access key is accepted).
 *
 * Every allowed check counts as a use of each Allow statement that matched; every refused check
 * is a denial, logged with the principal, the action, the resource and the statement that would
 * allow it, and listed at `GET /_local/iam/denials`. `report()` is what `npm run test:iam` sums up.
 */
import type { LocalCredentials, LocalPrincipal } from '../credentials.js';
import { type SignedRequest, type SigV4Failure, verifySigV4 } from '../protocols/sigv4-verify.js';
import { LocalAwsError } from '../types.js';
import { type AuthorizationCheck, type CheckDecision, describeMismatch, evaluateCheck } from './policy.js';
import {
  fsxServiceLinkedRoleChecks,
  type RequestScope,
  type ResourceLookup,
  requestChecks,
} from './requests.js';
import type { IamRole, ProjectRoles, RoleStatement } from './roles.js';
import { type S3RequestFacts, s3RequestChecks } from './s3-requests.js';

export type IamMode = 'enforce' | 'warn' | 'off';
export const IAM_MODES: readonly IamMode[] = ['enforce', 'warn', 'off'];

/** The wire protocol an error is answered in. */
export type IamProtocol = 'json' | 'ec2' | 'query' | 's3' | 'lambda';

export interface IamDenial {
  at: string;
  /** The caller's ARN (a role session, e.g. `arn:aws:sts::...:assumed-role/<role>/<function>`). */
  principal: string;
  /** Logical id of the role whose policies were evaluated. */
  role: string;
  /** `<service>:<Operation>` of the request. */
  request: string;
  action: string;
  resource: string;
  decision: 'explicit-deny' | 'implicit-deny';
  /** AWS's message. */
  message: string;
  /** Where to add what, or which statement came closest and why it did not match. */
  hint: string;
  /** False in `warn` mode: the request went on. */
  enforced: boolean;
}

export interface StatementUse {
  id: string;
  origin: string;
  actions: string[];
  resources: string[];
  /** Checks this statement allowed. */
  allowed: number;
}

export interface IamReport {
  roles: { logicalId: string; name: string; usedBy: string; statements: StatementUse[] }[];
  denials: IamDenial[];
}

export interface LocalIamDeps {
  mode: IamMode;
  accountId: string;
  region: string;
  credentials: LocalCredentials;
  roles: ProjectRoles;
  lookup: ResourceLookup;
  log: (line: string) => void;
  /** Statement ids to leave out (a test shows that a run then fails with an access-denied error). */
  withoutStatements?: string[];
}

const MAX_DENIALS = 1000;

/** AWS's message for a refused check. */
export function accessDeniedMessage(principal: string, check: AuthorizationCheck, explicit: boolean): string {
  const why = explicit
    ? 'with an explicit deny in an identity-based policy'
    : `because no identity-based policy allows the ${check.action} action`;
  return `User: ${principal} is not authorized to perform: ${check.action} on resource: ${check.resource} ${why}`;
}

/** The error AWS answers a refused request with, in the request's protocol. */
export function accessDeniedError(protocol: IamProtocol, denial: IamDenial): LocalAwsError {
  switch (protocol) {
    case 'ec2':
      return new LocalAwsError(
        'UnauthorizedOperation',
        `You are not authorized to perform this operation. ${denial.message}`,
        403,
      );
    case 'query':
    case 's3':
      return new LocalAwsError('AccessDenied', denial.message, 403);
    case 'lambda':
      return new LocalAwsError('AccessDeniedException', denial.message, 403);
    default:
      return new LocalAwsError('AccessDeniedException', denial.message, 400);
  }
}

/** The error AWS answers a request whose signature fails with, in the request's protocol. */
export function signatureError(protocol: IamProtocol, failure: SigV4Failure): LocalAwsError {
  const { errorType, message } = failure;
  if (errorType === 'AccessDeniedException') {
    return protocol === 'json'
      ? new LocalAwsError(errorType, message, 400)
      : new LocalAwsError('AccessDenied', message, 403);
  }
  if (protocol === 's3') {
    if (errorType === 'MissingAuthenticationTokenException')
      return new LocalAwsError('AccessDenied', 'Access Denied', 403);
    if (errorType === 'UnrecognizedClientException') {
      return new LocalAwsError(
        'InvalidAccessKeyId',
        'The AWS Access Key Id you provided does not exist in our records.',
        403,
      );
    }
    if (errorType === 'IncompleteSignatureException')
      return new LocalAwsError('AuthorizationHeaderMalformed', message, 400);
    return new LocalAwsError(
      'SignatureDoesNotMatch',
      'The request signature we calculated does not match the signature you provided. Check your key and signing method.',
      403,
    );
  }
  if (protocol === 'ec2') {
    return errorType === 'MissingAuthenticationTokenException'
      ? new LocalAwsError(
          'MissingAuthenticationToken',
          'The request must contain either a valid (registered) AWS access key ID or X.509 certificate.',
          401,
        )
      : new LocalAwsError('AuthFailure', 'AWS was not able to validate the provided access credentials', 401);
  }
  if (protocol === 'query') {
    const code = {
      MissingAuthenticationTokenException: 'MissingAuthenticationToken',
      UnrecognizedClientException: 'InvalidClientTokenId',
      IncompleteSignatureException: 'IncompleteSignature',
    }[errorType];
    return new LocalAwsError(code ?? 'SignatureDoesNotMatch', message, 403);
  }
  return new LocalAwsError(
    errorType,
    message,
    errorType === 'MissingAuthenticationTokenException' ? 403 : 400,
  );
}

/** Where a missing statement goes in serverless.yml, for a role. */
function statementHome(role: IamRole): string {
  const [kind, key] = role.usedBy.split(':');
  if (kind === 'function') return `serverless.yml functions.${key}.iamRoleStatements`;
  if (kind === 'state-machine') return `serverless.yml stepFunctions.stateMachines.${key}.iamRoleStatements`;
  return `serverless.yml resources.${role.logicalId}.Properties.Policies`;
}

export class LocalIam {
  readonly scope: RequestScope;
  private readonly roles = new Map<string, IamRole>();
  private readonly allowed = new Map<string, number>();
  private readonly denialLog: IamDenial[] = [];
  private readonly sessions = new Map<string, LocalPrincipal>();
  /** File systems whose FSx S3 service-linked role exists (created with the first DRA). */
  private readonly serviceLinkedRoles = new Set<string>();

  constructor(private readonly deps: LocalIamDeps) {
    this.scope = { accountId: deps.accountId, region: deps.region, lookup: deps.lookup };
    this.setRoles(deps.roles);
  }

  /** Replaces the roles (the project deployed again with another config); usage is kept by statement id. */
  setRoles(roles: ProjectRoles): void {
    this.deps.roles = roles;
    this.roles.clear();
    const without = new Set(this.deps.withoutStatements ?? []);
    for (const role of roles.roles) {
      this.roles.set(role.logicalId, {
        ...role,
        statements: role.statements.filter((statement) => !without.has(statement.id)),
      });
    }
  }

  get mode(): IamMode {
    return this.deps.mode;
  }

  /** The project's roles as evaluated (without the statements left out). */
  get projectRoles(): ProjectRoles {
    return this.deps.roles;
  }

  role(logicalId: string): IamRole | undefined {
    return this.roles.get(logicalId);
  }

  /** The credentials of a session of a role (created once per role and session name). */
  session(roleLogicalId: string, sessionName: string): LocalPrincipal {
    const key = `${roleLogicalId}/${sessionName}`;
    let principal = this.sessions.get(key);
    if (!principal) {
      const role = this.roles.get(roleLogicalId);
      if (!role) throw new Error(`no role ${roleLogicalId} in serverless.yml`);
      principal = this.deps.credentials.addRoleSession(role, sessionName);
      this.sessions.set(key, principal);
    }
    return principal;
  }

  /** The session of a function's role (`sessionName`: the function name, as Lambda names it). */
  functionSession(functionKey: string, functionName: string): LocalPrincipal | undefined {
    const role = this.deps.roles.functionRoles.get(functionKey);
    return role ? this.session(role, functionName) : undefined;
  }

  /** The session of a state machine's role, or undefined for one serverless.yml does not declare. */
  stateMachineSession(stateMachineName: string): LocalPrincipal | undefined {
    const role = this.deps.roles.stateMachineRoles.get(stateMachineName);
    return role ? this.session(role, stateMachineName.slice(0, 64)) : undefined;
  }

  /** The session EventBridge starts a state machine's schedules with. */
  scheduleSession(stateMachineArn: string): LocalPrincipal | undefined {
    const role = this.deps.roles.scheduleRoles.get(stateMachineArn);
    return role ? this.session(role, 'events') : undefined;
  }

  /** The session of an instance profile's role on an instance (`sessionName`: the instance id). */
  instanceSession(profileNameOrArn: string, instanceId: string): LocalPrincipal | undefined {
    const name = profileNameOrArn.replace(/^arn:[^:]*:iam::\d*:instance-profile\//, '');
    const role = this.deps.roles.instanceProfiles.get(name);
    return role ? this.session(role, instanceId) : undefined;
  }

  /** The variables an SDK or the AWS CLI signs with as `principal`. */
  static environment(principal: LocalPrincipal): Record<string, string> {
    return {
      AWS_ACCESS_KEY_ID: principal.accessKeyId,
      AWS_SECRET_ACCESS_KEY: principal.secretAccessKey,
      ...(principal.sessionToken ? { AWS_SESSION_TOKEN: principal.sessionToken } : {}),
    };
  }

  /**
   * Who signed a request: the verified principal, or the failure AWS would answer with (`warn`
   * logs the failure and goes on with the access key's principal, `off` verifies nothing).
   */
  async authenticate(
    request: SignedRequest,
    service: string,
    options: { bodyNotRead?: boolean } = {},
  ): Promise<{ principal?: LocalPrincipal; failure?: SigV4Failure }> {
    const accessKey = /Credential=([^/,\s]+)\//.exec(String(request.headers.authorization ?? ''))?.[1];
    if (this.mode === 'off')
      return { principal: accessKey ? this.deps.credentials.get(accessKey) : undefined };
    const result = await verifySigV4(request, {
      service,
      region: this.deps.region,
      lookup: (key) => this.deps.credentials.get(key),
      bodyNotRead: options.bodyNotRead,
    });
    if ('principal' in result) return { principal: result.principal };
    if (this.mode === 'enforce') return { failure: result.failure };
    this.deps.log(
      `iam: WOULD REFUSE ${request.method} ${request.path} (${service}): ${result.failure.errorType}: ${result.failure.message}`,
    );
    return { principal: accessKey ? this.deps.credentials.get(accessKey) : undefined };
  }

  /**
   * Evaluates `checks` for `principal`. Administrators (principals without a role) may do
   * anything.
   * @returns the denial when the request must be refused (enforce mode), else undefined.
   */
  authorize(
    principal: LocalPrincipal | undefined,
    checks: AuthorizationCheck[],
    request: string,
  ): IamDenial | undefined {
    if (this.mode === 'off' || !principal?.roleId) return undefined;
    const role = this.roles.get(principal.roleId);
    if (!role) return undefined;
    let refused: IamDenial | undefined;
    for (const check of checks) {
      const decision = evaluateCheck(role.statements, (s) => s.statement, check);
      if (decision.decision === 'allow') {
        for (const statement of decision.allowedBy)
          this.allowed.set(statement.id, (this.allowed.get(statement.id) ?? 0) + 1);
        continue;
      }
      const denial = this.deny(principal, role, decision, request);
      refused ??= denial.enforced ? denial : undefined;
    }
    return refused;
  }

  /** The checks of a JSON or query request, evaluated (CreateDataRepositoryAssociation adds FSx's service-linked role). */
  authorizeRequest(
    principal: LocalPrincipal | undefined,
    service: string,
    operation: string,
    input: Record<string, unknown>,
  ): IamDenial | undefined {
    if (this.mode === 'off' || !principal?.roleId) return undefined;
    const checks = requestChecks(this.scope, service, operation, input);
    const fileSystemId = String(input.FileSystemId ?? '');
    const dra = service === 'fsx' && operation === 'CreateDataRepositoryAssociation';
    if (dra)
      checks.push(
        ...fsxServiceLinkedRoleChecks(this.scope, fileSystemId, !this.serviceLinkedRoles.has(fileSystemId)),
      );
    const denial = this.authorize(principal, checks, `${service}:${operation}`);
    if (dra && !denial) this.serviceLinkedRoles.add(fileSystemId);
    return denial;
  }

  authorizeS3(
    principal: LocalPrincipal | undefined,
    facts: S3RequestFacts,
    operation: string,
  ): IamDenial | undefined {
    if (this.mode === 'off' || !principal?.roleId) return undefined;
    return this.authorize(principal, s3RequestChecks(this.scope, facts), `s3:${operation}`);
  }

  private deny(
    principal: LocalPrincipal,
    role: IamRole,
    decision: CheckDecision<RoleStatement>,
    request: string,
  ): IamDenial {
    const { check } = decision;
    const explicit = decision.decision === 'explicit-deny';
    const suggestion = JSON.stringify({ Effect: 'Allow', Action: check.action, Resource: check.resource });
    const near = decision.nearMisses
      .map((miss) => `${miss.statement.origin} ${describeMismatch(miss.mismatch!)}`)
      .join('; ');
    const hint = explicit
      ? `denied by ${decision.deniedBy!.origin}`
      : `no statement of ${role.logicalId} allows it${near ? ` (closest: ${near})` : ''}; the missing statement: ${suggestion} in ${statementHome(role)}`;
    const denial: IamDenial = {
      at: new Date().toISOString(),
      principal: principal.arn,
      role: role.logicalId,
      request,
      action: check.action,
      resource: check.resource,
      decision: explicit ? 'explicit-deny' : 'implicit-deny',
      message: accessDeniedMessage(principal.arn, check, explicit),
      hint,
      enforced: this.mode === 'enforce',
    };
    this.denialLog.push(denial);
    if (this.denialLog.length > MAX_DENIALS) this.denialLog.shift();
    this.deps.log(
      `iam: ${denial.enforced ? 'DENIED' : 'WOULD DENY'} ${request} for ${principal.arn}: ${check.action} on ${check.resource}: ${hint}`,
    );
    return denial;
  }

  denials(): IamDenial[] {
    return [...this.denialLog];
  }

  /** Every role, every statement and how many checks it allowed, and the denials. */
  report(): IamReport {
    return {
      roles: [...this.roles.values()].map((role) => ({
        logicalId: role.logicalId,
        name: role.name,
        usedBy: role.usedBy,
        statements: role.statements.map((statement) => ({
          id: statement.id,
          origin: statement.origin,
          actions: [statement.statement.Action ?? statement.statement.NotAction ?? []].flat(),
          resources: [statement.statement.Resource ?? statement.statement.NotResource ?? []].flat(),
          allowed: this.allowed.get(statement.id) ?? 0,
        })),
      })),
      denials: this.denials(),
    };
  }
}
