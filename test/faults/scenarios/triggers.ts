/**
 * The triggers under faults: S3 events (rule -> SQS -> s3-event-trigger, settling), the transfers
 * API, the per-mapping gate when its conditional writes race, and the end of every run
 * (finish-transfer: completion events, the reconciler).
 */
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { getS3 } from '../../../shared/aws/clients.js';
import type { TransferRequest } from '../../../shared/config/schema.js';
import { eventually, instancesOf, statesEntered } from '../../e2e/ec2-helpers.js';
import { api, eventRuns, turnWindow } from '../../e2e/trigger-runs.js';
import { localClients } from '../../support/local-clients.js';
import { BUCKET, FS_ID, type Outcome, outcomeOf, type Scenario, type ScenarioContext } from '../harness.js';
import { crash, rules } from './builders.js';

export const TRIGGERS_CONFIG = `version: 1
region: us-east-1
accountId: '000000000000'
fileSystems:
  - id: ${FS_ID}
    mountPoint: /fsx
    subnetIds: [subnet-00000000000000001]
    securityGroupIds: [sg-00000000000000001]
    lustreClientInstanceId: i-0c11e47000000000b
mappings:
  # DRA with preload: new objects start runs (auto-import alone would not), which restore them on the client.
  - {name: staged, fileSystemId: ${FS_ID}, fsxPath: /staged, s3Uri: 's3://${BUCKET}/staged', directions: [stage-in], method: dra, preload: true, autoStage: true}
  - {name: api-out, fileSystemId: ${FS_ID}, fsxPath: /api-out, s3Uri: 's3://${BUCKET}/api-out', directions: [export], method: dra}
  - {name: api-in, fileSystemId: ${FS_ID}, fsxPath: /api-in, s3Uri: 's3://${BUCKET}/api-in', directions: [stage-in], method: ec2}
defaults:
  autoStage: {quietSeconds: 5, maxSettleMinutes: 5}
`;

const STAGED: TransferRequest = { mapping: 'staged', direction: 'stage-in' };
const API_OUT: TransferRequest = { mapping: 'api-out', direction: 'export' };
const API_IN: TransferRequest = { mapping: 'api-in', direction: 'stage-in' };
const S3_EVENTS_QUEUE = 'fsx-transfer-local-s3-events';

let uploads = 0;

/** Uploads a new object under the staged mapping; its events start (or join) a run. */
async function upload(ctx: ScenarioContext): Promise<void> {
  uploads += 1;
  const key = `staged/upload-${uploads}.nc`;
  await getS3().send(
    new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: `upload ${uploads} ${Date.now()}` }),
  );
  ctx.written.push(`s3://${BUCKET}/${key}`);
}

/** The S3-event runs of the staged mapping that did not exist before. */
async function newEventRuns(ctx: ScenarioContext, before: Set<string>) {
  return (await eventRuns(ctx.world, 'staged')).filter((run) => !before.has(run.executionArn!));
}

/**
 * Uploads an object and returns the outcome of the one run its events started; fails when they
 * start none (within `withinMs`) or more than one.
 */
async function stagedByUpload(ctx: ScenarioContext, withinMs = 60_000): Promise<Outcome> {
  const before = new Set((await eventRuns(ctx.world, 'staged')).map((run) => run.executionArn!));
  await upload(ctx);
  await eventually(
    async () => (await newEventRuns(ctx, before)).length > 0,
    'an S3-event run starts',
    withinMs,
  );
  const [run] = await newEventRuns(ctx, before);
  const outcome = await outcomeOf(run!.executionArn!, 90_000);
  await ctx.world.cloud.idle();
  const started = await newEventRuns(ctx, before);
  if (started.length !== 1) throw new Error(`one upload started ${started.length} runs`);
  return outcome;
}

