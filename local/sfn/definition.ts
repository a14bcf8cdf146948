/**
 * State machine definitions for the local Step Functions emulator: validation (as CreateStateMachine
 * would, plus what the local interpreter cannot run), an index of every state (nested ones included),
 * the Task resource each state calls, and the copy that aws-local-stepfunctions actually runs.
 *
 * The interpreter's copy differs from the definition in ways that keep behaviour AWS-like on the
 * scaled clock: Wait states become Tasks run by the emulator (so SecondsPath/TimestampPath waits
 * scale too), Retry intervals are scaled, and Task/execution timeouts are enforced by the emulator
 * (the library's default 60-second Task timeout does not exist on AWS).
 */
import './polyfill.js';
import { StateMachine } from 'aws-local-stepfunctions';
import type { Clock } from '../types.js';

export type StateType = 'Task' | 'Parallel' | 'Map' | 'Pass' | 'Wait' | 'Choice' | 'Succeed' | 'Fail';

/** What a Task state calls. */
export type TaskResource =
  | { kind: 'lambda-arn'; arn: string }
  | { kind: 'lambda-invoke'; wait: boolean }
  | { kind: 'aws-sdk'; service: string; action: string; wait: boolean }
  | { kind: 'events-put'; wait: boolean }
  | { kind: 'states-start'; wait: boolean }
  /** A Wait state, run as a Task by the emulator. */
  | { kind: 'wait' };

export interface StateInfo {
  name: string;
  type: StateType;
  /** The state as written in the definition. */
  definition: Record<string, unknown>;
  resource?: TaskResource;
}

export interface PreparedDefinition {
  /** The definition as given. */
  definition: Record<string, unknown>;
  states: Map<string, StateInfo>;
  /** Top-level TimeoutSeconds (enforced by the emulator). */
  timeoutSeconds?: number;
}

export class DefinitionError extends Error {
  override name = 'InvalidDefinition';
}

/** Internal resource the interpreter copy uses for Wait states. */
export const LOCAL_WAIT_RESOURCE = 'arn:aws:states:::local:wait';
/** Longest timer Node accepts (~24.8 days), used as "no library timeout". */
const NO_TIMEOUT_SECONDS = 2_000_000;

const JSONATA_ONLY_FIELDS = ['Arguments', 'Output', 'Items', 'Assign'];
const UNSUPPORTED_MAP_FIELDS = ['ItemReader', 'ItemBatcher', 'ResultWriter'];

/**
 * Parses a Task `Resource`.
 * @throws DefinitionError for resources the local emulator cannot run.
 */
export function parseResource(resource: string, stateName: string): TaskResource {
  if (/^arn:aws[\w-]*:lambda:[\w-]+:\d{12}:function:[\w-]+(:[\w$-]+)?$/.test(resource)) {
    return { kind: 'lambda-arn', arn: resource };
  }
  const integration = /^arn:aws[\w-]*:states:::([\w-]+):([\w.:-]+?)(\.waitForTaskToken|\.sync(?::2)?)?$/.exec(
    resource,
  );
  if (integration) {
    const [, service, action, pattern] = integration;
    if (pattern?.startsWith('.sync')) {
      throw new DefinitionError(
        `State ${stateName}: the .sync integration pattern (${resource}) is not supported by the local Step Functions emulator`,
      );
    }
    const wait = pattern === '.waitForTaskToken';
    if (service === 'lambda' && action === 'invoke') return { kind: 'lambda-invoke', wait };
    if (service === 'aws-sdk') {
      const sdk = /^([\w-]+):(\w+)$/.exec(action!);
      if (sdk) return { kind: 'aws-sdk', service: sdk[1]!, action: sdk[2]!, wait };
    }
    if (service === 'events' && action === 'putEvents') return { kind: 'events-put', wait };
    if (service === 'states' && action === 'startExecution') return { kind: 'states-start', wait };
  }
  throw new DefinitionError(
    `State ${stateName}: Resource ${resource} is not supported by the local Step Functions emulator (supported: Lambda function ARNs, arn:aws:states:::lambda:invoke, arn:aws:states:::aws-sdk:<service>:<action>, arn:aws:states:::events:putEvents, arn:aws:states:::states:startExecution, each optionally .waitForTaskToken)`,
  );
}

