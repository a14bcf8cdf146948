/**
 * Contracts between the local cloud's router and its service emulators. The router owns the
 * wire protocols (JSON 1.0/1.1, query/XML, S3 REST); an emulator sees an operation name and a
 * plain input object and returns a plain output object, or throws LocalAwsError.
 */

/** An AWS-shaped error: `code` becomes `__type` (JSON) or `<Code>` (query/XML). */
export class LocalAwsError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
    this.name = code;
  }
}

export interface RequestContext {
  accountId: string;
  region: string;
  /** Signing name from the SigV4 credential scope, e.g. 'fsx', 'ec2', 'states'. */
  service: string;
}

/** A JSON-protocol service (FSx, SSM, Step Functions): dispatch by X-Amz-Target operation. */
export interface JsonService {
  /** X-Amz-Target prefix, e.g. 'AWSSimbaAPIService_v20180301'. */
  readonly targetPrefix: string;
  /** '1.0' or '1.1' (the Content-Type application/x-amz-json-<version>). */
  readonly jsonVersion: '1.0' | '1.1';
  handle(operation: string, input: Record<string, unknown>, ctx: RequestContext): Promise<unknown>;
}

/** A query-protocol service (EC2, STS): params are the decoded form fields; returns response XML. */
export interface QueryService {
  /** SigV4 signing name: 'ec2' or 'sts'. */
  readonly signingName: string;
  readonly actions: ReadonlySet<string>;
  handle(action: string, params: Record<string, string>, ctx: RequestContext): Promise<string>;
}

/** Scaled time: tests run boot delays and waits faster than real time. */
export interface Clock {
  /** Real milliseconds for `ms` simulated milliseconds. */
  scale(ms: number): number;
  sleep(ms: number): Promise<void>;
  now(): Date;
}

/** An EventBridge-shaped event emitted inside the local cloud. */
export interface LocalEvent {
  source: string;
  'detail-type': string;
  detail: Record<string, unknown>;
  resources?: string[];
}
