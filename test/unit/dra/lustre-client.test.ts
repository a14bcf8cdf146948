import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetCommandInvocationCommand, SendCommandCommand, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  checkLustreCommand,
  clientDirectory,
  lustreMount,
  mountScript,
  sendLustreCommand,
} from '../../../shared/dra/lustre-client.js';
import type { LustreCommandState } from '../../../shared/dra/state.js';
import { awsError } from './aws-mocks.js';
import { buildPlan, CLIENT_ID, FS_ID } from './builders.js';

const ssmMock = mockClient(SSMClient);
const LAUNCHED_ID = 'i-0fedcba9876543210';
const ssm = () => ({ ssm: new SSMClient({}) });

describe('sendLustreCommand / checkLustreCommand', () => {
  beforeEach(() => ssmMock.reset());

  it('sends nothing and says so when no Lustre client is configured', async () => {
    const state = await sendLustreCommand(ssm(), { plan: buildPlan(), purpose: 'list' });

    expect(state).toMatchObject({ sent: false, reason: expect.stringContaining('lustreClientInstanceId') });
    expect(ssmMock.calls()).toHaveLength(0);
  });

  it('runs the listing of the scope below the mount point with AWS-RunShellScript', async () => {
    ssmMock.on(SendCommandCommand).resolves({ Command: { CommandId: 'cmd-1' } });
    const plan = buildPlan({ fileSystem: { lustreClientInstanceId: CLIENT_ID, mountPoint: '/fsx_input' } });

    const state = await sendLustreCommand(ssm(), { plan, purpose: 'list' });

    expect(state).toMatchObject({ sent: true, commandId: 'cmd-1', instanceId: CLIENT_ID });
    const input = ssmMock.commandCalls(SendCommandCommand)[0]!.args[0].input;
    expect(input).toMatchObject({ DocumentName: 'AWS-RunShellScript', InstanceIds: [CLIENT_ID] });
    expect(input.Parameters?.commands).toContain("dir='/fsx_input/ExtData'");
    expect(clientDirectory(plan)).toBe('/fsx_input/ExtData');
  });

  it('runs lfs hsm_restore for a preload', async () => {
    ssmMock.on(SendCommandCommand).resolves({ Command: { CommandId: 'cmd-2' } });
    const plan = buildPlan({ fileSystem: { lustreClientInstanceId: CLIENT_ID } });

    await sendLustreCommand(ssm(), { plan, purpose: 'preload' });

    expect(
      ssmMock.commandCalls(SendCommandCommand)[0]!.args[0].input.Parameters?.commands?.join('\n'),
    ).toContain('lfs hsm_restore');
  });

  it('preloads on a launched transfer instance, mounting the file system first', async () => {
    ssmMock.on(SendCommandCommand).resolves({ Command: { CommandId: 'cmd-3' } });
    const plan = buildPlan({ options: { preload: true } });

    const state = await sendLustreCommand(ssm(), {
      plan,
      purpose: 'preload',
      instance: { instanceId: LAUNCHED_ID },
    });

    expect(state).toMatchObject({ sent: true, launched: true, instanceId: LAUNCHED_ID, commandId: 'cmd-3' });
    expect(state.reason).toContain(`mounting ${FS_ID}.fsx.us-east-1.amazonaws.com@tcp:/abcdef01 at /fsx`);
    const input = ssmMock.commandCalls(SendCommandCommand)[0]!.args[0].input;
    expect(input).toMatchObject({ DocumentName: 'AWS-RunShellScript', InstanceIds: [LAUNCHED_ID] });
    const script = input.Parameters!.commands!.join('\n');
    expect(script.indexOf('mount -t lustre')).toBeGreaterThan(-1);
    expect(script.indexOf('mount -t lustre')).toBeLessThan(script.indexOf('lfs hsm_restore'));
  });

  it('runs on the launched instance rather than a configured client when given one', async () => {
    ssmMock.on(SendCommandCommand).resolves({ Command: { CommandId: 'cmd-4' } });
    const plan = buildPlan({ fileSystem: { lustreClientInstanceId: CLIENT_ID } });

    await sendLustreCommand(ssm(), { plan, purpose: 'preload', instance: { instanceId: LAUNCHED_ID } });

    expect(ssmMock.commandCalls(SendCommandCommand)[0]!.args[0].input.InstanceIds).toEqual([LAUNCHED_ID]);
  });

  it('does not mount on a configured client (it mounts the file system already)', async () => {
    ssmMock.on(SendCommandCommand).resolves({ Command: { CommandId: 'cmd-5' } });
    const plan = buildPlan({ fileSystem: { lustreClientInstanceId: CLIENT_ID } });

    await sendLustreCommand(ssm(), { plan, purpose: 'preload' });

    expect(
      ssmMock.commandCalls(SendCommandCommand)[0]!.args[0].input.Parameters?.commands?.join('\n'),
    ).not.toContain('mount -t lustre');
  });

  it('fails clearly when the client is not managed by SSM', async () => {
    ssmMock.on(SendCommandCommand).rejects(awsError('InvalidInstanceId'));
    const plan = buildPlan({ fileSystem: { lustreClientInstanceId: CLIENT_ID } });

    await expect(sendLustreCommand(ssm(), { plan, purpose: 'list' })).rejects.toMatchObject({
      name: 'CommandFailedError',
      message: expect.stringContaining(CLIENT_ID),
    });
  });

  const sent: LustreCommandState = {
    purpose: 'list',
    sent: true,
    reason: 'x',
    commandId: 'cmd-1',
    instanceId: CLIENT_ID,
  };

  it('asks for a retry while the command runs', async () => {
    ssmMock.on(GetCommandInvocationCommand).resolves({ Status: 'InProgress' });

    await expect(checkLustreCommand(ssm(), buildPlan(), sent)).rejects.toMatchObject({
      name: 'NotReadyYetError',
    });
  });

  it('returns the output when the command succeeded', async () => {
    ssmMock
      .on(GetCommandInvocationCommand)
      .resolves({ Status: 'Success', StandardOutputContent: 'FSXT-LISTING v1\n' });

    await expect(checkLustreCommand(ssm(), buildPlan(), sent)).resolves.toMatchObject({
      output: 'FSXT-LISTING v1\n',
    });
  });

  it('fails with the command error output when it failed', async () => {
    ssmMock
      .on(GetCommandInvocationCommand)
      .resolves({ Status: 'Failed', ResponseCode: 2, StandardErrorContent: 'lfs: command not found' });

    await expect(checkLustreCommand(ssm(), buildPlan(), sent)).rejects.toMatchObject({
      name: 'CommandFailedError',
      message: expect.stringContaining('lfs: command not found'),
    });
  });
});

