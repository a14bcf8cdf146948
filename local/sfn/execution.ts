/**
 * One execution of a state machine, run by aws-local-stepfunctions. The emulator maps every Task
 * state to a local handler by its Resource (Lambda through the LambdaRegistry, aws-sdk through real
 * SDK calls to the local cloud, `.waitForTaskToken` through task tokens), enforces Task timeouts,
 * heartbeats, Wait durations and the execution timeout on the scaled clock, and keeps an
 * AWS-shaped event history and status (with EventBridge status change events).
 */
import { timerDelay } from '../clock.js';
import './polyfill.js';
import { randomUUID } from 'node:crypto';
import { ExecutionError, StateMachine } from 'aws-local-stepfunctions';
import { jsonPathGet } from '../json-path.js';
import { LambdaFunctionError, type LambdaRegistry, LambdaServiceError } from '../lambda.js';
import type { Clock, LocalEvent } from '../types.js';
import { interpreterCopy, type PreparedDefinition, type StateInfo, type TaskResource } from './definition.js';
import { data, History } from './history.js';
import type { SdkCredentials, SdkIntegration } from './sdk-integration.js';
import type { PendingTask, TaskTokens } from './tokens.js';

export type ExecutionStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';

/** What an execution needs from the emulator. */
/**
 * IAM for what a state machine does with its role: invoke functions (checked here) and call AWS
 * SDK integrations (signed with the role's credentials, so the local cloud checks them).
 */
export interface ExecutionIam {
  /** A refusal message (AWS's) when the state machine's role may not invoke the function. */
  refuseInvoke(stateMachineName: string, functionArn: string): string | undefined;
  /** The credentials of the state machine's role, for SDK integrations. */
  credentials(stateMachineName: string): SdkCredentials | undefined;
}

export interface ExecutionRuntime {
  clock: Clock;
  region: string;
  accountId: string;
  lambdas: LambdaRegistry;
  sdk: SdkIntegration;
  iam?: ExecutionIam;
  tokens: TaskTokens;
  emit: (event: LocalEvent) => void;
  /** `arn:aws:states:::states:startExecution` (a child execution). */
  startExecution(
    stateMachineArn: string,
    input: string,
    name?: string,
  ): { executionArn: string; startDate: Date };
}

export interface StateMachineRef {
  arn: string;
  name: string;
  roleArn: string;
  prepared: PreparedDefinition;
}

/** An error a Task handler throws for the interpreter's Retry/Catch: `name` = Error, `message` = Cause. */
class TaskError extends Error {
  constructor(name: string, cause: string) {
    super(cause);
    this.name = name;
  }
}

class ExecutionClosedError extends Error {
  override name = 'ExecutionClosed';
}

const RUNTIME_ERRORS = new Set([
  'States.Runtime',
  'States.ResultPathMatchFailure',
  'States.ParameterPathFailure',
  'States.IntrinsicFailure',
]);

let timeoutErrorFactory: Promise<() => Error> | undefined;

/**
 * The interpreter only treats its own StatesTimeoutError as States.Timeout (which `States.TaskFailed`
 * must not match), and does not export it: obtain the class from a 1 ms task timeout once.
 */
function statesTimeoutError(): Promise<Error> {
  timeoutErrorFactory ??= (async () => {
    const probe = new StateMachine(
      {
        StartAt: 'Probe',
        States: {
          Probe: {
            Type: 'Task',
            Resource: 'arn:aws:lambda:us-east-1:000000000000:function:probe',
            TimeoutSeconds: 0.001,
            End: true,
          },
        },
      } as never,
      { validationOptions: { noValidate: true } },
    );
    const run = probe.run(
      {},
      { overrides: { taskResourceLocalHandlers: { Probe: () => new Promise(() => {}) } } },
    );
    try {
      await run.result;
    } catch (error) {
      const cause = (error as { cause?: Error }).cause;
      if (cause?.name === 'States.Timeout') {
        const TimeoutClass = cause.constructor as new () => Error;
        return () => new TimeoutClass();
      }
    }
    return () => new TaskError('States.Timeout', 'States.Timeout');
  })();
  return timeoutErrorFactory.then((make) => make());
}

function typeEvent(type: string, suffix: 'Entered' | 'Exited' | 'Aborted'): string {
  return `${type}State${suffix}`;
}

