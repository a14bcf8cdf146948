/**
 * DRA waits without polling cost (shared/dra/waits.ts): the waiting state's first check, the
 * stored token, and the poller's round (success, the check's typed error, heartbeats, a task that
 * is gone), against a real transfers table and a mocked Step Functions.
 */
import {
  SendTaskFailureCommand,
  SendTaskHeartbeatCommand,
  SendTaskSuccessCommand,
  SFNClient,
} from '@aws-sdk/client-sfn';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { TaskState } from '../../../shared/dra/state.js';
import {
  listWaits,
  pollWaits,
  startWait,
  type WaitChecks,
  type WaitRecord,
  waitExpiresAt,
  waitKey,
} from '../../../shared/dra/waits.js';
import { DataRepositoryTaskFailedError, NotReadyYetError } from '../../../shared/errors.js';
import { buildTransferPlan } from '../../support/plan.js';
import { startTestTable, type TestTable } from '../../support/transfers-table.js';
import { awsError } from '../ec2/builders.js';

const sfnMock = mockClient(SFNClient);
const EXECUTION = 'arn:aws:states:us-east-1:111122223333:execution:fsx-transfer-dev-transfer:run-1';
const NOW = new Date('2026-11-30T10:00:00.000Z');
const TASK: TaskState = { type: 'EXPORT_TO_REPOSITORY', ran: true, reason: 'always', taskId: 'task-0123' };
const plan = buildTransferPlan({ method: 'dra' });
const RECORD: Extract<WaitRecord, { kind: 'task' }> = {
  kind: 'task',
  taskToken: 'token-export',
  executionArn: EXECUTION,
  stateName: 'WaitForExportTask',
  plan: { method: 'dra', fileSystem: plan.fileSystem, deadline: plan.deadline },
  task: TASK,
};
let table: TestTable;
const deps = () => ({ sfn: new SFNClient({}), db: table.db, table: table.table, now: () => NOW });
/** Checks whose task answers `outcome` (done, NotReadyYetError, or a thrown error). */
const checksAnswering = (outcome: () => Promise<unknown>): WaitChecks => ({
  association: outcome,
  task: outcome,
  'start-task': outcome,
  'lustre-command': outcome,
});
const running = () =>
  Promise.reject(new NotReadyYetError('EXPORT_TO_REPOSITORY task task-0123 is EXECUTING'));

beforeAll(async () => {
  table = await startTestTable();
});

afterAll(async () => {
  await table.stop();
});

beforeEach(async () => {
  sfnMock.reset();
  for (const record of await listWaits(deps())) {
    await pollWaits(
      deps(),
      checksAnswering(() => Promise.resolve(record)),
    );
  }
  sfnMock.reset();
});

describe('startWait (the waiting state)', () => {
  it('completes the state at once when the first check finds it done, storing nothing', async () => {
    const done = { ...TASK, lifecycle: 'SUCCEEDED' };

    const result = await startWait(deps(), RECORD, async () => done);

    expect(result).toEqual({ waiting: false });
    expect(sfnMock.commandCalls(SendTaskSuccessCommand)[0]!.args[0].input).toEqual({
      taskToken: 'token-export',
      output: JSON.stringify(done),
    });
    expect(await listWaits(deps())).toEqual([]);
  });

  it('stores the token (not readable by the instance: the transfers table) while the task runs', async () => {
    const result = await startWait(deps(), RECORD, running);

    const item = await table.db.send(
      new GetCommand({ TableName: table.table, Key: waitKey(EXECUTION, 'WaitForExportTask') }),
    );
    expect(result).toEqual({ waiting: true });
    expect(item.Item?.record).toEqual(RECORD);
    // Kept until two days after the run's deadline, however far away that is (a run of weeks).
    expect(item.Item?.expiresAt).toBe(Date.parse(plan.deadline) / 1000 + 2 * 86_400);
    expect(sfnMock.calls()).toHaveLength(0);
  });

  it('keeps a stored wait for two days after its run deadline, or after now when that has passed', () => {
    const inThreeWeeks = new Date(NOW.getTime() + 21 * 86_400_000).toISOString();
    const past = new Date(NOW.getTime() - 3_600_000).toISOString();

    const later = waitExpiresAt({ plan: { ...RECORD.plan, deadline: inThreeWeeks } }, NOW);
    const passed = waitExpiresAt({ plan: { ...RECORD.plan, deadline: past } }, NOW);

    expect(later).toBe(Date.parse(inThreeWeeks) / 1000 + 2 * 86_400);
    expect(passed).toBe(NOW.getTime() / 1000 + 2 * 86_400);
  });

  it('fails the state with the typed error of the first check, storing nothing', async () => {
    const failed = new DataRepositoryTaskFailedError('task task-0123 FAILED: 2 file(s) failed');

    await expect(startWait(deps(), RECORD, () => Promise.reject(failed))).rejects.toBe(failed);

    expect(await listWaits(deps())).toEqual([]);
  });

  it('leaves a throttled first check to the poller', async () => {
    const result = await startWait(deps(), RECORD, () =>
      Promise.reject(awsError('ThrottlingException', 400)),
    );

    expect(result).toEqual({ waiting: true });
    expect(await listWaits(deps())).toHaveLength(1);
  });
});

