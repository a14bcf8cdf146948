/**
 * Pure parts of the local cloud core: fault rule matching, the query-protocol parameter nesting,
 * the aws-chunked decoder, the Run Command path mapping and the user-data watchdog line.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { afterAll, describe, expect, it } from 'vitest';
import { watchdogMinutes } from '../../../local/ec2/lifecycle.js';
import { FaultInjector } from '../../../local/faults.js';
import { nestParams } from '../../../local/protocols/query.js';
import { AwsChunkedDecoder } from '../../../local/s3/chunked.js';
import { InstanceFilesystems } from '../../../local/ssm/instance-fs.js';

describe('FaultInjector', () => {
  it('fires the first matching rule, honours count, and defaults the status by code', () => {
    const faults = new FaultInjector();
    faults.add([
      {
        service: 'ec2',
        operation: 'RunInstances',
        code: 'InsufficientInstanceCapacity',
        match: { InstanceType: ['c6i.*', 'm6i.large'] },
        count: 1,
      },
      { service: 'ec2', code: 'RequestLimitExceeded' },
    ]);

    const first = faults.check('ec2', 'RunInstances', { InstanceType: 'c6i.large' });
    const second = faults.check('ec2', 'RunInstances', { InstanceType: 'c6i.large' });
    const other = faults.check('ssm', 'SendCommand', {});

    expect(first?.error).toMatchObject({ code: 'InsufficientInstanceCapacity', status: 500 });
    expect(second?.error).toMatchObject({ code: 'RequestLimitExceeded', status: 503 });
    expect(other).toBeUndefined();
  });

  it('skips a rule when its probability draw fails, and matches behaviours separately', () => {
    const faults = new FaultInjector({ random: () => 0.7 });
    faults.add([
      { service: 'sfn', code: 'ThrottlingException', probability: 0.5 },
      { service: 'ssm', behavior: 'agent-never-online', match: { 'tag:Name': 'broken' } },
    ]);

    expect(faults.check('states', 'StartExecution', {})).toBeUndefined();
    expect(faults.behavior('agent-never-online', { 'tag:Name': 'ok' })).toBeUndefined();
    expect(faults.behavior('agent-never-online', { 'tag:Name': 'broken' })?.behavior).toBe(
      'agent-never-online',
    );
  });

  it('refuses rules with unknown fields or impossible values, naming the field', () => {
    const faults = new FaultInjector();

    expect(() => faults.add({ service: 'ec2', code: 'X', colour: 'red' } as never)).toThrow(
      /unknown field colour/,
    );
    expect(() => faults.add({ service: 'ec2', code: 'X', probability: 2 })).toThrow(/probability/);
    expect(() => faults.add({ service: 'ec2' })).toThrow(/needs a code/);
  });
});

describe('nestParams', () => {
  it('turns 1-based query members into ordered lists and nested objects', () => {
    const nested = nestParams({
      'Filter.2.Name': 'tag:Name',
      'Filter.1.Name': 'instance-state-name',
      'Filter.1.Value.1': 'running',
      'Filter.2.Value.1': 'a',
      'Filter.2.Value.2': 'b',
      'MetadataOptions.HttpTokens': 'required',
    });

    expect(nested).toEqual({
      Filter: [
        { Name: 'instance-state-name', Value: ['running'] },
        { Name: 'tag:Name', Value: ['a', 'b'] },
      ],
      MetadataOptions: { HttpTokens: 'required' },
    });
  });
});

describe('AwsChunkedDecoder', () => {
  it('strips chunk framing, signatures and the checksum trailer, across arbitrary splits', async () => {
    const framed =
      '5;chunk-signature=abc\r\nhello\r\n6\r\n world\r\n0\r\nx-amz-checksum-crc32:AAAAAA==\r\n\r\n';
    const pieces = [...Buffer.from(framed)].map((byte) => Buffer.from([byte]));

    const decoded = await buffer(Readable.from(pieces).pipe(new AwsChunkedDecoder()));

    expect(decoded.toString()).toBe('hello world');
  });
});

describe('InstanceFilesystems.rewrite', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fsx-transfer-instance-fs-'));
  const view = new InstanceFilesystems(dir);
  const root = view.root('i-0123456789abcdef0');
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('maps mount-point prefixes where they start a word and leaves Lustre sources and look-alikes alone', () => {
    const script = [
      "MOUNT_POINT='/fsx'",
      'mkdir -p /fsx/input && cd "/fsx"',
      'mount -t lustre fs-1.fsx.us-east-1.amazonaws.com@tcp:/fsx /fsx',
      'ls /fsxdata /data/fsx /mnt/lustre/x',
      'grep -qs " $MOUNT_POINT lustre " /proc/mounts',
    ].join('\n');

    const mapped = view.rewrite('i-0123456789abcdef0', script, ['/fsx', '/mnt/lustre', '/proc/mounts']);

    expect(mapped.split('\n')).toEqual([
      `MOUNT_POINT='${root}/fsx'`,
      `mkdir -p ${root}/fsx/input && cd "${root}/fsx"`,
      `mount -t lustre fs-1.fsx.us-east-1.amazonaws.com@tcp:/fsx ${root}/fsx`,
      `ls /fsxdata /data/fsx ${root}/mnt/lustre/x`,
      `grep -qs " $MOUNT_POINT lustre " ${root}/proc/mounts`,
    ]);
  });
});

describe('watchdogMinutes', () => {
  it('reads `shutdown [-P|-h] +N` from base64 user data', () => {
    const encode = (text: string) => Buffer.from(text).toString('base64');

    expect(watchdogMinutes(encode('#!/bin/bash\nshutdown -P +240\n'))).toBe(240);
    expect(watchdogMinutes(encode('shutdown -h +5 "transfer deadline"'))).toBe(5);
    expect(watchdogMinutes(encode('shutdown now'))).toBeUndefined();
    expect(watchdogMinutes(undefined)).toBeUndefined();
  });
});
