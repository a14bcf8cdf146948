/**
 * Waiting without polling cost (issue 12): a DRA run whose import task runs for three simulated
 * days is billed the same state transitions as one whose task runs a minute (within 2),
 * counted from GetExecutionHistory as Step Functions bills them (states entered plus retries,
 * shared/cost/transitions.ts). The waits (association, import task, the Lustre client's listing)
 * are `.waitForTaskToken` states completed by the scheduled poller (poll-dra-waits), which runs on
 * the local cloud's scaled clock.
 */
import { CreateDataRepositoryTaskCommand, DescribeDataRepositoryTasksCommand } from '@aws-sdk/client-fsx';
import { GetExecutionHistoryCommand, type HistoryEvent } from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FaultRule } from '../../local/faults.js';
import { getFsx, getSfn } from '../../shared/aws/clients.js';
import { countTransitions } from '../../shared/cost/transitions.js';
import type { TransferPlan } from '../../shared/plan/schema.js';
import {
  BUCKET,
  draConfig,
  FS_ID,
  linkDirectly,
  type MappingYaml,
  putObjects,
  startLustreClient,
  useConfig,
} from './dra-helpers.js';
import { runTransfer, startWorld, type World } from './ec2-helpers.js';

/** One simulated second is this many real ones: a simulated day takes about 43 s. */
const TIME_SCALE = 0.0005;
const FILES = 3;
const DAY_MS = 86_400_000;
/** Three days: far beyond the 24 h a run could last before its deadline followed the plan's estimate. */
const LONG_TASK_MS = 3 * DAY_MS;
const SHORT_TASK_MS = 60_000;

const MAPPINGS: MappingYaml[] = ['short', 'long'].map((name) => ({
  name,
  fsxPath: `/${name}`,
  s3Uri: `s3://${BUCKET}/${name}`,
  extra: ['method: dra'],
}));

let world: World;
/**
 * The plan estimates a data repository task at three days (the price table's model, as measured
 * rates would say for a big scope), so every run's deadline is 2 x its estimate (about 6 days,
 * shared/plan/deadline.ts) although timeouts.transferMinutes stays at its 240 minutes.
 */
const DEFAULTS = `pricing:\n  model: {draTaskSeconds: ${(3 * DAY_MS) / 1000}}\n`;

beforeAll(async () => {
  world = await startWorld({
    config: `${draConfig([{ id: FS_ID }], MAPPINGS)}${DEFAULTS}`,
    timeScale: TIME_SCALE,
  });
  // A Lustre client: the runs also wait for the file listing (WaitForFileListing).
  const client = await startLustreClient(world, FS_ID);
  useConfig(world, `${draConfig([{ id: FS_ID, lustreClientInstanceId: client }], MAPPINGS)}${DEFAULTS}`);
  // The background monitor (auto-export scans) need not run every 5 real ms at this scale.
  world.cloud.fsx.setTimings({ monitorIntervalMs: 600_000 });
  for (const name of ['short', 'long']) {
    await putObjects(
      Object.fromEntries([...Array(FILES).keys()].map((i) => [`${name}/f${i}.nc`, `${name} ${i}`])),
    );
    // Linked before the slow tasks start, so the import FSx runs on creation is quick and both
    // runs take the same states (the association is reused).
    await linkDirectly(FS_ID, `/${name}`, `s3://${BUCKET}/${name}`);
  }
}, 60_000);

afterAll(async () => {
  await world?.stop();
});

async function historyOf(executionArn: string): Promise<HistoryEvent[]> {
  const events: HistoryEvent[] = [];
  let nextToken: string | undefined;
  do {
    const page = await getSfn().send(
      new GetExecutionHistoryCommand({ executionArn, nextToken, maxResults: 1000 }),
    );
    events.push(...(page.events ?? []));
    nextToken = page.nextToken;
  } while (nextToken);
  return events;
}

