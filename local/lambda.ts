/**
 * Local Lambda: invokes the project's real handlers in-process, by function key
 * (`launch-instance`), function name (`fsx-transfer-local-launch-instance`) or ARN (optionally
 * qualified). Functions come from serverless.yml (`functions:`), or from `functions/<name>/handler.ts`
 * until that file exists. Handlers get a realistic Context and their environment from serverless.yml;
 * values that are CloudFormation expressions there (`!Ref`, `!GetAtt`, `!Sub`) are evaluated with
 * local values, or taken from `environment` (which also overrides any value, for every function).
 *
 * Each invocation sees its own environment through `process.env` (lambda-env.ts), so concurrent
 * invocations of functions whose environments differ never see each other's values.
 *
 * Not modelled: cold starts, concurrency limits, memory limits, separate processes.
 */
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import type { Context } from 'aws-lambda';
import { withInvocationEnvironment } from './lambda-env.js';
import {
  evaluateCfn,
  lambdaArn,
  loadServerlessProject,
  type ServerlessFunction,
  type ServerlessProject,
} from './serverless-config.js';
import { LocalAwsError } from './types.js';

export interface LambdaRegistryDeps {
  /** Project root (holds serverless.yml and functions/). Default: the current directory. */
  rootDir?: string;
  accountId?: string;
  region?: string;
  /** Stage used in function names (default `local`). */
  stage?: string;
  /**
   * Environment applied to every invocation: local values for variables whose serverless.yml value
   * is a CloudFormation expression, endpoint variables, overrides. Read at each invocation, so it
   * may be changed after construction (see setEnvironment).
   */
  environment?: Record<string, string>;
  /** Fail an invocation that runs longer than the function's timeout (real time). Default true. */
  enforceTimeouts?: boolean;
  /**
   * Fault rules for service `lambda`, operation `Invoke` (match on `FunctionName` or `function`,
   * the key): a code the Lambda service returns (see LAMBDA_SERVICE_ERRORS) fails the invocation as
   * that service error (`Lambda.<Code>` in a state machine); any other code makes the function
   * throw an error of that name (e.g. `TransientAwsError`). `delayMs` is simulated time.
   */
  faults?: LambdaFaults;
  /** Scales fault delays (default: real time). */
  clock?: { scale(ms: number): number };
  /**
   * Values of `${file(...)}` variables in serverless.yml (see LoadOptions.files), e.g. the
   * deployment values `scripts/sls/config.cjs` derives from the config.
   */
  serverlessFiles?: Record<string, unknown>;
  /** Who each function runs as (see useIdentity). */
  identity?: FunctionIdentity;
}

/**
 * Who a function runs as: the variables of its role's credentials (over the cloud's own), and
 * what the Lambda service does with that role at each invocation (write the function's logs).
 */
export interface FunctionIdentity {
  environment(fn: { key: string; name: string }): Record<string, string> | undefined;
  invoked?(fn: { key: string; name: string }, logStreamName: string): void;
}

/** The part of the local cloud's FaultInjector the registry uses. */
export interface LambdaFaults {
  check(
    service: string,
    operation: string,
    attrs: Record<string, unknown>,
  ): { delayMs: number; error?: { code: string; message: string; status?: number } } | undefined;
}

/** Errors of the Lambda service itself (Invoke API), as opposed to errors of the function. */
export const LAMBDA_SERVICE_ERRORS = new Set([
  'ServiceException',
  'AWSLambdaException',
  'SdkClientException',
  'TooManyRequestsException',
  'ResourceNotFoundException',
  'ResourceNotReadyException',
  'EC2ThrottledException',
]);

/** A function error, as Lambda reports it (the Node.js runtime's error payload). */
export class LambdaFunctionError extends Error {
  constructor(
    readonly errorType: string,
    readonly errorMessage: string,
    readonly trace: string[],
    readonly functionName: string,
  ) {
    super(errorMessage);
    this.name = errorType;
  }

