/**
 * The fault matrix covers what issue 11 asks: every Task state of the transfer state machine, the
 * triggers, and every fault of the list; and each scenario expects an outcome a user can
 * act on (a success, a stopped or timed-out execution, or an error class of shared/errors.ts).
 */
import { describe, expect, it } from 'vitest';
import { ERROR_CLASSES } from '../../shared/errors.js';
import { projectStateMachines } from '../support/asl.js';
import { FAULT_KINDS, type Scenario } from './harness.js';
import { DRA_SCENARIOS } from './scenarios/dra.js';
import { EC2_COMMAND_SCENARIOS, EC2_LAUNCH_SCENARIOS } from './scenarios/ec2.js';
import { EC2_SCALE_OUT_SCENARIOS } from './scenarios/ec2-scale-out.js';
import { TRIGGER_SCENARIOS } from './scenarios/triggers.js';

const ALL: Scenario[] = [
  ...DRA_SCENARIOS,
  ...EC2_LAUNCH_SCENARIOS,
  ...EC2_COMMAND_SCENARIOS,
  ...EC2_SCALE_OUT_SCENARIOS,
  ...TRIGGER_SCENARIOS,
];
/** The functions that start, stop, finish runs or complete their waits outside the state machine. */
const TRIGGERS = [
  's3-event-trigger',
  'api-start-transfer',
  'api-cancel-transfer',
  'finish-transfer',
  'poll-dra-waits',
];

describe('the fault matrix', () => {
  it('injects a fault into every Task state of the transfer state machine, inside Map states too', () => {
    type States = Record<string, { Type: string; ItemProcessor?: { States: States } }>;
    const tasks = (states: States): string[] =>
      Object.entries(states).flatMap(([name, state]) => [
        ...(state.Type === 'Task' ? [name] : []),
        ...(state.ItemProcessor ? tasks(state.ItemProcessor.States) : []),
      ]);
    const states = tasks((projectStateMachines().transfer as { States: States }).States);
    const covered = new Set(ALL.map((scenario) => scenario.state));

    expect(states.filter((state) => !covered.has(state))).toEqual([]);
  });

  it('injects faults into every trigger', () => {
    const covered = new Set(ALL.map((scenario) => scenario.state));

    expect(TRIGGERS.filter((trigger) => !covered.has(trigger))).toEqual([]);
  });

  it('injects every fault of the list', () => {
    const covered = new Set(ALL.map((scenario) => scenario.fault));

    expect(FAULT_KINDS.filter((fault) => !covered.has(fault))).toEqual([]);
  });

  it('expects of every scenario a success, a stopped or timed-out execution, or an error class', () => {
    const unnamed = ALL.filter(
      (s) => !['SUCCEEDED', 'ABORTED', 'TIMED_OUT'].includes(s.expect) && !(s.expect in ERROR_CLASSES),
    ).map((s) => `${s.state}: ${s.what} -> ${s.expect}`);

    expect(unnamed).toEqual([]);
  });

  it('names each scenario once', () => {
    const names = ALL.map((s) => `${s.state}: ${s.what}`);

    expect(names.length).toBe(new Set(names).size);
  });
});
