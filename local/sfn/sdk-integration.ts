/**
 * `arn:aws:states:::aws-sdk:<service>:<action>` tasks, run as real AWS SDK v3 calls against the
 * local cloud's endpoint (never AWS): `<service>` selects `@aws-sdk/client-<service>` and `<action>`
 * the `<Action>Command`. AWS's rules for SDK integrations
 * (https://docs.aws.amazon.com/step-functions/latest/dg/supported-services-awssdk.html):
 * - Parameters are written in PascalCase even where the API uses camelCase (e.g. Step Functions'
 *   own API); they are matched to the API's member names case-insensitively, using the model the
 *   SDK client embeds, and an unknown field is an error. Results come back in PascalCase.
 * - An error becomes `<Service>.<ErrorName>` with both parts in PascalCase and the error name
 *   always ending in `Exception` (`S3.NoSuchKeyException`, `Fsx.FileSystemNotFoundException`);
 *   errors the service model does not declare (all of EC2's, throttling) are `<Service>.<Service>Exception`
 *   (`Ec2.Ec2Exception`). The cause is `<message> (Service: <Service>, Status Code: <n>, Request ID: <id>)`.
 */
import { createRequire } from 'node:module';
import { NormalizedSchema } from '@smithy/core/schema';

/** Services whose npm package or PascalCase error prefix is not derived from the resource name. */
const PACKAGES: Record<string, string> = {
  cloudwatchlogs: 'client-cloudwatch-logs',
  apigateway: 'client-api-gateway',
};
const PASCAL_NAMES: Record<string, string> = {
  acmpca: 'AcmPca',
  cloudwatch: 'CloudWatch',
  cloudwatchlogs: 'CloudWatchLogs',
  dynamodb: 'DynamoDb',
  ec2: 'Ec2',
  eventbridge: 'EventBridge',
  fsx: 'Fsx',
  iam: 'Iam',
  lambda: 'Lambda',
  s3: 'S3',
  sfn: 'Sfn',
  sns: 'Sns',
  sqs: 'Sqs',
  ssm: 'Ssm',
  sts: 'Sts',
};

export function packageFor(service: string): string {
  return `@aws-sdk/${PACKAGES[service] ?? `client-${service}`}`;
}

/** `ec2` -> `Ec2`, `eventbridge` -> `EventBridge` (the prefix of SDK integration error names). */
export function pascalService(service: string): string {
  return PASCAL_NAMES[service] ?? service.charAt(0).toUpperCase() + service.slice(1);
}

/** True when the SDK package for a service is installed (checked when a definition is loaded). */
export function sdkPackageInstalled(service: string): boolean {
  try {
    createRequire(import.meta.url).resolve(packageFor(service));
    return true;
  } catch {
    return false;
  }
}

/** An error of an SDK integration task, named as Step Functions names it. */
export class SdkTaskError extends Error {
  constructor(name: string, cause: string) {
    super(cause);
    this.name = name;
  }
}

type ServiceExceptionClass = abstract new (...args: never[]) => Error;

interface ServiceModule {
  module: Record<string, unknown>;
  client: { send(command: unknown): Promise<unknown>; destroy(): void };
  serviceException?: ServiceExceptionClass;
}

/** Who an SDK integration signs as (the state machine's role); the local administrator when absent. */
export interface SdkCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

const ADMIN: SdkCredentials = { accessKeyId: 'test', secretAccessKey: 'test' };

export interface SdkIntegrationOptions {
  region: string;
  /** The local cloud's endpoint; undefined means not known yet (the call then fails). */
  endpoint: () => string | undefined;
}

export class SdkIntegration {
  private readonly services = new Map<string, Promise<ServiceModule>>();

  constructor(private readonly options: SdkIntegrationOptions) {}