  /** The invocation's error payload: `{errorType, errorMessage, trace}`. */
  toPayload(): { errorType: string; errorMessage: string; trace: string[] } {
    return { errorType: this.errorType, errorMessage: this.errorMessage, trace: this.trace };
  }
}

/** An error of the Lambda service itself (e.g. ResourceNotFoundException), not of the function. */
export class LambdaServiceError extends LocalAwsError {
  constructor(code: string, message: string, statusCode = 404) {
    super(code, message, statusCode);
  }

  /** The HTTP status the Invoke API answers with. */
  get statusCode(): number {
    return this.status;
  }
}

export type LocalHandler = (
  event: any,
  context: Context,
  callback?: (error: unknown, result?: unknown) => void,
) => unknown;

export interface InvocationRecord {
  functionName: string;
  requestId: string;
  event: unknown;
  startedAt: Date;
  endedAt?: Date;
  result?: unknown;
  error?: { errorType: string; errorMessage: string };
}

interface LocalFunction extends ServerlessFunction {
  /** Set for functions registered from code (tests). */
  inline?: LocalHandler;
  /** Resolved environment (plain strings). */
  resolvedEnvironment: Record<string, string>;
}

const MAX_RECORDS = 500;

export class LambdaRegistry {
  readonly rootDir: string;
  readonly accountId: string;
  readonly region: string;
  readonly stage: string;
  /** Most recent invocations first-in order (capped), for tests and the admin API. */
  readonly invocations: InvocationRecord[] = [];
  private project!: ServerlessProject;
  private functions = new Map<string, LocalFunction>();
  private readonly modules = new Map<string, Promise<Record<string, unknown>>>();
  private environment: Record<string, string>;

  constructor(readonly deps: LambdaRegistryDeps = {}) {
    this.rootDir = deps.rootDir ?? process.cwd();
    this.accountId = deps.accountId ?? '000000000000';
    this.region = deps.region ?? 'us-east-1';
    this.stage = deps.stage ?? 'local';
    this.environment = { ...(deps.environment ?? {}) };
    this.reload();
  }

  /**
   * Re-reads serverless.yml (functions registered from code are kept), with new values of its
   * `${file(...)}` variables when given.
   */
  reload(serverlessFiles?: Record<string, unknown>): void {
    if (serverlessFiles) this.deps.serverlessFiles = serverlessFiles;
    const inline = [...this.functions.values()].filter((fn) => fn.inline);
    this.project = loadServerlessProject({
      rootDir: this.rootDir,
      stage: this.stage,
      region: this.region,
      accountId: this.accountId,
      files: this.deps.serverlessFiles,
      endpoint: this.environment.AWS_ENDPOINT_URL,
    });
    this.functions = new Map();
    for (const fn of this.project.functions.values()) {
      this.functions.set(fn.key, { ...fn, resolvedEnvironment: this.resolveEnvironment(fn) });
    }
    for (const fn of inline) this.functions.set(fn.key, fn);
  }

  /** The parsed serverless.yml (shared with the event bus and the Step Functions emulator). */
  get serverless(): ServerlessProject {
    return this.project;
  }

  /** Sets variables applied to every invocation (merged over the current ones). */
  setEnvironment(environment: Record<string, string>): void {
    Object.assign(this.environment, environment);
  }

  /**
   * Registers a handler from code under `key` (tests, fixtures); replaces a function of that key.
   * `environment` is the function's own variables (as serverless.yml would give them).
   */
  register(
    key: string,
    handler: LocalHandler,
    options: { timeout?: number; name?: string; environment?: Record<string, string> } = {},
  ): string {
    const name = options.name ?? `${this.project.service}-${this.stage}-${key}`;
    this.functions.set(key, {
      key,
      name,
      handlerModule: '',
      handlerExport: 'handler',
      timeout: options.timeout ?? 6,
      memorySize: 1024,
      environment: { ...options.environment },
      events: [],
      inline: handler,
      resolvedEnvironment: { ...options.environment },
    });
    return this.arnOf(key)!;
  }

