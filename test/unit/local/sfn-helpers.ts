/**
 * Builders for the Step Functions emulator tests: the fixture project (test/fixtures/local-project:
 * serverless.yml, fixture handlers, fixture state machines), a fast clock, and small helpers to call
 * operations, expect AWS errors and wait for executions.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { expect } from 'vitest';
import { ScaledClock } from '../../../local/clock.js';
import type { FaultInjector } from '../../../local/faults.js';
import { LambdaRegistry } from '../../../local/lambda.js';
import { toAwsJson } from '../../../local/protocols/json.js';
import type { HistoryEvent } from '../../../local/sfn/history.js';
import { StepFunctionsEmulator } from '../../../local/sfn/service.js';
import { LocalAwsError, type LocalEvent, type RequestContext } from '../../../local/types.js';

export const FIXTURE = resolve(import.meta.dirname, '../../fixtures/local-project');
export const ACCOUNT = '000000000000';
export const REGION = 'us-east-1';
export const ctx: RequestContext = { accountId: ACCOUNT, region: REGION, service: 'states' };

export interface SfnHarness {
  clock: ScaledClock;
  lambdas: LambdaRegistry;
  sfn: StepFunctionsEmulator;
  /** Events the emulator emitted (EventBridge status changes). */
  events: LocalEvent[];
  machineArn(file: string): string;
}

export function sfnHarness(
  options: { timeScale?: number; substitutions?: Record<string, string>; faults?: FaultInjector } = {},
): SfnHarness {
  const clock = new ScaledClock(options.timeScale ?? 0.001);
  const lambdas = new LambdaRegistry({ rootDir: FIXTURE });
  const events: LocalEvent[] = [];
  const sfn = new StepFunctionsEmulator({
    clock,
    accountId: ACCOUNT,
    region: REGION,
    emit: (event) => events.push(event),
    lambdas,
    stateMachinesDir: join(FIXTURE, 'statemachines'),
    substitutions: options.substitutions ?? {},
    ...(options.faults ? { faults: options.faults } : {}),
  });
  const machineArn = (file: string) =>
    `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:fixture-local-${file}`;
  return { clock, lambdas, sfn, events, machineArn };
}

export function call<T = Record<string, unknown>>(
  sfn: StepFunctionsEmulator,
  operation: string,
  input: Record<string, unknown>,
): Promise<T> {
  return sfn.handle(operation, input, ctx) as Promise<T>;
}

/** Expects `promise` to reject with a LocalAwsError of `code`; returns its message. */
export async function awsError(promise: Promise<unknown>, code: string): Promise<string> {
  const error = await promise.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(error, `expected ${code}`).toBeInstanceOf(LocalAwsError);
  expect((error as LocalAwsError).code).toBe(code);
  return (error as LocalAwsError).message;
}

export async function start(
  h: SfnHarness,
  file: string,
  input: unknown = {},
  name?: string,
): Promise<string> {
  const out = await call<{ executionArn: string }>(h.sfn, 'StartExecution', {
    stateMachineArn: h.machineArn(file),
    input: JSON.stringify(input),
    ...(name ? { name } : {}),
  });
  return out.executionArn;
}

export async function finished(h: SfnHarness, executionArn: string) {
  await h.sfn.waitForExecution(executionArn);
  return call<Record<string, any>>(h.sfn, 'DescribeExecution', { executionArn });
}

export async function history(h: SfnHarness, executionArn: string): Promise<HistoryEvent[]> {
  const out = await call<{ events: HistoryEvent[] }>(h.sfn, 'GetExecutionHistory', {
    executionArn,
    maxResults: 1000,
  });
  return out.events;
}

export const types = (events: HistoryEvent[]) => events.map((event) => event.type);

export async function waitFor<T>(
  probe: () => T | undefined | Promise<T | undefined>,
  ms = 5000,
  what = 'condition',
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/**
 * A minimal AWS endpoint for aws-sdk task tests: SSM GetParameter (JSON 1.1, one parameter), EC2
 * (query protocol; every action fails with InvalidInstanceID.NotFound) and Step Functions (the
 * emulator under test).
 */
export async function fakeAwsEndpoint(
  sfn: StepFunctionsEmulator,
): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => {
      body += chunk;
    });
    req.on('end', async () => {
      const target = String(req.headers['x-amz-target'] ?? '');
      const json = (status: number, value: unknown) => {
        res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' });
        res.end(typeof value === 'string' ? value : toAwsJson(value));
      };
      if (target === 'AmazonSSM.GetParameter') {
        const input = JSON.parse(body);
        if (input.Name !== '/fixture/present') {
          return json(400, { __type: 'ParameterNotFound', message: `Parameter ${input.Name} not found.` });
        }
        return json(200, {
          Parameter: {
            Name: input.Name,
            Type: 'String',
            Value: 'v1',
            Version: 3,
            LastModifiedDate: new Date(0),
          },
        });
      }
      if (target.startsWith('AWSStepFunctions.')) {
        try {
          return json(200, await sfn.handle(target.split('.')[1]!, JSON.parse(body || '{}'), ctx));
        } catch (error) {
          const err = error as LocalAwsError;
          return json(400, { __type: err.code, message: err.message });
        }
      }
      if (body.includes('Action=')) {
        res.writeHead(400, { 'content-type': 'text/xml' });
        return res.end(
          '<Response><Errors><Error><Code>InvalidInstanceID.NotFound</Code><Message>The instance ID i-0 does not exist</Message></Error></Errors><RequestID>req-1</RequestID></Response>',
        );
      }
      json(400, { __type: 'UnknownOperationException', message: target });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
