/**
 * The IAM roles of the project, derived from serverless.yml as packaging derives them, with local
 * values for every CloudFormation reference (`${self:custom.config.*}` is resolved by the caller's
 * `scripts/sls/config.cjs` value, `!Ref`/`!GetAtt`/`Fn::Join` by evaluateCfn):
 *
 * - one role per function (serverless-iam-roles-per-function): CloudWatch Logs for the function's
 *   log group (as scripts/sls/tidy-iam.cjs leaves it: the stack creates the group), the SQS
 *   statement for `sqs` events, then the function's `iamRoleStatements`;
 * - one role per state machine (serverless-step-functions): lambda:InvokeFunction on the functions
 *   its definition names (each ARN and `ARN:*`), the vended-logs delivery statement when it has a
 *   `loggingConfig`, then its `iamRoleStatements`;
 * - one role per state machine with `schedule` events, which EventBridge uses to start it;
 * - every `AWS::IAM::Role` of `resources` (inline policies; managed policies are not modelled and
 *   are refused), and the instance profiles that carry them.
 *
 * test/unit/packaging.test.ts compares these roles with the packaged template, so local
 * enforcement and the deployed policies cannot drift apart.
 */
import { invokedFunctions, lambdaLogicalId } from '../../scripts/sls/asl.js';
import {
  evaluateCfn,
  evaluateCfnDeep,
  normalizedResourceName,
  type ServerlessProject,
  stateMachineNameFor,
} from '../serverless-config.js';
import { type PolicyStatement, validateStatement } from './policy.js';

export interface RoleStatement {
  /** `<role logical id>#<index>`: stable across stages and regions. */
  id: string;
  index: number;
  statement: PolicyStatement;
  /** Where the statement comes from (serverless.yml path or the plugin that adds it). */
  origin: string;
}

export interface IamRole {
  /** CloudFormation logical id (`ValidateIamRoleLambdaExecution`, `TransferInstanceRole` ...). */
  logicalId: string;
  name: string;
  arn: string;
  /** Who uses it: `function:<key>`, `state-machine:<key>`, `schedules:<key>`, `ec2`. */
  usedBy: string;
  statements: RoleStatement[];
}

export interface ProjectRoles {
  roles: IamRole[];
  /** Function key -> role logical id. */
  functionRoles: Map<string, string>;
  /** State machine name -> role logical id. */
  stateMachineRoles: Map<string, string>;
  /** State machine ARN -> logical id of the role its schedules start it with. */
  scheduleRoles: Map<string, string>;
  /** Instance profile name -> role logical id. */
  instanceProfiles: Map<string, string>;
}

/** The longest role name IAM accepts. */
const MAX_ROLE_NAME = 64;
/** A Resource that could not be evaluated locally: matches nothing. */
export const UNRESOLVED_RESOURCE = 'arn:unresolved:local:::';

const LAMBDA_LOGS_ACTIONS = ['logs:CreateLogStream', 'logs:PutLogEvents'];
const SQS_EVENT_SOURCE_ACTIONS = ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes'];
const VENDED_LOGS_ACTIONS = [
  'logs:CreateLogDelivery',
  'logs:GetLogDelivery',
  'logs:UpdateLogDelivery',
  'logs:DeleteLogDelivery',
  'logs:ListLogDeliveries',
  'logs:PutResourcePolicy',
  'logs:DescribeResourcePolicies',
  'logs:DescribeLogGroups',
];

function roleArn(project: ServerlessProject, name: string): string {
  return `arn:aws:iam::${project.accountId}:role/${name}`;
}

/** serverless-iam-roles-per-function's name: `<service>-<stage>-<fn>-<region>-lambdaRole`, shortened as it does. */
export function functionRoleName(project: ServerlessProject, key: string): string {
  const parts = [project.service, project.stage, key, project.region, 'lambdaRole'];
  if (parts.join('-').length > MAX_ROLE_NAME) parts.pop();
  const name = parts.join('-');
  if (name.length > MAX_ROLE_NAME) throw new Error(`the role name of function ${key} is over 64 characters`);
  return name;
}

/** A statement as written (Resource lists flattened as tidy-iam.cjs does), values evaluated locally. */
function localStatement(project: ServerlessProject, raw: unknown, where: string): PolicyStatement {
  const statement = { ...(raw as Record<string, unknown>) };
  for (const field of ['Resource', 'NotResource'] as const) {
    // Present but undefined: a value only a config can give (`${self:custom.config.iam.*}`) and none was given.
    if (!Object.hasOwn(statement, field)) continue;
    const values = [statement[field]].flat(Number.POSITIVE_INFINITY);
    statement[field] = values.map((value) => evaluateCfn(project, value) ?? UNRESOLVED_RESOURCE);
  }
  if (statement.Condition) statement.Condition = evaluateCfnDeep(project, statement.Condition);
  try {
    validateStatement(statement as unknown as PolicyStatement);
  } catch (error) {
    throw new Error(`${where}: ${(error as Error).message}`);
  }
  return statement as unknown as PolicyStatement;
}