describe('mount script (a launched transfer instance)', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'fsxt-mount-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  /** Fake `mount` and `dnf` that log their arguments; everything else is the real system. */
  function fakeTools(mountExit: number): string {
    const bin = join(dir, 'bin');
    mkdirSync(bin);
    for (const [tool, exit] of [
      ['mount', mountExit],
      ['dnf', 0],
    ] as const) {
      writeFileSync(join(bin, tool), `#!/bin/sh\necho "${tool} $*" >> '${dir}/calls'\nexit ${exit}\n`);
      chmodSync(join(bin, tool), 0o755);
    }
    return bin;
  }

  it('installs the Lustre client when missing, creates the mount point and mounts the file system', () => {
    const bin = fakeTools(0);
    const mountPoint = join(dir, 'fsx');
    const script = mountScript({ source: 'fs-1.fsx.us-east-1.amazonaws.com@tcp:/abcdef01', mountPoint });

    const output = execFileSync('sh', ['-c', script.join('\n')], {
      encoding: 'utf8',
      env: { ...process.env, PATH: `${bin}:/usr/bin:/bin` },
    });

    expect(output).toContain(`mounted fs-1.fsx.us-east-1.amazonaws.com@tcp:/abcdef01 at ${mountPoint}`);
    expect(readFileSync(join(dir, 'calls'), 'utf8').split('\n')).toEqual([
      'dnf install -y lustre-client',
      `mount -t lustre -o relatime,flock fs-1.fsx.us-east-1.amazonaws.com@tcp:/abcdef01 ${mountPoint}`,
      '',
    ]);
  });

  it('exits 4 with the likely causes when the mount fails', () => {
    const bin = fakeTools(32);
    const script = mountScript({ source: 'fs-1@tcp:/abcdef01', mountPoint: join(dir, 'fsx') });

    let status: number | undefined;
    let stderr = '';
    try {
      execFileSync('sh', ['-c', script.join('\n')], {
        encoding: 'utf8',
        stdio: 'pipe',
        env: { ...process.env, PATH: `${bin}:/usr/bin:/bin` },
      });
    } catch (error) {
      ({ status, stderr } = error as { status: number; stderr: string });
    }

    expect(status).toBe(4);
    expect(stderr).toContain('security group allows TCP 988');
  });

  it('refuses values that could not be single-quoted safely', () => {
    const plan = buildPlan({ fileSystem: { mountName: "abc'; rm -rf /" } });

    expect(() => lustreMount(plan)).toThrow(/unsafe mount name/);
    expect(lustreMount(buildPlan())).toEqual({
      source: `${FS_ID}.fsx.us-east-1.amazonaws.com@tcp:/abcdef01`,
      mountPoint: '/fsx',
    });
  });
});
