/** Local EventBridge: running only the named rate() schedules on the scaled clock (local/events.ts). */
import { afterEach, describe, expect, it } from 'vitest';
import { ScaledClock } from '../../../local/clock.js';
import { EventBus } from '../../../local/events.js';
import { LambdaRegistry } from '../../../local/lambda.js';
import { FIXTURE, waitFor } from './sfn-helpers.js';

let bus: EventBus | undefined;

afterEach(() => bus?.close());

function startBus(lambdas: LambdaRegistry, schedules: boolean | string[]): EventBus {
  bus = new EventBus({ clock: new ScaledClock(0.001), lambdas, log: () => {}, schedules });
  return bus;
}

const invocationsOf = (lambdas: LambdaRegistry, key: string) =>
  lambdas.invocations.filter((record) => record.functionName === `fixture-local-${key}`);

describe('named schedules', () => {
  it("runs the rate() rules of the functions named, by the function's key", async () => {
    const lambdas = new LambdaRegistry({ rootDir: FIXTURE });

    startBus(lambdas, ['fail']);
    await waitFor(() => invocationsOf(lambdas, 'fail').length >= 1 || undefined, 5000, 'a scheduled run');

    expect(invocationsOf(lambdas, 'fail')[0]!.event).toMatchObject({ 'detail-type': 'Scheduled Event' });
  });

  it('runs nothing for a named cron rule (cron rules fire only on demand)', async () => {
    const lambdas = new LambdaRegistry({ rootDir: FIXTURE });

    startBus(lambdas, ['fixture-nightly']);
    await new Promise((resolve) => setTimeout(resolve, 700));

    // rate(5 minutes) of `fail` would have fired twice at 0.001 had it been started.
    expect(lambdas.invocations).toHaveLength(0);
  });

  it('refuses a name that no scheduled rule has', () => {
    const lambdas = new LambdaRegistry({ rootDir: FIXTURE });

    expect(() => startBus(lambdas, ['nope'])).toThrow(/No scheduled rule named nope/);
  });
});