function build(
  logicalId: string,
  name: string,
  usedBy: string,
  project: ServerlessProject,
  statements: { statement: PolicyStatement; origin: string }[],
): IamRole {
  return {
    logicalId,
    name,
    arn: roleArn(project, name),
    usedBy,
    statements: statements.map((entry, index) => ({ id: `${logicalId}#${index}`, index, ...entry })),
  };
}

function functionRoles(project: ServerlessProject, result: ProjectRoles): void {
  const functions = (project.raw.functions ?? {}) as Record<string, Record<string, unknown> | undefined>;
  for (const fn of project.functions.values()) {
    const raw = functions[fn.key] ?? {};
    const logicalId = `${normalizedResourceName(fn.key)}IamRoleLambdaExecution`;
    const statements: { statement: PolicyStatement; origin: string }[] = [
      {
        statement: {
          Effect: 'Allow',
          Action: LAMBDA_LOGS_ACTIONS,
          Resource: [
            `arn:aws:logs:${project.region}:${project.accountId}:log-group:/aws/lambda/${fn.name}:*:*`,
          ],
        },
        origin:
          'serverless-iam-roles-per-function: the function log group (the Lambda service writes with the role)',
      },
    ];
    const queues = fn.events
      .map((event) => event.sqs)
      .filter(Boolean)
      .map((sqs) => evaluateCfn(project, (sqs as Record<string, unknown>).arn ?? sqs) ?? UNRESOLVED_RESOURCE);
    if (queues.length > 0) {
      statements.push({
        statement: { Effect: 'Allow', Action: SQS_EVENT_SOURCE_ACTIONS, Resource: queues },
        origin:
          'serverless-iam-roles-per-function: the sqs event source (the event source mapping polls with the role)',
      });
    }
    const own = Array.isArray(raw.iamRoleStatements) ? raw.iamRoleStatements : [];
    own.forEach((statement, index) => {
      const where = `functions.${fn.key}.iamRoleStatements[${index}]`;
      statements.push({ statement: localStatement(project, statement, where), origin: where });
    });
    result.roles.push(
      build(logicalId, functionRoleName(project, fn.key), `function:${fn.key}`, project, statements),
    );
    result.functionRoles.set(fn.key, logicalId);
  }
}

/** Whether a definition has a Map state run in DISTRIBUTED mode (at any depth). */
function hasDistributedMap(machine: unknown): boolean {
  const states = (machine as { States?: Record<string, Record<string, unknown>> }).States ?? {};
  return Object.values(states).some((state) => {
    const processor = state.ItemProcessor as { ProcessorConfig?: { Mode?: string } } | undefined;
    if (state.Type === 'Map' && processor?.ProcessorConfig?.Mode === 'DISTRIBUTED') return true;
    const nested = [processor, state.Iterator, ...((state.Branches as unknown[]) ?? [])].filter(Boolean);
    return nested.some(hasDistributedMap);
  });
}

function stateMachineRoles(
  project: ServerlessProject,
  definitions: Record<string, unknown>,
  result: ProjectRoles,
): void {
  const machines = ((project.raw.stepFunctions as Record<string, unknown> | undefined)?.stateMachines ??
    {}) as Record<string, Record<string, unknown>>;
  for (const machine of project.stateMachines) {
    const raw = machines[machine.key] ?? {};
    const name = stateMachineNameFor(project, machine.key);
    const logicalId = `${machine.logicalId}Role`;
    const statements: { statement: PolicyStatement; origin: string }[] = [];
    const functionArns = invokedFunctions(definitions[machine.key] ?? {}).flatMap((key) => {
      const arn =
        evaluateCfn(project, { 'Fn::GetAtt': [lambdaLogicalId(key), 'Arn'] }) ?? UNRESOLVED_RESOURCE;
      return [arn, `${arn}:*`];
    });
    if (functionArns.length > 0) {
      statements.push({
        statement: {
          Effect: 'Allow',
          Action: ['lambda:InvokeFunction'],
          Resource: [...new Set(functionArns)],
        },
        origin: `serverless-step-functions: the Lambda tasks of statemachines/${machine.key}.asl.json`,
      });
    }
    if (hasDistributedMap(definitions[machine.key] ?? {})) {
      // What serverless-step-functions adds for a Distributed Map (its child executions).
      const sub = (arn: string) => evaluateCfn(project, { 'Fn::Sub': [arn, {}] }) ?? UNRESOLVED_RESOURCE;
      const machineArn = sub(
        `arn:\${AWS::Partition}:states:\${AWS::Region}:\${AWS::AccountId}:stateMachine:${name}`,
      );
      const origin = `serverless-step-functions: the Distributed Map of statemachines/${machine.key}.asl.json`;
      for (const [Action, Resource] of [
        [['states:StartExecution'], machineArn],
        [
          ['states:DescribeExecution', 'states:StopExecution'],
          `${machineArn.replace(':stateMachine:', ':execution:')}:*`,
        ],
        [
          ['events:PutTargets', 'events:PutRule', 'events:DescribeRule'],
          sub(
            // biome-ignore lint/suspicious/noTemplateCurlyInString: a CloudFormation Fn::Sub string
            'arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:rule/StepFunctionsGetEventsForStepFunctionsExecutionRule',
          ),
        ],
      ] as const) {
        statements.push({
          statement: { Effect: 'Allow', Action: [...Action], Resource: [Resource] },
          origin,
        });
      }
    }
    if (raw.loggingConfig) {
      statements.push({
        statement: { Effect: 'Allow', Action: VENDED_LOGS_ACTIONS, Resource: '*' },
        origin: `serverless-step-functions: loggingConfig of ${machine.key} (CloudWatch Logs vended delivery)`,
      });
    }
    const own = Array.isArray(raw.iamRoleStatements) ? raw.iamRoleStatements : [];
    own.forEach((statement, index) => {
      const where = `stepFunctions.stateMachines.${machine.key}.iamRoleStatements[${index}]`;
      statements.push({ statement: localStatement(project, statement, where), origin: where });
    });
    result.roles.push(
      build(
        logicalId,
        `${project.service}-${project.stage}-${logicalId}`,
        `state-machine:${machine.key}`,
        project,
        statements,
      ),
    );
    result.stateMachineRoles.set(name, logicalId);

    if (machine.events.some((event) => event.schedule)) {
      const scheduleId = `${normalizedResourceName(machine.key)}ScheduleToStepFunctionsRole`;
      const machineArn = evaluateCfn(project, { Ref: machine.logicalId }) ?? UNRESOLVED_RESOURCE;
      result.roles.push(
        build(
          scheduleId,
          `${project.service}-${project.stage}-${scheduleId}`,
          `schedules:${machine.key}`,
          project,
          [
            {
              statement: { Effect: 'Allow', Action: ['states:StartExecution'], Resource: machineArn },
              origin: `serverless-step-functions: the schedule events of ${machine.key}`,
            },
          ],
        ),
      );
      result.scheduleRoles.set(machineArn, scheduleId);
    }
  }
}

