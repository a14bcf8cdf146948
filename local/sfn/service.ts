/**
 * Step Functions emulator (JSON 1.0, `X-Amz-Target: AWSStepFunctions.<Operation>`): state machines
 * (loaded from `statemachines/*.asl.json` at start, or created through the API), executions run by
 * aws-local-stepfunctions (see execution.ts), task tokens, and EventBridge status change events.
 *
 * File-loaded state machines are named like the deployed ones (serverless.yml's `name:`, else
 * `fsx-transfer-<stage>-<file name>`), read as packaging reads them (scripts/sls/asl.ts
 * `readStateMachine`: shared Retry blocks expanded), and their other `${...}` placeholders are
 * replaced as packaging replaces them: `${<Pascal>FunctionArn}` -> the local function's ARN, any
 * other `${Name}` -> `substitutions[Name]`, else serverless.yml's `custom.aslSubstitutions.Name`
 * evaluated locally. A placeholder with no value is an error at start.
 *
 * Operations: CreateStateMachine, DescribeStateMachine, ListStateMachines, DeleteStateMachine,
 * StartExecution, DescribeExecution, GetExecutionHistory, ListExecutions, StopExecution,
 * SendTaskSuccess, SendTaskFailure, SendTaskHeartbeat. Executions live in memory (not in the data dir).
 */
import { randomUUID } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { functionKeyOf, readStateMachine, substitute } from '../../scripts/sls/asl.js';
import type { FaultInjector } from '../faults.js';
import { dispatch, type OperationTable, unknownOperation } from '../kit/dispatch.js';
import { pageOf, pageTokens, type TokenScope } from '../kit/next-token.js';
import type { LambdaRegistry } from '../lambda.js';
import { evaluateCfn, stateMachineNameFor } from '../serverless-config.js';
import {
  type Clock,
  type JsonService,
  LocalAwsError,
  type LocalEvent,
  type RequestContext,
} from '../types.js';
import { DefinitionError, type PreparedDefinition, prepareDefinition } from './definition.js';
import { Execution, type ExecutionIam, type ExecutionRuntime } from './execution.js';
import type { HistoryEvent } from './history.js';
import { SdkIntegration, sdkPackageInstalled } from './sdk-integration.js';
import { TaskTokens } from './tokens.js';

export interface StepFunctionsEmulatorDeps {
  clock: Clock;
  accountId: string;
  region: string;
  emit: (e: LocalEvent) => void;
  lambdas: LambdaRegistry;
  stateMachinesDir: string;
  /** Local values of the `${Name}` placeholders (besides `${<Pascal>FunctionArn}`). */
  substitutions: Record<string, string>;
  /** Stage in state machine names (default: the Lambda registry's, `local`). */
  stage?: string;
  /** The local cloud's endpoint for aws-sdk tasks (default: AWS_ENDPOINT_URL at call time; see setEndpoint). */
  endpoint?: string;
  /** What each state machine's role may do (local/iam); everything when absent. */
  iam?: ExecutionIam & { roleArn(stateMachineName: string): string | undefined };
  /** Behavioural faults: `execution-timeout` (match `name`, `stateMachineArn`, `stateMachineName`). */
  faults?: Pick<FaultInjector, 'behavior'>;
}

interface StateMachineRecord {
  arn: string;
  name: string;
  definitionText: string;
  prepared: PreparedDefinition;
  roleArn: string;
  type: 'STANDARD' | 'EXPRESS';
  creationDate: Date;
  /** The file it was loaded from, if any. */
  file?: string;
  executions: Execution[];
}

