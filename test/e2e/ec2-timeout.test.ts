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
  // 5-minute runs: the command may run 3 simulated minutes (3.6 s here), the watchdog fires at 5 (6 s).
  world = await startWorld({
    timeScale: 0.02,
    // One instance (no scale-out plan): the delayed listing below is the sync's own.
    config: configYaml({ defaults: '  timeouts:\n    transferMinutes: 5\n  scaleOut:\n    maxInstances: 1' }),
  });
  await putTree('blended-tropomi', { 'input.nc': 'input\n' });
}, 60_000);

afterAll(async () => {
  await world?.stop();
});

describe('EC2 transfer command timeout', () => {
  it('fails CommandTimedOutError when the sync outlives its time, and terminates the instance', async () => {
    // The instance's aws s3 sync hangs on its first listing for a simulated hour.
    world.cloud.faults.add({ service: 's3', operation: 'ListObjectsV2', delayMs: 3600_000, count: 1 });

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
