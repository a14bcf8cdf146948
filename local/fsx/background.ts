/**
 * Background work of the FSx emulator: the simulated processes (file system creation, association
 * queues, data repository tasks, automatic import) run as promises tracked here, so the emulator
 * can wait for them (`whenIdle`) and stop them (`close`: every sleep resolves at once and each
 * process sees `closed` and returns).
 */
import { timerDelay } from '../clock.js';
import type { Clock } from '../types.js';

export class Background {
  private isClosed = false;
  private readonly running = new Set<Promise<unknown>>();
  private readonly drivers = new Map<string, Promise<void>>();
  /** Drivers kicked while running: they run one more round. */
  private readonly rekick = new Set<string>();
  private readonly timers = new Map<NodeJS.Timeout, () => void>();
  private readonly locks = new Map<string, Promise<unknown>>();

  constructor(
    private readonly clock: Clock,
    /** Where failures of background work are reported. */
    private readonly note: (message: string) => void,
  ) {}

  /** True once `close()` has been called: processes stop at their next step. */
  get closed(): boolean {
    return this.isClosed;
  }

  /** Sleeps `ms` simulated milliseconds; resolves at once when the emulator closes. */
  sleep(ms: number): Promise<void> {
    if (this.isClosed) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(
        () => {
          this.timers.delete(timer);
          resolve();
        },
        timerDelay(this.clock, ms),
      );
      timer.unref?.();
      this.timers.set(timer, resolve);
    });
  }

  /** Runs `fn` in the background; a failure is noted, never thrown. */
  spawn(fn: () => Promise<void>): void {
    const promise: Promise<void> = fn()
      .catch((error) => this.note(`background: ${(error as Error).stack ?? error}`))
      .finally(() => this.running.delete(promise));
    this.running.add(promise);
  }

  /** Runs `fn` as the single driver for `key`; a kick while it runs makes it run once more. */
  drive(key: string, fn: () => Promise<void>): void {
    if (this.drivers.has(key)) {
      this.rekick.add(key);
      return;
    }
    const promise: Promise<void> = (async () => {
      do {
        this.rekick.delete(key);
        await fn().catch((error) => this.note(`${key}: ${(error as Error).stack ?? error}`));
      } while (this.rekick.has(key) && !this.isClosed);
    })().finally(() => this.drivers.delete(key));
    this.drivers.set(key, promise);
  }

  /** Runs `fn` after every earlier `withLock` call of the same key has settled. */
  async withLock<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.locks.get(key) ?? Promise.resolve();
    const run = previous.then(fn, fn);
    const settled = run.catch(() => undefined);
    this.locks.set(key, settled);
    try {
      return await run;
    } finally {
      if (this.locks.get(key) === settled) this.locks.delete(key);
    }
  }

  /** Resolves when no background process is running. */
  async whenIdle(): Promise<void> {
    while (this.running.size > 0 || this.drivers.size > 0) {
      await Promise.allSettled([...this.running, ...this.drivers.values()]);
    }
  }

  /** Ends every sleep at once and waits for the processes (and `also`) to return. */
  async close(also: Array<Promise<unknown> | undefined> = []): Promise<void> {
    this.isClosed = true;
    for (const [timer, resolve] of this.timers) {
      clearTimeout(timer);
      resolve();
    }
    this.timers.clear();
    await Promise.allSettled([...this.running, ...this.drivers.values(), ...also]);
  }
}