const NAME_FORBIDDEN = /[\s<>{}[\]?*"#%\\^|~`$&,;:/]/;

/** Control characters (U+0000-001F, U+007F-009F), which names must not contain. */
function hasControlCharacter(name: string): boolean {
  for (const ch of name) {
    const code = ch.codePointAt(0)!;
    if (code <= 0x1f || (code >= 0x7f && code <= 0x9f)) return true;
  }
  return false;
}
const ARN_PREFIX = /^arn:aws[\w-]*:states:([\w-]+):(\d{12}):/;
const MAX_INPUT_BYTES = 256 * 1024;

function requireString(input: Record<string, unknown>, field: string): string {
  const value = input[field];
  if (typeof value !== 'string' || value.length === 0) {
    throw new LocalAwsError(
      'ValidationException',
      `1 validation error detected: Value null at '${field}' failed to satisfy constraint: Member must not be null`,
    );
  }
  return value;
}

function validName(name: string): boolean {
  return name.length >= 1 && name.length <= 80 && !NAME_FORBIDDEN.test(name) && !hasControlCharacter(name);
}

function pageSize(input: Record<string, unknown>): number {
  const value = input.maxResults;
  if (value === undefined || value === null || value === 0) return 100;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 1000) {
    throw new LocalAwsError(
      'ValidationException',
      `1 validation error detected: Value '${String(value)}' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 1000`,
    );
  }
  return value;
}

/** Page tokens of ListStateMachines, ListExecutions and GetExecutionHistory (the kit's codec). */
const nextTokens = pageTokens((token) => new LocalAwsError('InvalidToken', `Invalid Token: '${token}'`));

/**
 * One page of `all` from the position in `input.nextToken`. The token carries `scope` (its kind `k`
 * and what the listing is bound to, e.g. the state machine and filter); a token of another kind or
 * scope is an InvalidToken.
 */
function offsetPage<T>(
  all: T[],
  input: Record<string, unknown>,
  size: number,
  scope: { k: string } & TokenScope,
): { page: T[]; more: { nextToken?: string } } {
  const { items, nextToken } = pageOf(all, { token: input.nextToken, size, scope }, nextTokens);
  return { page: items, more: nextToken ? { nextToken } : {} };
}

export class StepFunctionsEmulator implements JsonService {
  readonly targetPrefix = 'AWSStepFunctions';
  readonly jsonVersion = '1.0' as const;
  readonly tokens = new TaskTokens();
  private readonly machines = new Map<string, StateMachineRecord>();
  private readonly executions = new Map<string, Execution>();
  private readonly sdk: SdkIntegration;
  private readonly runtime: ExecutionRuntime;
  private endpoint?: string;

  constructor(readonly deps: StepFunctionsEmulatorDeps) {
    this.endpoint = deps.endpoint;
    this.sdk = new SdkIntegration({
      region: deps.region,
      endpoint: () => this.endpoint ?? process.env.AWS_ENDPOINT_URL_SFN_TASKS ?? process.env.AWS_ENDPOINT_URL,
    });
    this.runtime = {
      clock: deps.clock,
      region: deps.region,
      accountId: deps.accountId,
      lambdas: deps.lambdas,
      sdk: this.sdk,
      iam: deps.iam,
      tokens: this.tokens,
      emit: (event) => deps.emit(event),
      startExecution: (arn, input, name) => {
        const execution = this.startExecution({ stateMachineArn: arn, input, ...(name ? { name } : {}) });
        return { executionArn: execution.arn, startDate: execution.startDate };
      },
    };
    this.loadStateMachines();
  }

  /** Sets the endpoint aws-sdk tasks call (the local cloud's, once it listens). */
  setEndpoint(endpoint: string): void {
    this.endpoint = endpoint;
  }

  async handle(operation: string, input: Record<string, unknown>, ctx: RequestContext): Promise<unknown> {
    return dispatch(this.operations, operation, input, ctx, unknownOperation('Step Functions'));
  }

