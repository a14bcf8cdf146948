/** Timers of the scaled clock beyond what Node's setTimeout holds (2^31 - 1 ms, about 24.8 days). */
import { afterEach, describe, expect, it } from 'vitest';
import { MAX_TIMER_MS, ScaledClock, timerDelay } from '../../../local/clock.js';

const DAY_MS = 86_400_000;
let clock: ScaledClock | undefined;
afterEach(() => clock?.close());

describe('scaled clock timers', () => {
  it('never fire at once for a delay above 32 bits (a 340-day execution backstop at time scale 1)', async () => {
    clock = new ScaledClock(1);
    let fired = false;
    clock.setTimer(() => {
      fired = true;
    }, 340 * DAY_MS);

    await new Promise((resolve) => setTimeout(resolve, 50));

    expect(fired).toBe(false);
  });

  it('cap the real delay at the longest Node honours, and scale shorter ones', () => {
    expect(timerDelay(new ScaledClock(1), 340 * DAY_MS)).toBe(MAX_TIMER_MS);
    expect(timerDelay(new ScaledClock(0.01), 340 * DAY_MS)).toBe(340 * DAY_MS * 0.01);
  });
});
