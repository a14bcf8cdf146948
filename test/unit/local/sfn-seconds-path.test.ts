/**
 * `TimeoutSecondsPath` of a Task is read in the state's input, as AWS does (its Dynamic task
 * timeout example reads a field its Parameters leave out), not in the Parameters sent to the
 * resource: the DRA waits read `$.plan.timeouts.waitSeconds` that way.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { call, finished, history, type SfnHarness, sfnHarness } from './sfn-helpers.js';

let h: SfnHarness;

afterEach(async () => {
  await h.sfn.close();
});

describe('TimeoutSecondsPath', () => {
  it("times a waitForTaskToken task out after the seconds its path selects in the state's input", async () => {
    h = sfnHarness({ timeScale: 0.001 });
    const created = await call<{ stateMachineArn: string }>(h.sfn, 'CreateStateMachine', {
      name: 'timeout-from-input',
      roleArn: 'arn:aws:iam::000000000000:role/test',
      definition: JSON.stringify({
        StartAt: 'Wait',
        States: {
          Wait: {
            Type: 'Task',
            Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken',
            Parameters: {
              FunctionName: 'fixture-local-record-token',
              Payload: { 'token.$': '$$.Task.Token' },
            },
            TimeoutSecondsPath: '$.limits.waitSeconds',
            End: true,
          },
        },
      }),
    });
    const startedAt = Date.now();

    const started = await call<{ executionArn: string }>(h.sfn, 'StartExecution', {
      stateMachineArn: created.stateMachineArn,
      input: JSON.stringify({ limits: { waitSeconds: 300 } }),
    });
    const described = await finished(h, started.executionArn);

    // 300 simulated seconds at 0.001 = 300 ms.
    expect(described.error).toBe('States.Timeout');
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(250);
    const scheduled = (await history(h, started.executionArn)).find(
      (e) => e.type === 'TaskScheduled',
    ) as Record<string, any>;
    expect(scheduled.taskScheduledEventDetails.timeoutInSeconds).toBe(300);
  }, 30_000);
});
