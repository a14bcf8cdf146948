/**
 * Billed state transitions of a Standard workflow run, from its execution history: Step Functions
 * bills every state entered and every retry of a Task (https://aws.amazon.com/step-functions/pricing/),
 * so a wait that polls by `Retry` costs one transition per attempt, and a `.waitForTaskToken` wait
 * costs one however long it waits. Shared by the run's cost (actual.ts), the tests and the bench.
 */
import type { HistoryEvent } from '@aws-sdk/client-sfn';

/** A Lambda invocation the history shows (a Lambda Task attempt, `.waitForTaskToken` included). */
export function isLambdaScheduled(event: HistoryEvent): boolean {
  return (
    event.type === 'LambdaFunctionScheduled' ||
    (event.type === 'TaskScheduled' && event.taskScheduledEventDetails?.resourceType === 'lambda')
  );
}

/** What the history shows of a run's transitions. */
export interface TransitionCounts {
  /** `*StateEntered` events. */
  statesEntered: number;
  /** Task attempts after each Task state's first one (Lambda attempts beyond the Task states entered). */
  retries: number;
  /** statesEntered + retries: what Step Functions bills. */
  billed: number;
}

/**
 * Counts the billed transitions of a run: states entered plus retries of Lambda Tasks (each
 * attempt of a Task after its first is scheduled again without entering the state again).
 */
export function countTransitions(events: readonly HistoryEvent[]): TransitionCounts {
  let statesEntered = 0;
  let taskEntries = 0;
  let scheduled = 0;
  for (const event of events) {
    const type = event.type ?? '';
    if (type.endsWith('StateEntered')) {
      statesEntered += 1;
      if (type === 'TaskStateEntered') taskEntries += 1;
    }
    if (isLambdaScheduled(event)) scheduled += 1;
  }
  const retries = Math.max(0, scheduled - taskEntries);
  return { statesEntered, retries, billed: statesEntered + retries };
}
