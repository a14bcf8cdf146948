import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { clearPendingRun, readGate } from '../../../shared/transfers/gate.js';
import { eventRunName, stageOnEvents, type TriggerDeps } from '../../../shared/triggers/stage-on-events.js';
import { startTestTable, type TestTable } from '../../support/transfers-table.js';
import { awsError } from '../ec2/builders.js';
import { STATE_MACHINE_ARN } from '../transfers/builders.js';
import { config, messages, s3Event } from './builders.js';

const sfnMock = mockClient(SFNClient);
let table: TestTable;

beforeAll(async () => {
  table = await startTestTable();
});
afterAll(async () => {
  await table.stop();
});
beforeEach(async () => {
  sfnMock.reset();
  sfnMock.on(StartExecutionCommand).callsFake((input) => ({
    executionArn: `${STATE_MACHINE_ARN.replace(':stateMachine:', ':execution:')}:${input.name}`,
    startDate: new Date(),
  }));
  // Each test starts from a free gate for the mappings it uses.
  const deps = triggerDeps();
  for (const mapping of config.mappings) {
    const gate = await readGate(deps, { mapping: mapping.name, direction: 'stage-in' });
    if (gate.pendingRun) await clearPendingRun(deps, gate, gate.pendingRun);
  }
});

function triggerDeps(): TriggerDeps {
  return {
    db: table.db,
    table: table.table,
    config,
    sfn: new SFNClient({}),
    stateMachineArn: STATE_MACHINE_ARN,
  };
}

const started = () => sfnMock.commandCalls(StartExecutionCommand).map((call) => call.args[0].input);
const keys = (n: number, prefix = 'blended-tropomi/batch') =>
  Array.from({ length: n }, (_, i) => s3Event(`${prefix}/file ${i}.nc`));