export const TRIGGER_SCENARIOS: Scenario[] = [
  {
    state: 's3-event-trigger',
    fault: 'sqs-redelivery',
    what: 'the trigger crashes on the first delivery; SQS delivers the batch again',
    expect: 'SUCCEEDED',
    request: STAGED,
    freshSourceFile: false,
    inject: rules({ ...crash('s3-event-trigger'), count: 1 }),
    act: (ctx) => stagedByUpload(ctx),
  },
  {
    state: 's3-event-trigger',
    fault: 'sqs-redelivery',
    what: 'SQS delivers the same S3 event twice',
    expect: 'SUCCEEDED',
    request: STAGED,
    freshSourceFile: false,
    inject: () => {},
    act: async (ctx) => {
      const outcome = await stagedByUpload(ctx);
      const event = ctx.world.cloud.eventLog.findLast((e) => e.source === 'aws.s3');
      const before = new Set((await eventRuns(ctx.world, 'staged')).map((run) => run.executionArn!));
      const sqs = localClients(ctx.world.cloud.endpoint).sqs();
      await sqs.send(
        new SendMessageCommand({
          QueueUrl: `${ctx.world.cloud.endpoint}/000000000000/${S3_EVENTS_QUEUE}`,
          MessageBody: JSON.stringify(event),
        }),
      );
      sqs.destroy();
      await ctx.world.cloud.idle();
      const again = await newEventRuns(ctx, before);
      if (again.length !== 0) throw new Error(`the redelivered event started ${again.length} runs`);
      return outcome;
    },
  },
  {
    state: 's3-event-trigger',
    fault: 'throttling',
    what: 'StartExecution throttled once: the batch item fails and comes back',
    expect: 'SUCCEEDED',
    request: STAGED,
    freshSourceFile: false,
    inject: rules({ service: 'states', operation: 'StartExecution', code: 'ThrottlingException', count: 1 }),
    act: (ctx) => stagedByUpload(ctx),
  },
  {
    state: 's3-event-trigger',
    fault: '5xx',
    what: 'DynamoDB answers 500 to the event bookkeeping once',
    expect: 'SUCCEEDED',
    request: STAGED,
    freshSourceFile: false,
    inject: rules({ service: 'dynamodb', operation: 'BatchGetItem', code: 'InternalServerError', count: 1 }),
    act: (ctx) => stagedByUpload(ctx),
  },
  {
    state: 'CheckUploadsQuiet',
    fault: 'lambda-crash',
    what: 'the settle check crashes (the run goes on to its turn)',
    expect: 'SUCCEEDED',
    request: STAGED,
    freshSourceFile: false,
    inject: rules(crash('check-uploads-quiet')),
    act: (ctx) => stagedByUpload(ctx),
  },
  {
    state: 'api-start-transfer',
    fault: 'throttling',
    what: 'StartExecution throttled once: 429, and the retried request with its Idempotency-Key starts the run',
    expect: 'SUCCEEDED',
    request: API_OUT,
    inject: rules({ service: 'states', operation: 'StartExecution', code: 'ThrottlingException', count: 1 }),
    act: async (ctx) => {
      const key = `faults-${Date.now()}`;
      const refused = await api(ctx.world).post('/transfers', API_OUT, { 'idempotency-key': key });
      if (refused.status !== 429) throw new Error(`expected 429, got ${refused.status}`);
      const accepted = await api(ctx.world).post('/transfers', API_OUT, { 'idempotency-key': key });
      if (accepted.status !== 202) throw new Error(`expected 202, got ${accepted.status}`);
      return outcomeOf(accepted.body.links.execution);
    },
  },
  {
    state: 'api-start-transfer',
    fault: '5xx',
    what: 'DynamoDB answers 500 to the record write once: 500, and the retried request starts the run',
    expect: 'SUCCEEDED',
    request: API_OUT,
    inject: rules({ service: 'dynamodb', operation: 'PutItem', code: 'InternalServerError', count: 1 }),
    act: async (ctx) => {
      const key = `faults-${Date.now()}`;
      const refused = await api(ctx.world).post('/transfers', API_OUT, { 'idempotency-key': key });
      if (refused.status < 500) throw new Error(`expected a 5xx, got ${refused.status}`);
      const accepted = await api(ctx.world).post('/transfers', API_OUT, { 'idempotency-key': key });
      if (accepted.status !== 202) throw new Error(`expected 202, got ${accepted.status}`);
      return outcomeOf(accepted.body.links.execution);
    },
  },
  {
    state: 'api-cancel-transfer',
    fault: 'execution-stopped',
    what: 'DELETE /transfers/{id} during the sync (the cleanup rule terminates)',
    expect: 'ABORTED',
    request: API_IN,
    inject: rules({ service: 'ssm', behavior: 'command-slow', delayMs: 3_600_000, count: 1 }),
    act: async (ctx) => {
      const started = await api(ctx.world).post('/transfers', API_IN);
      const executionArn: string = started.body.links.execution;
      await eventually(
        async () => (await instancesOf(executionArn)).some((i) => i.State?.Name === 'running'),
        'the transfer instance runs',
        60_000,
      );
      await eventually(
        async () => (await statesEntered(executionArn)).includes('RunTransferCommand'),
        'the transfer command runs',
      );
      const cancelled = await api(ctx.world).delete(`/transfers/${started.body.id}`);
      if (cancelled.status !== 202) throw new Error(`expected 202, got ${cancelled.status}`);
      return outcomeOf(executionArn);
    },
  },
  {
    state: 'WaitForTurn',
    fault: 'dynamodb-conflict',
    what: "three runs started at once race for the mapping's turn (slow conditional writes)",
    expect: 'SUCCEEDED',
    request: API_OUT,
    // Each gate write waits 300 simulated ms, so the three runs' conditional writes overlap.
    inject: rules({ service: 'dynamodb', operation: 'UpdateItem', delayMs: 30_000, count: 12 }),
    act: async (ctx) => {
      const runs = await Promise.all([ctx.start(), ctx.start(), ctx.start()]);
      const outcomes = await Promise.all(runs.map((arn) => outcomeOf(arn, 90_000)));
      const failed = outcomes.filter((o) => o.status !== 'SUCCEEDED');
      if (failed.length) throw new Error(`runs did not succeed: ${JSON.stringify(failed)}`);
      const windows = (await Promise.all(runs.map(turnWindow))).sort(
        (a, b) => a.granted!.getTime() - b.granted!.getTime(),
      );
      for (let i = 1; i < windows.length; i++) {
        if (windows[i]!.granted! < windows[i - 1]!.ended!)
          throw new Error('two runs of the mapping overlapped');
      }
      return outcomes.at(-1)!;
    },
  },
  {
    state: 'finish-transfer',
    fault: 'throttling',
    what: 'PutEvents throttled once: the completion event is sent by the reconciler',
    expect: 'SUCCEEDED',
    request: API_OUT,
    inject: rules({ service: 'events', operation: 'PutEvents', code: 'ThrottlingException', count: 1 }),
    clear: async (ctx) => {
      ctx.world.cloud.faults.clear();
      await ctx.world.cloud.events.fireSchedule('finish-transfer');
    },
  },
];
