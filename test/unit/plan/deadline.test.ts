/**
 * The run's deadline (shared/plan/deadline.ts, docs/planning.md "The run's deadline"): the longer of
 * timeouts.transferMinutes and the plan's estimate x 2, capped at timeouts.maxRunMinutes, and
 * the wait bound derived from it.
 */
import { describe, expect, it } from 'vitest';
import { MAX_RUN_MINUTES } from '../../../shared/config/schema.js';
import { ESTIMATE_MARGIN, runBudget, runMinutesOf, waitSeconds } from '../../../shared/plan/deadline.js';

const DAY_SECONDS = 86_400;
const TIMEOUTS = { transferMinutes: 240, maxRunMinutes: 20_160 };
/** A standard workflow runs for at most one year. */
const YEAR_SECONDS = 365 * DAY_SECONDS;

describe('runBudget', () => {
  it('keeps transferMinutes when the estimate with its margin fits in it', () => {
    const budget = runBudget(TIMEOUTS, { seconds: 1800, source: 's3-listing' });

    expect(budget.runMinutes).toBe(240);
    expect(budget.waitSeconds).toBe(240 * 60 * 1.5 + 3600);
    expect(budget.reason).toContain('timeouts.transferMinutes (240 min; the estimate x 2 is 60 min)');
  });

  it('gives a task the plan estimates at 3 days 2 x 3 days, and its waits 1.5 x that + 1 h', () => {
    const budget = runBudget(TIMEOUTS, { seconds: 3 * DAY_SECONDS, source: 's3-listing' });

    expect(ESTIMATE_MARGIN).toBe(2);
    expect(budget.runMinutes).toBe(6 * 24 * 60);
    expect(budget.waitSeconds).toBe(budget.runMinutes * 90 + 3600);
    // Longer than a 3-day task by far: the old 24-hour limit ended such a run after a third of it.
    expect(budget.waitSeconds).toBeGreaterThan(3 * DAY_SECONDS);
    expect(budget.reason).toContain('the estimate x 2 (8640 min, from s3-listing)');
  });

  it('caps a longer estimate at maxRunMinutes and says so', () => {
    const budget = runBudget(TIMEOUTS, { seconds: 30 * DAY_SECONDS, source: 'partial-listing' });

    expect(budget.runMinutes).toBe(20_160);
    expect(budget.reason).toContain('capped at timeouts.maxRunMinutes (20160 min)');
  });

  it('falls back to transferMinutes without an estimate (an export, a scope that cannot be listed)', () => {
    const budget = runBudget({ transferMinutes: 4000, maxRunMinutes: 20_160 });

    expect(budget.runMinutes).toBe(4000);
    expect(budget.reason).toContain('no estimate of the scope');
  });

  it('keeps every bound of the longest allowed run inside a standard workflow (with 8 days of settling and queueing)', () => {
    const budget = runBudget(
      { transferMinutes: MAX_RUN_MINUTES, maxRunMinutes: MAX_RUN_MINUTES },
      { seconds: 10 * YEAR_SECONDS, source: 'given' },
    );

    expect(MAX_RUN_MINUTES).toBe(90 * 24 * 60);
    expect(budget.runMinutes).toBe(MAX_RUN_MINUTES);
    expect(8 * DAY_SECONDS + budget.runMinutes * 60 + budget.waitSeconds).toBeLessThan(YEAR_SECONDS);
  });

  it('ignores an estimate that is not a number', () => {
    expect(runBudget(TIMEOUTS, { seconds: Number.NaN, source: 'given' }).runMinutes).toBe(240);
  });
});

describe('waitSeconds and runMinutesOf', () => {
  it('bounds a wait at 1.5 x the run time + 1 h', () => {
    expect(waitSeconds(1440)).toBe(1440 * 90 + 3600);
  });

  it('reads transferMinutes from plans made before runMinutes existed', () => {
    expect(runMinutesOf({ transferMinutes: 240 })).toBe(240);
    expect(runMinutesOf({ transferMinutes: 240, runMinutes: 8700 })).toBe(8700);
  });
});
