/** The cost of a run from its execution history (shared/cost/actual.ts). */
import { describe, expect, it } from 'vitest';
import { runCostFromHistory } from '../../../shared/cost/actual.js';
import { PRICE_TABLE } from '../../../shared/cost/prices.js';
import { ec2RunHistory, historyOf, T0 } from './history.js';

const END = new Date(T0 + 762_000);

describe('runCostFromHistory', () => {
  it('bills the instance from launch to termination at its type price', () => {
    const cost = runCostFromHistory(ec2RunHistory(), { method: 'ec2', direction: 'stage-in' }, PRICE_TABLE, {
      end: END,
    });

    expect(cost.instances).toEqual([
      { instanceId: 'i-1', instanceType: 'c6i.large', seconds: 740, usd: (740 * 0.085) / 3600 },
    ]);
    expect(cost.final).toBe(true);
  });

  it('counts every state entered and every retry as a transition, and every attempt as an invocation', () => {
    const cost = runCostFromHistory(ec2RunHistory(), {}, PRICE_TABLE, { end: END });

    // 7 states entered + 3 retries of WaitForAgent.
    expect(cost.transitions.count).toBe(10);
    expect(cost.transitions.usd).toBeCloseTo(10 * 0.000025, 10);
    // Validate, LaunchInstance, 4 x WaitForAgent, RunTransferCommand (until Lambda answered), TerminateInstance.
    expect(cost.lambda.invocations).toBe(8);
    expect(cost.lambda.gbSeconds).toBeCloseTo((2 + 3 + 4 + 1 + 1) * 0.5, 6);
  });

  it('charges the minimum 60 seconds of an instance, and counts a running one until now', () => {
    const history = historyOf([
      { enter: 'LaunchInstance', at: 0 },
      {
        exit: 'LaunchInstance',
        at: 5,
        output: {
          ec2: {
            instance: {
              instanceId: 'i-2',
              instanceType: 'c5n.large',
              launchedAt: new Date(T0).toISOString(),
            },
          },
        },
      },
    ]);

    const short = runCostFromHistory(history, {}, PRICE_TABLE, { end: new Date(T0 + 10_000) });
    const running = runCostFromHistory(history, {}, PRICE_TABLE, { now: new Date(T0 + 600_000) });

    expect(short.instances[0]!.seconds).toBe(60);
    expect(running.instances[0]!.seconds).toBe(600);
    expect(running.final).toBe(false);
  });

  it('bills each scale-out shard instance from its launch to its own termination', () => {
    const launched = (id: string, at: number) => ({
      exit: 'LaunchShardInstance',
      at,
      output: {
        instance: {
          instanceId: id,
          instanceType: 'c6i.large',
          launchedAt: new Date(T0 + at * 1000).toISOString(),
        },
      },
    });
    const history = historyOf([
      { enter: 'LaunchShardInstance', at: 0 },
      { enter: 'LaunchShardInstance', at: 0 },
      launched('i-a', 5),
      launched('i-b', 6),
      { enter: 'TerminateShardInstance', at: 100 },
      { exit: 'TerminateShardInstance', at: 101, output: { instance: { instanceId: 'i-b' } } },
      { enter: 'TerminateShardInstance', at: 300 },
      { exit: 'TerminateShardInstance', at: 305, output: { instance: { instanceId: 'i-a' } } },
    ]);

    const cost = runCostFromHistory(history, {}, PRICE_TABLE, { end: new Date(T0 + 400_000) });

    expect(cost.instances.map((i) => [i.instanceId, i.seconds])).toEqual([
      ['i-a', 300],
      ['i-b', 95],
    ]);
  });

  it('derives the S3 requests from the files and bytes moved, as the estimate model does', () => {
    const cost = runCostFromHistory(
      ec2RunHistory(),
      { method: 'ec2', direction: 'stage-in', files: 2500, bytes: 100 * 1024 ** 3 },
      PRICE_TABLE,
      { end: END },
    );

    // 12,800 GETs of 8 MiB parts + the listing; 2 x 3 LISTs + 120 progress PUTs (600 s of sync) + the listing.
    expect(cost.s3Requests).toMatchObject({ get: 12_801, put: 127 });
    expect(cost.usd).toBeCloseTo(
      cost.instances[0]!.usd + cost.transitions.usd + cost.lambda.usd + cost.s3Requests.usd,
      12,
    );
    expect(cost.prices).toEqual({ asOf: PRICE_TABLE.asOf, region: 'us-east-1' });
  });
});