/** Stages in `mapping` with an import task that takes `taskMs` (simulated); returns its history and the task's duration. */
async function stageIn(mapping: string, taskMs: number, faults: FaultRule[] = []) {
  world.cloud.fsx.setFaults({ taskFileDelayMs: taskMs / FILES });
  world.cloud.faults.add(faults);
  const run = await runTransfer(world, { mapping, direction: 'stage-in' }, 420_000);
  world.cloud.fsx.setFaults({});
  world.cloud.faults.clear();
  const taskId = run.output?.details?.task?.taskId as string | undefined;
  const [task] = taskId
    ? ((await getFsx().send(new DescribeDataRepositoryTasksCommand({ TaskIds: [taskId] })))
        .DataRepositoryTasks ?? [])
    : [];
  const taskSeconds =
    task?.StartTime && task.EndTime ? (task.EndTime.getTime() - task.StartTime.getTime()) / 1000 : undefined;
  return { run, events: await historyOf(run.executionArn), taskSeconds };
}

/** What each wait's function answered (`waiting: true`: the poller completed the wait), by state. */
function waitAnswers(events: HistoryEvent[]): Record<string, boolean> {
  const answers: Record<string, boolean> = {};
  let state = '';
  for (const event of events) {
    if (event.stateEnteredEventDetails?.name) state = event.stateEnteredEventDetails.name;
    if (event.type === 'TaskSubmitted' && state.startsWith('WaitFor') && state !== 'WaitForTurn') {
      answers[state] = JSON.parse(event.taskSubmittedEventDetails?.output ?? '{}').Payload?.waiting;
    }
  }
  return answers;
}

/** What each task start answered (`waiting: true`: the file system was busy and the poller started the task). */
function startAnswers(events: HistoryEvent[]): Record<string, boolean> {
  const answers: Record<string, boolean> = {};
  let state = '';
  for (const event of events) {
    if (event.stateEnteredEventDetails?.name) state = event.stateEnteredEventDetails.name;
    if (event.type === 'TaskSubmitted' && /^Start\w+Task$/.test(state)) {
      answers[state] = JSON.parse(event.taskSubmittedEventDetails?.output ?? '{}').Payload?.waiting;
    }
  }
  return answers;
}

/** The plan the run's Validate made (its first state's output). */
function planOf(events: HistoryEvent[]): TransferPlan {
  const exited = events.find((e) => e.stateExitedEventDetails?.name === 'Validate');
  return JSON.parse(exited?.stateExitedEventDetails?.output ?? '{}').plan;
}

/** Slows the first invocation of a function down by `ms` (simulated). */
const slowFunction = (functionKey: string, ms: number): FaultRule => ({
  service: 'lambda',
  operation: 'Invoke',
  delayMs: ms,
  count: 1,
  match: { function: functionKey },
});

