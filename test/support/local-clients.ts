/**
 * SDK v3 clients that tests aim at a local cloud endpoint. Production code builds its clients only
 * in shared/aws/clients.ts (from env vars); tests that want their own clients for an endpoint build
 * them here, so every test talks to the local cloud with the same settings.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EC2Client } from '@aws-sdk/client-ec2';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { FSxClient } from '@aws-sdk/client-fsx';
import { S3Client } from '@aws-sdk/client-s3';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SQSClient } from '@aws-sdk/client-sqs';
import { SSMClient } from '@aws-sdk/client-ssm';
import { STSClient } from '@aws-sdk/client-sts';

/** The local cloud's administrator (the IAM user `test`): what tests, the CLI and the demo sign with. */
export const LOCAL_CREDENTIALS = { accessKeyId: 'test', secretAccessKey: 'test' };

export interface LocalClientOptions {
  /** Default us-east-1 (the local cloud's default region). */
  region?: string;
  /** Default the local cloud's `test`/`test`; a role session's carry its session token. */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** Default the SDK's (3); 1 = no SDK retries, so an injected fault reaches the test. */
  maxAttempts?: number;
}

/** Builds clients for one endpoint; each call makes a new client (the caller destroys it). */
export function localClients(endpoint: string, options: LocalClientOptions = {}) {
  const common = {
    endpoint,
    region: options.region ?? 'us-east-1',
    credentials: options.credentials ?? LOCAL_CREDENTIALS,
    ...(options.maxAttempts === undefined ? {} : { maxAttempts: options.maxAttempts }),
  };
  return {
    /** Path-style addressing, and checksums only where S3 requires them (the local S3 is s3rver). */
    s3: () =>
      new S3Client({
        ...common,
        forcePathStyle: true,
        requestChecksumCalculation: 'WHEN_REQUIRED',
        responseChecksumValidation: 'WHEN_REQUIRED',
      }),
    ec2: () => new EC2Client(common),
    fsx: () => new FSxClient(common),
    sfn: () => new SFNClient(common),
    ssm: () => new SSMClient(common),
    sts: () => new STSClient(common),
    sqs: () => new SQSClient(common),
    dynamodb: () => new DynamoDBClient(common),
    eventbridge: () => new EventBridgeClient(common),
  };
}