  list(): { key: string; name: string; arn: string; timeout: number }[] {
    return [...this.functions.values()].map((fn) => ({
      key: fn.key,
      name: fn.name,
      arn: lambdaArn(this.project, fn.name),
      timeout: fn.timeout,
    }));
  }

  /** Finds a function by key, name, or (partial or qualified) ARN. */
  find(nameOrArn: string): LocalFunction | undefined {
    let name = nameOrArn;
    const arn = /^(?:arn:aws[\w-]*:lambda:[\w-]*:)?(?:\d{12}:)?function:([^:]+)(?::[^:]+)?$/.exec(nameOrArn);
    if (arn) name = arn[1]!;
    return this.functions.get(name) ?? [...this.functions.values()].find((fn) => fn.name === name);
  }

  /** ARN of a function given its key or name, or undefined when unknown. */
  arnOf(keyOrName: string): string | undefined {
    const fn = this.find(keyOrName);
    return fn ? lambdaArn(this.project, fn.name) : undefined;
  }

  /**
   * Invokes a function synchronously (RequestResponse) with a JSON copy of `event`.
   * @returns the JSON copy of the handler's result (`null` for undefined).
   * @throws LambdaFunctionError when the handler throws or times out; LambdaServiceError when the
   *   function does not exist.
   */
  async invoke(nameOrArn: string, event: unknown): Promise<unknown> {
    const fn = this.find(nameOrArn);
    if (!fn) {
      const arn = nameOrArn.startsWith('arn:')
        ? nameOrArn
        : `arn:aws:lambda:${this.region}:${this.accountId}:function:${nameOrArn}`;
      throw new LambdaServiceError('ResourceNotFoundException', `Function not found: ${arn}`);
    }
    const requestId = randomUUID();
    const record: InvocationRecord = { functionName: fn.name, requestId, event, startedAt: new Date() };
    this.invocations.push(record);
    if (this.invocations.length > MAX_RECORDS) this.invocations.shift();
    try {
      await this.injectFault(fn);
      const payload = event === undefined ? {} : JSON.parse(JSON.stringify(event));
      // The handler (and its module's first load) sees only this invocation's environment.
      const identity = this.deps.identity;
      const result = await withInvocationEnvironment(
        { ...fn.resolvedEnvironment, ...this.environment, ...identity?.environment(fn) },
        async () => this.runWithTimeout(fn, requestId, await this.loadHandler(fn), payload),
      );
      const output = result === undefined ? null : JSON.parse(JSON.stringify(result));
      record.result = output;
      return output;
    } catch (error) {
      if (error instanceof LambdaServiceError) {
        record.error = { errorType: error.code, errorMessage: error.message };
        throw error;
      }
      const failure = error instanceof LambdaFunctionError ? error : toFunctionError(error, fn.name);
      record.error = { errorType: failure.errorType, errorMessage: failure.errorMessage };
      throw failure;
    } finally {
      record.endedAt = new Date();
    }
  }

  /** Sets who each function runs as (the local cloud: a session of the function's role). */
  useIdentity(identity: FunctionIdentity): void {
    this.deps.identity = identity;
  }

  /** Lets the local cloud's fault rules reach invocations (see LambdaRegistryDeps.faults). */
  useFaults(faults: LambdaFaults, clock?: { scale(ms: number): number }): void {
    this.deps.faults = faults;
    if (clock) this.deps.clock = clock;
  }

