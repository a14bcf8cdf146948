import { PutEventsCommand } from '@aws-sdk/client-eventbridge';
import {
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { describe, expect, it } from 'vitest';
import {
  COMPLETION_SOURCE,
  FAILED_DETAIL_TYPE,
  finishTransfer,
  reconcile,
  SUCCEEDED_DETAIL_TYPE,
} from '../../../shared/transfers/finish.js';
import { claimPendingRun, readGate } from '../../../shared/transfers/gate.js';
import { getRecord } from '../../../shared/transfers/records.js';
import { waitForTurn } from '../../../shared/transfers/turns.js';
import { ec2RunHistory } from '../cost/history.js';
import { awsError } from '../ec2/builders.js';
import { executionArn, executionEnd, finishDeps, gateTestBed, turnInput } from './builders.js';

const bed = gateTestBed('finish');
const { sfnMock, eventsMock, mapping } = bed;
const putEntries = () =>
  eventsMock.commandCalls(PutEventsCommand).flatMap((call) => call.args[0].input.Entries ?? []);

describe('completion events', () => {
  it('puts Transfer Succeeded with the summary (mapping, direction, method, files, bytes, verified)', async () => {
    const deps = finishDeps(bed.table);
    await waitForTurn(deps, turnInput('ok', { mapping: mapping() }));
    const summary = {
      transferId: 'ok',
      method: 'ec2',
      status: 'SUCCEEDED',
      files: 12,
      bytes: 3456,
      verified: true,
    };

    await finishTransfer(
      deps,
      executionEnd('ok', 'SUCCEEDED', { request: { mapping: mapping() }, output: summary }),
    );

    const [entry] = putEntries();
    expect(entry).toMatchObject({
      Source: COMPLETION_SOURCE,
      DetailType: SUCCEEDED_DETAIL_TYPE,
      EventBusName: 'default',
    });
    expect(JSON.parse(entry!.Detail!)).toMatchObject({
      transferId: 'ok',
      mapping: mapping(),
      direction: 'stage-in',
      method: 'ec2',
      status: 'SUCCEEDED',
      files: 12,
      bytes: 3456,
      verified: true,
      error: null,
    });
    expect(entry!.Resources).toEqual([executionArn('ok')]);
  });

  it('puts Transfer Failed with the error and cause for failed, aborted and timed-out runs', async () => {
    for (const status of ['FAILED', 'ABORTED', 'TIMED_OUT'] as const) {
      const id = `bad-${status}`;

      await finishTransfer(
        finishDeps(bed.table),
        executionEnd(id, status, {
          request: { mapping: mapping() },
          error: 'CommandFailedError',
          cause: 'sync failed',
        }),
      );

      const entry = putEntries().at(-1)!;
      expect(entry.DetailType).toBe(FAILED_DETAIL_TYPE);
      expect(JSON.parse(entry.Detail!)).toMatchObject({
        transferId: id,
        status,
        error: 'CommandFailedError',
        cause: 'sync failed',
        verified: false,
      });
    }
  });

  it('records what the run cost, from its history, in the record, the summary and the completion event', async () => {
    const deps = finishDeps(bed.table);
    sfnMock.on(GetExecutionHistoryCommand).resolves({ events: ec2RunHistory() });
    const summary = {
      transferId: 'paid',
      method: 'ec2',
      status: 'SUCCEEDED',
      files: 3,
      bytes: 30,
      verified: true,
    };

    await finishTransfer(
      deps,
      executionEnd('paid', 'SUCCEEDED', { request: { mapping: mapping() }, output: summary }),
    );

    const record = await getRecord(deps, 'paid');
    const detail = JSON.parse(putEntries()[0]!.Detail!);
    expect(record!.cost).toMatchObject({
      final: true,
      instances: [{ instanceId: 'i-1', instanceType: 'c6i.large', seconds: 740 }],
      transitions: { count: 10 },
    });
    expect(record!.summary).toMatchObject({ files: 3, cost: record!.cost });
    expect(detail.cost).toEqual(record!.cost);
    expect(detail.cost.usd).toBeGreaterThan(0);
  });

  it('finishes a run whose history cannot be read, without a cost', async () => {
    const deps = finishDeps(bed.table);
    sfnMock.on(GetExecutionHistoryCommand).rejects(awsError('AccessDeniedException'));

    await finishTransfer(deps, executionEnd('unpriced', 'FAILED', { request: { mapping: mapping() } }));

    expect((await getRecord(deps, 'unpriced'))!.cost).toBeUndefined();
    expect(JSON.parse(putEntries()[0]!.Detail!)).toMatchObject({ status: 'FAILED', cost: null });
  });

  it('creates the record of a run that failed before it reached the gate (e.g. in Validate)', async () => {
    const deps = finishDeps(bed.table);

    await finishTransfer(
      deps,
      executionEnd('early', 'FAILED', {
        request: { mapping: mapping(), trigger: 'schedule' },
        error: 'FileSystemNotFoundError',
      }),
    );

    expect(await getRecord(deps, 'early')).toMatchObject({
      status: 'FAILED',
      trigger: 'schedule',
      mapping: mapping(),
      error: 'FileSystemNotFoundError',
    });
  });

  it('puts the event once when the status-change event is delivered twice', async () => {
    const deps = finishDeps(bed.table);
    const end = executionEnd('twice', 'SUCCEEDED', {
      request: { mapping: mapping() },
      output: { files: 1, bytes: 1 },
    });

    await finishTransfer(deps, end);
    await finishTransfer(deps, end);

    expect(putEntries()).toHaveLength(1);
  });

  it('sends the event on the retry when PutEvents failed the first time', async () => {
    const deps = finishDeps(bed.table);
    const end = executionEnd('retry', 'FAILED', { request: { mapping: mapping() }, error: 'X' });
    eventsMock
      .on(PutEventsCommand)
      .rejectsOnce(awsError('ThrottlingException', 400))
      .resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'e-2' }] });

    await expect(finishTransfer(deps, end)).rejects.toThrow(/ThrottlingException/);
    await finishTransfer(deps, end);

    expect(eventsMock.commandCalls(PutEventsCommand)).toHaveLength(2);
    expect(await getRecord(deps, 'retry')).toMatchObject({ completionEventAt: expect.any(String) });
  });

  it('puts no completion event for a dry run', async () => {
    await finishTransfer(
      finishDeps(bed.table),
      executionEnd('dry', 'SUCCEEDED', {
        request: { mapping: mapping(), dryRun: true },
        output: { files: 0 },
      }),
    );

    expect(putEntries()).toHaveLength(0);
  });
});