function scheduleRef(resource: TaskResource): { resourceType: string; resource: string } | undefined {
  const suffix = 'wait' in resource && resource.wait ? '.waitForTaskToken' : '';
  switch (resource.kind) {
    case 'lambda-invoke':
      return { resourceType: 'lambda', resource: `invoke${suffix}` };
    case 'aws-sdk':
      return { resourceType: `aws-sdk:${resource.service}`, resource: `${resource.action}${suffix}` };
    case 'events-put':
      return { resourceType: 'events', resource: `putEvents${suffix}` };
    case 'states-start':
      return { resourceType: 'states', resource: `startExecution${suffix}` };
    default:
      return undefined;
  }
}

export class Execution {
  readonly arn: string;
  readonly startDate: Date;
  status: ExecutionStatus = 'RUNNING';
  stopDate?: Date;
  output?: string;
  error?: string;
  cause?: string;
  readonly history: History;
  /** Resolves when the execution has ended (any status). */
  readonly done: Promise<void>;

  private resolveDone!: () => void;
  private readonly abortController = new AbortController();
  private abortRun?: () => void;
  private pendingToken?: PendingTask;
  private readonly openTokens = new Set<string>();
  private readonly timers = new Set<NodeJS.Timeout>();
  /** States entered and not yet left (for `<Type>StateAborted`), keyed by name and Map index. */
  private readonly active = new Map<string, { name: string; type: string }>();
  private readonly enteredIds = new Map<string, number>();
  /** The input of the latest entry of each state (its `*SecondsPath` fields read it). */
  private readonly stateInputs = new Map<string, unknown>();
  private lastFailedState?: string;
  private silent = false;
  private finalFailState?: string;

  constructor(
    private readonly runtime: ExecutionRuntime,
    readonly stateMachine: StateMachineRef,
    readonly name: string,
    readonly input: string,
  ) {
    this.arn = `${stateMachine.arn.replace(':stateMachine:', ':execution:')}:${name}`;
    this.startDate = runtime.clock.now();
    this.history = new History(() => runtime.clock.now());
    this.done = new Promise((resolve) => {
      this.resolveDone = resolve;
    });
  }

  get closed(): boolean {
    return this.status !== 'RUNNING';
  }

  /**
   * Starts the run (returns at once). `timeoutSeconds` replaces the definition's TimeoutSeconds
   * (the `execution-timeout` fault).
   */
  start(options: { timeoutSeconds?: number } = {}): void {
    this.history.add('ExecutionStarted', {
      input: this.input,
      inputDetails: { truncated: false },
      roleArn: this.stateMachine.roleArn,
    });
    this.emitStatus();
    const prepared = this.stateMachine.prepared;
    const machine = new StateMachine(interpreterCopy(prepared, this.runtime.clock) as never, {
      validationOptions: { noValidate: true },
    });
    const handlers: Record<string, (input: unknown) => Promise<unknown>> = {};
    for (const info of prepared.states.values()) {
      if (info.type === 'Task' || info.type === 'Wait')
        handlers[info.name] = (input) => this.runTask(info, input);
    }
    const self = this;
    const context = {
      Execution: {
        Id: this.arn,
        Name: this.name,
        RoleArn: this.stateMachine.roleArn,
        StartTime: this.startDate.toISOString(),
      },
      StateMachine: { Id: this.stateMachine.arn, Name: this.stateMachine.name },
      Task: {
        // Evaluated while the interpreter builds a Task's Parameters, synchronously before it calls
        // the state's handler, which claims the token (runTask).
        get Token(): string {
          self.pendingToken ??= self.runtime.tokens.create(self.arn, 'pending');
          return self.pendingToken.token;
        },
      },
    };
    const run = machine.run(JSON.parse(this.input), {
      overrides: { taskResourceLocalHandlers: handlers as never },
      context: context as never,
    });
    this.abortRun = run.abort;
    const seconds = options.timeoutSeconds ?? prepared.timeoutSeconds;
    if (seconds !== undefined) {
      this.setTimer(() => this.timeOut(seconds), seconds * 1000);
    }
    void this.watch(run.result, run.eventLogs as AsyncGenerator<Record<string, any>>);
  }