describe('stageOnEvents', () => {
  it('starts one run for a batch of 100 events under one mapping, named after the events', async () => {
    const events = keys(100);

    const outcome = await stageOnEvents(triggerDeps(), messages(events));

    const ids = events.map((e) => String(e.id));
    // One run per mapping the keys lie under (tropomi, and tropomi-copy on another file system).
    expect(started().map((s) => s.name)).toEqual([
      eventRunName('tropomi', ids),
      eventRunName('tropomi-copy', ids),
    ]);
    expect(started()[0]).toEqual(
      expect.objectContaining({
        name: eventRunName('tropomi', ids),
        stateMachineArn: STATE_MACHINE_ARN,
        input: JSON.stringify({
          mapping: 'tropomi',
          direction: 'stage-in',
          trigger: 's3-event',
          transferId: eventRunName('tropomi', ids),
        }),
      }),
    );
    expect(outcome.failedMessageIds).toEqual([]);
    expect(outcome.counts).toMatchObject({ received: 100, matched: 100, invalid: 0, started: 2 });
  });

  it('joins later batches to the run still waiting for its turn, counting their events', async () => {
    const deps = triggerDeps();
    const first = await stageOnEvents(deps, messages(keys(10, 'mirrored')));

    const second = await stageOnEvents(deps, messages(keys(30, 'mirrored')));

    expect(started()).toHaveLength(1);
    expect(second.runs).toEqual([
      { mapping: 'mirrored', transferId: first.runs[0]!.transferId, outcome: 'coalesced', events: 30 },
    ]);
    expect((await readGate(deps, { mapping: 'mirrored', direction: 'stage-in' })).pendingEvents).toBe(40);
  });

  it('starts exactly one follow-up run for events that arrive after the run got its turn', async () => {
    const deps = triggerDeps();
    const first = await stageOnEvents(deps, messages(keys(5, 'mirrored')));
    await clearPendingRun(deps, { mapping: 'mirrored', direction: 'stage-in' }, first.runs[0]!.transferId);

    await stageOnEvents(deps, messages(keys(5, 'mirrored')));
    await stageOnEvents(deps, messages(keys(5, 'mirrored')));

    expect(started()).toHaveLength(2);
  });

  it('starts nothing when the same batch is delivered again', async () => {
    const deps = triggerDeps();
    const batch = messages(keys(20, 'mirrored'));
    const first = await stageOnEvents(deps, batch);
    await clearPendingRun(deps, { mapping: 'mirrored', direction: 'stage-in' }, first.runs[0]!.transferId);
    sfnMock.resetHistory();

    const again = await stageOnEvents(deps, batch);

    expect(started()).toEqual([]);
    expect(again.counts).toMatchObject({ received: 20, matched: 0, dropped: { duplicate: 20 } });
  });

  it('fails a malformed message (to the DLQ after its last receive) and still handles the rest', async () => {
    const good = messages(keys(3, 'mirrored'));
    const bad = [
      { messageId: 'not-json', body: '{oops' },
      { messageId: 'not-s3', body: JSON.stringify({ source: 'aws.ec2', 'detail-type': 'x', detail: {} }) },
      {
        messageId: 'bad-key',
        body: JSON.stringify(s3Event('mirrored/x')).replace('mirrored/x', 'mirrored/%zz'),
      },
    ];

    const outcome = await stageOnEvents(triggerDeps(), [...bad, ...good]);

    expect(outcome.failedMessageIds.sort()).toEqual(['bad-key', 'not-json', 'not-s3']);
    expect(outcome.counts).toMatchObject({ received: 6, matched: 3, invalid: 3 });
    expect(started()).toHaveLength(1);
  });

  it('accounts for every event: received = matched + dropped (by reason) + invalid', async () => {
    const events = [
      s3Event('blended-tropomi/a.nc'),
      s3Event('elsewhere/b.nc'),
      s3Event('manual/c.nc'),
      s3Event('ExtData/d.nc'),
      s3Event('ExtData/fsx-transfer-reports/task-1/report.csv'),
      s3Event('blended-tropomi/gone.nc', { deleted: true }),
    ];

    const { counts } = await stageOnEvents(triggerDeps(), messages(events));

    const dropped = Object.values(counts.dropped).reduce((a, b) => a + b, 0);
    expect(counts.received).toBe(counts.matched + dropped + counts.invalid);
    expect(counts).toMatchObject({
      received: 6,
      matched: 3,
      dropped: { 'no-mapping': 1, 'not-watched': 1, internal: 1 },
      skipped: { 'auto-import': 1, 'deletion-not-propagated': 2 },
    });
  });

  it("leaves a mapping's messages on the queue when its run cannot be started, and restarts the same run on retry", async () => {
    const deps = triggerDeps();
    const batch = messages([...keys(4, 'mirrored'), s3Event('preloaded/p.nc')]);
    let throttled = false;
    sfnMock.on(StartExecutionCommand).callsFake((input) => {
      if (input.name.startsWith('s3-mirrored-') && !throttled) {
        throttled = true;
        throw awsError('ThrottlingException');
      }
      return {
        executionArn: `arn:aws:states:us-east-1:000000000000:execution:x:${input.name}`,
        startDate: new Date(),
      };
    });

    const first = await stageOnEvents(deps, batch);
    const retry = await stageOnEvents(deps, batch.slice(0, 4));

    expect(first.failedMessageIds).toHaveLength(4);
    expect(first.runs.map((r) => r.mapping)).toEqual(['preloaded']);
    expect(retry.runs).toEqual([expect.objectContaining({ mapping: 'mirrored', outcome: 'started' })]);
    const names = started()
      .map((s) => s.name)
      .filter((n) => n?.startsWith('s3-mirrored-'));
    expect(new Set(names).size).toBe(1);
  });

  it('keeps daily counters in the table', async () => {
    const deps = triggerDeps();
    const day = new Date().toISOString().slice(0, 10);
    const before = (
      await table.db.send(new GetCommand({ TableName: table.table, Key: { pk: 'STATS#EVENTS', sk: day } }))
    ).Item;

    await stageOnEvents(deps, messages([s3Event('elsewhere/x.nc'), s3Event('mirrored/y.nc')]));

    const after = (
      await table.db.send(new GetCommand({ TableName: table.table, Key: { pk: 'STATS#EVENTS', sk: day } }))
    ).Item;
    expect(after?.received - (before?.received ?? 0)).toBe(2);
    expect(after?.dropped_no_mapping - (before?.dropped_no_mapping ?? 0)).toBe(1);
  });
});