describe('reconcile (every 5 minutes)', () => {
  it('finishes a run that ended without a status-change event and gives the turn to the next', async () => {
    const deps = finishDeps(bed.table);
    await waitForTurn(deps, turnInput('silent', { mapping: mapping() }));
    await waitForTurn(deps, turnInput('behind', { mapping: mapping() }));
    // Runs of the other tests (one table) are still running.
    sfnMock.on(DescribeExecutionCommand).resolves({ status: 'RUNNING' });
    sfnMock.on(DescribeExecutionCommand, { executionArn: executionArn('silent') }).resolves({
      executionArn: executionArn('silent'),
      name: 'silent',
      status: 'FAILED',
      input: JSON.stringify({ mapping: mapping(), direction: 'stage-in' }),
      error: 'CommandFailedError',
      startDate: new Date(),
      stopDate: new Date(),
    });

    const result = await reconcile(deps);

    expect(result.finished).toContain('silent');
    expect((await readGate(deps, { mapping: mapping(), direction: 'stage-in' })).holder).toBe('behind');
    expect(await getRecord(deps, 'silent')).toMatchObject({ status: 'FAILED' });
  });

  it('frees a lease that expired while its execution still runs (the lost-release backstop)', async () => {
    const deps = finishDeps(bed.table);
    await waitForTurn(deps, turnInput('stuck', { mapping: mapping() }));
    sfnMock.on(DescribeExecutionCommand).resolves({ status: 'RUNNING', name: 'stuck' });
    deps.clock.advance(4 * 3600_000);

    const result = await reconcile(deps);

    expect(result.expired).toContain('stuck');
    expect((await readGate(deps, { mapping: mapping(), direction: 'stage-in' })).holder).toBeUndefined();
  });

  it('puts a completion event that PutEvents refused on every attempt, once', async () => {
    const deps = finishDeps(bed.table);
    await waitForTurn(deps, turnInput('unsent', { mapping: mapping() }));
    sfnMock.on(DescribeExecutionCommand).resolves({ status: 'RUNNING' });
    eventsMock.on(PutEventsCommand).rejectsOnce(awsError('ThrottlingException'));
    await expect(
      finishTransfer(deps, executionEnd('unsent', 'FAILED', { request: { mapping: mapping() } })),
    ).rejects.toThrow();
    eventsMock.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'e-1' }] });

    const first = await reconcile(deps);
    const second = await reconcile(deps);

    expect(first.completed).toContain('unsent');
    expect(second.completed).not.toContain('unsent');
    const sent = putEntries().filter((entry) => JSON.parse(entry.Detail!).transferId === 'unsent');
    expect(sent).toHaveLength(2);
    expect(JSON.parse(sent.at(-1)!.Detail!)).toMatchObject({ status: 'FAILED', mapping: mapping() });
  });

  it('starts an S3-event run whose start was lost, once its slot is older than two minutes', async () => {
    const deps = finishDeps(bed.table);
    const gate = { mapping: mapping(), direction: 'stage-in' as const };
    const request = {
      mapping: gate.mapping,
      direction: 'stage-in' as const,
      trigger: 's3-event' as const,
      transferId: 'lost-start',
    };
    await claimPendingRun(deps, gate, 'lost-start', request, 3);
    sfnMock.on(DescribeExecutionCommand).rejects(awsError('ExecutionDoesNotExist'));
    sfnMock
      .on(StartExecutionCommand)
      .resolves({ executionArn: executionArn('lost-start'), startDate: new Date() });

    const early = await reconcile(deps);
    deps.clock.advance(3 * 60_000);
    const late = await reconcile(deps);

    expect(early.started).not.toContain('lost-start');
    expect(late.started).toContain('lost-start');
    expect(sfnMock.commandCalls(StartExecutionCommand).at(-1)?.args[0].input).toMatchObject({
      name: 'lost-start',
      input: JSON.stringify(request),
    });
  });
});
