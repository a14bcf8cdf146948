/**
 * Scale-out of the EC2 method on the local cloud, with the real state machine: a stage-in the
 * planner gives 4 instances runs as the TransferShards Map, each instance copies only its key
 * range (every file exactly once, hostile names included), verification covers the union, and all
 * 4 instances are terminated on success, when one shard fails, and when the execution is stopped.
 */

import { StopExecutionCommand } from '@aws-sdk/client-sfn';
import { GetCommandInvocationCommand } from '@aws-sdk/client-ssm';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { getS3, getSfn, getSsm } from '../../shared/aws/clients.js';
import { readSyncProgress } from '../../shared/transfers/progress.js';
import {
  configYaml,
  eventually,
  fsTree,
  fsxDir,
  instancesNotTerminated,
  instancesOf,
  putTree,
  runTransfer,
  s3Tree,
  startTransfer,
  startWorld,
  statesEntered,
  type World,
  waitForExecution,
} from './ec2-helpers.js';

// One instance of the configured type sustains 12.5 MB/s here, far below the file system's
// throughput, and starting an instance costs nothing: the planner asks for more than 4 instances,
// and defaults.scaleOut.maxInstances caps them at 4.
const CONFIG = `${configYaml({ defaults: '  scaleOut:\n    maxInstances: 4' })}
pricing:
  ec2:
    c6i.large: {usdPerHour: 0.085, baselineGbps: 0.1, burstGbps: 0.1}
  model:
    instanceStartupSeconds: 0
    instanceFinishSeconds: 0
`;

const FILES: Record<string, string> = {};
for (let day = 1; day <= 4; day += 1) {
  for (let hour = 0; hour < 8; hour += 1) {
    const name = `day${String(day).padStart(2, '0')}/h${String(hour).padStart(2, '0')}.nc`;
    FILES[name] = `${name}\n`.repeat(200 + hour);
  }
}
FILES["odd/it's [1] *.nc"] = 'quote, brackets, a star\n';
FILES['odd/spaced out.nc'] = 'spaces\n';
FILES['odd/ü-ñ.nc'] = 'unicode\n';

const STAGE_IN = { mapping: 'blended-tropomi', direction: 'stage-in' };
let world: World;

beforeAll(async () => {
  world = await startWorld({ config: CONFIG, timeScale: 0.004, instanceNetworkScale: 0.01 });
  await putTree('blended-tropomi', FILES);
}, 60_000);

afterEach(async () => {
  world.cloud.faults.clear();
  await eventually(async () => (await instancesNotTerminated()).length === 0, 'no instance is left running');
});

afterAll(async () => {
  await world?.stop();
});

/** Waits until the execution's instances are `count` and all shutting down or terminated. */
async function expectAllTerminated(executionArn: string, count: number): Promise<void> {
  await eventually(async () => {
    const instances = await instancesOf(executionArn);
    return (
      instances.length === count &&
      instances.every((i) => ['shutting-down', 'terminated'].includes(String(i.State?.Name)))
    );
  }, `the ${count} instances of ${executionArn} are terminated`);
}

/** The keys one sync command downloaded (its `download: s3://<key> to <path>` lines). */
async function downloadedKeys(commandId: string, instanceId: string): Promise<string[]> {
  const out = await getSsm().send(
    new GetCommandInvocationCommand({ CommandId: commandId, InstanceId: instanceId, PluginName: 'transfer' }),
  );
  const prefix = 's3://demo/blended-tropomi/';
  return (out.StandardOutputContent ?? '')
    .split('\n')
    .filter((line) => line.startsWith(`download: ${prefix}`))
    .map((line) => line.slice(`download: ${prefix}`.length, line.lastIndexOf(' to ')));
}