  /**
   * Calls `<service>:<action>` with ASL (PascalCase) parameters.
   * @returns the result with PascalCase member names, timestamps as ISO strings.
   * @throws SdkTaskError named `<Service>.<Error>Exception`.
   */
  async call(
    service: string,
    action: string,
    parameters: unknown,
    credentials: SdkCredentials = ADMIN,
  ): Promise<unknown> {
    const svc = pascalService(service);
    const loaded = await this.load(service, credentials);
    const commandName = `${action.charAt(0).toUpperCase()}${action.slice(1)}Command`;
    const Command = loaded.module[commandName] as
      | (new (
          input: unknown,
        ) => { schema?: unknown[] })
      | undefined;
    if (typeof Command !== 'function') {
      throw new SdkTaskError(
        'States.Runtime',
        `The AWS SDK for ${service} has no action ${action} (${commandName})`,
      );
    }
    const probe = new Command({});
    const [inputSchema, outputSchema] = operationSchemas(probe.schema);
    let input: unknown;
    try {
      input = inputSchema ? toSdk(inputSchema, parameters ?? {}, '') : (parameters ?? {});
    } catch (error) {
      throw new SdkTaskError('States.Runtime', `${service}:${action}: ${(error as Error).message}`);
    }
    let output: Record<string, unknown>;
    try {
      output = (await loaded.client.send(new Command(input))) as Record<string, unknown>;
    } catch (error) {
      throw this.taskError(svc, loaded, error);
    }
    const { $metadata: _metadata, ...rest } = output ?? {};
    for (const [key, value] of Object.entries(rest)) {
      const stream = value as { transformToString?: () => Promise<string> } | undefined;
      if (stream && typeof stream.transformToString === 'function')
        rest[key] = await stream.transformToString();
    }
    return outputSchema ? fromSdk(outputSchema, rest) : rest;
  }

  close(): void {
    for (const loading of this.services.values()) {
      loading.then((service) => service.client.destroy()).catch(() => {});
    }
    this.services.clear();
  }

  private taskError(svc: string, loaded: ServiceModule, error: unknown): SdkTaskError {
    const err = error as Error & {
      $metadata?: { httpStatusCode?: number; requestId?: string };
      $fault?: string;
    };
    if (!err || typeof err !== 'object' || (!err.$metadata && !err.$fault)) {
      return new SdkTaskError(
        `${svc}.SdkClientException`,
        `Unable to execute HTTP request: ${String(err?.message ?? err)}`,
      );
    }
    const exported = loaded.module[err.name] as ServiceExceptionClass | undefined;
    const modeled =
      typeof exported === 'function' &&
      exported !== loaded.serviceException &&
      loaded.serviceException !== undefined &&
      exported.prototype instanceof loaded.serviceException;
    const name = modeled
      ? `${svc}.${err.name.endsWith('Exception') ? err.name : `${err.name}Exception`}`
      : `${svc}.${svc}Exception`;
    const cause = `${err.message} (Service: ${svc}, Status Code: ${err.$metadata?.httpStatusCode ?? 400}, Request ID: ${err.$metadata?.requestId ?? 'local'})`;
    return new SdkTaskError(name, cause);
  }

  /** One client per service and signer. */
  private load(service: string, credentials: SdkCredentials): Promise<ServiceModule> {
    const key = `${service} ${credentials.accessKeyId}`;
    let loading = this.services.get(key);
    if (!loading) {
      loading = this.create(service, credentials);
      this.services.set(key, loading);
      loading.catch(() => this.services.delete(key));
    }
    return loading;
  }

