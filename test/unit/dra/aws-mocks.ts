/** aws-sdk-client-mock setup shared by the DRA and Validate tests. */
import {
  DescribeDataRepositoryAssociationsCommand,
  DescribeFileSystemsCommand,
  FSxClient,
} from '@aws-sdk/client-fsx';
import {
  GetBucketEncryptionCommand,
  GetBucketLocationCommand,
  GetBucketPolicyCommand,
  HeadBucketCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { ACCOUNT, lustreFileSystem } from './builders.js';

/** An SDK-shaped error (name + HTTP status), as the clients throw them. */
export function awsError(name: string, status = 400, message = name): Error {
  return Object.assign(new Error(message), { name, $fault: 'client', $metadata: { httpStatusCode: status } });
}

export const fsxMock = mockClient(FSxClient);
export const s3Mock = mockClient(S3Client);
export const stsMock = mockClient(STSClient);

/** Every prerequisite holds: same account and region, Lustre 2.15 PERSISTENT_2, no associations. */
export function mockHealthyWorld(): void {
  fsxMock.reset();
  s3Mock.reset();
  stsMock.reset();
  stsMock.on(GetCallerIdentityCommand).resolves({ Account: ACCOUNT, Arn: `arn:aws:iam::${ACCOUNT}:role/x` });
  fsxMock.on(DescribeFileSystemsCommand).resolves({ FileSystems: [lustreFileSystem()] });
  fsxMock.on(DescribeDataRepositoryAssociationsCommand).resolves({ Associations: [] });
  s3Mock.on(GetBucketLocationCommand).resolves({});
  s3Mock.on(HeadBucketCommand).resolves({ BucketRegion: 'us-east-1' });
  s3Mock.on(GetBucketPolicyCommand).rejects(awsError('NoSuchBucketPolicy', 404));
  s3Mock.on(GetBucketEncryptionCommand).resolves({
    ServerSideEncryptionConfiguration: {
      Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
    },
  });
}

export const clients = () => ({ fsx: new FSxClient({}), s3: new S3Client({}), sts: new STSClient({}) });
