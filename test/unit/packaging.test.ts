// biome-ignore-all lint/suspicious/noTemplateCurlyInString: CloudFormation values rendered as ${Ref} text
/**
 * `npm run package` builds a deployable template offline. The package runs in a private copy of
 * the project (scripts/sls/package-copy.ts), so it never races with another `npm run package` or
 * with tests that read the working tree, and it leaves the developer's .serverless/ alone.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import aslValidator from 'asl-validator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { projectRoles, stateMachineResolverValues } from '../../local/iam/roles.js';
import { evaluateCfn, evaluateCfnDeep, loadServerlessProject } from '../../local/serverless-config.js';
import { lambdaLogicalId, readStateMachines } from '../../scripts/sls/asl.js';
import { deploymentValues } from '../../scripts/sls/deployment.js';
import { type PackagedCopy, packageCopy, zipEntries } from '../../scripts/sls/package-copy.js';
import { loadConfig } from '../../shared/config/load.js';

const ROOT = join(import.meta.dirname, '..', '..');

interface Resource {
  Type: string;
  Properties: Record<string, any>;
}

let packaged: PackagedCopy;
let workDir: string;
let resources: Record<string, Resource>;
let packageLog = '';

beforeAll(async () => {
  packaged = await packageCopy(ROOT);
  workDir = packaged.dir;
  packageLog = packaged.log;
  const template = JSON.parse(
    readFileSync(join(workDir, '.serverless', 'cloudformation-template-update-stack.json'), 'utf8'),
  );
  resources = template.Resources;
}, 420_000); // minified bundles of every function: minutes on a busy 2-core machine

afterAll(() => {
  packaged?.remove();
});

const functionFolders = readdirSync(join(ROOT, 'functions'), { withFileTypes: true })
  .filter((entry) => entry.isDirectory() && existsSync(join(ROOT, 'functions', entry.name, 'handler.ts')))
  .map((entry) => entry.name);
const stateMachines = readStateMachines(join(ROOT, 'statemachines'));

/** Issue 12: every function's zip (bundle and config) at most 300 KB. */
const ZIP_BUDGET_BYTES = 300_000;

function ofType(type: string): Array<[string, Resource]> {
  return Object.entries(resources).filter(([, resource]) => resource.Type === type);
}

interface Statement {
  Action: string | string[];
  Resource: unknown;
  Condition?: Record<string, Record<string, unknown>>;
}

/** Every IAM statement of a role's inline policies. */
function statementsOf(role: Resource): Statement[] {
  return (role.Properties.Policies ?? []).flatMap(
    (policy: { PolicyDocument: { Statement: Statement[] } }) => policy.PolicyDocument.Statement,
  );
}

/** A CloudFormation value as text: Fn::Join parts joined, {Ref}/{GetAtt} as ${...}. */
function text(value: unknown): string {
  if (typeof value === 'string') return value;
  const v = value as Record<string, any>;
  if (v.Ref) return `\${${v.Ref}}`;
  if (v['Fn::GetAtt']) return `\${${[v['Fn::GetAtt']].flat().join('.')}}`;
  if (v['Fn::Join']) return (v['Fn::Join'][1] as unknown[]).map(text).join(v['Fn::Join'][0]);
  if (v['Fn::Sub']) return text([v['Fn::Sub']].flat()[0]);
  return JSON.stringify(value);
}

/** Every statement of every function role and state machine role, with the role's logical id. */
function allStatements(): Array<{
  roleId: string;
  statement: Statement;
  actions: string[];
  resources: string[];
}> {
  return ofType('AWS::IAM::Role').flatMap(([roleId, role]) =>
    statementsOf(role).map((statement) => ({
      roleId,
      statement,
      actions: [statement.Action].flat(),
      resources: [statement.Resource].flat().map(text),
    })),
  );
}

/**
 * Actions the Service Authorization Reference lists without resource types: the only ones that
 * may (and must) use `Resource: '*'`. A specific ARN with these never matches the request.
 */
