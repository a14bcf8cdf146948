/**
 * Task tokens of `.waitForTaskToken` tasks. A token names its execution and state (so a malformed
 * token is `InvalidToken`, an unknown one `TaskDoesNotExist`) and stays known after its task closed,
 * so a late SendTaskSuccess/Failure/Heartbeat gets `TaskTimedOut` as on AWS.
 */
import { randomBytes } from 'node:crypto';
import { LocalAwsError } from '../types.js';

export type TaskOutcome =
  | { ok: true; output: unknown; text: string }
  | { ok: false; error?: string; cause?: string };

export interface PendingTask {
  token: string;
  executionArn: string;
  stateName: string;
  closed: boolean;
  /** Settles when SendTaskSuccess/SendTaskFailure arrives. */
  outcome: Promise<TaskOutcome>;
  /** Called on each SendTaskHeartbeat. */
  onHeartbeat?: () => void;
}

interface Entry extends PendingTask {
  settle: (outcome: TaskOutcome) => void;
}

const MAX_OUTPUT = 256 * 1024;

export class TaskTokens {
  private readonly tasks = new Map<string, Entry>();

  /** Creates a token for a task of `executionArn` in state `stateName`. */
  create(executionArn: string, stateName: string): PendingTask {
    const payload = { e: executionArn, s: stateName, n: randomBytes(16).toString('hex') };
    const token = `AQ${Buffer.from(JSON.stringify(payload)).toString('base64url')}`;
    let settle!: (outcome: TaskOutcome) => void;
    const outcome = new Promise<TaskOutcome>((resolve) => {
      settle = resolve;
    });
    const entry: Entry = { token, executionArn, stateName, closed: false, outcome, settle };
    this.tasks.set(token, entry);
    return entry;
  }

  get(token: string): PendingTask | undefined {
    return this.tasks.get(token);
  }

  /** Marks a task closed (succeeded, failed, timed out or its execution ended). */
  close(token: string): void {
    const entry = this.tasks.get(token);
    if (entry) entry.closed = true;
  }

  /** Closes every open task of an execution. */
  closeExecution(executionArn: string): void {
    for (const entry of this.tasks.values()) if (entry.executionArn === executionArn) entry.closed = true;
  }

  /** Forgets the tokens of an execution (when its state machine is deleted). */
  forgetExecution(executionArn: string): void {
    for (const [token, entry] of this.tasks)
      if (entry.executionArn === executionArn) this.tasks.delete(token);
  }

  sendSuccess(token: unknown, output: unknown): void {
    const entry = this.open(token);
    if (typeof output !== 'string')
      throw new LocalAwsError('InvalidOutput', 'Invalid Output: output is required');
    let parsed: unknown;
    try {
      parsed = JSON.parse(output);
    } catch (error) {
      throw new LocalAwsError('InvalidOutput', `Invalid Output: '${(error as Error).message}'`);
    }
    if (Buffer.byteLength(output) > MAX_OUTPUT) {
      throw new LocalAwsError('InvalidOutput', 'Invalid Output: output exceeds the maximum size of 256 KB');
    }
    entry.closed = true;
    entry.settle({ ok: true, output: parsed, text: output });
  }

  sendFailure(token: unknown, error: unknown, cause: unknown): void {
    const entry = this.open(token);
    entry.closed = true;
    entry.settle({
      ok: false,
      error: typeof error === 'string' ? error : undefined,
      cause: typeof cause === 'string' ? cause : undefined,
    });
  }

  sendHeartbeat(token: unknown): void {
    this.open(token).onHeartbeat?.();
  }

  private open(token: unknown): Entry {
    if (typeof token !== 'string' || token.length === 0 || token.length > 2048) {
      throw new LocalAwsError('InvalidToken', `Invalid Token: '${String(token ?? '')}'`);
    }
    const entry = this.tasks.get(token);
    if (!entry) {
      if (!wellFormed(token)) throw new LocalAwsError('InvalidToken', `Invalid Token: '${token}'`);
      throw new LocalAwsError('TaskDoesNotExist', 'Task Does Not Exist');
    }
    if (entry.closed) {
      throw new LocalAwsError('TaskTimedOut', 'Task Timed Out: Provided task does not exist anymore');
    }
    return entry;
  }
}

function wellFormed(token: string): boolean {
  if (!token.startsWith('AQ')) return false;
  try {
    const payload = JSON.parse(Buffer.from(token.slice(2), 'base64url').toString('utf8'));
    return typeof payload?.e === 'string' && typeof payload?.s === 'string' && typeof payload?.n === 'string';
  } catch {
    return false;
  }
}