/**
 * Validates a definition and indexes its states.
 * @throws DefinitionError with a message naming the state and the rule.
 */
export function prepareDefinition(input: unknown): PreparedDefinition {
  let definition: Record<string, unknown>;
  if (typeof input === 'string') {
    try {
      definition = JSON.parse(input);
    } catch (error) {
      throw new DefinitionError(
        `Invalid State Machine Definition: 'INVALID_JSON_DESCRIPTION: ${(error as Error).message}'`,
      );
    }
  } else definition = input as Record<string, unknown>;
  if (!definition || typeof definition !== 'object' || Array.isArray(definition)) {
    throw new DefinitionError(
      `Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: definition must be a JSON object'`,
    );
  }
  if (definition.QueryLanguage === 'JSONata') {
    throw new DefinitionError(
      'Invalid State Machine Definition: JSONata is not supported by the local interpreter (it would silently ignore the expressions); write the definition in JSONPath',
    );
  }
  const states = new Map<string, StateInfo>();
  indexStates(definition, states);
  validateOnce(definition);
  const timeout = definition.TimeoutSeconds;
  return { definition, states, timeoutSeconds: typeof timeout === 'number' ? timeout : undefined };
}

/** Definitions already validated: asl-validator takes 50-150 ms per call (it compiles its schemas). */
const validated = new Set<string>();

function validateOnce(definition: Record<string, unknown>): void {
  const key = JSON.stringify(definition);
  if (validated.has(key)) return;
  try {
    new StateMachine(definition as never, { validationOptions: { checkArn: true, checkPaths: true } });
  } catch (error) {
    throw new DefinitionError(
      `Invalid State Machine Definition: '${(error as Error).message.replace(/^State machine definition is invalid, see error\(s\) below:\s*/, '').trim()}'`,
    );
  }
  validated.add(key);
}

function indexStates(machine: Record<string, unknown>, out: Map<string, StateInfo>): void {
  const states = machine.States as Record<string, Record<string, unknown>> | undefined;
  if (!states || typeof states !== 'object') {
    throw new DefinitionError(
      `Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: The field "States" is required'`,
    );
  }
  for (const [name, state] of Object.entries(states)) {
    if (out.has(name)) {
      throw new DefinitionError(
        `Invalid State Machine Definition: 'DUPLICATE_STATE_NAME: Duplicate State name: ${name}'`,
      );
    }
    if (state.QueryLanguage === 'JSONata') {
      throw new DefinitionError(
        `State ${name}: JSONata is not supported by the local interpreter; use JSONPath`,
      );
    }
    for (const field of JSONATA_ONLY_FIELDS) {
      if (field in state) {
        throw new DefinitionError(
          `State ${name}: the field ${field} is not supported by the local interpreter (no JSONata, no variables); use Parameters/ResultSelector/ResultPath`,
        );
      }
    }
    const type = state.Type as StateType;
    const info: StateInfo = { name, type, definition: state };
    if (type === 'Task') {
      if (typeof state.Resource !== 'string') {
        throw new DefinitionError(`State ${name}: a Task state needs a Resource string`);
      }
      info.resource = parseResource(state.Resource, name);
    }
    if (type === 'Wait') info.resource = { kind: 'wait' };
    if (type === 'Map') {
      for (const field of UNSUPPORTED_MAP_FIELDS) {
        if (field in state) {
          throw new DefinitionError(
            `State ${name}: Distributed Map ${field} is not supported by the local interpreter; pass the items in the input (ItemsPath) so the Map runs inline`,
          );
        }
      }
      const processor = (state.ItemProcessor ?? state.Iterator) as Record<string, unknown> | undefined;
      if (!processor) throw new DefinitionError(`State ${name}: a Map state needs an ItemProcessor`);
      indexStates(processor, out);
    }
    if (type === 'Parallel') {
      for (const branch of (state.Branches ?? []) as Record<string, unknown>[]) indexStates(branch, out);
    }
    out.set(name, info);
  }
}

/**
 * The copy of a definition that aws-local-stepfunctions runs: Waits become emulator Tasks, Retry
 * intervals follow the clock, and no library timeouts apply (the emulator enforces them).
 */