const NO_RESOURCE_TYPES = new Set([
  'fsx:DescribeFileSystems',
  'fsx:DescribeDataRepositoryAssociations',
  'fsx:DescribeDataRepositoryTasks',
  'ec2:DescribeInstances',
  'ssm:DescribeInstanceInformation',
  'ssm:ListCommands',
  'ssm:GetCommandInvocation',
  'ssm:CancelCommand',
  'states:SendTaskSuccess',
  'states:SendTaskFailure',
  'states:SendTaskHeartbeat',
  // CloudWatch Logs vended delivery (serverless-step-functions' loggingConfig) and the SSM agent's lookup.
  'logs:CreateLogDelivery',
  'logs:GetLogDelivery',
  'logs:UpdateLogDelivery',
  'logs:DeleteLogDelivery',
  'logs:ListLogDeliveries',
  'logs:PutResourcePolicy',
  'logs:DescribeResourcePolicies',
  'logs:DescribeLogGroups',
  // The transfer instance's SSM agent: Run Command delivery (MGS, and MDS as its fallback).
  'ssmmessages:CreateControlChannel',
  'ssmmessages:OpenControlChannel',
  'ec2messages:AcknowledgeMessage',
  'ec2messages:DeleteMessage',
  'ec2messages:FailMessage',
  'ec2messages:GetEndpoint',
  'ec2messages:GetMessages',
  'ec2messages:SendReply',
]);

