/**
 * SSM Parameter Store: PutParameter / GetParameter / GetParameters / GetParametersByPath /
 * DeleteParameter / DeleteParameters, plus the public `/aws/service/...` AMI parameters.
 */
import { pageOf } from '../kit/next-token.js';
import { LocalAwsError } from '../types.js';
import { ssmTokens } from './input.js';

export interface ParameterRecord {
  name: string;
  type: 'String' | 'StringList' | 'SecureString';
  value: string;
  version: number;
  lastModifiedDate: string;
  description?: string;
  allowedPattern?: string;
  tier: string;
  dataType: string;
}

/** The fake AMI id behind the Amazon Linux 2023 public parameters. */
export const LOCAL_AL2023_AMI = 'ami-0a1b2c3d4e5f60718';
export const LOCAL_AL2023_ARM_AMI = 'ami-0a1b2c3d4e5f60719';

const PUBLIC_PARAMETERS: Record<string, string> = {
  '/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64': LOCAL_AL2023_AMI,
  '/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-6.1-x86_64': LOCAL_AL2023_AMI,
  '/aws/service/ami-amazon-linux-latest/al2023-ami-minimal-kernel-default-x86_64': LOCAL_AL2023_AMI,
  '/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64': LOCAL_AL2023_ARM_AMI,
  '/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-6.1-arm64': LOCAL_AL2023_ARM_AMI,
};

/** The images behind Amazon's public AMI parameters: owned by `amazon` (the `ec2:Owner` condition key). */
export const AMAZON_IMAGE_IDS: ReadonlySet<string> = new Set(Object.values(PUBLIC_PARAMETERS));

const MAX_VALUE = { Standard: 4096, Advanced: 8192 } as const;

/** The `Names` of GetParameters/DeleteParameters: 1 to 10 of them. */
function namesOf(input: Record<string, unknown>): unknown[] {
  const names = input.Names;
  if (!Array.isArray(names) || names.length === 0 || names.length > 10) {
    throw new LocalAwsError(
      'ValidationException',
      "1 validation error detected: Value at 'names' failed to satisfy constraint: Member must have length between 1 and 10",
    );
  }
  return names;
}

export class ParameterStore {
  readonly parameters = new Map<string, ParameterRecord>();

  constructor(
    private readonly accountId: string,
    private readonly region: string,
    private readonly now: () => Date,
  ) {}

  private arn(name: string, isPublic = false): string {
    return `arn:aws:ssm:${this.region}:${isPublic ? '' : this.accountId}:parameter${name.startsWith('/') ? '' : '/'}${name}`;
  }

  private normalize(nameInput: unknown): string {
    if (typeof nameInput !== 'string' || nameInput.length === 0) {
      throw new LocalAwsError(
        'ValidationException',
        "1 validation error detected: Value null at 'name' failed to satisfy constraint: Member must not be null",
      );
    }
    // ARNs are accepted wherever a name is.
    const m = /^arn:aws[a-z-]*:ssm:[^:]*:[^:]*:parameter(\/.*)$/.exec(nameInput);
    return m ? m[1]! : nameInput;
  }

  private output(record: ParameterRecord, withDecryption: boolean) {
    return {
      Name: record.name,
      Type: record.type,
      Value:
        record.type === 'SecureString' && !withDecryption
          ? Buffer.from(record.value).toString('base64')
          : record.value,
      Version: record.version,
      LastModifiedDate: new Date(record.lastModifiedDate),
      ARN: this.arn(record.name),
      DataType: record.dataType,
    };
  }

  private lookup(rawName: string) {
    const [name, selector] = rawName.split(':', 2) as [string, string | undefined];
    const publicValue = PUBLIC_PARAMETERS[name];
    if (publicValue) {
      return {
        Name: name,
        Type: 'String',
        Value: publicValue,
        Version: 1,
        LastModifiedDate: new Date('2025-01-01T00:00:00Z'),
        ARN: this.arn(name, true),
        DataType: 'aws:ec2:image',
      };
    }
    const record = this.parameters.get(name);
    if (!record) return undefined;
    if (selector !== undefined && selector !== String(record.version)) {
      throw new LocalAwsError(
        'ParameterVersionNotFound',
        `Systems Manager could not find version ${selector} of ${name}. Verify the version and try again.`,
      );
    }
    return record;
  }

  /** A parameter's value for `{{ssm:name}}` references, or undefined. */
  value(name: string): string | undefined {
    const found = this.lookup(name);
    if (!found) return undefined;
    return 'value' in found ? found.value : found.Value;
  }

  get(input: Record<string, unknown>) {
    const name = this.normalize(input.Name);
    const found = this.lookup(name);
    if (!found) throw new LocalAwsError('ParameterNotFound', `Parameter ${name} not found.`);
    return { Parameter: 'value' in found ? this.output(found, input.WithDecryption === true) : found };
  }

  getMany(input: Record<string, unknown>) {
    const names = namesOf(input);
    const parameters: unknown[] = [];
    const invalid: string[] = [];
    for (const raw of names) {
      const name = this.normalize(raw);
      const found = this.lookup(name);
      if (!found) invalid.push(name);
      else parameters.push('value' in found ? this.output(found, input.WithDecryption === true) : found);
    }
    return { Parameters: parameters, InvalidParameters: invalid };
  }

