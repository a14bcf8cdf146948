/**
 * The one persistence of the local cloud's emulators: JSON snapshots, one file per name
 * (`<dir>/<name>.json`), so `local up` keeps its instances, commands, file systems and the rest
 * across restarts. Writes are debounced and atomic (temp file + rename); the snapshot function is
 * called when the write happens, so the latest state wins. `flush()` writes pending snapshots at
 * once (on stop).
 *
 * Usage:
 *   const store = new StateStore(join(dataDir, 'state'));
 *   const saved = store.load<QueueState>('sqs');            // undefined when there is none (or unreadable)
 *   store.save('sqs', () => ({ queues: [...queues.values()] })); // after every change
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export class StateStore {
  private readonly pending = new Map<string, () => unknown>();
  private timer?: NodeJS.Timeout;

  constructor(
    /** Directory of the snapshot files (created if missing). */
    readonly dir: string,
    private readonly debounceMs = 200,
  ) {
    mkdirSync(this.dir, { recursive: true });
  }

  /** The last snapshot written under `name`, or undefined when there is none or it cannot be read. */
  load<T>(name: string): T | undefined {
    try {
      return JSON.parse(readFileSync(join(this.dir, `${name}.json`), 'utf8')) as T;
    } catch {
      return undefined;
    }
  }

  /** Schedules a snapshot; `snapshot` is called when the write happens (latest state wins). */
  save(name: string, snapshot: () => unknown): void {
    this.pending.set(name, snapshot);
    if (!this.timer) {
      this.timer = setTimeout(() => this.flush(), this.debounceMs);
      this.timer.unref();
    }
  }

  /** Writes every pending snapshot now. */
  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    mkdirSync(this.dir, { recursive: true });
    for (const [name, snapshot] of this.pending) {
      const file = join(this.dir, `${name}.json`);
      const tmp = `${file}.${process.pid}.tmp`;
      writeFileSync(tmp, `${JSON.stringify(snapshot(), null, 1)}\n`);
      renameSync(tmp, file);
    }
    this.pending.clear();
  }
}