  private readonly operations: OperationTable<Record<string, unknown>> = {
    CreateStateMachine: (input) => this.createStateMachine(input),
    DescribeStateMachine: (input) => this.describeStateMachine(input),
    ListStateMachines: (input) => this.listStateMachines(input),
    DeleteStateMachine: (input) => this.deleteStateMachine(input),
    StartExecution: (input) => {
      const execution = this.startExecution(input);
      return { executionArn: execution.arn, startDate: execution.startDate };
    },
    DescribeExecution: (input) => this.describeExecution(input),
    GetExecutionHistory: (input) => this.getExecutionHistory(input),
    ListExecutions: (input) => this.listExecutions(input),
    StopExecution: (input) => {
      const execution = this.execution(input.executionArn);
      const stopDate = execution.stop(
        typeof input.error === 'string' ? input.error : undefined,
        typeof input.cause === 'string' ? input.cause : undefined,
      );
      return { stopDate };
    },
    SendTaskSuccess: (input) => {
      this.tokens.sendSuccess(requireString(input, 'taskToken'), input.output);
      return {};
    },
    SendTaskFailure: (input) => {
      this.tokens.sendFailure(requireString(input, 'taskToken'), input.error, input.cause);
      return {};
    },
    SendTaskHeartbeat: (input) => {
      this.tokens.sendHeartbeat(requireString(input, 'taskToken'));
      return {};
    },
  };

  /** Names and ARNs of the state machines (for the CLI, demo and admin API). */
  list(): { name: string; arn: string; file?: string }[] {
    return [...this.machines.values()].map((machine) => ({
      name: machine.name,
      arn: machine.arn,
      file: machine.file,
    }));
  }

  /** ARN of a state machine by name, e.g. `fsx-transfer-local-transfer`. */
  stateMachineArn(name: string): string {
    return `arn:aws:states:${this.deps.region}:${this.deps.accountId}:stateMachine:${name}`;
  }

  /** Resolves once the execution has ended (tests and the demo). */
  async waitForExecution(executionArn: string): Promise<Execution> {
    const execution = this.execution(executionArn);
    await execution.done;
    return execution;
  }

  getExecution(executionArn: string): Execution | undefined {
    return this.executions.get(executionArn);
  }

  /** Stops every running execution (ABORTED, without status events) and releases SDK clients. */
  async close(): Promise<void> {
    for (const execution of this.executions.values()) {
      if (!execution.closed)
        execution.stop('LocalCloudStopped', 'The local cloud was stopped', { silent: true });
    }
    this.sdk.close();
  }

  // ── state machines ──

  private loadStateMachines(): void {
    const dir = this.deps.stateMachinesDir;
    if (!existsSync(dir)) return;
    const project = this.deps.lambdas.serverless;
    const stage = this.deps.stage ?? this.deps.lambdas.stage;
    const aslSubstitutions = ((project.raw.custom as Record<string, unknown> | undefined)?.aslSubstitutions ??
      {}) as Record<string, unknown>;
    const lookup = (placeholder: string): string | undefined => {
      const key = functionKeyOf(placeholder);
      if (key) return this.deps.lambdas.arnOf(key);
      if (placeholder in this.deps.substitutions) return this.deps.substitutions[placeholder];
      if (placeholder in aslSubstitutions) return evaluateCfn(project, aslSubstitutions[placeholder]);
      return undefined;
    };
    for (const file of readdirSync(dir)
      .filter((f) => f.endsWith('.asl.json'))
      .sort()) {
      const key = basename(file, '.asl.json');
      const where = join(dir, file);
      try {
        // The same expansion as packaging (shared Retry blocks), then this cloud's resource values.
        const definition = substitute(readStateMachine(where), lookup);
        const name = project.stateMachines.some((machine) => machine.key === key)
          ? stateMachineNameFor({ ...project, stage }, key)
          : `${project.service}-${stage}-${key}`;
        this.register(name, JSON.stringify(definition), {
          roleArn: this.deps.iam?.roleArn(name) ?? `arn:aws:iam::${this.deps.accountId}:role/${name}-role`,
          type: 'STANDARD',
          file: where,
        });
      } catch (error) {
        const message =
          error instanceof LocalAwsError || error instanceof DefinitionError
            ? error.message
            : (error as Error).message;
        throw new Error(
          `statemachines/${file}: ${message}${/No substitution/.test(message) ? ' (local values: the substitutions given to StepFunctionsEmulator)' : ''}`,
        );
      }
    }
  }