  /**
   * StopExecution: ends the execution as ABORTED at once. `silent` (the local cloud shutting down)
   * emits no status change event, so no rule reacts to a shutdown.
   */
  stop(error?: string, cause?: string, options: { silent?: boolean } = {}): Date {
    if (!this.closed) {
      this.error = error;
      this.cause = cause;
      this.silent = options.silent === true;
      this.close('ABORTED', 'ExecutionAborted', {
        ...(error !== undefined ? { error } : {}),
        ...(cause !== undefined ? { cause } : {}),
      });
    }
    return this.stopDate!;
  }

  private timeOut(seconds: number): void {
    if (this.closed) return;
    this.error = 'States.Timeout';
    this.cause = `The execution exceeded its TimeoutSeconds of ${seconds} seconds`;
    this.close('TIMED_OUT', 'ExecutionTimedOut', { error: this.error, cause: this.cause });
  }

  /** Records the final event, emits the status change and stops everything still running. */
  private close(status: ExecutionStatus, eventType: string, details: Record<string, unknown>): void {
    if (this.closed) return;
    if (status === 'ABORTED' || status === 'TIMED_OUT') {
      for (const state of this.active.values()) {
        if (['Task', 'Wait', 'Map', 'Parallel'].includes(state.type))
          this.history.add(typeEvent(state.type, 'Aborted'));
      }
    }
    this.history.add(eventType, details);
    this.status = status;
    this.stopDate = this.runtime.clock.now();
    this.emitStatus();
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    this.runtime.tokens.closeExecution(this.arn);
    this.abortController.abort();
    if (status === 'ABORTED' || status === 'TIMED_OUT') this.abortRun?.();
    this.resolveDone();
  }

  private async watch(result: Promise<unknown>, events: AsyncGenerator<Record<string, any>>): Promise<void> {
    const consumer = (async () => {
      for await (const event of events) {
        if (!this.closed) this.onInterpreterEvent(event);
      }
    })();
    let outcome: { ok: true; value: unknown } | { ok: false; error: unknown };
    try {
      outcome = { ok: true, value: await result };
    } catch (error) {
      outcome = { ok: false, error };
    }
    await consumer.catch(() => {});
    if (this.closed) return;
    if (outcome.ok) {
      this.output = JSON.stringify(outcome.value ?? null);
      this.close('SUCCEEDED', 'ExecutionSucceeded', {
        output: this.output,
        outputDetails: { truncated: false },
      });
      return;
    }
    const failure =
      outcome.error instanceof ExecutionError
        ? ((outcome.error as { cause?: unknown }).cause as Error)
        : (outcome.error as Error);
    const { error, cause } = this.describeFailure(failure);
    this.error = error;
    this.cause = cause;
    this.close('FAILED', 'ExecutionFailed', {
      ...(error !== undefined ? { error } : {}),
      ...(cause !== undefined ? { cause } : {}),
    });
  }

  private describeFailure(failure: Error | undefined): { error?: string; cause?: string } {
    if (this.finalFailState) {
      const fail = this.stateMachine.prepared.states.get(this.finalFailState)?.definition;
      if (fail) {
        return {
          error: fail.Error !== undefined || fail.ErrorPath !== undefined ? failure?.name : undefined,
          cause: fail.Cause !== undefined || fail.CausePath !== undefined ? failure?.message : undefined,
        };
      }
    }
    const error = failure?.name ?? 'States.Runtime';
    let cause = failure?.message ?? String(failure);
    if (RUNTIME_ERRORS.has(error) && this.lastFailedState && !cause.startsWith('An error occurred')) {
      const entered = this.enteredIds.get(this.lastFailedState);
      cause = `An error occurred while executing the state '${this.lastFailedState}' (entered at the event id #${entered}). ${cause}`;
    }
    return { error, cause };
  }

