/** The CLI's exit codes, size parsing and plain (not a terminal) rendering of runs and progress. */
import { describe, expect, it } from 'vitest';
import {
  CliError,
  exitCodeFor,
  formatUsd,
  PrerequisiteError,
  parseSize,
  table,
} from '../../../cli/output.js';
import { costLine, describeTransfer, progressLine } from '../../../cli/render.js';
import {
  BucketAccessError,
  CommandFailedError,
  ConfigError,
  DraPrerequisiteError,
  InvalidRequestError,
  PathOverlapError,
} from '../../../shared/errors.js';
import type { TransferRecord } from '../../../shared/transfers/records.js';
import { viewOf } from '../../../shared/transfers/view.js';

describe('exit codes', () => {
  it('are 2 for bad input, 3 for prerequisites not met, 1 for anything else', () => {
    expect(exitCodeFor(new InvalidRequestError('subPath: ..'))).toBe(2);
    expect(exitCodeFor(new ConfigError('bad file'))).toBe(2);
    expect(exitCodeFor(new CliError('--limit'))).toBe(2);
    expect(exitCodeFor(new DraPrerequisiteError('Lustre 2.10'))).toBe(3);
    expect(exitCodeFor(new PathOverlapError('overlap'))).toBe(3);
    expect(exitCodeFor(new BucketAccessError('no bucket'))).toBe(3);
    expect(exitCodeFor(new PrerequisiteError('no stack'))).toBe(3);
    expect(exitCodeFor(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }))).toBe(3);
    expect(exitCodeFor(new CommandFailedError('sync failed'))).toBe(1);
    expect(exitCodeFor(new TypeError('bug'))).toBe(1);
  });
});

describe('parseSize', () => {
  it('reads binary and decimal units and plain bytes, and refuses anything else naming the forms', () => {
    expect(parseSize('500GiB')).toBe(500 * 1024 ** 3);
    expect(parseSize('1.5 TB')).toBe(1.5e12);
    expect(parseSize('2048')).toBe(2048);
    expect(() => parseSize('lots')).toThrow(/must be a size like 500GiB, 1.5TB or 2048/);
  });
});

describe('plain rendering (not a terminal)', () => {
  const record: TransferRecord = {
    id: 'run-1',
    mapping: 'output',
    direction: 'export',
    trigger: 'api',
    request: { mapping: 'output', direction: 'export' },
    status: 'SUCCEEDED',
    createdAt: '2026-11-30T10:00:00.000Z',
    updatedAt: '2026-11-30T10:05:00.000Z',
    startedAt: '2026-11-30T10:00:01.000Z',
    endedAt: '2026-11-30T10:42:15.000Z',
    method: 'ec2',
    methodReasons: [
      {
        code: 'METHOD_AUTO',
        ok: true,
        message: 'method auto chose ec2: 1 DRA prerequisite(s) failed (FILTERS)',
      },
    ],
    summary: { method: 'ec2', files: 1342, bytes: 52_613_349_376, verified: true },
    cost: {
      usd: 0.0917,
      final: true,
      instances: [{ instanceId: 'i-1', instanceType: 'c6i.large', seconds: 2431, usd: 0.0574 }],
      transitions: { count: 19, usd: 0.000475 },
      lambda: { invocations: 14, gbSeconds: 9.5, usd: 0.000129 },
      s3Requests: { put: 6747, get: 1, usd: 0.0337 },
      prices: { asOf: '2026-11-30', region: 'us-east-1' },
    },
  };

  it('describes a finished run: status, method and why, time, files and bytes, cost, and no escape codes', () => {
    const text = describeTransfer(viewOf('run-1', record, undefined));

    expect(text).toBe(
      [
        'transfer run-1: SUCCEEDED',
        '  mapping   output export, started by api',
        '  method    ec2: method auto chose ec2: 1 DRA prerequisite(s) failed (FILTERS)',
        '  time      created 2026-11-30 10:00:00Z, ended 2026-11-30 10:42:15Z, took 42m 14s',
        '  progress  1,342 files, 49.0 GiB, verified on both sides',
        '  cost      $0.092 (c6i.large 40m 31s $0.057, 19 transitions $0.00047, 14 Lambda invocations $0.00013, 6,748 S3 requests $0.034; us-east-1 prices of 2026-11-30)',
      ].join('\n'),
    );
  });

  it('shows live progress against the totals, with the rate and the time left', () => {
    const line = progressLine({
      files: 120,
      bytes: 1.2 * 1024 ** 3,
      source: 'sync',
      phase: 'syncing',
      totalFiles: 500,
      totalBytes: 4 * 1024 ** 3,
      totalsFinal: true,
      bytesPerSecond: 25 * 1024 ** 2,
      filesPerSecond: 2,
      etaSeconds: 130,
      failedFiles: null,
      updatedAt: null,
    });

    expect(line).toBe('120 of 500 files, 1.2 GiB of 4.0 GiB (30%), 25.0 MiB/s, about 2m 10s left');
  });

  it("shows a DRA task's counts with the failed files and files per second", () => {
    const line = progressLine({
      files: 40,
      bytes: null,
      source: 'data-repository-task',
      phase: 'EXECUTING',
      totalFiles: 100,
      totalBytes: null,
      totalsFinal: false,
      bytesPerSecond: null,
      filesPerSecond: 4.1,
      etaSeconds: 14.6,
      failedFiles: 1,
      updatedAt: null,
    });

    expect(line).toBe('40 of ~100 files (40%), 1 file failed, 4.1 files/s, about 15s left');
  });

  it('says "so far" for the cost of a running run, and prints small amounts with two digits', () => {
    expect(costLine({ ...record.cost!, final: false })).toMatch(/^\$0\.092 so far \(/);
    expect(formatUsd(0.000012345)).toBe('$0.000012');
    expect(formatUsd(12.4)).toBe('$12.40');
  });

  it('aligns table columns without borders', () => {
    expect(
      table(
        ['A', 'LONGER'],
        [
          ['x', 1],
          ['yyyy', 22],
        ],
      ),
    ).toBe('A     LONGER\nx     1\nyyyy  22');
  });
});