describe('npm run package', () => {
  it('reports the functions and state machines it packaged', () => {
    expect(packageLog).toContain('Template: .serverless/cloudformation-template-update-stack.json');
  });

  it.each(functionFolders)('packages functions/%s as a nodejs22.x Lambda bundled with the config', (key) => {
    const fn = resources[lambdaLogicalId(key)];

    expect(fn?.Type).toBe('AWS::Lambda::Function');
    expect(fn!.Properties.Runtime).toBe('nodejs22.x');
    expect(fn!.Properties.FunctionName).toBe(`fsx-transfer-dev-${key}`);
    const configFile = fn!.Properties.Environment.Variables.FSX_TRANSFER_CONFIG;
    const zip = readFileSync(join(workDir, '.serverless', `${key}.zip`));
    expect(zip.includes(Buffer.from(configFile))).toBe(true);
    expect(zip.includes(Buffer.from(`functions/${key}/handler.mjs`))).toBe(true);
  });

  it.each(functionFolders)(
    'packages functions/%s in a zip of at most 300 KB: a minified bundle, no source map inside',
    (key) => {
      const zip = readFileSync(join(workDir, '.serverless', `${key}.zip`));
      const entries = zipEntries(zip);
      const bundle = entries.get(`functions/${key}/handler.mjs`)!.toString('utf8');

      expect(zip.length).toBeLessThanOrEqual(ZIP_BUDGET_BYTES);
      expect([...entries.keys()].filter((name) => name.endsWith('.map'))).toEqual([]);
      expect(bundle).not.toContain('sourceMappingURL');
      // Minified: long lines (kilobytes each; only template literals keep their line breaks),
      // not one short line per statement.
      expect(bundle.length / bundle.split('\n').length).toBeGreaterThan(1000);
    },
  );

  it.each(functionFolders)(
    'keeps the source map of functions/%s, with its sources, outside the zip',
    (key) => {
      const map = JSON.parse(
        readFileSync(join(workDir, '.serverless', 'sourcemaps', 'functions', key, 'handler.mjs.map'), 'utf8'),
      );

      const handler = (map.sources as string[]).findIndex((source) =>
        source.endsWith(`functions/${key}/handler.ts`),
      );
      expect(handler).toBeGreaterThanOrEqual(0);
      expect(map.sourcesContent[handler]).toContain('export const handler');
    },
  );

  it.each(functionFolders)('gives functions/%s its own role without wildcard actions', (key) => {
    const fn = resources[lambdaLogicalId(key)]!;
    const roleId = fn.Properties.Role['Fn::GetAtt'][0] as string;
    const role = resources[roleId]!;

    expect(roleId).not.toBe('IamRoleLambdaExecution');
    expect(role.Type).toBe('AWS::IAM::Role');
    const actions = statementsOf(role).flatMap((s) => [s.Action].flat());
    expect(actions.filter((action) => action.includes('*'))).toEqual([]);
  });

  it('writes every IAM Resource as a string or a list of strings and intrinsics (no nested lists)', () => {
    const roles = ofType('AWS::IAM::Role');
    const nested = roles.flatMap(([roleId, role]) =>
      statementsOf(role)
        .filter((s) => Array.isArray(s.Resource) && s.Resource.some((r) => Array.isArray(r)))
        .map((s) => `${roleId}: ${[s.Action].flat().join(',')}`),
    );

    expect(nested).toEqual([]);
  });

  it('creates no shared Lambda role', () => {
    expect(resources.IamRoleLambdaExecution).toBeUndefined();
  });

  it.each(Object.keys(stateMachines))(
    'packages statemachines/%s.asl.json with a definition that passes asl-validator',
    (name) => {
      const [, machine] = ofType('AWS::StepFunctions::StateMachine').find(
        ([, resource]) => resource.Properties.StateMachineName === `fsx-transfer-dev-${name}`,
      )!;
      const definitionString = machine.Properties.DefinitionString;
      const [text, params] = (
        typeof definitionString === 'string' ? [definitionString, {}] : [definitionString['Fn::Sub']].flat()
      ) as [string, Record<string, unknown>];
      const definition = JSON.parse(
        text.replace(/\$\{([A-Za-z0-9:]+)\}/g, (_, param: string) =>
          param in (params ?? {})
            ? `arn:aws:lambda:us-east-1:000000000000:function:${param}`
            : `dummy-${param}`,
        ),
      );

      const result = aslValidator(definition);

      expect(result.errors).toEqual([]);
      expect(definition.QueryLanguage).toBe('JSONPath');
      expect(Object.keys(definition.States).sort()).toEqual(
        Object.keys(stateMachines[name]!.States as object).sort(),
      );
    },
  );

  it('uses Resource * exactly for the actions without resource types, and a wildcard action nowhere', () => {
    const wrong = allStatements().flatMap(({ roleId, actions, resources }) => {
      const star = resources.includes('*');
      return actions
        .filter((action) => action.includes('*') || star !== NO_RESOURCE_TYPES.has(action))
        .map((action) => `${roleId}: ${action} on ${resources.join(', ')}`);
    });

    expect(wrong).toEqual([]);
  });

  it('lets only launch-instance pass a role: the transfer instance role, to EC2 only', () => {
    const passRole = allStatements().filter(({ actions }) =>
      actions.some((a) => a === 'iam:PassRole' || a.startsWith('iam:Pass')),
    );

    expect(passRole.map(({ roleId }) => roleId)).toEqual(['LaunchDashinstanceIamRoleLambdaExecution']);
    expect(passRole[0]!.resources).toEqual(['${TransferInstanceRole.Arn}']);
    expect(passRole[0]!.statement.Condition).toEqual({
      StringEquals: { 'iam:PassedToService': 'ec2.amazonaws.com' },
    });
  });

  it('launches only stage-tagged IMDSv2 instances with the transfer instance profile, in the configured network', () => {
    const run = allStatements().filter(({ actions }) => actions.includes('ec2:RunInstances'));
    const on = (type: string) =>
      run.filter(({ resources }) => resources.some((r) => r.includes(`:${type}/`)));

    expect(new Set(run.map(({ roleId }) => roleId))).toEqual(
      new Set(['LaunchDashinstanceIamRoleLambdaExecution']),
    );
    expect(on('instance')[0]!.statement.Condition).toEqual({
      StringEquals: { 'aws:RequestTag/fsx-transfer:stage': 'dev', 'ec2:MetadataHttpTokens': 'required' },
      ArnEquals: { 'ec2:InstanceProfile': { 'Fn::GetAtt': ['TransferInstanceProfile', 'Arn'] } },
    });
    expect(on('volume')[0]!.statement.Condition).toMatchObject({ Bool: { 'ec2:Encrypted': 'true' } });
    expect(on('network-interface')[0]!.statement.Condition).toEqual({
      Bool: { 'ec2:AssociatePublicIpAddress': 'false' },
    });
    expect(on('subnet').flatMap(({ resources }) => resources)).toEqual([
      'arn:${AWS::Partition}:ec2:us-east-1:${AWS::AccountId}:subnet/subnet-00000000000000001',
    ]);
    expect(on('security-group').flatMap(({ resources }) => resources)).toEqual([
      'arn:${AWS::Partition}:ec2:us-east-1:${AWS::AccountId}:security-group/sg-00000000000000001',
    ]);
    expect(on('image')[0]!.statement.Condition).toEqual({ StringEquals: { 'ec2:Owner': 'amazon' } });
    expect(run.every(({ resources }) => resources.every((r) => r !== '*'))).toBe(true);
  });

  it('terminates only instances tagged for this stage', () => {
    const terminate = allStatements().filter(({ actions }) => actions.includes('ec2:TerminateInstances'));

    expect(terminate.length).toBeGreaterThan(0);
    for (const { statement, resources } of terminate) {
      expect(resources).toEqual(['arn:${AWS::Partition}:ec2:${AWS::Region}:${AWS::AccountId}:instance/*']);
      expect(statement.Condition).toEqual({ StringEquals: { 'aws:ResourceTag/fsx-transfer:stage': 'dev' } });
    }
  });

  it('sends commands only with the project document or AWS-RunShellScript, to stage-tagged or configured instances', () => {
    const send = allStatements().filter(({ actions }) => actions.includes('ssm:SendCommand'));
    const documents = new Set(
      send.flatMap(({ resources }) => resources.filter((r) => r.includes(':document/'))),
    );

    expect(documents).toEqual(
      new Set([
        'arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:document/fsx-transfer-dev-transfer',
        'arn:${AWS::Partition}:ssm:us-east-1::document/AWS-RunShellScript',
      ]),
    );
    for (const { statement, resources } of send) {
      for (const instance of resources.filter((r) => r.includes(':instance/'))) {
        if (instance.endsWith('/*')) {
          expect(statement.Condition).toEqual({
            StringEquals: { 'ssm:resourceTag/fsx-transfer:stage': 'dev' },
          });
        } else {
          expect(instance).toBe(
            'arn:${AWS::Partition}:ec2:us-east-1:${AWS::AccountId}:instance/i-0000000000000c1e0',
          );
        }
      }
    }
  });

  it('scopes FSx writes to the configured file systems, their associations and tasks', () => {
    const writes = allStatements().filter(({ actions }) =>
      actions.some((a) => a.startsWith('fsx:') && !NO_RESOURCE_TYPES.has(a)),
    );
    const resources = new Set(writes.flatMap((s) => s.resources));

    expect(resources).toEqual(
      new Set([
        'arn:${AWS::Partition}:fsx:us-east-1:${AWS::AccountId}:file-system/fs-00000000000000001',
        'arn:${AWS::Partition}:fsx:us-east-1:${AWS::AccountId}:association/fs-00000000000000001/*',
        'arn:${AWS::Partition}:fsx:us-east-1:${AWS::AccountId}:task/*',
      ]),
    );
  });

  it('grants the DRA dependencies on the FSx S3 service-linked role only, and no S3 writes to ensure-association', () => {
    const iam = allStatements().filter(({ actions }) =>
      actions.some((a) => a.startsWith('iam:') && a !== 'iam:PassRole'),
    );
    const slr =
      'arn:${AWS::Partition}:iam::${AWS::AccountId}:role/aws-service-role/s3.data-source.lustre.fsx.amazonaws.com/AWSServiceRoleForFSxS3Access_fs-00000000000000001';

    expect(new Set(iam.map(({ roleId }) => roleId))).toEqual(
      new Set(['EnsureDashassociationIamRoleLambdaExecution']),
    );
    expect(new Set(iam.flatMap(({ actions }) => actions))).toEqual(
      new Set(['iam:CreateServiceLinkedRole', 'iam:AttachRolePolicy', 'iam:PutRolePolicy']),
    );
    for (const { actions, resources, statement } of iam) {
      expect(resources).toEqual([slr]);
      if (actions.includes('iam:CreateServiceLinkedRole')) {
        expect(statement.Condition).toEqual({
          StringEquals: { 'iam:AWSServiceName': 's3.data-source.lustre.fsx.amazonaws.com' },
        });
      }
    }
    const ensure = allStatements().filter(
      ({ roleId }) => roleId === 'EnsureDashassociationIamRoleLambdaExecution',
    );
    expect(ensure.flatMap(({ actions }) => actions).filter((a) => a.startsWith('s3:'))).toEqual([]);
  });

  it('scopes S3 to the mapped bucket and its prefixes, and lets no function change bucket configuration', () => {
    const s3 = allStatements().filter(({ actions }) => actions.some((a) => a.startsWith('s3:')));
    const mapped =
      /^arn:\$\{AWS::Partition\}:s3:::demo(\/(ExtData|blended-tropomi|blended-boundary-conditions|output|\.fsx-transfer)\/.*)?$/;

    expect(s3.flatMap(({ resources }) => resources).filter((r) => !mapped.test(r))).toEqual([]);
    expect(
      s3
        .flatMap(({ actions }) => actions)
        .filter((a) => /^s3:(PutBucket|DeleteBucket|PutEncryption)/.test(a)),
    ).toEqual([]);
  });

  it('reads completion reports, not the transferred data, in wait-for-data-repository-task', () => {
    const reads = allStatements().filter(
      ({ roleId, actions }) =>
        roleId === 'WaitDashforDashdataDashrepositoryDashtaskIamRoleLambdaExecution' &&
        actions.includes('s3:GetObject'),
    );

    const resources = reads.flatMap(({ resources }) => resources);
    expect(resources.length).toBeGreaterThan(0);
    expect(resources.filter((r) => !r.endsWith('/fsx-transfer-reports/*'))).toEqual([]);
  });

  it('attaches no managed policy to any role (the transfer instance has the agent actions it needs instead)', () => {
    const managed = ofType('AWS::IAM::Role').filter(
      ([, role]) => (role.Properties.ManagedPolicyArns ?? []).length > 0,
    );

    expect(managed.map(([roleId]) => roleId)).toEqual([]);
  });

  it('gives the transfer instance no SSM parameter and no DynamoDB access (task tokens stay out of its reach)', () => {
    const actions = statementsOf(resources.TransferInstanceRole!).flatMap((s) => [s.Action].flat());

    expect(actions.filter((action) => /^ssm:(Get|Put|Delete)Parameter|^dynamodb:/.test(action))).toEqual([]);
    expect(actions).toContain('ssm:UpdateInstanceInformation');
  });

  it('has, role by role and statement by statement, the roles the local cloud enforces (local/iam/roles.ts)', () => {
    const config = loadConfig(join(ROOT, 'fsx-transfer.config.yaml'));
    const project = loadServerlessProject({
      rootDir: ROOT,
      stage: 'dev',
      region: config.region,
      files: {
        'scripts/sls/config.cjs': deploymentValues(config, 'fsx-transfer.config.yaml'),
        'scripts/sls/state-machines.cjs': stateMachineResolverValues(stateMachines),
      },
    });
    const local = projectRoles(project, stateMachines);
    const normalized = (statement: Record<string, unknown>) =>
      JSON.stringify({
        Effect: statement.Effect,
        Action: [statement.Action].flat().sort(),
        Resource: [statement.Resource]
          .flat(Number.POSITIVE_INFINITY)
          .map((value) => evaluateCfn(project, value))
          .sort(),
        Condition: evaluateCfnDeep(project, statement.Condition),
      });
    const packaged = Object.fromEntries(
      ofType('AWS::IAM::Role').map(([roleId, role]) => [
        roleId,
        {
          name: evaluateCfn(project, role.Properties.RoleName),
          statements: statementsOf(role)
            .map((s) => normalized(s as never))
            .sort(),
        },
      ]),
    );
    const enforced = Object.fromEntries(
      local.roles.map((role) => [
        role.logicalId,
        {
          name:
            role.logicalId.endsWith('IamRoleLambdaExecution') || role.logicalId === 'TransferInstanceRole'
              ? role.name
              : undefined,
          statements: role.statements.map((s) => normalized(s.statement as never)).sort(),
        },
      ]),
    );

    expect(enforced).toEqual(packaged);
  });

  it('gives every state machine a role with explicit statements and no wildcard actions', () => {
    const machines = ofType('AWS::StepFunctions::StateMachine');

    expect(machines.length).toBe(Object.keys(stateMachines).length);
    for (const [, machine] of machines) {
      const role = resources[machine.Properties.RoleArn['Fn::GetAtt'][0]]!;
      const statements = statementsOf(role);
      expect(statements.length).toBeGreaterThan(0);
      expect(statements.flatMap((s) => [s.Action].flat()).filter((a) => a.includes('*'))).toEqual([]);
    }
  });
});

