import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { VerificationFailedError } from '../../../shared/errors.js';
import { listS3Scope } from '../../../shared/verify/scope.js';
import { awsError } from '../ec2/builders.js';

const s3Mock = mockClient(S3Client);

beforeEach(() => s3Mock.reset());

describe('listS3Scope', () => {
  it('lists objects relative to the scope, skipping folder markers', async () => {
    s3Mock.on(ListObjectsV2Command).resolves({
      Contents: [
        { Key: 'ExtData/a.nc', Size: 3 },
        { Key: 'ExtData/sub/', Size: 0 },
        { Key: 'ExtData/sub/empty', Size: 0 },
      ],
    });

    const listed = await listS3Scope(new S3Client({}), 'bucket', 'ExtData');

    expect(listed).toEqual([
      { path: 'a.nc', size: 3 },
      { path: 'sub/empty', size: 0 },
    ]);
    expect(s3Mock.commandCalls(ListObjectsV2Command)[0]?.args[0].input.Prefix).toBe('ExtData/');
  });

  it('reads every page', async () => {
    s3Mock.on(ListObjectsV2Command).resolves({
      Contents: [{ Key: 'ExtData/a.nc', Size: 3 }],
      IsTruncated: true,
      NextContinuationToken: 'next',
    });
    s3Mock.on(ListObjectsV2Command, { ContinuationToken: 'next' }).resolves({
      Contents: [{ Key: 'ExtData/b.nc', Size: 4 }],
    });

    const listed = await listS3Scope(new S3Client({}), 'bucket', 'ExtData');

    expect(listed.map((file) => file.path)).toEqual(['a.nc', 'b.nc']);
  });

  it('turns throttling into TransientAwsError and a missing bucket into VerificationFailedError', async () => {
    s3Mock
      .on(ListObjectsV2Command)
      .rejectsOnce(awsError('SlowDown', 503))
      .rejects(awsError('NoSuchBucket', 404));

    await expect(listS3Scope(new S3Client({}), 'bucket', 'ExtData')).rejects.toMatchObject({
      name: 'TransientAwsError',
    });
    await expect(listS3Scope(new S3Client({}), 'bucket', 'ExtData')).rejects.toBeInstanceOf(
      VerificationFailedError,
    );
  });
});