describe('DRA waits without polling cost', () => {
  it('bills a run whose import task takes three simulated days the same transitions as a one-minute one (+-2)', async () => {
    const short = await stageIn('short', SHORT_TASK_MS);
    // The listing takes ten minutes, so the poller completes that wait too.
    const long = await stageIn('long', LONG_TASK_MS, [
      {
        service: 'ssm',
        behavior: 'command-slow',
        delayMs: 600_000,
        match: { Comment: 'fsx-transfer list *' },
      },
    ]);

    expect(short.run.status, short.run.cause).toBe('SUCCEEDED');
    expect(long.run.status, long.run.cause).toBe('SUCCEEDED');
    expect(long.run.output?.files).toBe(FILES);
    // The task really ran that long: FSx's own start and end times (the local cloud's clock reads
    // the wall clock; its durations are simulated ones times TIME_SCALE).
    // (A minute of simulated work; at this scale the machine's own real overhead adds minutes.)
    expect(short.taskSeconds! / TIME_SCALE).toBeLessThan(3_600);
    expect(long.taskSeconds! / TIME_SCALE).toBeGreaterThanOrEqual(LONG_TASK_MS / 1000);
    // The deadline followed the plan's estimate: three days x 2, beyond transferMinutes (240).
    const plan = planOf(long.events);
    expect(plan.timeouts.transferMinutes).toBe(240);
    expect(plan.timeouts.runMinutes).toBeGreaterThanOrEqual(6 * 24 * 60);
    expect(plan.timeouts.waitSeconds * 1000).toBeGreaterThan(LONG_TASK_MS);
    expect(plan.estimate).toMatchObject({ files: FILES, source: 's3-listing' });
    const shortCount = countTransitions(short.events);
    const longCount = countTransitions(long.events);
    expect(Math.abs(longCount.billed - shortCount.billed)).toBeLessThanOrEqual(2);
    // Each wait was entered once and never retried: no polling by Retry.
    expect(long.run.states.filter((s) => s === 'WaitForImportTask')).toHaveLength(1);
    expect(longCount.retries).toBe(0);
    // Within the target for a DRA run.
    expect(longCount.billed).toBeLessThanOrEqual(20);
    // The association was AVAILABLE at the first check; the task and the listing were not.
    expect(waitAnswers(long.events)).toEqual({
      WaitForAssociation: false,
      WaitForImportTask: true,
      WaitForFileListing: true,
    });
  }, 600_000);

  it('starts its task once a file system busy for half a simulated day frees, in one state entry', async () => {
    // Another task holds the file system: an import of the other mapping's 3 files, 4 h each.
    world.cloud.fsx.setFaults({ taskFileDelayMs: 4 * 3_600_000 });
    const blocker = await getFsx().send(
      new CreateDataRepositoryTaskCommand({
        Type: 'IMPORT_METADATA_FROM_REPOSITORY',
        FileSystemId: FS_ID,
        Paths: [`s3://${BUCKET}/long/`],
        Report: { Enabled: false },
      }),
    );

    const run = await runTransfer(world, { mapping: 'short', direction: 'stage-in' }, 300_000);
    world.cloud.fsx.setFaults({});
    const events = await historyOf(run.executionArn);
    const [other] =
      (
        await getFsx().send(
          new DescribeDataRepositoryTasksCommand({ TaskIds: [blocker.DataRepositoryTask!.TaskId!] }),
        )
      ).DataRepositoryTasks ?? [];
    const taskId = run.output?.details?.task?.taskId as string;
    const [own] =
      (await getFsx().send(new DescribeDataRepositoryTasksCommand({ TaskIds: [taskId] })))
        .DataRepositoryTasks ?? [];

    expect(run.status, run.cause).toBe('SUCCEEDED');
    // The busy start was one state entry, never retried: the poller started the task later.
    expect(run.states.filter((s) => s === 'StartImportTask')).toHaveLength(1);
    expect(countTransitions(events).retries).toBe(0);
    expect(waitAnswers(events)).toMatchObject({ WaitForImportTask: true });
    expect(startAnswers(events)).toEqual({ StartImportTask: true });
    // It started only once the other task had ended, about half a simulated day later.
    expect(other?.Lifecycle).toBe('SUCCEEDED');
    expect(own!.CreationTime!.getTime()).toBeGreaterThanOrEqual(other!.EndTime!.getTime());
    expect((other!.EndTime!.getTime() - other!.StartTime!.getTime()) / TIME_SCALE).toBeGreaterThanOrEqual(
      12 * 3_600_000,
    );
  }, 400_000);

  it('completes a wait at once, without the poller, when what it waits for ended before its first check', async () => {
    // The task and the listing end while their wait functions are slowed down by an hour.
    const run = await stageIn('short', SHORT_TASK_MS, [
      slowFunction('wait-for-data-repository-task', 3_600_000),
      slowFunction('wait-for-lustre-command', 3_600_000),
    ]);
    const answers = waitAnswers(run.events);

    expect(run.run.status, run.run.cause).toBe('SUCCEEDED');
    expect(answers, JSON.stringify(run.events.filter((e) => e.type === 'TaskSubmitted'))).toEqual({
      WaitForAssociation: false,
      WaitForImportTask: false,
      WaitForFileListing: false,
    });
  }, 120_000);

  it('fails a wait at once, naming the files of the completion report, when the task failed before its first check', async () => {
    world.cloud.fsx.setFaults({
      taskFileFailures: [
        { match: '/short/', errorCode: 'S3AccessDenied', types: ['IMPORT_METADATA_FROM_REPOSITORY'] },
      ],
    });
    world.cloud.faults.add([slowFunction('wait-for-data-repository-task', 3_600_000)]);

    const run = await runTransfer(world, { mapping: 'short', direction: 'stage-in' }, 120_000);
    world.cloud.fsx.setFaults({});
    world.cloud.faults.clear();

    expect(run.status).toBe('FAILED');
    expect(run.error).toBe('DataRepositoryTaskFailedError');
    expect(run.cause).toContain('S3AccessDenied');
    expect(waitAnswers(await historyOf(run.executionArn))).toEqual({ WaitForAssociation: false });
  }, 120_000);
});