  private register(
    name: string,
    definitionText: string,
    options: { roleArn: string; type: 'STANDARD' | 'EXPRESS'; file?: string },
  ): StateMachineRecord {
    let prepared: PreparedDefinition;
    try {
      prepared = prepareDefinition(definitionText);
    } catch (error) {
      throw new LocalAwsError('InvalidDefinition', (error as Error).message);
    }
    for (const state of prepared.states.values()) {
      if (state.resource?.kind === 'aws-sdk' && !sdkPackageInstalled(state.resource.service)) {
        throw new LocalAwsError(
          'InvalidDefinition',
          `State ${state.name}: the local cloud has no AWS SDK client for service ${state.resource.service} (npm install @aws-sdk/client-${state.resource.service})`,
        );
      }
    }
    const record: StateMachineRecord = {
      arn: this.stateMachineArn(name),
      name,
      definitionText,
      prepared,
      roleArn: options.roleArn,
      type: options.type,
      creationDate: this.deps.clock.now(),
      file: options.file,
      executions: [],
    };
    this.machines.set(record.arn, record);
    return record;
  }

  private machine(arn: unknown): StateMachineRecord {
    if (typeof arn !== 'string' || !ARN_PREFIX.test(arn) || !/:stateMachine:[^:]+$/.test(arn)) {
      throw new LocalAwsError('InvalidArn', `Invalid Arn: '${String(arn)}'`);
    }
    const machine = this.machines.get(arn);
    if (!machine)
      throw new LocalAwsError('StateMachineDoesNotExist', `State Machine Does Not Exist: '${arn}'`);
    return machine;
  }

  private createStateMachine(input: Record<string, unknown>) {
    const name = requireString(input, 'name');
    const definition = requireString(input, 'definition');
    const roleArn = requireString(input, 'roleArn');
    if (!validName(name)) throw new LocalAwsError('InvalidName', `Invalid Name: '${name}'`);
    if (!/^arn:aws[\w-]*:iam::\d{12}:role\/.+/.test(roleArn)) {
      throw new LocalAwsError(
        'InvalidArn',
        `Invalid Arn: 'Resource type not valid in this context: ${roleArn}'`,
      );
    }
    const type = (input.type ?? 'STANDARD') as string;
    if (type !== 'STANDARD' && type !== 'EXPRESS') {
      throw new LocalAwsError(
        'ValidationException',
        `Value '${type}' at 'type' failed to satisfy constraint`,
      );
    }
    const existing = this.machines.get(this.stateMachineArn(name));
    if (existing) {
      // Idempotent for the same definition and type; roleArn differences are ignored (as on AWS).
      if (existing.definitionText === definition && existing.type === type) {
        return { stateMachineArn: existing.arn, creationDate: existing.creationDate };
      }
      throw new LocalAwsError('StateMachineAlreadyExists', `State Machine Already Exists: '${existing.arn}'`);
    }
    const record = this.register(name, definition, { roleArn, type });
    return { stateMachineArn: record.arn, creationDate: record.creationDate };
  }

  private describeStateMachine(input: Record<string, unknown>) {
    const machine = this.machine(input.stateMachineArn);
    return {
      stateMachineArn: machine.arn,
      name: machine.name,
      status: 'ACTIVE',
      definition: machine.definitionText,
      roleArn: machine.roleArn,
      type: machine.type,
      creationDate: machine.creationDate,
      loggingConfiguration: { level: 'OFF', includeExecutionData: false },
      tracingConfiguration: { enabled: false },
    };
  }

  private listStateMachines(input: Record<string, unknown>) {
    const size = pageSize(input);
    const all = [...this.machines.values()].sort((a, b) => a.name.localeCompare(b.name));
    const { page, more } = offsetPage(all, input, size, { k: 'machines' });
    return {
      stateMachines: page.map((machine) => ({
        stateMachineArn: machine.arn,
        name: machine.name,
        type: machine.type,
        creationDate: machine.creationDate,
      })),
      ...more,
    };
  }