  /** Turns the interpreter's event log into AWS history events (Task events come from runTask). */
  private onInterpreterEvent(event: Record<string, any>): void {
    const state = event.state as { name: string; input?: unknown; output?: unknown } | undefined;
    const info = state ? this.stateMachine.prepared.states.get(state.name) : undefined;
    const key = state ? `${state.name}#${event.index ?? ''}` : '';
    switch (event.type) {
      case 'StateEntered': {
        if (!info || !state) return;
        const entered = this.history.add(typeEvent(info.type, 'Entered'), {
          name: state.name,
          input: data(state.input).text,
          inputDetails: { truncated: false },
        });
        this.enteredIds.set(state.name, entered.id);
        this.stateInputs.set(state.name, state.input);
        this.active.set(key, { name: state.name, type: info.type });
        if (info.type === 'Fail') this.finalFailState = state.name;
        if (info.type === 'Map')
          this.history.add('MapStateStarted', { length: mapLength(info, state.input) });
        if (info.type === 'Parallel') this.history.add('ParallelStateStarted');
        return;
      }
      case 'StateExited': {
        if (!info || !state) return;
        if (info.type === 'Map') this.history.add('MapStateSucceeded');
        if (info.type === 'Parallel') this.history.add('ParallelStateSucceeded');
        this.history.add(typeEvent(info.type, 'Exited'), {
          name: state.name,
          output: data(state.output).text,
          outputDetails: { truncated: false },
        });
        this.active.delete(key);
        return;
      }
      case 'StateFailed':
        if (!info || !state) return;
        this.lastFailedState = state.name;
        if (info.type === 'Map') this.history.add('MapStateFailed');
        if (info.type === 'Parallel') this.history.add('ParallelStateFailed');
        return;
      case 'StateCaught':
        // The state exits with the catcher's output (StateExited follows).
        return;
      case 'MapIterationStarted':
      case 'MapIterationSucceeded':
      case 'MapIterationFailed':
        this.history.add(event.type, { name: event.parentState?.name, index: event.index });
        return;
      default:
        return;
    }
  }

  private record(type: string, details?: Record<string, unknown>): void {
    if (!this.closed) this.history.add(type, details);
  }

  /** The handler of one Task (or Wait) state invocation. */
  private async runTask(info: StateInfo, input: unknown): Promise<unknown> {
    // Claim the token minted while the interpreter evaluated this state's Parameters (synchronously
    // before calling this handler), before anything asynchronous happens.
    let pending = this.pendingToken;
    this.pendingToken = undefined;
    const resource = info.resource!;
    const waits = 'wait' in resource && resource.wait;
    if (pending && !waits) {
      this.runtime.tokens.close(pending.token);
      pending = undefined;
    }
    if (waits && !pending) pending = this.runtime.tokens.create(this.arn, info.name);
    if (pending) {
      pending.stateName = info.name;
      this.openTokens.add(pending.token);
    }
    if (this.closed) throw new ExecutionClosedError('The execution has ended');
    // Let the interpreter's StateEntered reach the history before this task's events.
    await new Promise((resolve) => setImmediate(resolve));
    if (this.closed) throw new ExecutionClosedError('The execution has ended');
    if (resource.kind === 'wait') return this.runWait(info, input);
    try {
      return await this.runResource(info, resource, input, pending);
    } finally {
      if (pending) this.runtime.tokens.close(pending.token);
    }
  }

  private async runWait(info: StateInfo, input: unknown): Promise<unknown> {
    const state = info.definition;
    let ms = 0;
    if (typeof state.Seconds === 'number') ms = state.Seconds * 1000;
    else if (typeof state.Timestamp === 'string')
      ms = Date.parse(state.Timestamp) - this.runtime.clock.now().getTime();
    else if (typeof state.SecondsPath === 'string') {
      const seconds = jsonPathGet(input, state.SecondsPath);
      if (typeof seconds !== 'number' || !Number.isInteger(seconds) || seconds < 0) {
        throw new TaskError(
          'States.Runtime',
          `SecondsPath ${state.SecondsPath} must point to a non-negative integer`,
        );
      }
      ms = seconds * 1000;
    } else if (typeof state.TimestampPath === 'string') {
      const timestamp = jsonPathGet(input, state.TimestampPath);
      if (typeof timestamp !== 'string' || Number.isNaN(Date.parse(timestamp))) {
        throw new TaskError(
          'States.Runtime',
          `TimestampPath ${state.TimestampPath} must point to an ISO 8601 timestamp`,
        );
      }
      ms = Date.parse(timestamp) - this.runtime.clock.now().getTime();
    }
    await this.sleep(Math.max(0, ms));
    return input;
  }

  private sleep(simulatedMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.abortController.signal.aborted)
        return reject(new ExecutionClosedError('The execution has ended'));
      const onAbort = () => {
        clearTimeout(timer);
        reject(new ExecutionClosedError('The execution has ended'));
      };
      const timer = setTimeout(
        () => {
          this.abortController.signal.removeEventListener('abort', onAbort);
          resolve();
        },
        timerDelay(this.runtime.clock, simulatedMs),
      );
      timer.unref?.();
      this.abortController.signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  private clearTimer(timer: NodeJS.Timeout | undefined): void {
    if (!timer) return;
    clearTimeout(timer);
    this.timers.delete(timer);
  }

