/** Small execution histories in the shapes of GetExecutionHistory, for cost and view tests. */
import type { HistoryEvent } from '@aws-sdk/client-sfn';

export const T0 = Date.parse('2026-11-30T10:00:00Z');

/** Builds events in order; `at` is seconds after T0. */
export function historyOf(
  steps: Array<
    | { enter: string; at: number; input?: unknown; type?: string }
    | { exit: string; at: number; output?: unknown; type?: string }
    | { lambda: number; at: number; seconds: number; fails?: boolean }
    | { tokenTask: number; at: number; seconds: number }
  >,
): HistoryEvent[] {
  const events: HistoryEvent[] = [];
  const add = (type: string, at: number, details: Partial<HistoryEvent> = {}) =>
    events.push({
      id: events.length + 1,
      type: type as never,
      timestamp: new Date(T0 + at * 1000),
      ...details,
    });
  for (const step of steps) {
    if ('enter' in step) {
      add(step.type ?? 'TaskStateEntered', step.at, {
        stateEnteredEventDetails: { name: step.enter, input: JSON.stringify(step.input ?? {}) },
      });
    } else if ('exit' in step) {
      add(step.type ?? 'TaskStateExited', step.at, {
        stateExitedEventDetails: { name: step.exit, output: JSON.stringify(step.output ?? {}) },
      });
    } else if ('lambda' in step) {
      for (let attempt = 0; attempt < step.lambda; attempt += 1) {
        const at = step.at + attempt * step.seconds;
        add('LambdaFunctionScheduled', at, { lambdaFunctionScheduledEventDetails: { resource: 'arn:fn' } });
        add('LambdaFunctionStarted', at);
        add(
          step.fails && attempt < step.lambda - 1 ? 'LambdaFunctionFailed' : 'LambdaFunctionSucceeded',
          at + step.seconds,
        );
      }
    } else {
      add('TaskScheduled', step.at, {
        taskScheduledEventDetails: {
          resourceType: 'lambda',
          resource: 'invoke.waitForTaskToken',
          region: 'us-east-1',
          parameters: '{}',
        },
      });
      add('TaskStarted', step.at);
      add('TaskSubmitted', step.at + step.seconds);
      add('TaskSucceeded', step.at + 600);
    }
  }
  return events;
}

/** An EC2 run: the instance launched at 20 s, the sync from 100 s to 700 s, terminated at 760 s. */
export function ec2RunHistory(): HistoryEvent[] {
  return historyOf([
    { enter: 'Validate', at: 0 },
    { lambda: 1, at: 0, seconds: 2 },
    { exit: 'Validate', at: 2 },
    { enter: 'ChooseMethod', at: 3, type: 'ChoiceStateEntered' },
    { enter: 'LaunchInstance', at: 4, input: { plan: { method: 'ec2', scope: { bucket: 'demo' } } } },
    { lambda: 1, at: 4, seconds: 3 },
    {
      exit: 'LaunchInstance',
      at: 20,
      output: {
        ec2: {
          instance: {
            instanceId: 'i-1',
            instanceType: 'c6i.large',
            launchedAt: new Date(T0 + 20_000).toISOString(),
          },
        },
      },
    },
    // Four attempts: three NotReadyYetError retries, then online.
    { enter: 'WaitForAgent', at: 21 },
    { lambda: 4, at: 21, seconds: 1, fails: true },
    { enter: 'RunTransferCommand', at: 100 },
    { tokenTask: 1, at: 100, seconds: 1 },
    { exit: 'RunTransferCommand', at: 700 },
    { enter: 'TerminateInstance', at: 750 },
    { lambda: 1, at: 750, seconds: 1 },
    { exit: 'TerminateInstance', at: 760 },
    { enter: 'Succeed', at: 761, type: 'SucceedStateEntered' },
  ]);
}
