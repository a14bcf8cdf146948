/**
 * Where it can be checked without IAM policy simulation: does the bucket policy explicitly deny
 * the principal FSx uses for the association the S3 actions a DRA needs (s3:GetObject,
 * s3:PutObject on the prefix, s3:ListBucket on the bucket)? An explicit Deny wins over any Allow,
 * so such a statement makes the association MISCONFIGURED or its tasks fail.
 * Conditional denies cannot be evaluated here; they are reported, not counted.
 */

export const DRA_S3_ACTIONS = ['s3:GetObject', 's3:PutObject', 's3:ListBucket'] as const;

/** Service principals FSx uses to reach S3 for data repositories. */
export const FSX_SERVICE_PRINCIPALS = ['fsx.amazonaws.com', 's3.data-source.lustre.fsx.amazonaws.com'];

export interface PolicyCheckInput {
  policy: string;
  bucket: string;
  /** Key prefix of the association, no leading or trailing slash. */
  prefix: string;
  /** Role ARNs FSx may use (configured data repository role, the service-linked role). */
  principalArns: string[];
}

export interface PolicyCheckResult {
  /** `action on resource (statement id)` for each unconditional explicit deny that applies. */
  denied: string[];
  /** Statement ids of conditional denies that might apply (not evaluated). */
  conditional: string[];
}

interface Statement {
  Sid?: string;
  Effect?: string;
  Principal?: unknown;
  NotPrincipal?: unknown;
  Action?: string | string[];
  NotAction?: string | string[];
  Resource?: string | string[];
  NotResource?: string | string[];
  Condition?: unknown;
}

const list = (value: string | string[] | undefined): string[] =>
  value === undefined ? [] : Array.isArray(value) ? value : [value];

/** IAM wildcard match (`*` any run, `?` one character), case-sensitive like resource ARNs. */
export function wildcardMatch(pattern: string, value: string, ignoreCase = false): boolean {
  const escaped = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${escaped}$`, ignoreCase ? 'i' : '').test(value);
}

function principalMatches(principal: unknown, arns: string[]): boolean {
  if (principal === '*') return true;
  if (!principal || typeof principal !== 'object') return false;
  const record = principal as Record<string, string | string[]>;
  const aws = list(record.AWS);
  if (aws.some((p) => p === '*' || arns.some((arn) => wildcardMatch(p, arn)))) return true;
  return list(record.Service).some((service) => FSX_SERVICE_PRINCIPALS.includes(service));
}

/**
 * Unconditional explicit denies in `policy` that hit the DRA's S3 actions for one of the principals.
 * Statements using NotPrincipal/NotAction/NotResource are treated as conditional (not evaluated).
 */
export function findDraDenies(input: PolicyCheckInput): PolicyCheckResult {
  let document: { Statement?: Statement | Statement[] };
  try {
    document = JSON.parse(input.policy) as typeof document;
  } catch {
    return { denied: [], conditional: ['(policy is not valid JSON)'] };
  }
  const statements = Array.isArray(document.Statement)
    ? document.Statement
    : document.Statement
      ? [document.Statement]
      : [];
  const objectArn = `arn:aws:s3:::${input.bucket}/${input.prefix ? `${input.prefix}/` : ''}fsx-transfer-probe`;
  const bucketArn = `arn:aws:s3:::${input.bucket}`;
  const result: PolicyCheckResult = { denied: [], conditional: [] };
  statements.forEach((statement, index) => {
    if (statement.Effect !== 'Deny') return;
    const id = statement.Sid ?? `#${index}`;
    if (statement.NotPrincipal || statement.NotAction || statement.NotResource) {
      result.conditional.push(id);
      return;
    }
    if (!principalMatches(statement.Principal, input.principalArns)) return;
    const hits = DRA_S3_ACTIONS.filter((action) =>
      list(statement.Action).some((pattern) => wildcardMatch(pattern, action, true)),
    ).filter((action) => {
      const resource = action === 's3:ListBucket' ? bucketArn : objectArn;
      return list(statement.Resource).some((pattern) =>
        wildcardMatch(pattern.replace(/^arn:aws[a-z-]*:/, 'arn:aws:'), resource),
      );
    });
    if (hits.length === 0) return;
    if (statement.Condition && Object.keys(statement.Condition as object).length > 0) {
      result.conditional.push(id);
      return;
    }
    for (const action of hits) result.denied.push(`${action} (statement ${id})`);
  });
  return result;
}
