import {
  CreateDataRepositoryAssociationCommand,
  CreateDataRepositoryTaskCommand,
  DescribeDataRepositoryAssociationsCommand,
  DescribeFileSystemsCommand,
} from '@aws-sdk/client-fsx';
import { GetBucketLocationCommand, GetBucketPolicyCommand, HeadBucketCommand } from '@aws-sdk/client-s3';
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { beforeEach, describe, expect, it } from 'vitest';
import type { Config } from '../../../shared/config/schema.js';
import { validateTransfer } from '../../../shared/plan/validate.js';
import { awsError, clients, fsxMock, mockHealthyWorld, s3Mock, stsMock } from '../dra/aws-mocks.js';
import {
  ACCOUNT,
  association,
  BUCKET,
  buildConfig,
  CLIENT_ID,
  FS_ID,
  lustreFileSystem,
} from '../dra/builders.js';

const START = '2025-01-01T00:00:00.000Z';

function run(request: Record<string, unknown>, config: Config = buildConfig()) {
  return validateTransfer(
    { request, executionName: 'exec-1', startTime: START },
    { config, ...clients(), now: () => new Date(START) },
  );
}

const failedCodes = (plan: { methodReasons: { ok: boolean; code: string }[] }) =>
  plan.methodReasons.filter((r) => !r.ok).map((r) => r.code);

interface Case {
  code: string;
  title: string;
  arrange: () => void;
  request?: Record<string, unknown>;
  config?: () => Config;
}

const cases: Case[] = [
  {
    code: 'SAME_ACCOUNT',
    title: 'the bucket belongs to another account',
    arrange: () => {
      s3Mock.on(GetBucketLocationCommand).rejects(awsError('AccessDenied', 403));
      s3Mock.on(HeadBucketCommand).resolves({ BucketRegion: 'us-east-1' });
    },
  },
  {
    code: 'SAME_REGION',
    title: 'the bucket is in another region',
    arrange: () => {
      s3Mock.on(GetBucketLocationCommand).resolves({ LocationConstraint: 'eu-west-1' });
    },
  },
  {
    code: 'LUSTRE_VERSION',
    title: 'the file system runs Lustre 2.10',
    arrange: () => {
      fsxMock
        .on(DescribeFileSystemsCommand)
        .resolves({ FileSystems: [lustreFileSystem({ FileSystemTypeVersion: '2.10' })] });
    },
  },
  {
    code: 'DEPLOYMENT_TYPE',
    title: 'the file system is SCRATCH_1',
    arrange: () => {
      fsxMock.on(DescribeFileSystemsCommand).resolves({ FileSystems: [lustreFileSystem({}, 'SCRATCH_1')] });
    },
  },
  {
    code: 'FSX_PATH_OVERLAP',
    title: 'an existing association lies below the mapping path',
    arrange: () => {
      fsxMock
        .on(DescribeDataRepositoryAssociationsCommand)
        .resolves({ Associations: [association('/ExtData/sub/', 's3://other-bucket/x/')] });
    },
  },
  {
    code: 'FSX_PATH_OVERLAP',
    title: 'an existing association contains the mapping path',
    arrange: () => {
      fsxMock
        .on(DescribeDataRepositoryAssociationsCommand)
        .resolves({ Associations: [association('/a', 's3://other-bucket/a')] });
    },
    config: () => buildConfig([{ fsxPath: '/a/b' }]),
  },
  {
    code: 'S3_PREFIX_OVERLAP',
    title: 'an existing association links a prefix below the mapping prefix',
    arrange: () => {
      fsxMock
        .on(DescribeDataRepositoryAssociationsCommand)
        .resolves({ Associations: [association('/other', `s3://${BUCKET}/ExtData/2024/`)] });
    },
  },
  {
    code: 'S3_PREFIX_OVERLAP',
    title: 'an existing association links the whole bucket',
    arrange: () => {
      fsxMock
        .on(DescribeDataRepositoryAssociationsCommand)
        .resolves({ Associations: [association('/other', `s3://${BUCKET}/`)] });
    },
  },
  {
    code: 'ASSOCIATION_LIMIT',
    title: 'the file system already has 8 associations',
    arrange: () => {
      const eight = Array.from({ length: 8 }, (_, i) => association(`/d${i}`, `s3://other-bucket/d${i}`));
      fsxMock.on(DescribeDataRepositoryAssociationsCommand).resolves({ Associations: eight });
    },
  },
  {
    code: 'ROOT_ASSOCIATION',
    title: 'an association already links the file system root',
    arrange: () => {
      fsxMock
        .on(DescribeDataRepositoryAssociationsCommand)
        .resolves({ Associations: [association('/', 's3://other-bucket')] });
    },
  },
  {
    code: 'DATA_REPOSITORY_ROLE_S3_ACCESS',
    title: 'the bucket policy denies FSx the object actions',
    arrange: () => {
      const policy = {
        Statement: [
          {
            Sid: 'NoFsx',
            Effect: 'Deny',
            Principal: '*',
            Action: 's3:*Object',
            Resource: `arn:aws:s3:::${BUCKET}/*`,
          },
        ],
      };
      s3Mock.on(GetBucketPolicyCommand).resolves({ Policy: JSON.stringify(policy) });
    },
  },
  {
    code: 'EXPORT_DELETE',
    title: 'an export asks for deletions in S3',
    arrange: () => {},
    request: { mapping: 'extdata', direction: 'export', delete: true },
  },
  {
    code: 'FILTERS',
    title: 'the mapping has include filters',
    arrange: () => {},
    config: () => buildConfig([{ include: ['*.nc'] }]),
  },
];