  private deleteStateMachine(input: Record<string, unknown>) {
    const arn = input.stateMachineArn;
    if (typeof arn !== 'string' || !ARN_PREFIX.test(arn) || !/:stateMachine:[^:]+$/.test(arn)) {
      throw new LocalAwsError('InvalidArn', `Invalid Arn: '${String(arn)}'`);
    }
    const machine = this.machines.get(arn);
    if (!machine) return {};
    for (const execution of machine.executions) {
      if (!execution.closed) execution.stop('States.Runtime', 'The state machine was deleted');
      this.executions.delete(execution.arn);
      this.tokens.forgetExecution(execution.arn);
    }
    this.machines.delete(arn);
    return {};
  }

  // ── executions ──

  private execution(arn: unknown): Execution {
    if (typeof arn !== 'string' || !ARN_PREFIX.test(arn) || !/:execution:[^:]+:[^:]+$/.test(arn)) {
      throw new LocalAwsError('InvalidArn', `Invalid Arn: '${String(arn)}'`);
    }
    const execution = this.executions.get(arn);
    if (!execution) throw new LocalAwsError('ExecutionDoesNotExist', `Execution Does Not Exist: '${arn}'`);
    return execution;
  }

  /**
   * StartExecution. Names are unique per state machine; for a STANDARD state machine a call with the
   * name and input of a RUNNING execution returns that execution (AWS's idempotency rule), any
   * other reuse of a name is ExecutionAlreadyExists.
   */
  startExecution(input: Record<string, unknown>): Execution {
    const machine = this.machine(input.stateMachineArn);
    const name = input.name === undefined ? randomUUID() : input.name;
    if (typeof name !== 'string' || !validName(name)) {
      throw new LocalAwsError('InvalidName', `Invalid Name: '${String(name)}'`);
    }
    const text = input.input === undefined || input.input === null ? '{}' : input.input;
    if (typeof text !== 'string') {
      throw new LocalAwsError(
        'InvalidExecutionInput',
        'Invalid State Machine Execution Input: input must be a string',
      );
    }
    if (Buffer.byteLength(text) > MAX_INPUT_BYTES) {
      throw new LocalAwsError(
        'InvalidExecutionInput',
        `Invalid State Machine Execution Input: 'Input exceeds the maximum size of ${MAX_INPUT_BYTES} bytes'`,
      );
    }
    try {
      JSON.parse(text);
    } catch (error) {
      throw new LocalAwsError(
        'InvalidExecutionInput',
        `Invalid State Machine Execution Input: '${(error as Error).message}'`,
      );
    }
    const arn = `${machine.arn.replace(':stateMachine:', ':execution:')}:${name}`;
    const existing = this.executions.get(arn);
    if (existing) {
      if (machine.type === 'STANDARD' && existing.status === 'RUNNING' && sameJson(existing.input, text))
        return existing;
      throw new LocalAwsError('ExecutionAlreadyExists', `Execution Already Exists: '${arn}'`);
    }
    const execution = new Execution(this.runtime, machine, name, text);
    this.executions.set(execution.arn, execution);
    machine.executions.push(execution);
    const timeout = this.deps.faults?.behavior('execution-timeout', {
      name,
      stateMachineArn: machine.arn,
      stateMachineName: machine.name,
    });
    execution.start(timeout?.delayMs === undefined ? {} : { timeoutSeconds: timeout.delayMs / 1000 });
    return execution;
  }

