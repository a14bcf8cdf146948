/** Billed transitions from an execution history (shared/cost/transitions.ts). */
import { describe, expect, it } from 'vitest';
import { countTransitions } from '../../../shared/cost/transitions.js';
import { ec2RunHistory, historyOf } from './history.js';

describe('countTransitions', () => {
  it('bills every state entered plus every retry of a Task', () => {
    const counts = countTransitions(ec2RunHistory());

    // 7 states entered + 3 retries of WaitForAgent (4 attempts).
    expect(counts).toEqual({ statesEntered: 7, retries: 3, billed: 10 });
  });

  it('bills a .waitForTaskToken wait once, however long the callback takes', () => {
    const wait = (seconds: number) =>
      countTransitions(
        historyOf([
          { enter: 'WaitForImportTask', at: 0 },
          { tokenTask: 1, at: 0, seconds },
          { exit: 'WaitForImportTask', at: seconds },
        ]),
      );

    expect(wait(60)).toEqual({ statesEntered: 1, retries: 0, billed: 1 });
    expect(wait(86_400)).toEqual(wait(60));
  });

  it('counts Choice, Pass and Fail states as transitions, not only Tasks', () => {
    const counts = countTransitions(
      historyOf([
        { enter: 'ChooseMethod', at: 0, type: 'ChoiceStateEntered' },
        { enter: 'FunctionFailed', at: 1, type: 'PassStateEntered' },
        { enter: 'FunctionFailedError', at: 2, type: 'FailStateEntered' },
      ]),
    );

    expect(counts.billed).toBe(3);
  });
});
