import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetCommandInvocationCommand, SendCommandCommand, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  checkLustreCommand,
  clientDirectory,
  listingHash,
  listingScript,
  parseListing,
  sendLustreCommand,
} from '../../../shared/dra/lustre-client.js';
import type { LustreCommandState } from '../../../shared/dra/types.js';
import { awsError } from './aws-mocks.js';
import { buildPlan, CLIENT_ID } from './builders.js';

const ssmMock = mockClient(SSMClient);
const ssm = () => ({ ssm: new SSMClient({}) });

describe('listing script', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'fsxt-listing-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('prints names and sizes that parse back, with the hash the verifier computes', () => {
    mkdirSync(join(dir, 'GEOS/2024'), { recursive: true });
    writeFileSync(join(dir, 'GEOS/2024/a.nc'), 'aaaa');
    writeFileSync(join(dir, 'GEOS/b.nc'), 'bb');
    writeFileSync(join(dir, 'Z.txt'), '');

    const output = execFileSync('sh', ['-c', listingScript(dir).join('\n')], { encoding: 'utf8' });

    const listing = parseListing(output);
    expect(listing).toMatchObject({ exists: true, count: 3, bytes: 6, truncated: false });
    expect([...listing.files]).toEqual([
      ['GEOS/2024/a.nc', 4],
      ['GEOS/b.nc', 2],
      ['Z.txt', 0],
    ]);
    expect(listing.sha256).toBe(listingHash(listing.files));
  });

  it('reports a missing directory instead of failing', () => {
    const output = execFileSync('sh', ['-c', listingScript(join(dir, 'nope')).join('\n')], {
      encoding: 'utf8',
    });

    expect(parseListing(output)).toMatchObject({ exists: false, count: 0 });
  });
});

describe('parseListing', () => {
  it('marks a listing cut by SSM as truncated and drops the partial last line', () => {
    const output = 'FSXT-LISTING v1\nCOUNT 3\nBYTES 30\nSHA256 abc\na\t10\nb\t1';

    const listing = parseListing(output);

    expect(listing.truncated).toBe(true);
    expect([...listing.files.keys()]).toEqual(['a']);
  });
});

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
