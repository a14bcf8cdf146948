/**
 * The only place that constructs AWS SDK clients. Each getter builds its client on first use and
 * reuses it for the life of the process (a Lambda container, the CLI, the local cloud).
 *
 * Endpoints come from the standard `AWS_ENDPOINT_URL` and `AWS_ENDPOINT_URL_<SERVICE>` variables,
 * so the same code runs on AWS and against the local cloud. A client is cached per value of the
 * variables it is built from (endpoint, region, credentials, attempts): on AWS these never change
 * in a container, so there is one client per service; the local cloud runs every function in one
 * process, each with its own role's credentials in its environment (local/lambda-env.ts), and
 * each then gets clients that sign as its role.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EC2Client } from '@aws-sdk/client-ec2';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { FSxClient } from '@aws-sdk/client-fsx';
import { S3Client } from '@aws-sdk/client-s3';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SSMClient } from '@aws-sdk/client-ssm';
import { STSClient } from '@aws-sdk/client-sts';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

type ServiceKey = 'S3' | 'FSX' | 'EC2' | 'SSM' | 'SFN' | 'STS' | 'EVENTBRIDGE' | 'DYNAMODB';

/** Endpoint override for a service, or undefined to use the AWS default endpoint. */
export function endpointFor(service: ServiceKey, env: NodeJS.ProcessEnv = process.env): string | undefined {
  return env[`AWS_ENDPOINT_URL_${service}`] || env.AWS_ENDPOINT_URL || undefined;
}

function commonConfig(service: ServiceKey) {
  const endpoint = endpointFor(service);
  return {
    region: process.env.AWS_REGION || process.env.AWS_DEFAULT_REGION || 'us-east-1',
    // Adaptive retries add client-side rate limiting on throttling on top of standard back-off;
    // AWS_RETRY_MODE (the SDKs' own variable) chooses another mode.
    retryMode: process.env.AWS_RETRY_MODE || 'adaptive',
    maxAttempts: Number(process.env.FSX_TRANSFER_MAX_ATTEMPTS || 5),
    ...(endpoint ? { endpoint } : {}),
  };
}

/** The variables a client of `service` is built from, as one cache key. */
function clientKey(service: ServiceKey): string {
  const env = process.env;
  return [
    service,
    env[`AWS_ENDPOINT_URL_${service}`],
    env.AWS_ENDPOINT_URL,
    env.AWS_REGION,
    env.AWS_DEFAULT_REGION,
    env.AWS_PROFILE,
    env.AWS_ACCESS_KEY_ID,
    env.AWS_SECRET_ACCESS_KEY,
    env.AWS_SESSION_TOKEN,
    env.FSX_TRANSFER_MAX_ATTEMPTS,
  ].join('\n');
}

/** At most this many clients are kept (the local cloud: a few per function); the oldest is dropped first. */
const MAX_CLIENTS = 256;
const cache = new Map<string, unknown>();

function memo<T>(service: ServiceKey, build: () => T): T {
  const key = clientKey(service);
  let client = cache.get(key) as T | undefined;
  if (client) {
    // Most recently used last, so the oldest is the first entry.
    cache.delete(key);
  } else {
    client = build();
    // Dropped, not destroyed: a request of the dropped client may still be in flight.
    if (cache.size >= MAX_CLIENTS) cache.delete(cache.keys().next().value as string);
  }
  cache.set(key, client);
  return client;
}

export const getS3 = (): S3Client =>
  memo('S3', () => {
    const local = Boolean(endpointFor('S3'));
    return new S3Client({
      ...commonConfig('S3'),
      // Custom endpoints (the local cloud, S3-compatible stores) need path-style addressing, and
      // only send checksums when an operation requires them (s3rver stores the trailer otherwise).
      ...(local
        ? {
            forcePathStyle: true,
            requestChecksumCalculation: 'WHEN_REQUIRED',
            responseChecksumValidation: 'WHEN_REQUIRED',
          }
        : {}),
    });
  });
export const getFsx = (): FSxClient => memo('FSX', () => new FSxClient(commonConfig('FSX')));
export const getEc2 = (): EC2Client => memo('EC2', () => new EC2Client(commonConfig('EC2')));
export const getSsm = (): SSMClient => memo('SSM', () => new SSMClient(commonConfig('SSM')));
export const getSfn = (): SFNClient => memo('SFN', () => new SFNClient(commonConfig('SFN')));
export const getSts = (): STSClient => memo('STS', () => new STSClient(commonConfig('STS')));
export const getEventBridge = (): EventBridgeClient =>
  memo('EVENTBRIDGE', () => new EventBridgeClient(commonConfig('EVENTBRIDGE')));

/**
 * DynamoDB through the document client: plain JS values in and out; `undefined` members are
 * dropped instead of failing the request (optional fields of our records).
 */
export const getDynamoDb = (): DynamoDBDocumentClient =>
  memo('DYNAMODB', () =>
    DynamoDBDocumentClient.from(new DynamoDBClient(commonConfig('DYNAMODB')), {
      marshallOptions: { removeUndefinedValues: true },
    }),
  );

/** Destroys every cached client (tests and the demo release their connections). */
export function resetClients(): void {
  for (const client of cache.values()) (client as { destroy?: () => void }).destroy?.();
  cache.clear();
}
