import { DescribeFileSystemsCommand } from '@aws-sdk/client-fsx';
import {
  GetBucketEncryptionCommand,
  GetBucketLocationCommand,
  GetBucketPolicyCommand,
} from '@aws-sdk/client-s3';
import { beforeEach, describe, expect, it } from 'vitest';
import { formatDoctorReport, runDoctor } from '../../../shared/dra/doctor.js';
import { PREREQUISITE_CODES } from '../../../shared/dra/prerequisites.js';
import { awsError, clients, fsxMock, mockHealthyWorld, s3Mock } from './aws-mocks.js';
import { buildConfig, CLIENT_ID, lustreFileSystem } from './builders.js';

describe('runDoctor', () => {
  beforeEach(mockHealthyWorld);

  it('runs every prerequisite for every mapping and says which can use a DRA', async () => {
    const config = buildConfig([
      { directions: ['stage-in', 'export'] },
      { include: ['*.nc'], method: 'auto' },
    ]);

    const report = await runDoctor({ config, ...clients() });

    expect(report.ok).toBe(true);
    const [extdata, filtered] = report.mappings;
    expect(extdata).toMatchObject({ mapping: 'extdata', draReady: true, autoResolvesTo: 'dra' });
    expect(extdata!.reasons.map((r) => r.code)).toEqual([...PREREQUISITE_CODES]);
    expect(filtered).toMatchObject({ draReady: false, autoResolvesTo: 'ec2' });
    expect(filtered!.reasons.filter((r) => !r.ok).map((r) => r.code)).toEqual(['FILTERS']);
  });

  it('says where a preload runs: the configured Lustre client, else a launched transfer instance', async () => {
    const launched = await runDoctor({ config: buildConfig([{ preload: true }]), ...clients() });
    const configured = await runDoctor({
      config: buildConfig([{ preload: true }], { lustreClientInstanceId: CLIENT_ID }),
      ...clients(),
    });

    const reason = (report: typeof launched) =>
      report.mappings[0]!.reasons.find((r) => r.code === 'PRELOAD_CLIENT' && r.seen?.preload === true);
    expect(launched.mappings[0]).toMatchObject({ draReady: true, autoResolvesTo: 'dra' });
    expect(reason(launched)).toMatchObject({ ok: true, seen: { runsOn: 'launched-instance' } });
    expect(reason(launched)!.message).toContain(
      'transfer instance launched for it and terminated afterwards',
    );
    expect(reason(configured)).toMatchObject({ ok: true, seen: { runsOn: 'configured-client' } });
    expect(reason(configured)!.message).toContain(CLIENT_ID);
  });

  it('reports a direction-specific failure once per direction', async () => {
    const config = buildConfig([{ directions: ['stage-in', 'export'], delete: true }]);

    const report = await runDoctor({ config, ...clients() });

    const deletes = report.mappings[0]!.reasons.filter((r) => r.code === 'EXPORT_DELETE');
    expect(deletes.map((r) => [r.ok, r.message.split(':')[0]])).toEqual([
      [true, 'stage-in'],
      [false, 'export'],
    ]);
  });

  it('is not ok when a mapping pinned to dra fails a prerequisite, and names the fix', async () => {
    s3Mock.on(GetBucketLocationCommand).resolves({ LocationConstraint: 'eu-west-1' });

    const report = await runDoctor({ config: buildConfig([{ method: 'dra' }]), ...clients() });

    expect(report.ok).toBe(false);
    const text = formatDoctorReport(report);
    expect(text).toContain('FAIL SAME_REGION');
    expect(text).toContain('fix: Use a bucket in us-east-1');
  });

  it('turns a missing file system or bucket into a reason, and reports the checks it could not make as skipped', async () => {
    fsxMock.on(DescribeFileSystemsCommand).rejects(awsError('FileSystemNotFound'));

    const report = await runDoctor({ config: buildConfig(), ...clients() });

    const [first, ...rest] = report.mappings[0]!.reasons;
    expect(first).toMatchObject({ code: 'FILE_SYSTEM_EXISTS', ok: false, status: 'fail' });
    expect(rest.map((r) => r.code)).toEqual([...PREREQUISITE_CODES]);
    expect(rest.every((r) => r.status === 'skipped' && r.message.includes('FILE_SYSTEM_EXISTS'))).toBe(true);
    expect(report.counts).toEqual({ ok: 0, warn: 0, fail: 1, skipped: PREREQUISITE_CODES.length });
  });

  it('reports a bucket policy it cannot read as skipped, with why, not as ok', async () => {
    s3Mock.on(GetBucketPolicyCommand).rejects(awsError('AccessDenied', 403));

    const report = await runDoctor({ config: buildConfig([{ method: 'dra' }]), ...clients() });

    const role = report.mappings[0]!.reasons.find((r) => r.code === 'DATA_REPOSITORY_ROLE_S3_ACCESS')!;
    expect(role).toMatchObject({ status: 'skipped', message: expect.stringContaining('AccessDenied') });
    expect(report.counts.skipped).toBe(1);
    // A check that could not be made does not block the DRA: FSx checks the role itself.
    expect(report.ok).toBe(true);
    expect(formatDoctorReport(report)).toMatch(
      /skip DATA_REPOSITORY_ROLE_S3_ACCESS: not checked: .*AccessDenied/,
    );
  });

  it('warns about an SSE-KMS bucket, whose key policy it cannot check, and says what to do', async () => {
    s3Mock
      .on(GetBucketPolicyCommand)
      .resolves({ Policy: JSON.stringify({ Version: '2012-10-17', Statement: [] }) });
    s3Mock.on(GetBucketEncryptionCommand).resolves({
      ServerSideEncryptionConfiguration: {
        Rules: [
          { ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: 'alias/data' } },
        ],
      },
    });

    const report = await runDoctor({ config: buildConfig(), ...clients() });

    const role = report.mappings[0]!.reasons.find((r) => r.code === 'DATA_REPOSITORY_ROLE_S3_ACCESS')!;
    expect(role).toMatchObject({ ok: true, status: 'warn', message: expect.stringContaining('SSE-KMS') });
    const text = formatDoctorReport(report);
    expect(text).toContain('warn DATA_REPOSITORY_ROLE_S3_ACCESS');
    expect(text).toMatch(/fix: .*KMS key policy/);
    expect(text).toMatch(/\d+ ok, 1 warn, 0 fail, 0 skipped/);
  });

  it('reports FILE_SYSTEM_AVAILABLE for a file system that is not AVAILABLE', async () => {
    fsxMock
      .on(DescribeFileSystemsCommand)
      .resolves({ FileSystems: [lustreFileSystem({ Lifecycle: 'CREATING' })] });

    const report = await runDoctor({ config: buildConfig(), ...clients() });

    expect(report.mappings[0]!.reasons.filter((r) => !r.ok).map((r) => r.code)).toEqual([
      'FILE_SYSTEM_AVAILABLE',
    ]);
  });
});
