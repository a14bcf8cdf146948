/**
 * The time limits of every state machine: each execution has a TimeoutSeconds backstop above its
 * longest legitimate run (so a stuck run ends TIMED_OUT, and the status-change rules free its turn
 * and terminate its instance), and every Retry is bounded, backs off and uses full jitter.
 */
import { describe, expect, it } from 'vitest';
import { DefaultsConfig } from '../../../shared/config/schema.js';
import { runBudget, turnSeconds, waitSeconds } from '../../../shared/plan/deadline.js';
import { projectStateMachines } from '../../support/asl.js';

interface Retrier {
  ErrorEquals: string[];
  IntervalSeconds?: number;
  MaxAttempts?: number;
  BackoffRate?: number;
  MaxDelaySeconds?: number;
  JitterStrategy?: string;
}

interface State {
  Type: string;
  TimeoutSeconds?: number;
  TimeoutSecondsPath?: string;
  Retry?: Retrier[];
  Branches?: Array<{ States: Record<string, State> }>;
  ItemProcessor?: { States: Record<string, State> };
}

/** A standard workflow runs for at most one year. */
const MAX_STANDARD_SECONDS = 365 * 24 * 3600;
const machines = projectStateMachines() as Record<
  string,
  { TimeoutSeconds?: number; States: Record<string, State> }
>;

function allStates(definition: { States: Record<string, State> }): Array<[string, State]> {
  return Object.entries(definition.States).flatMap(([name, state]) => [
    [name, state] as [string, State],
    ...(state.Branches ?? []).flatMap(allStates),
    ...(state.ItemProcessor ? allStates(state.ItemProcessor) : []),
  ]);
}

/** The longest a Retry can keep a state going, in seconds (every delay at its maximum). */
function worstRetrySeconds(retrier: Retrier): number {
  let total = 0;
  let delay = retrier.IntervalSeconds ?? 1;
  for (let attempt = 1; attempt < (retrier.MaxAttempts ?? 3); attempt++) {
    total += Math.min(delay, retrier.MaxDelaySeconds ?? Number.POSITIVE_INFINITY);
    delay *= retrier.BackoffRate ?? 2;
  }
  return total;
}

/** The largest value a config number accepts, found by asking the schema itself (doubling, then bisecting). */
function schemaMax(build: (value: number) => unknown, from = 1): number {
  const accepts = (value: number) => DefaultsConfig.safeParse(build(value)).success;
  let low = from;
  let high = from * 2;
  while (accepts(high)) {
    low = high;
    high *= 2;
  }
  while (high - low > 1) {
    const middle = Math.floor((low + high) / 2);
    if (accepts(middle)) low = middle;
    else high = middle;
  }
  return low;
}

describe.each(Object.entries(machines))('statemachines/%s.asl.json', (_name, definition) => {
  const states = allStates(definition);

  it('has an execution TimeoutSeconds within what a standard workflow allows', () => {
    expect(definition.TimeoutSeconds).toBeGreaterThan(0);
    expect(definition.TimeoutSeconds).toBeLessThanOrEqual(MAX_STANDARD_SECONDS);
  });

  it('bounds every Retry: explicit attempts and back-off, full jitter, a delay cap on long ones', () => {
    const unbounded = states.flatMap(([stateName, state]) =>
      (state.Retry ?? [])
        .filter(
          (r) =>
            !Number.isInteger(r.MaxAttempts) ||
            r.MaxAttempts! < 1 ||
            r.IntervalSeconds === undefined ||
            (r.BackoffRate ?? 0) < 1 ||
            r.JitterStrategy !== 'FULL' ||
            // Beyond a few doublings a delay without a cap grows to hours: cap it.
            (r.MaxAttempts! > 6 && r.MaxDelaySeconds === undefined),
        )
        .map((r) => `${stateName}: ${r.ErrorEquals.join(', ')}`),
    );

    expect(unbounded).toEqual([]);
  });

  it('never lets a Retry outlast the execution TimeoutSeconds', () => {
    const tooLong = states.flatMap(([stateName, state]) =>
      (state.Retry ?? [])
        .filter((r) => worstRetrySeconds(r) >= definition.TimeoutSeconds!)
        .map((r) => `${stateName}: ${r.ErrorEquals.join(', ')} (${worstRetrySeconds(r)} s)`),
    );

    expect(tooLong).toEqual([]);
  });
});

describe('transfer state machine: the execution backstop', () => {
  const transfer = machines.transfer!;
  const byName = Object.fromEntries(allStates(transfer));

  it('lies above the longest legitimate run: settling, WaitForTurn, the run deadline, the command backstop, terminations', () => {
    const settleMinutes = schemaMax((v) => ({ autoStage: { maxSettleMinutes: v } }));
    const quietSeconds = schemaMax((v) => ({ autoStage: { quietSeconds: v } }));
    const maxRunMinutes = schemaMax((v) => ({ timeouts: { maxRunMinutes: v } }), 240);
    const transferMinutes = schemaMax((v) => ({ timeouts: { transferMinutes: v, maxRunMinutes } }));
    // The longest run: its deadline, then the transfer command's backstop counted from the deadline.
    const runMinutes = runBudget(
      { transferMinutes, maxRunMinutes },
      { seconds: 1e12, source: 'given' },
    ).runMinutes;
    const terminations = ['TerminateInstance', 'TerminateAfterFailure'].map((name) =>
      Math.max(...(byName[name]!.Retry ?? []).map(worstRetrySeconds)),
    );

    const longest =
      settleMinutes * 60 +
      quietSeconds +
      turnSeconds(maxRunMinutes) +
      runMinutes * 60 +
      waitSeconds(runMinutes) +
      terminations.reduce((a, b) => a + b, 0);

    expect(settleMinutes).toBe(1440);
    expect(maxRunMinutes).toBe(90 * 24 * 60);
    expect(transferMinutes).toBe(maxRunMinutes);
    expect(runMinutes).toBe(maxRunMinutes);
    expect(byName.RunTransferCommand!.TimeoutSecondsPath).toBe('$.plan.timeouts.waitSeconds');
    expect(byName.RunShardCommand!.TimeoutSecondsPath).toBe('$.plan.timeouts.waitSeconds');
    expect(byName.WaitForTurn!.TimeoutSecondsPath).toBe('$.plan.timeouts.turnSeconds');
    expect(transfer.TimeoutSeconds).toBeLessThan(365 * 24 * 3600);
    expect(transfer.TimeoutSeconds).toBeGreaterThan(longest);
  });
});
