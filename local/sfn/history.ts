/**
 * An execution's event history in the shapes of the Step Functions API (`HistoryEvent`): ids from
 * 1, `previousEventId` linking each event to the one before it (0 for ExecutionStarted), timestamps,
 * and one `<type>EventDetails` member per event.
 */

export interface HistoryEvent {
  timestamp: Date;
  type: string;
  id: number;
  previousEventId: number;
  [details: string]: unknown;
}

/** `TaskStateEntered` -> `stateEnteredEventDetails`; `TaskScheduled` -> `taskScheduledEventDetails`. */
export function detailsMember(type: string): string | undefined {
  if (type.endsWith('StateEntered')) return 'stateEnteredEventDetails';
  if (type.endsWith('StateExited')) return 'stateExitedEventDetails';
  if (NO_DETAILS.has(type)) return undefined;
  if (/^(Task|LambdaFunction|Execution|MapIteration|MapStateStarted)/.test(type)) {
    return `${lowerFirst(type)}EventDetails`;
  }
  return undefined;
}

function lowerFirst(text: string): string {
  return text.charAt(0).toLowerCase() + text.slice(1);
}

/** Types whose events carry no details member on AWS. */
const NO_DETAILS = new Set([
  'LambdaFunctionStarted',
  'MapStateSucceeded',
  'MapStateFailed',
  'MapStateAborted',
  'ParallelStateStarted',
  'ParallelStateSucceeded',
  'ParallelStateFailed',
  'ParallelStateAborted',
  'TaskStateAborted',
  'WaitStateAborted',
]);

export class History {
  readonly events: HistoryEvent[] = [];

  constructor(private readonly now: () => Date) {}

  get lastId(): number {
    return this.events.length;
  }

  /** Appends an event; `details` goes under the type's `<type>EventDetails` member. */
  add(type: string, details?: Record<string, unknown>): HistoryEvent {
    const id = this.events.length + 1;
    const event: HistoryEvent = {
      timestamp: this.now(),
      type,
      id,
      previousEventId: id - 1,
    };
    const member = detailsMember(type);
    if (member && details) event[member] = details;
    this.events.push(event);
    return event;
  }
}

/** JSON text of a state's data, and whether it was truncated (never, locally). */
export function data(value: unknown): { text: string; details: { truncated: boolean } } {
  return { text: JSON.stringify(value ?? null), details: { truncated: false } };
}