describe('npm run package: the triggers', () => {
  const resource = (id: string) => {
    const found = resources[id];
    if (!found) throw new Error(`no resource ${id} in the template`);
    return found;
  };
  const roleOf = (functionKey: string) =>
    resource(`${lambdaLogicalId(functionKey).replace('LambdaFunction', '')}IamRoleLambdaExecution`);
  const actionsOn = (functionKey: string) =>
    statementsOf(roleOf(functionKey)).flatMap((s) =>
      [s.Action].flat().map((action) => `${action} ${[s.Resource].flat().map(text).join(',')}`),
    );

  it('has the transfers table: on demand, encrypted, with point-in-time recovery and TTL', () => {
    const table = resource('TransfersTable').Properties;

    expect(table.BillingMode).toBe('PAY_PER_REQUEST');
    expect(table.SSESpecification).toEqual({ SSEEnabled: true });
    expect(table.PointInTimeRecoverySpecification).toEqual({ PointInTimeRecoveryEnabled: true });
    expect(table.TimeToLiveSpecification).toEqual({ AttributeName: 'expiresAt', Enabled: true });
    expect(table.GlobalSecondaryIndexes.map((index: { IndexName: string }) => index.IndexName)).toEqual([
      'gsi1',
    ]);
  });

  it('has the S3 event queue (encrypted, redriven to an encrypted DLQ after 3 receives) fed only by the S3 rule', () => {
    const queue = resource('S3EventsQueue').Properties;
    const dlq = resource('S3EventsDeadLetterQueue').Properties;
    const policy = resource('S3EventsQueuePolicy').Properties.PolicyDocument.Statement;

    expect(queue.SqsManagedSseEnabled).toBe(true);
    expect(dlq.SqsManagedSseEnabled).toBe(true);
    expect(queue.RedrivePolicy).toEqual({
      deadLetterTargetArn: { 'Fn::GetAtt': ['S3EventsDeadLetterQueue', 'Arn'] },
      maxReceiveCount: 3,
    });
    expect(queue.VisibilityTimeout).toBeGreaterThanOrEqual(6 * 60);
    expect(policy).toEqual([
      expect.objectContaining({
        Principal: { Service: 'events.amazonaws.com' },
        Action: 'sqs:SendMessage',
        Condition: { ArnEquals: { 'aws:SourceArn': { 'Fn::GetAtt': ['S3EventsRule', 'Arn'] } } },
      }),
    ]);
  });

  it("has the S3 event rule on the demo config's autoStage prefix, targeting the queue", () => {
    const rule = resource('S3EventsRule').Properties;

    expect(rule.State).toBe('ENABLED');
    expect(rule.EventPattern).toEqual({
      source: ['aws.s3'],
      'detail-type': ['Object Created', 'Object Deleted'],
      detail: { bucket: { name: ['demo'] }, object: { key: [{ prefix: 'blended-tropomi/' }] } },
    });
    expect(rule.Targets).toEqual([
      { Id: 's3-events-queue', Arn: { 'Fn::GetAtt': ['S3EventsQueue', 'Arn'] } },
    ]);
  });

  it('feeds s3-event-trigger from the queue in batches with partial batch responses', () => {
    const [[, mapping]] = ofType('AWS::Lambda::EventSourceMapping') as [[string, Resource]];

    expect(mapping.Properties).toMatchObject({
      EventSourceArn: { 'Fn::GetAtt': ['S3EventsQueue', 'Arn'] },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      BatchSize: 100,
      MaximumBatchingWindowInSeconds: 5,
    });
    expect(actionsOn('s3-event-trigger')).toContain('sqs:ReceiveMessage ${S3EventsQueue.Arn}');
  });

  it('serves every API route with AWS_IAM authorization', () => {
    const routes = ofType('AWS::ApiGatewayV2::Route').map(([, route]) => route.Properties);

    expect(routes.map((route) => route.RouteKey).sort()).toEqual([
      'DELETE /transfers/{id}',
      'GET /transfers',
      'GET /transfers/{id}',
      'POST /transfers',
    ]);
    expect(routes.every((route) => route.AuthorizationType === 'AWS_IAM')).toBe(true);
  });

  it('starts the transfer state machine on the config schedules with a schedule-triggered request', () => {
    const schedules = ofType('AWS::Events::Rule').filter(([, rule]) =>
      rule.Properties.Targets?.some(
        (target: { Arn: unknown }) => text(target.Arn) === '${TransferStateMachine}',
      ),
    );

    expect(
      schedules.map(([, rule]) => [
        rule.Properties.ScheduleExpression,
        JSON.parse(rule.Properties.Targets[0].Input),
      ]),
    ).toEqual([['cron(30 3 * * ? *)', { mapping: 'output', direction: 'export', trigger: 'schedule' }]]);
  });

  it('gives each trigger function only the table and state machine actions it uses', () => {
    const table = '${TransfersTable.Arn}';
    const executions =
      'arn:${AWS::Partition}:states:${AWS::Region}:${AWS::AccountId}:execution:fsx-transfer-dev-transfer:*';
    const dynamo = (key: string) =>
      actionsOn(key)
        .filter((a) => a.startsWith('dynamodb:'))
        .sort();
    const states = (key: string) =>
      actionsOn(key)
        .filter((a) => a.startsWith('states:'))
        .sort();

    expect(dynamo('api-list-transfers')).toEqual([`dynamodb:Query ${table}/index/gsi1`]);
    expect(dynamo('api-get-transfer')).toEqual([`dynamodb:GetItem ${table}`]);
    expect(dynamo('check-uploads-quiet')).toEqual([`dynamodb:GetItem ${table}`]);
    expect(states('api-get-transfer')).toEqual([
      `states:DescribeExecution ${executions}`,
      `states:GetExecutionHistory ${executions}`,
    ]);
    expect(states('api-cancel-transfer')).toContain(`states:StopExecution ${executions}`);
    expect(states('s3-event-trigger')).toEqual(['states:StartExecution ${TransferStateMachine}']);
    expect(states('api-start-transfer')).toContain('states:StartExecution ${TransferStateMachine}');
    expect(states('wait-for-turn')).toEqual(['states:SendTaskSuccess *']);
    for (const key of [
      'wait-for-turn',
      'check-uploads-quiet',
      'finish-transfer',
      's3-event-trigger',
      'api-start-transfer',
      'api-get-transfer',
      'api-list-transfers',
      'api-cancel-transfer',
    ]) {
      expect(
        actionsOn(key).filter((a) => a.startsWith('dynamodb:') && !a.includes(table)),
        key,
      ).toEqual([]);
    }
  });

  it('lets GET /transfers/{id} read progress objects (listing the bucket: NoSuchKey, not AccessDenied) and task counts only, and finish-transfer the history', () => {
    const executions =
      'arn:${AWS::Partition}:states:${AWS::Region}:${AWS::AccountId}:execution:fsx-transfer-dev-transfer:*';
    const get = actionsOn('api-get-transfer').filter((a) => /^(s3|fsx):/.test(a));

    expect(get.sort()).toEqual([
      'fsx:DescribeDataRepositoryTasks *',
      's3:GetObject arn:${AWS::Partition}:s3:::demo/.fsx-transfer/progress/*',
      's3:ListBucket arn:${AWS::Partition}:s3:::demo',
    ]);
    expect(actionsOn('finish-transfer')).toContain(`states:GetExecutionHistory ${executions}`);
  });

  it('lets finish-transfer put only fsx-transfer events, on the default bus', () => {
    const put = statementsOf(roleOf('finish-transfer')).filter((s) =>
      [s.Action].flat().includes('events:PutEvents'),
    );

    expect(put).toHaveLength(1);
    expect(text(put[0]!.Resource)).toBe(
      'arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:event-bus/default',
    );
    expect(put[0]!.Condition).toEqual({ StringEquals: { 'events:source': 'fsx-transfer' } });
  });
});