export function interpreterCopy(prepared: PreparedDefinition, clock: Clock): Record<string, unknown> {
  const seconds = (value: number) => clock.scale(value * 1000) / 1000;
  const convertMachine = (machine: Record<string, unknown>): Record<string, unknown> => {
    const { TimeoutSeconds: _timeout, ...rest } = machine;
    const states = Object.fromEntries(
      Object.entries(machine.States as Record<string, Record<string, unknown>>).map(([name, state]) => [
        name,
        convertState(state),
      ]),
    );
    return { ...rest, States: states };
  };
  const convertRetry = (retry: unknown) =>
    Array.isArray(retry)
      ? retry.map((retrier: Record<string, unknown>) => ({
          ...retrier,
          IntervalSeconds: seconds(typeof retrier.IntervalSeconds === 'number' ? retrier.IntervalSeconds : 1),
          ...(typeof retrier.MaxDelaySeconds === 'number'
            ? { MaxDelaySeconds: seconds(retrier.MaxDelaySeconds) }
            : {}),
        }))
      : retry;
  const convertState = (state: Record<string, unknown>): Record<string, unknown> => {
    const copy: Record<string, unknown> = { ...state };
    if ('Retry' in copy) copy.Retry = convertRetry(copy.Retry);
    switch (state.Type) {
      case 'Task':
        delete copy.TimeoutSecondsPath;
        delete copy.HeartbeatSeconds;
        delete copy.HeartbeatSecondsPath;
        copy.TimeoutSeconds = NO_TIMEOUT_SECONDS;
        return copy;
      case 'Wait': {
        const task: Record<string, unknown> = {
          Type: 'Task',
          Resource: LOCAL_WAIT_RESOURCE,
          TimeoutSeconds: NO_TIMEOUT_SECONDS,
        };
        for (const field of ['Comment', 'InputPath', 'OutputPath', 'Next', 'End']) {
          if (field in state) task[field] = state[field];
        }
        return task;
      }
      case 'Map': {
        const processorKey = 'ItemProcessor' in state ? 'ItemProcessor' : 'Iterator';
        const processor = { ...(state[processorKey] as Record<string, unknown>) };
        // A Distributed Map without ItemReader runs as an inline Map locally.
        delete processor.ProcessorConfig;
        copy[processorKey] = convertMachine(processor);
        delete copy.ToleratedFailurePercentage;
        delete copy.ToleratedFailureCount;
        delete copy.Label;
        return copy;
      }
      case 'Parallel':
        copy.Branches = (state.Branches as Record<string, unknown>[]).map(convertMachine);
        return copy;
      case 'Choice':
        copy.Choices = (state.Choices as Record<string, unknown>[]).map(negatedTypeTests);
        return copy;
      default:
        return copy;
    }
  };
  return convertMachine(prepared.definition);
}

/** The type tests of a Choice rule (`"IsPresent": false` matches a missing field). */
const TYPE_TESTS = ['IsPresent', 'IsNull', 'IsNumeric', 'IsString', 'IsBoolean', 'IsTimestamp'];

/**
 * aws-local-stepfunctions evaluates a type test set to `false` as never matching (it returns
 * `IsPresent && present`), where Step Functions matches when the test fails: `{"IsPresent": false}`
 * becomes `{"Not": {"IsPresent": true}}`, in nested And/Or/Not too. Next and other fields stay.
 */
export function negatedTypeTests(rule: Record<string, unknown>): Record<string, unknown> {
  const copy: Record<string, unknown> = { ...rule };
  for (const key of ['And', 'Or'] as const) {
    if (Array.isArray(copy[key])) copy[key] = (copy[key] as Record<string, unknown>[]).map(negatedTypeTests);
  }
  if (copy.Not && typeof copy.Not === 'object')
    copy.Not = negatedTypeTests(copy.Not as Record<string, unknown>);
  const test = TYPE_TESTS.find((name) => copy[name] === false);
  if (!test) return copy;
  const { [test]: _false, Variable, ...rest } = copy;
  return { ...rest, Not: { Variable, [test]: true } };
}

/** Every `${Name}` placeholder still present in a definition. */
export function remainingPlaceholders(definition: unknown): string[] {
  const names = new Set<string>();
  for (const match of JSON.stringify(definition).matchAll(/\$\{([A-Za-z0-9:]+)\}/g)) names.add(match[1]!);
  return [...names].sort();
}