  private async create(service: string, credentials: SdkCredentials): Promise<ServiceModule> {
    const endpoint = this.options.endpoint();
    if (!endpoint) {
      throw new SdkTaskError(
        'States.Runtime',
        `No local cloud endpoint for ${service}: the local Step Functions emulator never calls AWS`,
      );
    }
    let module: Record<string, unknown>;
    try {
      module = (await import(packageFor(service))) as Record<string, unknown>;
    } catch {
      throw new SdkTaskError('States.Runtime', `AWS SDK package ${packageFor(service)} is not installed`);
    }
    const clientName = Object.keys(module).find((key) => key.endsWith('Client') && key !== '__Client');
    const serviceExceptionName = Object.keys(module).find((key) => key.endsWith('ServiceException'));
    const Client = module[clientName ?? ''] as new (config: unknown) => ServiceModule['client'];
    const client = new Client({
      region: this.options.region,
      endpoint,
      credentials,
      // Step Functions does not retry SDK calls; the state's Retry does.
      maxAttempts: 1,
      ...(service === 's3'
        ? {
            forcePathStyle: true,
            requestChecksumCalculation: 'WHEN_REQUIRED',
            responseChecksumValidation: 'WHEN_REQUIRED',
          }
        : {}),
    });
    return {
      module,
      client,
      serviceException: serviceExceptionName
        ? (module[serviceExceptionName] as ServiceExceptionClass)
        : undefined,
    };
  }
}

function operationSchemas(schema: unknown): [NormalizedSchema | undefined, NormalizedSchema | undefined] {
  if (!Array.isArray(schema) || schema.length < 6) return [undefined, undefined];
  try {
    return [NormalizedSchema.of(schema[4] as never), NormalizedSchema.of(schema[5] as never)];
  } catch {
    return [undefined, undefined];
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value) && !(value instanceof Date);
}

/** ASL parameters (PascalCase) -> SDK input (the model's member names). */
export function toSdk(schema: NormalizedSchema, value: unknown, path: string): unknown {
  if (value === null || value === undefined) return value;
  if (schema.isStructSchema() && isPlainObject(value)) {
    const members = new Map<string, [string, NormalizedSchema]>();
    for (const [name, member] of schema.structIterator()) members.set(name.toLowerCase(), [name, member]);
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      // AWS renames API fields called `Equals` to `EqualsValue` in state machines.
      const found =
        members.get(key.toLowerCase()) ?? (key === 'EqualsValue' ? members.get('equals') : undefined);
      if (!found)
        throw new Error(`The field "${path ? `${path}.` : ''}${key}" is not supported by Step Functions`);
      out[found[0]] = toSdk(found[1], item, path ? `${path}.${key}` : key);
    }
    return out;
  }
  if (schema.isListSchema() && Array.isArray(value)) {
    return value.map((item, index) => toSdk(schema.getValueSchema(), item, `${path}[${index}]`));
  }
  if (schema.isMapSchema() && isPlainObject(value)) {
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [
        key,
        toSdk(schema.getValueSchema(), item, `${path}.${key}`),
      ]),
    );
  }
  if (schema.isTimestampSchema()) {
    if (typeof value === 'string') return new Date(value);
    if (typeof value === 'number') return new Date(value * 1000);
  }
  return value;
}

/** SDK output -> Step Functions result: PascalCase member names, ISO timestamps, blobs as text. */
export function fromSdk(schema: NormalizedSchema, value: unknown): unknown {
  if (value === null || value === undefined) return value;
  if (value instanceof Date) return value.toISOString();
  if (value instanceof Uint8Array) return Buffer.from(value).toString('utf8');
  if (schema.isStructSchema() && isPlainObject(value)) {
    const members = new Map<string, NormalizedSchema>();
    for (const [name, member] of schema.structIterator()) members.set(name, member);
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      if (item === undefined) continue;
      const member = members.get(key);
      out[key.charAt(0).toUpperCase() + key.slice(1)] = member ? fromSdk(member, item) : plain(item);
    }
    return out;
  }
  if (schema.isListSchema() && Array.isArray(value))
    return value.map((item) => fromSdk(schema.getValueSchema(), item));
  if (schema.isMapSchema() && isPlainObject(value)) {
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [key, fromSdk(schema.getValueSchema(), item)]),
    );
  }
  return plain(value);
}

function plain(value: unknown): unknown {
  return JSON.parse(
    JSON.stringify(value, (_key, item) =>
      item instanceof Uint8Array ? Buffer.from(item).toString('utf8') : item,
    ),
  );
}
