import { SendTaskSuccessCommand } from '@aws-sdk/client-sfn';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { finishTransfer } from '../../../shared/transfers/finish.js';
import { acquireLease, readGate } from '../../../shared/transfers/gate.js';
import { getRecord } from '../../../shared/transfers/records.js';
import { grantNext, waitForTurn } from '../../../shared/transfers/turns.js';
import { awsError } from '../ec2/builders.js';
import { executionEnd, finishDeps, gateTestBed, testClock, turnInput } from './builders.js';

const bed = gateTestBed('mapping');
const { sfnMock, mapping } = bed;
const tokensCompleted = () =>
  sfnMock.commandCalls(SendTaskSuccessCommand).map((call) => call.args[0].input.taskToken);

describe('WaitForTurn', () => {
  it('grants a free gate at once: task completed with a deadline counted from now, record RUNNING', async () => {
    const deps = finishDeps(bed.table);
    const input = turnInput('run-a', { mapping: mapping() });

    const turn = await waitForTurn(deps, input);

    expect(turn).toEqual({ transferId: 'run-a', turn: 'granted' });
    const success = sfnMock.commandCalls(SendTaskSuccessCommand)[0]?.args[0].input;
    expect(success?.taskToken).toBe('token-run-a');
    expect(JSON.parse(success?.output ?? 'null')).toBe(
      new Date(deps.clock.now().getTime() + 120 * 60_000).toISOString(),
    );
    expect(await getRecord(deps, 'run-a')).toMatchObject({
      status: 'RUNNING',
      mapping: mapping(),
      method: 'dra',
    });
    expect((await readGate(deps, { mapping: mapping(), direction: 'stage-in' })).holder).toBe('run-a');
  });

  it('queues a second run of the same mapping and direction (QUEUED, waiting for the first), and completes nothing', async () => {
    const deps = finishDeps(bed.table);
    await waitForTurn(deps, turnInput('first', { mapping: mapping() }));
    sfnMock.resetHistory();

    const turn = await waitForTurn(deps, turnInput('second', { mapping: mapping() }));

    expect(turn).toEqual({ transferId: 'second', turn: 'queued', waitingFor: 'first' });
    expect(tokensCompleted()).toEqual([]);
    expect(await getRecord(deps, 'second')).toMatchObject({ status: 'QUEUED', waitingFor: 'first' });
  });

  it('lets other mappings and the other direction run at the same time', async () => {
    const deps = finishDeps(bed.table);
    await waitForTurn(deps, turnInput('in-1', { mapping: mapping() }));

    const other = await waitForTurn(deps, turnInput('out-1', { mapping: mapping(), direction: 'export' }));
    const elsewhere = await waitForTurn(deps, turnInput('in-2', { mapping: `${mapping()}-b` }));

    expect([other.turn, elsewhere.turn]).toEqual(['granted', 'granted']);
  });

  it('grants again to the holder when its WaitForTurn is retried', async () => {
    const deps = finishDeps(bed.table);
    await waitForTurn(deps, turnInput('retried', { mapping: mapping() }));

    const again = await waitForTurn(deps, turnInput('retried', { mapping: mapping() }));

    expect(again.turn).toBe('granted');
    expect(tokensCompleted()).toEqual(['token-retried', 'token-retried']);
  });

  it('never makes a dry run wait or take the gate', async () => {
    const deps = finishDeps(bed.table);
    await waitForTurn(deps, turnInput('holder', { mapping: mapping() }));

    const dry = await waitForTurn(deps, turnInput('dry', { mapping: mapping(), dryRun: true }));

    expect(dry.turn).toBe('dry-run');
    expect(tokensCompleted()).toContain('token-dry');
    expect((await readGate(deps, { mapping: mapping(), direction: 'stage-in' })).holder).toBe('holder');
  });

  it('still gets a free gate when the holder released it between the first attempt and the enqueue', async () => {
    const deps = finishDeps(bed.table);
    const gate = { mapping: mapping(), direction: 'stage-in' as const };
    await waitForTurn(deps, turnInput('leaving', { mapping: gate.mapping }));
    // The holder ends exactly while the newcomer writes its waiter item.
    const send = deps.db.send.bind(deps.db);
    const racing = Object.create(deps.db) as typeof deps.db;
    racing.send = (async (command: unknown) => {
      if (command instanceof PutCommand && String(command.input.Item?.sk).startsWith('WAIT#')) {
        await finishTransfer(
          { ...deps },
          executionEnd('leaving', 'SUCCEEDED', { request: { mapping: gate.mapping } }),
        );
      }
      return send(command as never);
    }) as typeof deps.db.send;

    const turn = await waitForTurn({ ...deps, db: racing }, turnInput('newcomer', { mapping: gate.mapping }));

    expect(turn.turn).toBe('granted');
    expect((await readGate(deps, gate)).holder).toBe('newcomer');
  });
});