describe('EC2 scale-out over 4 instances', () => {
  it('copies every file exactly once, verifies the union and terminates all 4 instances', async () => {
    const run = await runTransfer(world, STAGE_IN, 120_000);

    expect(run.status, run.cause).toBe('SUCCEEDED');
    expect(run.states.filter((s) => s === 'LaunchShardInstance')).toHaveLength(4);
    expect(run.states).toContain('VerifyShards');
    expect(run.states).not.toContain('LaunchInstance');
    expect(run.output?.verified).toBe(true);
    expect(run.output?.files).toBe(Object.keys(FILES).length);
    const shards = run.output?.details.shards as { instanceId: string; commandId: string; files: number }[];
    expect(shards).toHaveLength(4);
    expect(shards.every((shard) => shard.files > 0)).toBe(true);
    const downloaded = (
      await Promise.all(shards.map((shard) => downloadedKeys(shard.commandId, shard.instanceId)))
    ).flat();
    expect(downloaded.sort()).toEqual(Object.keys(FILES).sort());
    expect(await fsTree(fsxDir(world, 'blended-tropomi'))).toEqual(await s3Tree('blended-tropomi'));
    // Each shard published its own progress; status and watch read their sum.
    const transferId = run.executionArn.split(':').pop()!;
    expect(await readSyncProgress(getS3(), 'demo', transferId)).toMatchObject({
      phase: 'synced',
      files: Object.keys(FILES).length,
    });
    await expectAllTerminated(run.executionArn, 4);
  }, 150_000);

  it('checks the content of every file in checksum mode, each shard reading only its own range', async () => {
    const run = await runTransfer(world, { ...STAGE_IN, verify: 'checksum' }, 120_000);

    expect(run.status, run.cause).toBe('SUCCEEDED');
    expect(run.states.filter((s) => s === 'LaunchShardInstance')).toHaveLength(4);
    const files = Object.keys(FILES).length;
    expect(run.output?.verification).toMatchObject({
      mode: 'checksum',
      files,
      contentChecked: files,
      sizeOnly: 0,
    });
    const shards = run.output?.details.shards as { instanceId: string; commandId: string; files: number }[];
    const checksummed = await Promise.all(
      shards.map(async (shard) => {
        const out = await getSsm().send(
          new GetCommandInvocationCommand({
            CommandId: shard.commandId,
            InstanceId: shard.instanceId,
            PluginName: 'checksums',
          }),
        );
        return Number(/checksummed (\d+) files/.exec(out.StandardOutputContent ?? '')?.[1]);
      }),
    );
    expect(checksummed).toEqual(shards.map((shard) => shard.files));
    await expectAllTerminated(run.executionArn, 4);
  }, 150_000);

  it('fails with the shard error and terminates all 4 instances when one shard fails', async () => {
    world.cloud.faults.add({ service: 'ssm', behavior: 'command-slow', delayMs: 60_000 });
    world.cloud.faults.add({
      service: 'ssm',
      behavior: 'command-exit',
      exitCode: 3,
      match: { 'tag:fsx-transfer:shard': '2' },
    });

    const run = await runTransfer(world, STAGE_IN, 120_000);

    expect(run.status).toBe('FAILED');
    expect(run.error).toBe('CommandFailedError');
    expect(run.states).toContain('TerminateShardsAfterFailure');
    await expectAllTerminated(run.executionArn, 4);
  }, 150_000);

  it('terminates all 4 instances when the execution is stopped mid-transfer', async () => {
    world.cloud.faults.add({ service: 'ssm', behavior: 'command-slow', delayMs: 24 * 3600_000 });
    const executionArn = await startTransfer(world, STAGE_IN);
    await eventually(
      async () => (await statesEntered(executionArn)).filter((s) => s === 'RunShardCommand').length === 4,
      'the 4 shard commands run',
      60_000,
    );

    await getSfn().send(
      new StopExecutionCommand({ executionArn, error: 'UserStopped', cause: 'stopped by the test' }),
    );
    const run = await waitForExecution(executionArn);

    expect(run.status).toBe('ABORTED');
    await expectAllTerminated(executionArn, 4);
  }, 150_000);
});
