/**
 * The EC2 method end to end on the local cloud: the real transfer state machine launches a
 * transfer instance, whose SSM document really runs `aws s3 sync` between the local S3 and the
 * local Lustre root, verifies both listings and terminates the instance. Every byte is checked on
 * both sides.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  eventually,
  expectedTree as expected,
  fsTree,
  fsxDir,
  instancesNotTerminated,
  instancesOf,
  putTree,
  runTransfer,
  s3Tree,
  sampleTree,
  startWorld,
  type World,
} from './ec2-helpers.js';

const MB = 1024 * 1024;

let world: World;
let big: Buffer;

beforeAll(async () => {
  world = await startWorld();
  big = randomBytes(100 * MB);
}, 60_000);

afterAll(async () => {
  await world?.stop();
});

describe('EC2 transfers on the local cloud', () => {
  it('stages a tree S3 -> FSx byte for byte, including empty, nested, unicode and 100 MB files', async () => {
    const tree = sampleTree(big);
    await putTree('blended-tropomi', tree);

    const run = await runTransfer(world, { mapping: 'blended-tropomi', direction: 'stage-in' }, 180_000);

    expect(run.status, run.cause).toBe('SUCCEEDED');
    expect(run.states).toEqual(
      expect.arrayContaining([
        'LaunchInstance',
        'WaitForAgent',
        'RunTransferCommand',
        'VerifyEc2Transfer',
        'TerminateInstance',
      ]),
    );
    const onS3 = await s3Tree('blended-tropomi');
    const onFsx = await fsTree(fsxDir(world, 'blended-tropomi'));
    expect(onS3).toEqual(expected(tree));
    expect(onFsx).toEqual(expected(tree));
    expect(onFsx['big/100mb.bin']?.size).toBe(100 * MB);
    expect(onFsx.empty?.size).toBe(0);
    expect(run.output).toMatchObject({
      method: 'ec2',
      status: 'SUCCEEDED',
      files: Object.keys(tree).length,
      bytes: Object.values(onS3).reduce((sum, file) => sum + file.size, 0),
      verified: true,
    });
    expect(await instancesOf(run.executionArn)).toHaveLength(1);
    await eventually(
      async () => (await instancesNotTerminated()).length === 0,
      'no instance is left running',
    );
  }, 240_000);

  it('exports a tree FSx -> S3 byte for byte, including empty, nested, unicode and 100 MB files', async () => {
    const tree = sampleTree(big);
    for (const [path, body] of Object.entries(tree)) {
      const file = join(fsxDir(world, 'output'), path);
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, body);
    }

    const run = await runTransfer(world, { mapping: 'output', direction: 'export' }, 180_000);

    expect(run.status, run.cause).toBe('SUCCEEDED');
    const onFsx = await fsTree(fsxDir(world, 'output'));
    const onS3 = await s3Tree('output');
    expect(onFsx).toEqual(expected(tree));
    expect(onS3).toEqual(expected(tree));
    expect(run.output).toMatchObject({ files: Object.keys(tree).length, verified: true });
    expect(await instancesOf(run.executionArn)).toHaveLength(1);
    await eventually(
      async () => (await instancesNotTerminated()).length === 0,
      'no instance is left running',
    );
  }, 240_000);

  it('transfers only a sub-path when asked, and verifies that scope', async () => {
    // A file beside the sub-path that the first test did not stage: it must stay on S3 only.
    await putTree('blended-tropomi', { 'sub/only.nc': 'only\n', 'outside-sub.nc': 'not staged\n' });

    const run = await runTransfer(world, {
      mapping: 'blended-tropomi',
      direction: 'stage-in',
      subPath: 'sub',
    });

    expect(run.status, run.cause).toBe('SUCCEEDED');
    expect(run.output).toMatchObject({ files: 1, bytes: 5 });
    expect(await s3Tree('blended-tropomi/sub')).toEqual(expected({ 'only.nc': 'only\n' }));
    expect(await fsTree(fsxDir(world, 'blended-tropomi/sub'))).toEqual(expected({ 'only.nc': 'only\n' }));
    expect(existsSync(fsxDir(world, 'blended-tropomi/outside-sub.nc'))).toBe(false);
  }, 120_000);
});
