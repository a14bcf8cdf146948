/**
 * Preload after a DRA stage-in when no Lustre client is configured: the DRA branch launches one
 * transfer instance as the EC2 method does, mounts the file system on it, restores the staged
 * contents with `lfs hsm_restore` through SSM, and terminates it, also when the preload fails.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { getS3 } from '../../shared/aws/clients.js';
import { BUCKET, draConfig, FS_ID, failedCodes, type MappingYaml, putObjects } from './dra-helpers.js';
import { instancesNotTerminated, instancesOf, runTransfer, startWorld, type World } from './ec2-helpers.js';

let world: World;

const MAPPINGS: MappingYaml[] = ['warm', 'broken'].map((name) => ({
  name,
  fsxPath: `/${name}`,
  s3Uri: `s3://${BUCKET}/${name}`,
  extra: ['method: dra', 'preload: true'],
}));

beforeAll(async () => {
  world = await startWorld({ config: draConfig([{ id: FS_ID }], MAPPINGS) });
}, 60_000);

afterAll(async () => {
  await world?.stop();
});

afterEach(() => {
  world.cloud.faults.clear();
});

async function s3Bytes(key: string): Promise<Buffer> {
  const out = await getS3().send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
  return Buffer.from(await out.Body!.transformToByteArray());
}

// The transfer instance's states (shared with the EC2 method) with the preload command.
const LAUNCHED_PRELOAD_STATES = [
  'LaunchInstance',
  'WaitForAgent',
  'SendPreloadCommand',
  'WaitForPreloadCommand',
];

describe('DRA stage-in with preload and no Lustre client', () => {
  it('restores the staged contents on a launched transfer instance, then terminates it', async () => {
    const files = {
      'warm/GEOS/met.nc': Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7) % 256)),
      'warm/chem.nc': 'chemistry input',
    };
    await putObjects(files);

    const run = await runTransfer(world, { mapping: 'warm', direction: 'stage-in' }, 120_000);

    expect(run, run.cause).toMatchObject({ status: 'SUCCEEDED', output: { method: 'dra', verified: true } });
    expect(failedCodes(run.output)).toEqual([]);
    expect(run.states).toEqual(expect.arrayContaining([...LAUNCHED_PRELOAD_STATES, 'TerminateInstance']));
    expect(run.states).not.toContain('StartPreload');
    const [instance, ...others] = await instancesOf(run.executionArn);
    expect(others).toEqual([]);
    expect(run.output!.details).toMatchObject({
      preload: { status: 'Success', launched: true, instanceId: instance!.InstanceId },
      termination: { terminated: [expect.objectContaining({ instanceId: instance!.InstanceId })] },
    });
    const states = world.cloud.fsx.hsmStates(FS_ID, '/warm');
    expect(states.map((s) => [s.path, s.contentsPresent, s.flags.includes('released')])).toEqual([
      ['/warm/GEOS/met.nc', true, false],
      ['/warm/chem.nc', true, false],
    ]);
    const root = world.cloud.fsx.fileSystemRoot(FS_ID);
    for (const key of Object.keys(files)) {
      expect(readFileSync(join(root, key)).equals(await s3Bytes(key)), key).toBe(true);
    }
    expect(await instancesNotTerminated()).toEqual([]);
  }, 150_000);

  it('still terminates the launched instance when the preload command fails', async () => {
    await putObjects({ 'broken/a.nc': 'never restored' });
    const [rule] = world.cloud.faults.add({
      service: 'ssm',
      behavior: 'command-exit',
      exitCode: 4,
      count: 1,
      match: { DocumentName: 'AWS-RunShellScript' },
    });

    const run = await runTransfer(world, { mapping: 'broken', direction: 'stage-in' }, 120_000);

    expect(run.status).toBe('FAILED');
    expect(run.error).toBe('CommandFailedError');
    expect(run.cause).toContain('exit code 4');
    expect(run.states).toEqual(expect.arrayContaining([...LAUNCHED_PRELOAD_STATES, 'TerminateAfterFailure']));
    expect(world.cloud.faults.list().find((r) => r.id === rule!.id)?.fired).toBe(1);
    const launched = await instancesOf(run.executionArn);
    expect(launched).toHaveLength(1);
    expect(launched.map((i) => i.State?.Name)).toEqual([
      expect.stringMatching(/^(shutting-down|terminated)$/),
    ]);
    expect(await instancesNotTerminated()).toEqual([]);
    expect(world.cloud.fsx.hsmState(FS_ID, '/broken/a.nc')).toMatchObject({ contentsPresent: false });
  }, 150_000);
});