  private async injectFault(fn: LocalFunction): Promise<void> {
    const fault = this.deps.faults?.check('lambda', 'Invoke', { FunctionName: fn.name, function: fn.key });
    if (!fault) return;
    const delay = this.deps.clock ? this.deps.clock.scale(fault.delayMs) : fault.delayMs;
    if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));
    const error = fault.error;
    if (!error) return;
    if (LAMBDA_SERVICE_ERRORS.has(error.code))
      throw new LambdaServiceError(error.code, error.message, error.status ?? 500);
    throw new LambdaFunctionError(error.code, error.message, [`${error.code}: ${error.message}`], fn.name);
  }

  private async loadHandler(fn: LocalFunction): Promise<LocalHandler> {
    if (fn.inline) return fn.inline;
    const file = ['.ts', '.mts', '.js', '.mjs']
      .map((ext) => fn.handlerModule + ext)
      .find((f) => existsSync(f));
    if (!file) {
      throw new LambdaFunctionError(
        'Runtime.ImportModuleError',
        `Error: Cannot find module '${fn.handlerModule}' (function ${fn.key})`,
        [],
        fn.name,
      );
    }
    let loading = this.modules.get(file);
    if (!loading) {
      loading = import(pathToFileURL(file).href) as Promise<Record<string, unknown>>;
      this.modules.set(file, loading);
      loading.catch(() => this.modules.delete(file));
    }
    let module: Record<string, unknown>;
    try {
      module = await loading;
    } catch (error) {
      const err = error as Error;
      throw new LambdaFunctionError(
        'Runtime.ImportModuleError',
        `Error: ${err.message}`,
        String(err.stack ?? '').split('\n'),
        fn.name,
      );
    }
    const handler = module[fn.handlerExport];
    if (typeof handler !== 'function') {
      throw new LambdaFunctionError(
        'Runtime.HandlerNotFound',
        `${fn.handlerModule.split('/').pop()}.${fn.handlerExport} is undefined or not exported`,
        [],
        fn.name,
      );
    }
    return handler as LocalHandler;
  }

  private runWithTimeout(fn: LocalFunction, requestId: string, handler: LocalHandler, event: unknown) {
    const deadline = Date.now() + fn.timeout * 1000;
    const arn = lambdaArn(this.project, fn.name);
    const logStreamName = `${new Date().toISOString().slice(0, 10).replace(/-/g, '/')}/[$LATEST]${requestId.replace(/-/g, '')}`;
    this.deps.identity?.invoked?.(fn, logStreamName);
    const context: Context = {
      callbackWaitsForEmptyEventLoop: true,
      functionName: fn.name,
      functionVersion: '$LATEST',
      invokedFunctionArn: arn,
      memoryLimitInMB: String(fn.memorySize),
      awsRequestId: requestId,
      logGroupName: `/aws/lambda/${fn.name}`,
      logStreamName,
      getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
      done: () => {},
      fail: () => {},
      succeed: () => {},
    };
    return new Promise<unknown>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      if (this.deps.enforceTimeouts !== false) {
        timer = setTimeout(() => {
          reject(
            new LambdaFunctionError(
              'Sandbox.Timedout',
              `RequestId: ${requestId} Error: Task timed out after ${fn.timeout.toFixed(2)} seconds`,
              [],
              fn.name,
            ),
          );
        }, fn.timeout * 1000);
        timer.unref?.();
      }
      const settle = (error: unknown, value?: unknown) => {
        clearTimeout(timer);
        if (error) reject(error);
        else resolve(value);
      };
      try {
        const returned = handler(event, context, (error, value) => settle(error, value));
        if (returned && typeof (returned as Promise<unknown>).then === 'function') {
          (returned as Promise<unknown>).then(
            (value) => settle(undefined, value),
            (error) => settle(error ?? new Error('Handler rejected')),
          );
        } else if (returned !== undefined) {
          settle(undefined, returned);
        }
      } catch (error) {
        settle(error ?? new Error('Handler threw'));
      }
    });
  }

  private resolveEnvironment(fn: ServerlessFunction): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [name, value] of Object.entries(fn.environment)) {
      const resolved = evaluateCfn(this.project, value);
      if (resolved !== undefined) out[name] = resolved;
    }
    return out;
  }
}

/** Converts anything a handler throws into Lambda's error payload (errorType = the error's name). */
export function toFunctionError(error: unknown, functionName: string): LambdaFunctionError {
  if (error instanceof LambdaFunctionError) return error;
  if (error instanceof Error) {
    const errorType = error.name || error.constructor?.name || 'Error';
    return new LambdaFunctionError(
      errorType,
      error.message,
      String(error.stack ?? '').split('\n'),
      functionName,
    );
  }
  return new LambdaFunctionError('Error', String(error), [], functionName);
}