describe('validateTransfer: DRA prerequisites and method choice', () => {
  beforeEach(mockHealthyWorld);

  it('chooses dra for auto when every prerequisite holds', async () => {
    const plan = await run({ mapping: 'extdata', direction: 'stage-in' });

    expect(plan.method).toBe('dra');
    expect(failedCodes(plan)).toEqual([]);
    expect(plan.methodReasons[0]).toMatchObject({ code: 'METHOD_AUTO', ok: true });
    expect(s3Mock.commandCalls(GetBucketLocationCommand)[0]!.args[0].input).toMatchObject({
      Bucket: BUCKET,
      ExpectedBucketOwner: ACCOUNT,
    });
  });

  it.each(cases)('auto falls back to ec2 with exactly $code when $title', async (c) => {
    c.arrange();

    const plan = await run(c.request ?? { mapping: 'extdata', direction: 'stage-in' }, c.config?.());

    expect(plan.method).toBe('ec2');
    expect(failedCodes(plan)).toEqual([c.code]);
    const reason = plan.methodReasons.find((r) => r.code === c.code)!;
    expect(reason.fix).toBeTruthy();
    expect(reason.seen).toBeTruthy();
  });

  it.each(cases)(
    'dra fails with DraPrerequisiteError naming $code, before any change, when $title',
    async (c) => {
      c.arrange();

      const result = run(
        { ...(c.request ?? { mapping: 'extdata', direction: 'stage-in' }), method: 'dra' },
        c.config?.(),
      );

      await expect(result).rejects.toMatchObject({
        name: 'DraPrerequisiteError',
        message: expect.stringContaining(c.code),
      });
      expect(fsxMock.commandCalls(CreateDataRepositoryAssociationCommand)).toHaveLength(0);
      expect(fsxMock.commandCalls(CreateDataRepositoryTaskCommand)).toHaveLength(0);
    },
  );

  it('lists every failed prerequisite when dra is requested', async () => {
    fsxMock
      .on(DescribeFileSystemsCommand)
      .resolves({ FileSystems: [lustreFileSystem({ FileSystemTypeVersion: '2.10' }, 'SCRATCH_1')] });

    const error = await run({ mapping: 'extdata', direction: 'stage-in', method: 'dra' }).catch(
      (e: unknown) => e,
    );

    expect(error).toMatchObject({ name: 'DraPrerequisiteError' });
    const reasons = (error as { details: { reasons: { code: string }[] } }).details.reasons;
    expect(reasons.map((r) => r.code)).toEqual(['LUSTRE_VERSION', 'DEPLOYMENT_TYPE']);
  });

  it('treats an existing association with the same paths as reuse, not overlap', async () => {
    const same = association('/ExtData/', `s3://${BUCKET}/ExtData/`);
    const seven = Array.from({ length: 7 }, (_, i) => association(`/d${i}`, `s3://other-bucket/d${i}`));
    fsxMock.on(DescribeDataRepositoryAssociationsCommand).resolves({ Associations: [same, ...seven] });

    const plan = await run({ mapping: 'extdata', direction: 'stage-in' });

    expect(plan.method).toBe('dra');
    expect(failedCodes(plan)).toEqual([]);
  });

  it('skips the DRA checks for method ec2', async () => {
    const plan = await run({ mapping: 'extdata', direction: 'stage-in', method: 'ec2' });

    expect(plan.method).toBe('ec2');
    expect(plan.methodReasons).toEqual([expect.objectContaining({ code: 'METHOD_EC2', ok: true })]);
    expect(fsxMock.commandCalls(DescribeDataRepositoryAssociationsCommand)).toHaveLength(0);
    // No bucket checks: the only S3 call is the listing that sizes the scope for the estimate.
    expect(s3Mock.calls().map((call) => call.args[0].constructor.name)).toEqual(['ListObjectsV2Command']);
  });

  it('keeps dra for a preload without a Lustre client (a transfer instance is launched for it)', async () => {
    const config = buildConfig([{ preload: true }]);

    const auto = await run({ mapping: 'extdata', direction: 'stage-in' }, config);
    const dra = await run({ mapping: 'extdata', direction: 'stage-in', method: 'dra' }, config);

    expect(auto.method).toBe('dra');
    expect(failedCodes(auto)).toEqual([]);
    expect(dra).toMatchObject({ method: 'dra', options: { preload: true } });
    expect(dra.fileSystem.lustreClientInstanceId).toBeUndefined();
  });

  it('uses the mapping method when the request names none', async () => {
    s3Mock.on(GetBucketLocationCommand).resolves({ LocationConstraint: 'eu-west-1' });

    const result = run({ mapping: 'extdata', direction: 'stage-in' }, buildConfig([{ method: 'dra' }]));

    await expect(result).rejects.toMatchObject({ name: 'DraPrerequisiteError' });
  });
});