describe('npm run package: reliability', () => {
  const resource = (id: string) => {
    const found = resources[id];
    if (!found) throw new Error(`no resource ${id} in the template`);
    return found;
  };

  it('alarms when S3 events reach the dead-letter queue, on the alarm topic', () => {
    const alarm = resource('S3EventsDeadLetterAlarm');

    expect(alarm.Type).toBe('AWS::CloudWatch::Alarm');
    expect(alarm.Properties).toMatchObject({
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': ['S3EventsDeadLetterQueue', 'QueueName'] } }],
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
      TreatMissingData: 'notBreaching',
      AlarmActions: [{ Ref: 'AlarmTopic' }],
    });
    expect(resource('AlarmTopic').Type).toBe('AWS::SNS::Topic');
  });

  it('has a dead-letter queue with an alarm for every queue that redrives', () => {
    const alarmed = ofType('AWS::CloudWatch::Alarm')
      .filter(([, alarm]) => alarm.Properties.Namespace === 'AWS/SQS')
      .map(([, alarm]) => text(alarm.Properties.Dimensions[0].Value));
    const deadLetterQueues = ofType('AWS::SQS::Queue')
      .map(([, queue]) => queue.Properties.RedrivePolicy?.deadLetterTargetArn)
      .filter(Boolean)
      .map((arn) => text(arn).replace('.Arn}', '.QueueName}'));

    expect(deadLetterQueues.length).toBeGreaterThan(0);
    expect(deadLetterQueues.filter((queue) => !alarmed.includes(queue))).toEqual([]);
  });

  it('alarms when a transfer run hits the execution timeout backstop', () => {
    expect(resource('TransferTimedOutAlarm').Properties).toMatchObject({
      Namespace: 'AWS/States',
      MetricName: 'ExecutionsTimedOut',
      Dimensions: [{ Name: 'StateMachineArn', Value: { Ref: 'TransferStateMachine' } }],
      AlarmActions: [{ Ref: 'AlarmTopic' }],
    });
  });

  it('packages every state machine with an execution TimeoutSeconds', () => {
    for (const [, machine] of ofType('AWS::StepFunctions::StateMachine')) {
      const definition = machine.Properties.DefinitionString;
      const body = typeof definition === 'string' ? definition : [definition['Fn::Sub']].flat()[0];
      expect(body).toMatch(/^\{[\s\S]*?"TimeoutSeconds": ?\d+/);
      expect(JSON.parse(String(body).replace(/\$\{[A-Za-z0-9:]+\}/g, 'x')).TimeoutSeconds).toBeGreaterThan(0);
    }
  });
});