  getByPath(input: Record<string, unknown>) {
    const path = this.normalize(input.Path);
    if (!path.startsWith('/'))
      throw new LocalAwsError(
        'ValidationException',
        'The parameter path must begin with a forward slash (/)',
      );
    const prefix = path.endsWith('/') ? path : `${path}/`;
    const recursive = input.Recursive === true;
    const maxResults = input.MaxResults === undefined ? 10 : Number(input.MaxResults);
    if (!Number.isInteger(maxResults) || maxResults < 1 || maxResults > 10) {
      throw new LocalAwsError(
        'ValidationException',
        "1 validation error detected: Value at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 10",
      );
    }
    const all = [...this.parameters.values()]
      .filter((p) => p.name.startsWith(prefix) && (recursive || !p.name.slice(prefix.length).includes('/')))
      .sort((a, b) => a.name.localeCompare(b.name));
    const { items, nextToken } = pageOf(all, { token: input.NextToken, size: maxResults }, ssmTokens);
    return {
      Parameters: items.map((p) => this.output(p, input.WithDecryption === true)),
      NextToken: nextToken,
    };
  }

  put(input: Record<string, unknown>) {
    const name = this.normalize(input.Name);
    if (typeof input.Value !== 'string') {
      throw new LocalAwsError(
        'ValidationException',
        "1 validation error detected: Value null at 'value' failed to satisfy constraint: Member must not be null",
      );
    }
    const value = input.Value;
    if (name.length > 2048)
      throw new LocalAwsError('ValidationException', 'Parameter name must be at most 2048 characters');
    if (!/^[a-zA-Z0-9_.\-/]+$/.test(name)) {
      throw new LocalAwsError(
        'ValidationException',
        'Parameter name: can\'t be prefixed with "aws" or "ssm" (case-insensitive). It must use only letters, numbers, or the following symbols: . (period), - (hyphen), _ (underscore).',
      );
    }
    if (/^\/?(aws|ssm)/i.test(name)) {
      throw new LocalAwsError('ValidationException', `No access to reserved parameter name: ${name}.`);
    }
    if (name.includes('/') && !name.startsWith('/')) {
      throw new LocalAwsError(
        'ValidationException',
        'Parameter name must be a fully qualified name (begin with /) when it contains a hierarchy',
      );
    }
    if (name.split('/').filter(Boolean).length > 15) {
      throw new LocalAwsError(
        'HierarchyLevelLimitExceededException',
        'Parameter name has more than 15 hierarchy levels',
      );
    }
    const tier = String(input.Tier ?? 'Standard');
    const max = tier === 'Advanced' ? MAX_VALUE.Advanced : MAX_VALUE.Standard;
    if (value.length === 0 || value.length > max) {
      throw new LocalAwsError(
        'ValidationException',
        `1 validation error detected: Value at 'value' failed to satisfy constraint: Member must have length between 1 and ${max}`,
      );
    }
    const existing = this.parameters.get(name);
    const type = (input.Type ?? existing?.type) as ParameterRecord['type'] | undefined;
    if (!existing && !type) {
      throw new LocalAwsError(
        'ValidationException',
        'A parameter type is required when you create a parameter.',
      );
    }
    if (type && !['String', 'StringList', 'SecureString'].includes(type)) {
      throw new LocalAwsError(
        'ValidationException',
        `1 validation error detected: Value '${type}' at 'type' failed to satisfy constraint: Member must satisfy enum value set: [SecureString, StringList, String]`,
      );
    }
    if (existing && input.Overwrite !== true) {
      throw new LocalAwsError(
        'ParameterAlreadyExists',
        'The parameter already exists. To overwrite this value, set the overwrite option in the request to true.',
      );
    }
    const allowedPattern = (input.AllowedPattern as string | undefined) ?? existing?.allowedPattern;
    if (allowedPattern !== undefined) {
      let re: RegExp;
      try {
        re = new RegExp(allowedPattern);
      } catch {
        throw new LocalAwsError(
          'InvalidAllowedPatternException',
          `The allowed pattern ${allowedPattern} is not valid`,
        );
      }
      if (!re.test(value)) {
        throw new LocalAwsError(
          'ParameterPatternMismatchException',
          `Parameter value, cannot be validated against allowedPattern: ${allowedPattern}`,
        );
      }
    }
    const record: ParameterRecord = {
      name,
      type: type!,
      value,
      version: (existing?.version ?? 0) + 1,
      lastModifiedDate: this.now().toISOString(),
      description: (input.Description as string | undefined) ?? existing?.description,
      allowedPattern,
      tier,
      dataType: String(input.DataType ?? existing?.dataType ?? 'text'),
    };
    this.parameters.set(name, record);
    return { Version: record.version, Tier: tier };
  }

  delete(input: Record<string, unknown>) {
    const name = this.normalize(input.Name);
    if (!this.parameters.delete(name))
      throw new LocalAwsError('ParameterNotFound', `Parameter ${name} not found.`);
    return {};
  }

  deleteMany(input: Record<string, unknown>) {
    const names = namesOf(input);
    const deleted: string[] = [];
    const invalid: string[] = [];
    for (const raw of names) {
      const name = this.normalize(raw);
      if (this.parameters.delete(name)) deleted.push(name);
      else invalid.push(name);
    }
    return { DeletedParameters: deleted, InvalidParameters: invalid };
  }
}