describe('validateTransfer: the plan', () => {
  beforeEach(mockHealthyWorld);

  it('builds the plan from the request, the mapping and the file system', async () => {
    const config = buildConfig([{ preload: true }], {
      lustreClientInstanceId: CLIENT_ID,
      mountPoint: '/fsx_input',
    });

    const plan = await run(
      { mapping: 'extdata', direction: 'stage-in', subPath: 'GEOS_0.25x0.3125/', transferId: 't-1' },
      config,
    );

    expect(plan).toMatchObject({
      transferId: 't-1',
      executionName: 'exec-1',
      mapping: 'extdata',
      direction: 'stage-in',
      method: 'dra',
      fileSystem: {
        id: FS_ID,
        region: 'us-east-1',
        mountName: 'abcdef01',
        lustreVersion: '2.15',
        deploymentType: 'PERSISTENT_2',
        mountPoint: '/fsx_input',
        lustreClientInstanceId: CLIENT_ID,
      },
      scope: {
        fsxPath: '/ExtData/GEOS_0.25x0.3125',
        mappingFsxPath: '/ExtData',
        mappingS3Uri: `s3://${BUCKET}/ExtData`,
        bucket: BUCKET,
        prefix: 'ExtData/GEOS_0.25x0.3125',
      },
      options: { preload: true, delete: false, autoExport: false, release: false },
      deadline: '2025-01-01T04:00:00.000Z',
    });
  });

  it('uses the execution name as transfer id when the request has none', async () => {
    const plan = await run({ mapping: 'extdata', direction: 'stage-in' });

    expect(plan.transferId).toBe('exec-1');
  });
});