describe('the next run gets the turn when the holder ends', () => {
  it('hands the turn to the oldest waiter when the holder succeeds, fails, is aborted or times out', async () => {
    for (const status of ['SUCCEEDED', 'FAILED', 'ABORTED', 'TIMED_OUT'] as const) {
      const name = `${mapping()}-${status.toLowerCase().replace('_', '-')}`;
      const deps = finishDeps(bed.table);
      await waitForTurn(deps, turnInput(`holder-${status}`, { mapping: name }));
      deps.clock.advance(1000);
      await waitForTurn(deps, turnInput(`older-${status}`, { mapping: name }));
      deps.clock.advance(1000);
      await waitForTurn(deps, turnInput(`newer-${status}`, { mapping: name }));
      sfnMock.resetHistory();

      await finishTransfer(deps, executionEnd(`holder-${status}`, status, { request: { mapping: name } }));

      expect(tokensCompleted()).toEqual([`token-older-${status}`]);
      expect((await readGate(deps, { mapping: name, direction: 'stage-in' })).holder).toBe(`older-${status}`);
      expect(await getRecord(deps, `older-${status}`)).toMatchObject({ status: 'RUNNING' });
      expect(await getRecord(deps, `holder-${status}`)).toMatchObject({ status });
    }
  });

  it('drops a waiter that was aborted while queued: it never gets the turn', async () => {
    const deps = finishDeps(bed.table);
    await waitForTurn(deps, turnInput('holder', { mapping: mapping() }));
    await waitForTurn(deps, turnInput('aborted', { mapping: mapping() }));
    deps.clock.advance(1000);
    await waitForTurn(deps, turnInput('patient', { mapping: mapping() }));
    await finishTransfer(deps, executionEnd('aborted', 'ABORTED', { request: { mapping: mapping() } }));
    sfnMock.resetHistory();

    await finishTransfer(deps, executionEnd('holder', 'SUCCEEDED', { request: { mapping: mapping() } }));

    expect(tokensCompleted()).toEqual(['token-patient']);
    expect(await getRecord(deps, 'aborted')).toMatchObject({ status: 'ABORTED' });
  });

  it('skips a waiter whose task is gone (SendTaskSuccess: TaskTimedOut) and frees the gate for the next', async () => {
    const deps = finishDeps(bed.table);
    await waitForTurn(deps, turnInput('holder', { mapping: mapping() }));
    await waitForTurn(deps, turnInput('gone', { mapping: mapping() }));
    deps.clock.advance(1000);
    await waitForTurn(deps, turnInput('next', { mapping: mapping() }));
    sfnMock.on(SendTaskSuccessCommand, { taskToken: 'token-gone' }).rejects(awsError('TaskTimedOut'));

    await finishTransfer(deps, executionEnd('holder', 'SUCCEEDED', { request: { mapping: mapping() } }));

    expect((await readGate(deps, { mapping: mapping(), direction: 'stage-in' })).holder).toBe('next');
  });

  it('lets a run take an expired lease (a lost release never blocks a mapping forever)', async () => {
    const clock = testClock();
    const deps = finishDeps(bed.table, clock);
    const gate = { mapping: mapping(), direction: 'stage-in' as const };
    await waitForTurn(deps, turnInput('lost', { mapping: gate.mapping }));

    clock.advance((120 + 59) * 60_000);
    const early = await acquireLease(deps, gate, {
      transferId: 'late',
      executionArn: 'x',
      transferMinutes: 120,
    });
    clock.advance(2 * 60_000);
    const after = await acquireLease(deps, gate, {
      transferId: 'late',
      executionArn: 'x',
      transferMinutes: 120,
    });

    expect([early, after]).toEqual([false, true]);
  });

  it('grants nothing while the gate is held, and nothing when nobody waits', async () => {
    const deps = finishDeps(bed.table);
    const gate = { mapping: mapping(), direction: 'stage-in' as const };
    expect(await grantNext(deps, gate)).toBeUndefined();
    await waitForTurn(deps, turnInput('holder', { mapping: gate.mapping }));
    await waitForTurn(deps, turnInput('waiting', { mapping: gate.mapping }));

    expect(await grantNext(deps, gate)).toBeUndefined();
    expect((await readGate(deps, gate)).holder).toBe('holder');
  });
});