function resourceRoles(project: ServerlessProject, result: ProjectRoles): void {
  for (const [logicalId, resource] of Object.entries(project.resources)) {
    if (resource.Type === 'AWS::IAM::Role') {
      const props = resource.Properties ?? {};
      const managed = [props.ManagedPolicyArns ?? []].flat();
      if (managed.length > 0) {
        throw new Error(
          `resources.${logicalId}: managed policies are not modelled by the local cloud (${JSON.stringify(managed)}); write their statements inline`,
        );
      }
      const statements: { statement: PolicyStatement; origin: string }[] = [];
      for (const [p, policy] of ((props.Policies ?? []) as Record<string, any>[]).entries()) {
        for (const [s, statement] of [policy.PolicyDocument?.Statement ?? []].flat().entries()) {
          const where = `resources.${logicalId}.Policies[${p}].Statement[${s}]`;
          statements.push({ statement: localStatement(project, statement, where), origin: where });
        }
      }
      const name = evaluateCfn(project, props.RoleName) ?? `${project.service}-${project.stage}-${logicalId}`;
      result.roles.push(build(logicalId, name, 'ec2', project, statements));
    }
  }
  for (const resource of Object.values(project.resources)) {
    if (resource.Type !== 'AWS::IAM::InstanceProfile') continue;
    const props = resource.Properties ?? {};
    const name = evaluateCfn(project, props.InstanceProfileName);
    const role = [props.Roles ?? []].flat()[0] as { Ref?: string } | undefined;
    if (name && role?.Ref) result.instanceProfiles.set(name, role.Ref);
  }
}

/**
 * Every role of the project.
 * @param definitions the state machine definitions by key (statemachines/<key>.asl.json), whose
 *   Lambda tasks give the derived lambda:InvokeFunction statement.
 * @throws Error naming the serverless.yml path of a statement the local evaluator cannot judge.
 */
export function projectRoles(project: ServerlessProject, definitions: Record<string, unknown>): ProjectRoles {
  const result: ProjectRoles = {
    roles: [],
    functionRoles: new Map(),
    stateMachineRoles: new Map(),
    scheduleRoles: new Map(),
    instanceProfiles: new Map(),
  };
  functionRoles(project, result);
  stateMachineRoles(project, definitions, result);
  resourceRoles(project, result);
  return result;
}

/**
 * The value serverless.yml reads from `${file(./scripts/sls/state-machines.cjs)}` that roles need:
 * `<key>.invokedFunctionArns` (Fn::GetAtt of each function the definition names), as the resolver
 * computes it for packaging.
 */
export function stateMachineResolverValues(
  definitions: Record<string, unknown>,
): Record<string, { invokedFunctionArns: unknown[] }> {
  return Object.fromEntries(
    Object.entries(definitions).map(([key, definition]) => [
      key,
      {
        invokedFunctionArns: invokedFunctions(definition).map((fn) => ({
          'Fn::GetAtt': [lambdaLogicalId(fn), 'Arn'],
        })),
      },
    ]),
  );
}
