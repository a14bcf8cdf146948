import { DescribeFileSystemsCommand } from '@aws-sdk/client-fsx';
import { GetBucketLocationCommand } from '@aws-sdk/client-s3';
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

  it('turns a missing file system or bucket into a reason instead of failing', async () => {
    fsxMock.on(DescribeFileSystemsCommand).rejects(awsError('FileSystemNotFound'));

    const report = await runDoctor({ config: buildConfig(), ...clients() });

    expect(report.mappings[0]!.reasons).toEqual([
      expect.objectContaining({ code: 'FILE_SYSTEM_EXISTS', ok: false }),
    ]);
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