  private setTimer(fn: () => void, simulatedMs: number): NodeJS.Timeout {
    const timer = setTimeout(
      () => {
        this.timers.delete(timer);
        fn();
      },
      timerDelay(this.runtime.clock, simulatedMs),
    );
    timer.unref?.();
    this.timers.add(timer);
    return timer;
  }

  private seconds(
    info: StateInfo,
    field: 'TimeoutSeconds' | 'HeartbeatSeconds',
    input: unknown,
  ): number | undefined {
    const value = info.definition[field];
    if (typeof value === 'number') return value;
    const path = info.definition[`${field}Path`];
    if (typeof path === 'string') {
      // AWS resolves the path in the state's input (after InputPath), not in its Parameters.
      const entered = this.stateInputs.get(info.name);
      const inputPath = info.definition.InputPath;
      const stateInput =
        entered === undefined
          ? input
          : typeof inputPath === 'string'
            ? jsonPathGet(entered, inputPath)
            : entered;
      const found = jsonPathGet(stateInput, path);
      if (typeof found === 'number' && found > 0) return found;
      throw new TaskError('States.Runtime', `${field}Path ${path} must point to a positive integer`);
    }
    return undefined;
  }

  private async runResource(
    info: StateInfo,
    resource: TaskResource,
    input: unknown,
    pending: PendingTask | undefined,
  ): Promise<unknown> {
    const timeoutSeconds = this.seconds(info, 'TimeoutSeconds', input);
    const heartbeatSeconds = pending ? this.seconds(info, 'HeartbeatSeconds', input) : undefined;
    const task = scheduleRef(resource);
    const lambdaArn = resource.kind === 'lambda-arn' ? resource.arn : undefined;
    if (task) {
      this.record('TaskScheduled', {
        ...task,
        region: this.runtime.region,
        parameters: JSON.stringify(input ?? {}),
        ...(timeoutSeconds !== undefined ? { timeoutInSeconds: timeoutSeconds } : {}),
        ...(heartbeatSeconds !== undefined ? { heartbeatInSeconds: heartbeatSeconds } : {}),
      });
      this.record('TaskStarted', task);
    } else {
      this.record('LambdaFunctionScheduled', {
        resource: lambdaArn,
        input: JSON.stringify(input ?? null),
        inputDetails: { truncated: false },
        ...(timeoutSeconds !== undefined ? { timeoutInSeconds: timeoutSeconds } : {}),
      });
      this.record('LambdaFunctionStarted');
    }

    const work = (async () => {
      const immediate = await this.callResource(resource, input);
      if (!pending) return { output: immediate };
      if (task)
        this.record('TaskSubmitted', {
          ...task,
          output: JSON.stringify(immediate ?? null),
          outputDetails: { truncated: false },
        });
      return { output: await this.waitForCallback(pending, heartbeatSeconds, task) };
    })();

    let timeoutTimer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_resolve, reject) => {
      if (timeoutSeconds === undefined) return;
      timeoutTimer = this.setTimer(() => reject(new TaskError('States.Timeout', '')), timeoutSeconds * 1000);
    });
    // The listener is removed when the task ends, so a long execution does not pile them up.
    const signal = this.abortController.signal;
    let onAbort: (() => void) | undefined;
    const aborted = new Promise<never>((_resolve, reject) => {
      onAbort = () => reject(new ExecutionClosedError('The execution has ended'));
      if (signal.aborted) onAbort();
      else signal.addEventListener('abort', onAbort, { once: true });
    });
    work.catch(() => {});
    timeout.catch(() => {});
    aborted.catch(() => {});

    try {
      const { output } = await Promise.race([work, timeout, aborted]);
      const text = JSON.stringify(output ?? null);
      if (task) this.record('TaskSucceeded', { ...task, output: text, outputDetails: { truncated: false } });
      else this.record('LambdaFunctionSucceeded', { output: text, outputDetails: { truncated: false } });
      return output;
    } catch (raw) {
      if (raw instanceof ExecutionClosedError || this.closed) throw raw;
      if (raw instanceof TaskError && raw.name === 'States.Timeout' && raw.message === '') {
        if (task) this.record('TaskTimedOut', { ...task, error: 'States.Timeout' });
        else this.record('LambdaFunctionTimedOut', { error: 'States.Timeout' });
        throw await statesTimeoutError();
      }
      const error = toTaskError(raw);
      if (error.name === 'States.HeartbeatTimeout') {
        if (task) this.record('TaskTimedOut', { ...task, error: error.name, cause: error.message });
      } else if (task) {
        this.record('TaskFailed', { ...task, error: error.name, cause: error.message });
      } else {
        this.record('LambdaFunctionFailed', { error: error.name, cause: error.message });
      }
      throw error;
    } finally {
      this.clearTimer(timeoutTimer);
      if (onAbort) signal.removeEventListener('abort', onAbort);
    }
  }

  /** Fails like Step Functions when the state machine's role may not invoke the function. */
  private authorizeInvoke(target: string): void {
    const fn = this.runtime.lambdas.find(target);
    if (!fn) return;
    const qualifier = /:function:[^:]+:([^:]+)$/.exec(target)?.[1] ?? /^[^:]+:([^:]+)$/.exec(target)?.[1];
    const arn = `${this.runtime.lambdas.arnOf(fn.key)}${qualifier ? `:${qualifier}` : ''}`;
    const refusal = this.runtime.iam?.refuseInvoke(this.stateMachine.name, arn);
    if (refusal) {
      throw new TaskError(
        'Lambda.AWSLambdaException',
        `${refusal} (Service: AWSLambda; Status Code: 403; Error Code: AccessDeniedException; Request ID: ${randomUUID()}; Proxy: null)`,
      );
    }
  }

  private async callResource(resource: TaskResource, input: unknown): Promise<unknown> {
    const params = (input ?? {}) as Record<string, unknown>;
    switch (resource.kind) {
      case 'lambda-arn':
        this.authorizeInvoke(resource.arn);
        return this.runtime.lambdas.invoke(resource.arn, input);
      case 'lambda-invoke': {
        const functionName = params.FunctionName;
        if (typeof functionName !== 'string') {
          throw new TaskError(
            'States.Runtime',
            'lambda:invoke needs Parameters.FunctionName (a function name or ARN)',
          );
        }
        const target =
          typeof params.Qualifier === 'string' ? `${functionName}:${params.Qualifier}` : functionName;
        this.authorizeInvoke(target);
        const payload =
          typeof params.Payload === 'string' ? JSON.parse(params.Payload) : (params.Payload ?? {});
        const requestId = randomUUID();
        if (params.InvocationType === 'Event') {
          if (!this.runtime.lambdas.find(target)) await this.runtime.lambdas.invoke(target, payload);
          void this.runtime.lambdas.invoke(target, payload).catch(() => {});
          return invokeResponse(202, '', requestId);
        }
        const result = await this.runtime.lambdas.invoke(target, payload);
        return invokeResponse(200, result, requestId);
      }
      case 'aws-sdk':
        return this.runtime.sdk.call(
          resource.service,
          resource.action,
          input,
          this.runtime.iam?.credentials(this.stateMachine.name),
        );
      case 'events-put': {
        const entries = Array.isArray(params.Entries) ? (params.Entries as Record<string, unknown>[]) : [];
        const ids: { EventId: string }[] = [];
        for (const entry of entries) {
          const id = randomUUID();
          const detail = typeof entry.Detail === 'string' ? JSON.parse(entry.Detail) : (entry.Detail ?? {});
          this.runtime.emit({
            id,
            source: String(entry.Source ?? ''),
            'detail-type': String(entry.DetailType ?? ''),
            detail,
            resources: Array.isArray(entry.Resources) ? (entry.Resources as string[]) : [],
          } as LocalEvent);
          ids.push({ EventId: id });
        }
        return { Entries: ids, FailedEntryCount: 0 };
      }
      case 'states-start': {
        const childInput =
          params.Input === undefined
            ? '{}'
            : typeof params.Input === 'string'
              ? params.Input
              : JSON.stringify(params.Input);
        const started = this.runtime.startExecution(
          String(params.StateMachineArn ?? ''),
          childInput,
          typeof params.Name === 'string' ? params.Name : undefined,
        );
        return { ExecutionArn: started.executionArn, StartDate: started.startDate.toISOString() };
      }
      default:
        throw new TaskError('States.Runtime', `Unsupported resource ${JSON.stringify(resource)}`);
    }
  }

  private async waitForCallback(
    pending: PendingTask,
    heartbeatSeconds: number | undefined,
    _task: { resourceType: string; resource: string } | undefined,
  ): Promise<unknown> {
    let heartbeatTimer: NodeJS.Timeout | undefined;
    const heartbeat = new Promise<never>((_resolve, reject) => {
      if (heartbeatSeconds === undefined) return;
      const arm = () => {
        this.clearTimer(heartbeatTimer);
        heartbeatTimer = this.setTimer(
          () => reject(new TaskError('States.HeartbeatTimeout', '')),
          heartbeatSeconds * 1000,
        );
      };
      pending.onHeartbeat = arm;
      arm();
    });
    heartbeat.catch(() => {});
    try {
      const outcome = await Promise.race([pending.outcome, heartbeat]);
      if (outcome.ok) return outcome.output;
      throw new TaskError(outcome.error ?? '', outcome.cause ?? '');
    } finally {
      this.clearTimer(heartbeatTimer);
    }
  }

  /** The `Step Functions Execution Status Change` event for the current status. */
  private emitStatus(): void {
    if (this.silent) return;
    const ended = this.status !== 'RUNNING';
    const redrivable = this.status === 'FAILED' || this.status === 'TIMED_OUT' || this.status === 'ABORTED';
    this.runtime.emit({
      source: 'aws.states',
      'detail-type': 'Step Functions Execution Status Change',
      resources: [this.arn],
      detail: {
        executionArn: this.arn,
        stateMachineArn: this.stateMachine.arn,
        name: this.name,
        status: this.status,
        startDate: this.startDate.getTime(),
        stopDate: ended ? this.stopDate!.getTime() : null,
        input: this.input,
        output: this.status === 'SUCCEEDED' ? (this.output ?? null) : null,
        inputDetails: { included: true },
        outputDetails: this.status === 'SUCCEEDED' ? { included: true } : null,
        error: this.error ?? null,
        cause: this.cause ?? null,
        stateMachineVersionArn: null,
        stateMachineAliasArn: null,
        redriveCount: 0,
        redriveDate: null,
        redriveStatus: redrivable ? 'REDRIVABLE' : 'NOT_REDRIVABLE',
        redriveStatusReason: redrivable ? null : `Execution is ${this.status} and cannot be redriven`,
      },
    });
  }
}

