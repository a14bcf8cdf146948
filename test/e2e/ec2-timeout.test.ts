/**
 * A transfer command that outlives the run: the document's execution timeout (the run deadline
 * minus two minutes) stops it, the callback reports CommandTimedOutError, and the instance is
 * terminated. Its own local cloud, because the deadline comes from the config's transferMinutes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  configYaml,
  eventually,
  instancesOf,
  putTree,
  runTransfer,
  startWorld,
  type World,
} from './ec2-helpers.js';

let world: World;

beforeAll(async () => {
  // Short runs: transferMinutes 5, or 2 x the plan's estimate of the tiny scope (about 9 minutes):
  // the command may run until 2 minutes before that (under 10 s here).
  world = await startWorld({
    timeScale: 0.02,
    // One instance (no scale-out plan).
    config: configYaml({ defaults: '  timeouts:\n    transferMinutes: 5\n  scaleOut:\n    maxInstances: 1' }),
  });
  await putTree('blended-tropomi', { 'input.nc': 'input\n' });
}, 60_000);

afterAll(async () => {
  await world?.stop();
});

describe('EC2 transfer command timeout', () => {
  it('fails CommandTimedOutError when the sync outlives its time, and terminates the instance', async () => {
    // The instance's aws s3 sync hangs on its download for a simulated hour (Validate's listing,
    // which sizes the scope for the deadline, reads no object).
    world.cloud.faults.add({
      service: 's3',
      operation: 'GetObject',
      match: { Key: '*input.nc' },
      delayMs: 3600_000,
      count: 1,
    });

    const run = await runTransfer(world, { mapping: 'blended-tropomi', direction: 'stage-in' });

    expect(run.status).toBe('FAILED');
    expect(run.error).toBe('CommandTimedOutError');
    expect(run.cause).toContain('timed out');
    expect(run.states.slice(-4)).toEqual([
      'RunTransferCommand',
      'TerminateAfterFailure',
      'FailWithError',
      'CommandTimedOutError',
    ]);
    expect(await instancesOf(run.executionArn)).toHaveLength(1);
    await eventually(
      async () =>
        (await instancesOf(run.executionArn)).every((i) =>
          ['shutting-down', 'terminated'].includes(String(i.State?.Name)),
        ),
      'the instance is terminated',
    );
  }, 60_000);
});
