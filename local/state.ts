/**
 * JSON snapshots of emulator state under `<dataDir>/state/<name>.json`, so `local up` keeps its
 * instances, commands, parameters and documents across restarts. Writes are debounced and atomic
 * (temp file + rename); `flush()` writes pending snapshots at once (on stop).
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export class StateStore {
  private readonly pending = new Map<string, () => unknown>();
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly dataDir: string,
    private readonly debounceMs = 200,
  ) {
    mkdirSync(this.dir, { recursive: true });
  }

  get dir(): string {
    return join(this.dataDir, 'state');
  }

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

  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    for (const [name, snapshot] of this.pending) {
      const file = join(this.dir, `${name}.json`);
      const tmp = `${file}.${process.pid}.tmp`;
      writeFileSync(tmp, `${JSON.stringify(snapshot(), null, 1)}\n`);
      renameSync(tmp, file);
    }
    this.pending.clear();
  }
}
