/**
 * New input in S3 stages itself: objects uploaded with `aws s3 sync` -> the bucket's events ->
 * the S3 event rule -> the SQS queue -> s3-event-trigger -> one coalesced run per mapping -> the
 * files on FSx, byte for byte. Everything real on the local cloud: the rule and queue from
 * serverless.yml, the trigger and the state machine.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { DeleteObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import {
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getS3 } from '../../shared/aws/clients.js';
import {
  BUCKET,
  configYaml,
  eventually,
  FS_ID,
  fsTree,
  fsxDir,
  s3Tree,
  sha256,
  startWorld,
  type World,
} from './ec2-helpers.js';
import { awsCli, counterDelta, eventCounters, eventRuns, executions, settled } from './trigger-runs.js';

const MAPPINGS = `  - { name: incoming, fileSystemId: ${FS_ID}, fsxPath: /incoming, s3Uri: s3://${BUCKET}/incoming, directions: [stage-in], method: ec2, autoStage: true }
  - { name: multi-a, fileSystemId: ${FS_ID}, fsxPath: /multi-a, s3Uri: s3://${BUCKET}/multi-a, directions: [stage-in], method: ec2, autoStage: true }
  - { name: multi-b, fileSystemId: ${FS_ID}, fsxPath: /multi-b, s3Uri: s3://${BUCKET}/multi-b, directions: [stage-in], method: ec2, autoStage: true }
  - { name: multi-c, fileSystemId: ${FS_ID}, fsxPath: /multi-c, s3Uri: s3://${BUCKET}/multi-c, directions: [stage-in], method: ec2, autoStage: true }
  - { name: names, fileSystemId: ${FS_ID}, fsxPath: /names, s3Uri: s3://${BUCKET}/names, directions: [stage-in], method: ec2, autoStage: true }
  - { name: linked, fileSystemId: ${FS_ID}, fsxPath: /linked, s3Uri: s3://${BUCKET}/linked, directions: [stage-in], method: dra, autoStage: true }
`;

let world: World;
let work: string;
let sqs: SQSClient;

beforeAll(async () => {
  // A 5-minute quiet period (3 s here): a busy machine's pauses between event batches never split an upload.
  world = await startWorld({
    config: configYaml({ extraMappings: MAPPINGS, defaults: '  autoStage:\n    quietSeconds: 300' }),
  });
  work = mkdtempSync(join(tmpdir(), 'fsx-transfer-e2e-s3-events-'));
  sqs = new SQSClient({
    endpoint: world.cloud.endpoint,
    region: world.cloud.region,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
}, 60_000);

afterAll(async () => {
  sqs?.destroy();
  await world?.stop();
  rmSync(work, { recursive: true, force: true });
}, 60_000);

/** Writes `count` small files of varied sizes below `dir` (nested 2 levels), returns their contents. */
function writeTree(dir: string, count: number, seed: string): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  for (let i = 0; i < count; i++) {
    const path = `${String(i % 7).padStart(2, '0')}/${String(i % 13).padStart(2, '0')}/obs-${seed}-${i}.nc`;
    const body = Buffer.from(`${seed}:${i}:`.repeat(1 + (i % 40)));
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), body);
    files.set(path, body);
  }
  return files;
}

async function expectOnFsx(mappingPath: string, files: Map<string, Buffer>): Promise<void> {
  const tree = await fsTree(fsxDir(world, mappingPath));
  expect(Object.keys(tree).length).toBe(files.size);
  for (const [path, body] of files)
    expect(tree[path], path).toEqual({ size: body.length, sha256: sha256(body) });
}

const queueUrl = async (name: string) =>
  (await sqs.send(new GetQueueUrlCommand({ QueueName: name }))).QueueUrl!;