  private describeExecution(input: Record<string, unknown>) {
    const execution = this.execution(input.executionArn);
    const redrivable = ['FAILED', 'TIMED_OUT', 'ABORTED'].includes(execution.status);
    return {
      executionArn: execution.arn,
      stateMachineArn: execution.stateMachine.arn,
      name: execution.name,
      status: execution.status,
      startDate: execution.startDate,
      ...(execution.stopDate ? { stopDate: execution.stopDate } : {}),
      input: execution.input,
      inputDetails: { included: true },
      ...(execution.output !== undefined
        ? { output: execution.output, outputDetails: { included: true } }
        : {}),
      ...(execution.error !== undefined ? { error: execution.error } : {}),
      ...(execution.cause !== undefined ? { cause: execution.cause } : {}),
      redriveCount: 0,
      redriveStatus: redrivable ? 'REDRIVABLE' : 'NOT_REDRIVABLE',
      ...(redrivable
        ? {}
        : { redriveStatusReason: `Execution is ${execution.status} and cannot be redriven` }),
    };
  }

  private getExecutionHistory(input: Record<string, unknown>) {
    const execution = this.execution(input.executionArn);
    const size = pageSize(input);
    const reverse = input.reverseOrder === true;
    const events = execution.history.events;
    const scope = { k: 'history', e: execution.arn, r: reverse };
    // A token holds the id of the event the next page starts at (ids start at 1).
    const position = nextTokens.decode(input.nextToken, scope);
    const from = position > 0 ? position : reverse ? events.length : 1;
    // Ids are 1-based and contiguous; pages continue from an event id, so events added while a
    // client pages through do not shift the pages.
    const ids: number[] = [];
    if (reverse) for (let id = from; id >= 1 && ids.length < size; id--) ids.push(id);
    else for (let id = from; id <= events.length && ids.length < size; id++) ids.push(id);
    const next = reverse ? (ids.length > 0 ? ids[ids.length - 1]! - 1 : 0) : from + ids.length;
    const more = reverse ? next >= 1 : next <= events.length;
    const withData = input.includeExecutionData !== false;
    return {
      events: ids.map((id) => (withData ? events[id - 1]! : withoutData(events[id - 1]!))),
      ...(more ? { nextToken: nextTokens.encode(next, scope) } : {}),
    };
  }

  private listExecutions(input: Record<string, unknown>) {
    if (input.mapRunArn !== undefined) {
      throw new LocalAwsError(
        'ValidationException',
        'Map Runs (Distributed Map) are not modelled by the local cloud',
      );
    }
    const machine = this.machine(input.stateMachineArn);
    if (machine.type === 'EXPRESS') {
      throw new LocalAwsError(
        'StateMachineTypeNotSupported',
        'This operation is not supported by this type of state machine',
      );
    }
    const filter = input.statusFilter;
    if (
      filter !== undefined &&
      !['RUNNING', 'SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED'].includes(String(filter))
    ) {
      throw new LocalAwsError(
        'ValidationException',
        `1 validation error detected: Value '${String(filter)}' at 'statusFilter' failed to satisfy constraint`,
      );
    }
    const size = pageSize(input);
    const all = machine.executions
      .filter((execution) => filter === undefined || execution.status === filter)
      .slice()
      .reverse();
    const { page, more } = offsetPage(all, input, size, {
      k: 'executions',
      m: machine.arn,
      f: filter === undefined ? '' : String(filter),
    });
    return {
      executions: page.map((execution) => ({
        executionArn: execution.arn,
        stateMachineArn: machine.arn,
        name: execution.name,
        status: execution.status,
        startDate: execution.startDate,
        ...(execution.stopDate ? { stopDate: execution.stopDate } : {}),
        redriveCount: 0,
      })),
      ...more,
    };
  }
}

function sameJson(a: string, b: string): boolean {
  if (a === b) return true;
  try {
    return JSON.stringify(JSON.parse(a)) === JSON.stringify(JSON.parse(b));
  } catch {
    return false;
  }
}

function withoutData(event: HistoryEvent): HistoryEvent {
  const copy: HistoryEvent = { ...event };
  for (const [key, value] of Object.entries(event)) {
    if (key.endsWith('EventDetails') && value && typeof value === 'object') {
      const { input: _input, output: _output, ...rest } = value as Record<string, unknown>;
      copy[key] = rest;
    }
  }
  return copy;
}
