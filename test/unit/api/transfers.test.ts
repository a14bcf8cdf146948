/**
 * The transfers API through its real handlers (middy, problem documents) with sample API Gateway
 * events from events/api/, a real DynamoDB (dynalite) and a mocked Step Functions client.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DescribeDataRepositoryTasksCommand, FSxClient } from '@aws-sdk/client-fsx';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import {
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  SFNClient,
  StartExecutionCommand,
  StopExecutionCommand,
} from '@aws-sdk/client-sfn';
import type { APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { handler as cancelHandler } from '../../../functions/api-cancel-transfer/handler.js';
import { handler as getHandler } from '../../../functions/api-get-transfer/handler.js';
import { handler as listHandler } from '../../../functions/api-list-transfers/handler.js';
import { handler as startHandler } from '../../../functions/api-start-transfer/handler.js';
import { resetClients } from '../../../shared/aws/clients.js';
import { resetConfig } from '../../../shared/config/load.js';
import { startTestTable, type TestTable } from '../../support/transfers-table.js';
import { historyOf, T0 } from '../cost/history.js';
import { awsError } from '../ec2/builders.js';
import { STATE_MACHINE_ARN } from '../transfers/builders.js';

const EVENTS = join(import.meta.dirname, '..', '..', '..', 'events', 'api');
const SAMPLE = JSON.parse(readFileSync(join(EVENTS, 'post-transfers.json'), 'utf8'));
const sfnMock = mockClient(SFNClient);
const s3Mock = mockClient(S3Client);
const fsxMock = mockClient(FSxClient);
let table: TestTable;
let saved: NodeJS.ProcessEnv;

const context = {
  awsRequestId: 'req-1',
  functionName: 'api',
  getRemainingTimeInMillis: () => 29_000,
} as Context;

type Handler = (event: never, context: Context) => Promise<unknown>;
async function call(handler: Handler, overrides: Record<string, unknown>) {
  const event = { ...SAMPLE, ...overrides, headers: { ...SAMPLE.headers, ...(overrides.headers as object) } };
  const response = (await handler(event as never, context)) as APIGatewayProxyStructuredResultV2;
  return { ...response, json: JSON.parse(String(response.body)) };
}
const post = (body: unknown, headers: Record<string, string> = {}) =>
  call(startHandler as Handler, { body: typeof body === 'string' ? body : JSON.stringify(body), headers });
const get = (id: string) =>
  call(getHandler as Handler, { routeKey: 'GET /transfers/{id}', body: undefined, pathParameters: { id } });
const list = (query: Record<string, string>) =>
  call(listHandler as Handler, { routeKey: 'GET /transfers', body: undefined, queryStringParameters: query });
const cancel = (id: string) =>
  call(cancelHandler as Handler, {
    routeKey: 'DELETE /transfers/{id}',
    body: undefined,
    pathParameters: { id },
  });

beforeAll(async () => {
  table = await startTestTable();
  saved = { ...process.env };
  const endpoint = table.db.config.endpoint as () => Promise<{
    hostname: string;
    port?: number;
    protocol: string;
  }>;
  const url = await endpoint();
  Object.assign(process.env, {
    AWS_ENDPOINT_URL_DYNAMODB: `${url.protocol}//${url.hostname}:${url.port}`,
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    AWS_REGION: 'us-east-1',
    TRANSFERS_TABLE: table.table,
    TRANSFER_STATE_MACHINE_ARN: STATE_MACHINE_ARN,
    FSX_TRANSFER_CONFIG: join(import.meta.dirname, '..', '..', '..', 'fsx-transfer.config.yaml'),
  });
  resetClients();
  resetConfig();
});
afterAll(async () => {
  process.env = saved;
  resetClients();
  resetConfig();
  await table.stop();
});
beforeEach(() => {
  sfnMock.reset();
  s3Mock.reset();
  fsxMock.reset();
  sfnMock.on(StartExecutionCommand).callsFake((input) => ({
    executionArn: `${STATE_MACHINE_ARN.replace(':stateMachine:', ':execution:')}:${input.name}`,
    startDate: new Date(),
  }));
  sfnMock.on(DescribeExecutionCommand).callsFake((input) => ({
    executionArn: input.executionArn,
    name: input.executionArn.split(':').pop(),
    status: 'RUNNING',
    startDate: new Date(),
    input: '{}',
  }));
  sfnMock.on(GetExecutionHistoryCommand).resolves({
    events: [
      {
        id: 3,
        type: 'TaskStateEntered',
        timestamp: new Date(),
        stateEnteredEventDetails: { name: 'WaitForTurn' },
      },
    ],
  });
});

const starts = () => sfnMock.commandCalls(StartExecutionCommand).map((c) => c.args[0].input);

describe('POST /transfers', () => {
  it('answers 202 with id, status and links and a Location header, and starts the run with trigger api', async () => {
    const response = await post({ mapping: 'output', direction: 'export', subPath: 'run-1' });

    expect(response.statusCode).toBe(202);
    expect(response.json).toMatchObject({
      id: expect.any(String),
      status: 'QUEUED',
      mapping: 'output',
      trigger: 'api',
    });
    expect(response.headers?.location).toBe(`/transfers/${response.json.id}`);
    expect(response.json.links).toMatchObject({ self: `/transfers/${response.json.id}` });
    expect(JSON.parse(starts()[0]!.input!)).toEqual({
      mapping: 'output',
      direction: 'export',
      subPath: 'run-1',
      trigger: 'api',
      transferId: response.json.id,
    });
  });

  it.each([
    [{ mapping: 'nope', direction: 'export' }, 'mapping'],
    [{ mapping: 'output', direction: 'export', subPath: '../etc' }, 'subPath'],
    [{ mapping: 'output', direction: 'export', subPath: 'a;rm -rf /' }, 'subPath'],
    [{ mapping: 'output', direction: 'export', subPath: '$(whoami)' }, 'subPath'],
    [{ mapping: 'output', direction: 'stage-in' }, 'direction'],
    [{ mapping: 'output', direction: 'export', colour: 'red' }, 'colour'],
    [{ mapping: 'output', direction: 'export', trigger: 's3-event' }, 'trigger'],
    ['not json', 'body'],
  ])('refuses %j with 400 naming %s, and starts nothing', async (body, field) => {
    const response = await post(body);

    expect(response.statusCode).toBe(400);
    expect(response.headers?.['content-type']).toBe('application/problem+json');
    expect(response.json).toMatchObject({ type: 'urn:fsx-transfer:problem:invalid-request', status: 400 });
    expect(response.json.errors.map((e: { field: string }) => e.field)).toContain(field);
    expect(starts()).toEqual([]);
  });

  it('returns the same transfer for a repeated Idempotency-Key, and 409 for the same key with another body', async () => {
    const headers = { 'idempotency-key': 'model-run-42-export' };
    const first = await post({ mapping: 'output', direction: 'export' }, headers);
    const again = await post({ mapping: 'output', direction: 'export' }, headers);
    const other = await post({ mapping: 'output', direction: 'export', subPath: 'other' }, headers);

    expect(again.statusCode).toBe(202);
    expect(again.json.id).toBe(first.json.id);
    expect(new Set(starts().map((s) => s.name))).toEqual(new Set([first.json.id]));
    expect(other.statusCode).toBe(409);
    expect(other.json.type).toBe('urn:fsx-transfer:problem:conflict');
  });

  it('answers 429 when Step Functions throttles, and a retry with the same key then starts the run', async () => {
    sfnMock
      .on(StartExecutionCommand)
      .rejectsOnce(awsError('ThrottlingException'))
      .callsFake((input) => ({
        executionArn: `arn:aws:states:us-east-1:000000000000:execution:x:${input.name}`,
        startDate: new Date(),
      }));
    const headers = { 'idempotency-key': 'throttled-once' };

    const first = await post({ mapping: 'output', direction: 'export' }, headers);
    const retry = await post({ mapping: 'output', direction: 'export' }, headers);

    expect(first.statusCode).toBe(429);
    expect(first.headers?.['retry-after']).toBeDefined();
    expect(retry.statusCode).toBe(202);
  });
});

describe('GET /transfers/{id} and GET /transfers', () => {
  it('shows a transfer with its status, current state and links; 404 for an unknown id, 400 for a bad one', async () => {
    const { json: created } = await post({ mapping: 'output', direction: 'export' });

    const found = await get(created.id);
    sfnMock.on(DescribeExecutionCommand).rejects(awsError('ExecutionDoesNotExist'));
    const missing = await get('no-such-transfer');
    const bad = await get('bad id!');

    expect(found.statusCode).toBe(200);
    expect(found.json).toMatchObject({ id: created.id, status: 'QUEUED', currentState: 'WaitForTurn' });
    expect(missing.statusCode).toBe(404);
    expect(missing.json.type).toBe('urn:fsx-transfer:problem:not-found');
    expect(bad.statusCode).toBe(400);
  });

  it('shows the live progress of a running EC2 sync, its rate and time left, and the cost so far', async () => {
    const { json: created } = await post({ mapping: 'output', direction: 'export' });
    const launchedAt = new Date(Date.now() - 300_000).toISOString();
    sfnMock.on(GetExecutionHistoryCommand).resolves({
      events: historyOf([
        {
          exit: 'LaunchInstance',
          at: 0,
          output: { ec2: { instance: { instanceId: 'i-1', instanceType: 'c6i.large', launchedAt } } },
        },
        {
          enter: 'RunTransferCommand',
          at: 1,
          input: { plan: { method: 'ec2', direction: 'export', scope: { bucket: 'demo' } } },
        },
      ]),
    });
    const body = JSON.stringify({
      version: 1,
      phase: 'syncing',
      files: 1,
      deleted: 0,
      completed: '2.0 MiB/3.0 MiB (1.0 MiB/s) with 1 file(s) remaining',
      elapsedSeconds: 2,
    });
    s3Mock
      .on(GetObjectCommand, { Bucket: 'demo', Key: `.fsx-transfer/progress/${created.id}.json` })
      .resolves({ Body: { transformToString: async () => body } as never, LastModified: new Date(T0) });

    const { json } = await get(created.id);

    expect(json.currentState).toBe('RunTransferCommand');
    expect(json.progress).toMatchObject({
      source: 'sync',
      phase: 'syncing',
      files: 1,
      totalFiles: 2,
      bytes: 2 * 1024 ** 2,
      totalBytes: 3 * 1024 ** 2,
      bytesPerSecond: 1024 ** 2,
      etaSeconds: 1,
      updatedAt: new Date(T0).toISOString(),
    });
    expect(json.cost).toMatchObject({
      final: false,
      instances: [{ instanceId: 'i-1', instanceType: 'c6i.large' }],
    });
    expect(json.cost.instances[0].seconds).toBeGreaterThanOrEqual(300);
  });

  it('shows how far a failed EC2 run got, from its last published progress', async () => {
    const { json: created } = await post({ mapping: 'output', direction: 'export' });
    sfnMock.on(DescribeExecutionCommand).callsFake((input) => ({
      executionArn: input.executionArn,
      name: input.executionArn.split(':').pop(),
      status: 'FAILED',
      startDate: new Date(T0),
      stopDate: new Date(T0 + 60_000),
      error: 'CommandFailedError',
      cause: 'aws s3 sync exited with 1',
      input: '{}',
    }));
    sfnMock.on(GetExecutionHistoryCommand).resolves({
      events: historyOf([
        { enter: 'RunTransferCommand', at: 1, input: { plan: { method: 'ec2', scope: { bucket: 'demo' } } } },
      ]),
    });
    const body = JSON.stringify({
      version: 1,
      phase: 'failed',
      files: 3,
      deleted: 0,
      completed: '3.0 MiB/9.0 MiB (1.0 MiB/s) with 6 file(s) remaining',
      elapsedSeconds: 3,
    });
    s3Mock.on(GetObjectCommand).resolves({ Body: { transformToString: async () => body } as never });

    const { json } = await get(created.id);

    expect(json).toMatchObject({ status: 'FAILED', error: 'CommandFailedError' });
    expect(json.progress).toMatchObject({ source: 'sync', phase: 'failed', files: 3, totalFiles: 9 });
    expect(json.progress).toMatchObject({ bytesPerSecond: null, etaSeconds: null });
    expect(json.cost).toMatchObject({ final: true });
  });

  it("shows a DRA run's data repository task counts", async () => {
    const { json: created } = await post({ mapping: 'output', direction: 'export' });
    sfnMock.on(GetExecutionHistoryCommand).resolves({
      events: historyOf([
        {
          enter: 'WaitForExportTask',
          at: 0,
          input: {
            plan: { method: 'dra', scope: { bucket: 'demo' } },
            dra: { task: { taskId: 'task-0123456789abcdef0' } },
          },
        },
      ]),
    });
    fsxMock.on(DescribeDataRepositoryTasksCommand, { TaskIds: ['task-0123456789abcdef0'] }).resolves({
      DataRepositoryTasks: [
        {
          TaskId: 'task-0123456789abcdef0',
          Type: 'EXPORT_TO_REPOSITORY',
          Lifecycle: 'EXECUTING',
          CreationTime: new Date(),
          StartTime: new Date(Date.now() - 10_000),
          Status: { TotalCount: 100, SucceededCount: 40, FailedCount: 1, LastUpdatedTime: new Date(T0) },
        },
      ],
    });

    const { json } = await get(created.id);

    expect(json.progress).toMatchObject({
      source: 'data-repository-task',
      phase: 'EXECUTING',
      files: 40,
      totalFiles: 100,
      failedFiles: 1,
      bytes: null,
    });
    expect(json.progress.filesPerSecond).toBeCloseTo(4.1, 0);
    expect(json.progress.etaSeconds).toBeGreaterThan(0);
  });

  it('lists newest first, page by page with nextToken, filtered by mapping and status', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++)
      ids.push((await post({ mapping: 'output', direction: 'export', subPath: `p-${i}` })).json.id);

    const pages: string[][] = [];
    let token: string | undefined;
    do {
      const page = await list({ mapping: 'output', limit: '2', ...(token ? { nextToken: token } : {}) });
      expect(page.statusCode).toBe(200);
      pages.push(page.json.transfers.map((t: { id: string }) => t.id));
      token = page.json.nextToken ?? undefined;
    } while (token);

    const seen = pages.flat();
    expect(seen.slice(0, 5)).toEqual([...ids].reverse());
    expect(pages[0]).toHaveLength(2);
    expect((await list({ status: 'SUCCEEDED' })).json.transfers).toEqual([]);
    expect((await list({ nextToken: 'garbage' })).statusCode).toBe(400);
    expect((await list({ status: 'DONE' })).statusCode).toBe(400);
    expect((await list({ mapping: 'nope' })).statusCode).toBe(400);
  });
});

describe('DELETE /transfers/{id}', () => {
  it('stops a running transfer and answers 202; a transfer that ended is a 409', async () => {
    const { json: created } = await post({ mapping: 'output', direction: 'export' });

    const response = await cancel(created.id);

    expect(response.statusCode).toBe(202);
    expect(sfnMock.commandCalls(StopExecutionCommand)[0]?.args[0].input).toMatchObject({
      executionArn: created.links.execution,
      error: 'Cancelled',
    });
    sfnMock
      .on(DescribeExecutionCommand)
      .resolves({ status: 'ABORTED', name: created.id, startDate: new Date() });
    expect((await cancel(created.id)).statusCode).toBe(409);
  });
});