describe('pollWaits (the scheduled poller)', () => {
  beforeEach(async () => {
    await startWait(deps(), RECORD, running);
  });

  it('sends a heartbeat while the task runs, and keeps the wait', async () => {
    const round = await pollWaits(deps(), checksAnswering(running));

    expect(round.reports).toEqual([
      { executionArn: EXECUTION, stateName: 'WaitForExportTask', outcome: 'heartbeat' },
    ]);
    expect(sfnMock.commandCalls(SendTaskHeartbeatCommand)[0]!.args[0].input).toEqual({
      taskToken: 'token-export',
    });
    expect(await listWaits(deps())).toHaveLength(1);
  });

  it('completes the wait with the refreshed state once done, and forgets it', async () => {
    const done = { ...TASK, lifecycle: 'SUCCEEDED', total: 3, succeeded: 3 };

    const round = await pollWaits(
      deps(),
      checksAnswering(async () => done),
    );

    expect(round.reports[0]!.outcome).toBe('succeeded');
    expect(sfnMock.commandCalls(SendTaskSuccessCommand)[0]!.args[0].input.output).toBe(JSON.stringify(done));
    expect(await listWaits(deps())).toEqual([]);
  });

  it('fails the wait with the same error name and message the check throws', async () => {
    const failed = new DataRepositoryTaskFailedError(
      'EXPORT_TO_REPOSITORY task task-0123 FAILED: 1 file(s) failed',
    );

    const round = await pollWaits(
      deps(),
      checksAnswering(() => Promise.reject(failed)),
    );

    expect(round.reports[0]!.outcome).toBe('failed');
    expect(sfnMock.commandCalls(SendTaskFailureCommand)[0]!.args[0].input).toEqual({
      taskToken: 'token-export',
      error: 'DataRepositoryTaskFailedError',
      cause: failed.message,
    });
    expect(await listWaits(deps())).toEqual([]);
  });

  it('keeps a throttled wait alive with a heartbeat and reports it as an error of this round', async () => {
    const round = await pollWaits(
      deps(),
      checksAnswering(() => Promise.reject(awsError('ThrottlingException', 400))),
    );

    expect(round.reports[0]!.outcome).toBe('error');
    expect(sfnMock.commandCalls(SendTaskHeartbeatCommand)).toHaveLength(1);
    expect(await listWaits(deps())).toHaveLength(1);
  });

  it('forgets a wait whose task is gone (the execution ended)', async () => {
    sfnMock.on(SendTaskHeartbeatCommand).rejects(awsError('TaskTimedOut', 400));

    const round = await pollWaits(deps(), checksAnswering(running));

    expect(round.reports[0]!.outcome).toBe('task-gone');
    expect(await listWaits(deps())).toEqual([]);
  });

  it('reports the other waits when Step Functions throttles one', async () => {
    await startWait(
      deps(),
      { ...RECORD, taskToken: 'token-other', stateName: 'WaitForReleaseTask' },
      running,
    );
    sfnMock
      .on(SendTaskHeartbeatCommand, { taskToken: 'token-export' })
      .rejects(awsError('ThrottlingException', 400))
      .on(SendTaskHeartbeatCommand, { taskToken: 'token-other' })
      .resolves({});

    const round = await pollWaits(deps(), checksAnswering(running));

    expect(Object.fromEntries(round.reports.map((r) => [r.stateName, r.outcome]))).toEqual({
      WaitForExportTask: 'error',
      WaitForReleaseTask: 'heartbeat',
    });
  });
});
