/**
 * What `npm run bench` computes from what it measured: billed transitions from an execution
 * history, and which targets of issue 12 a set of figures misses.
 */
import type { HistoryEvent } from '@aws-sdk/client-sfn';
import { describe, expect, it } from 'vitest';
import { checkTargets } from '../../../bench/lib/figures.js';
import { billedTransitions, secondsByState } from '../../../bench/lib/runs.js';

const at = (second: number) => new Date(Date.UTC(2026, 10, 30, 12, 0, second));
const entered = (name: string, type = 'Task', second = 0): HistoryEvent =>
  ({
    type: `${type}StateEntered`,
    stateEnteredEventDetails: { name },
    timestamp: at(second),
  }) as HistoryEvent;
const exited = (name: string, type = 'Task', second = 0): HistoryEvent =>
  ({ type: `${type}StateExited`, stateExitedEventDetails: { name }, timestamp: at(second) }) as HistoryEvent;
const scheduled = (): HistoryEvent => ({ type: 'LambdaFunctionScheduled' }) as HistoryEvent;

describe('billed transitions', () => {
  it('count every state entered and every retry of a Task state', () => {
    const history = [
      entered('Validate'),
      scheduled(),
      exited('Validate'),
      entered('ChooseMethod', 'Choice'),
      exited('ChooseMethod', 'Choice'),
      entered('WaitForImportTask'),
      scheduled(),
      scheduled(),
      scheduled(),
      exited('WaitForImportTask'),
      entered('Succeed', 'Succeed'),
    ];

    expect(billedTransitions(history)).toEqual({ billed: 6, statesEntered: 4, retries: 2 });
  });

  it('add up the seconds spent in each state', () => {
    const history = [
      entered('A', 'Task', 0),
      exited('A', 'Task', 2),
      entered('A', 'Task', 5),
      exited('A', 'Task', 6),
    ];

    expect(secondsByState(history)).toEqual({ A: 3 });
  });
});

describe('targets', () => {
  const met = {
    overheadRatio: 1.05,
    transitions: { ec2Short: 16, ec2Long: 17, draShort: 15, draLong: 16 },
    coalescing: { events: 100_000, executions: 1, lost: 0 },
    bundles: { maxZipBytes: 290_000 },
    coldInitMs: 120,
    scaleOut: { workers: [1, 2, 4], efficiency: [1, 0.95, 0.85] },
  };

  it('are all met by figures within every target', () => {
    expect(checkTargets(met).filter((c) => !c.met)).toEqual([]);
  });

  it('name each missed target: DRA transitions growing with the task, a zip over 300 KB, one lost event', () => {
    const missed = checkTargets({
      ...met,
      transitions: { ...met.transitions, draLong: 25 },
      bundles: { maxZipBytes: 300_001 },
      coalescing: { ...met.coalescing, lost: 1 },
    }).filter((c) => !c.met);

    expect(missed.map((c) => `${c.figure}: ${c.what}`)).toEqual([
      'transitions: DRA run, 10x longer',
      'transitions: DRA run, long - short (flat)',
      'coalescing: events lost',
      'bundles: largest function zip',
    ]);
  });

  it('miss scale-out when 4 workers were not measured', () => {
    const checks = checkTargets({ scaleOut: { workers: [1, 2], efficiency: [1, 0.9] } });

    expect(checks).toEqual([
      expect.objectContaining({ figure: 'scaleOut', met: false, actual: 'not measured' }),
    ]);
  });
});
