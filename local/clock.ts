/**
 * Scaled time for the local cloud. Simulated durations (boot delays, agent registration, command
 * timeouts, watchdogs, waits) are multiplied by `timeScale` before they become real timers, so a
 * test with `timeScale: 0.01` sees a 15-second boot in 150 ms. `now()` stays the wall clock (plus
 * an optional offset), because the Lambda handlers and the SDK compare it with `Date.now()`.
 */
import type { Clock } from './types.js';

/** The longest delay Node's setTimeout honours (2^31 - 1 ms). */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * The real delay of a timer for `ms` simulated milliseconds. Node fires a timer at once when its
 * delay does not fit in 32 bits (about 24.8 days), and a state machine's 340-day backstop at time
 * scale 1 would: longer timers fire after 24.8 days of real time instead, which no local cloud
 * lives to see.
 */
export function timerDelay(clock: Pick<Clock, 'scale'>, ms: number): number {
  return Math.min(clock.scale(ms), MAX_TIMER_MS);
}

export class ScaledClock implements Clock {
  private offsetMs = 0;
  private readonly timers = new Set<NodeJS.Timeout>();
  private closed = false;

  constructor(private timeScaleValue = 1) {
    if (!(timeScaleValue > 0)) throw new Error(`timeScale must be a positive number, got ${timeScaleValue}`);
  }

  get timeScale(): number {
    return this.timeScaleValue;
  }

  /** Changes the scale for timers started from now on (admin API `POST /_local/clock`). */
  setTimeScale(timeScale: number): void {
    if (!(timeScale > 0)) throw new Error(`timeScale must be a positive number, got ${timeScale}`);
    this.timeScaleValue = timeScale;
  }

  /** Moves `now()` forward (never the timers): lets a test jump past deadlines stored in tags. */
  advance(ms: number): void {
    this.offsetMs += ms;
  }

  scale(ms: number): number {
    return Math.max(0, Math.round(ms * this.timeScaleValue));
  }

  now(): Date {
    return new Date(Date.now() + this.offsetMs);
  }

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.setTimer(resolve, ms);
    });
  }

  /**
   * Runs `fn` after `ms` simulated milliseconds. Timers do not keep the process alive (the HTTP
   * server does) and are all cancelled by `close()`.
   */
  setTimer(fn: () => void, ms: number): NodeJS.Timeout {
    const timer = setTimeout(
      () => {
        this.timers.delete(timer);
        if (!this.closed) fn();
      },
      timerDelay(this, ms),
    );
    timer.unref();
    this.timers.add(timer);
    return timer;
  }

  clearTimer(timer: NodeJS.Timeout | undefined): void {
    if (!timer) return;
    clearTimeout(timer);
    this.timers.delete(timer);
  }

  close(): void {
    this.closed = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }
}