function invokeResponse(statusCode: number, payload: unknown, requestId: string) {
  const headers = {
    Connection: 'keep-alive',
    'Content-Type': 'application/json',
    'X-Amz-Executed-Version': '$LATEST',
    'x-amzn-RequestId': requestId,
  };
  return {
    ExecutedVersion: '$LATEST',
    Payload: payload,
    SdkHttpMetadata: {
      AllHttpHeaders: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, [v]])),
      HttpHeaders: headers,
      HttpStatusCode: statusCode,
    },
    SdkResponseMetadata: { RequestId: requestId },
    StatusCode: statusCode,
  };
}

/**
 * Maps what a task threw to the Error/Cause Step Functions reports: a function error keeps its
 * type and the cause is Lambda's error payload; Lambda service errors are `Lambda.<Code>`.
 */
export function toTaskError(raw: unknown): Error {
  if (raw instanceof LambdaFunctionError) {
    return new TaskError(raw.errorType, JSON.stringify(raw.toPayload()));
  }
  if (raw instanceof LambdaServiceError) {
    return new TaskError(
      `Lambda.${raw.code}`,
      `${raw.message} (Service: AWSLambda; Status Code: ${raw.statusCode}; Error Code: ${raw.code}; Request ID: ${randomUUID()}; Proxy: null)`,
    );
  }
  if (raw instanceof Error)
    return raw instanceof TaskError ? raw : new TaskError(raw.name || 'Error', raw.message);
  return new TaskError('States.TaskFailed', String(raw));
}

function mapLength(info: StateInfo, input: unknown): number {
  const state = info.definition;
  const effective = typeof state.InputPath === 'string' ? jsonPathGet(input, state.InputPath) : input;
  const items = typeof state.ItemsPath === 'string' ? jsonPathGet(effective, state.ItemsPath) : effective;
  return Array.isArray(items) ? items.length : 0;
}