describe('S3 events stage new input by themselves', () => {
  it('stages 2,000 objects uploaded with aws s3 sync with one run (at most two), byte for byte, every event accounted for', async () => {
    const dir = join(work, 'incoming');
    const files = writeTree(dir, 2000, 'a');
    const before = await eventCounters();

    const sync = await awsCli(world, ['s3', 'sync', dir, `s3://${BUCKET}/incoming/`, '--only-show-errors']);
    expect(sync.code, sync.stderr).toBe(0);
    await settled(world);

    const runs = await eventRuns(world, 'incoming');
    expect(runs.length).toBeGreaterThanOrEqual(1);
    expect(runs.length).toBeLessThanOrEqual(2);
    expect(runs.map((r) => r.status)).toEqual(runs.map(() => 'SUCCEEDED'));
    await expectOnFsx('/incoming', files);
    const delta = counterDelta(before, await eventCounters());
    expect(delta.received).toBe(2000);
    const dropped = Object.entries(delta)
      .filter(([key]) => key.startsWith('dropped_'))
      .reduce((sum, [, value]) => sum + value, 0);
    expect((delta.matched ?? 0) + dropped + (delta.invalid ?? 0)).toBe(delta.received);
    expect(delta.matched).toBe(2000);
    expect(delta.started).toBe(runs.length);
  }, 300_000);

  it('stages three mappings uploaded at once with at most two runs each', async () => {
    const dir = join(work, 'multi');
    const trees = Object.fromEntries(
      ['multi-a', 'multi-b', 'multi-c'].map((name) => [name, writeTree(join(dir, name), 300, name)]),
    );

    const sync = await awsCli(world, ['s3', 'sync', dir, `s3://${BUCKET}/`, '--only-show-errors']);
    expect(sync.code, sync.stderr).toBe(0);
    await settled(world);

    for (const [name, files] of Object.entries(trees)) {
      const runs = await eventRuns(world, name);
      expect(runs.length, name).toBeGreaterThanOrEqual(1);
      expect(runs.length, name).toBeLessThanOrEqual(2);
      expect(
        runs.every((r) => r.status === 'SUCCEEDED'),
        name,
      ).toBe(true);
      await expectOnFsx(`/${name}`, files);
    }
  }, 300_000);

  it('maps keys with spaces, +, % and unicode to the right mapping and file', async () => {
    const names = ['a b.nc', 'c+d.nc', '100%.nc', 'données/été 2024.nc'];
    const files = new Map(names.map((name) => [name, Buffer.from(`content of ${name}`)]));

    for (const [name, body] of files) {
      await getS3().send(new PutObjectCommand({ Bucket: BUCKET, Key: `names/${name}`, Body: body }));
    }
    await settled(world);

    expect((await eventRuns(world, 'names')).length).toBeGreaterThanOrEqual(1);
    await expectOnFsx('/names', files);
  }, 120_000);

  it('starts nothing when the same events are delivered again', async () => {
    const delivered = world.cloud.eventLog.filter(
      (e) => e.source === 'aws.s3' && String((e.detail.object as { key: string }).key).startsWith('names/'),
    );
    const runsBefore = (await executions(world)).length;
    const before = await eventCounters();

    await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: await queueUrl('fsx-transfer-local-s3-events'),
        Entries: delivered
          .slice(0, 4)
          .map((event, i) => ({ Id: `again-${i}`, MessageBody: JSON.stringify(event) })),
      }),
    );
    await settled(world);

    expect((await executions(world)).length).toBe(runsBefore);
    expect(counterDelta(before, await eventCounters())).toMatchObject({ received: 4, dropped_duplicate: 4 });
  }, 60_000);

  it('sends a malformed message to the dead-letter queue and starts nothing', async () => {
    const runsBefore = (await executions(world)).length;
    const dlq = await queueUrl('fsx-transfer-local-s3-events-dlq');

    await sqs.send(
      new SendMessageCommand({
        QueueUrl: await queueUrl('fsx-transfer-local-s3-events'),
        MessageBody: '{"not": "an S3 event"',
      }),
    );

    await eventually(
      async () => {
        const attributes = await sqs.send(
          new GetQueueAttributesCommand({ QueueUrl: dlq, AttributeNames: ['ApproximateNumberOfMessages'] }),
        );
        return Number(attributes.Attributes?.ApproximateNumberOfMessages) === 1;
      },
      'the malformed message reached the dead-letter queue',
      60_000,
    );
    expect((await executions(world)).length).toBe(runsBefore);
  }, 90_000);

  it('starts no run for a DRA mapping (automatic import covers it) nor for a deletion the mapping does not propagate', async () => {
    const runsBefore = (await executions(world)).length;
    const before = await eventCounters();

    await getS3().send(new PutObjectCommand({ Bucket: BUCKET, Key: 'linked/new.nc', Body: 'linked' }));
    await getS3().send(new DeleteObjectCommand({ Bucket: BUCKET, Key: 'names/a b.nc' }));
    await settled(world);

    expect((await executions(world)).length).toBe(runsBefore);
    expect(counterDelta(before, await eventCounters())).toMatchObject({
      received: 2,
      matched: 2,
      skipped_auto_import: 1,
      skipped_deletion_not_propagated: 1,
    });
    expect(Object.keys(await fsTree(fsxDir(world, '/names')))).toContain('a b.nc');
    expect(Object.keys(await s3Tree('names'))).not.toContain('a b.nc');
  }, 60_000);
});