describe('validateTransfer: bad input', () => {
  beforeEach(mockHealthyWorld);

  it.each([
    [{ mapping: 'extdata' }, 'direction'],
    [{ mapping: 'ExtData!', direction: 'stage-in' }, 'mapping'],
    [{ mapping: 'extdata', direction: 'sideways' }, 'direction'],
    [{ mapping: 'extdata', direction: 'stage-in', subPath: '../etc' }, 'subPath'],
    [{ mapping: 'extdata', direction: 'stage-in', subPath: 'a;rm -rf /' }, 'subPath'],
    [{ mapping: 'extdata', direction: 'stage-in', extra: 1 }, 'extra'],
  ])('rejects %j with InvalidRequestError naming %s', async (request, field) => {
    const result = run(request);

    await expect(result).rejects.toMatchObject({
      name: 'InvalidRequestError',
      message: expect.stringContaining(field),
    });
    expect(fsxMock.calls()).toHaveLength(0);
  });

  it('rejects a direction the mapping does not allow', async () => {
    const result = run(
      { mapping: 'extdata', direction: 'export' },
      buildConfig([{ directions: ['stage-in'] }]),
    );

    await expect(result).rejects.toMatchObject({
      name: 'InvalidRequestError',
      message: expect.stringMatching(/direction: export is not allowed by mapping extdata/),
    });
  });

  it('rejects an unknown mapping', async () => {
    await expect(run({ mapping: 'nope', direction: 'stage-in' })).rejects.toMatchObject({
      name: 'MappingNotFoundError',
    });
  });

  it('fails with FileSystemNotFoundError when FSx does not know the file system', async () => {
    fsxMock.on(DescribeFileSystemsCommand).rejects(awsError('FileSystemNotFound'));

    await expect(run({ mapping: 'extdata', direction: 'stage-in' })).rejects.toMatchObject({
      name: 'FileSystemNotFoundError',
    });
  });

  it('fails with FileSystemNotAvailableError for any method when the file system is not AVAILABLE', async () => {
    fsxMock
      .on(DescribeFileSystemsCommand)
      .resolves({ FileSystems: [lustreFileSystem({ Lifecycle: 'UPDATING' })] });

    const result = run({ mapping: 'extdata', direction: 'stage-in', method: 'ec2' });

    await expect(result).rejects.toMatchObject({
      name: 'FileSystemNotAvailableError',
      message: expect.stringContaining('UPDATING'),
    });
  });

  it('fails with AccountMismatchError when the caller is not the configured account', async () => {
    stsMock.on(GetCallerIdentityCommand).resolves({ Account: '999999999999' });

    const result = run(
      { mapping: 'extdata', direction: 'stage-in' },
      buildConfig([{}], {}, { accountId: ACCOUNT }),
    );

    await expect(result).rejects.toMatchObject({ name: 'AccountMismatchError' });
  });

  it('fails with BucketAccessError when the bucket does not exist', async () => {
    s3Mock.on(GetBucketLocationCommand).rejects(awsError('NoSuchBucket', 404));

    await expect(run({ mapping: 'extdata', direction: 'stage-in' })).rejects.toMatchObject({
      name: 'BucketAccessError',
    });
  });
});

describe('validateTransfer: transient faults', () => {
  beforeEach(mockHealthyWorld);

  it('turns throttling into TransientAwsError so the state machine retries Validate', async () => {
    fsxMock.on(DescribeFileSystemsCommand).rejects(awsError('ThrottlingException', 400));

    await expect(run({ mapping: 'extdata', direction: 'stage-in' })).rejects.toMatchObject({
      name: 'TransientAwsError',
    });
  });
});
