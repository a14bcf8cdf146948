/**
 * Facts about a bucket: owner (through `ExpectedBucketOwner`), region, policy and default
 * encryption. Read-only; used to judge the DRA prerequisites before anything is changed.
 */
import {
  GetBucketEncryptionCommand,
  GetBucketLocationCommand,
  GetBucketPolicyCommand,
  HeadBucketCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { unlessMissing } from '../aws/missing.js';
import { awsErrorName, BucketAccessError } from '../errors.js';

export interface BucketFacts {
  /** Region from GetBucketLocation / HeadBucket; undefined when it could not be read. */
  region?: string;
  /** True when the bucket is owned by the expected account; undefined when unknown. */
  sameOwner?: boolean;
  /** Why the owner or region could not be read (AccessDenied...). */
  problem?: string;
}

/** `GetBucketLocation` answers: empty means us-east-1, `EU` is the legacy name of eu-west-1. */
export function normaliseBucketRegion(location: string | undefined): string {
  if (!location) return 'us-east-1';
  if (location === 'EU') return 'eu-west-1';
  return location;
}

function httpStatus(error: unknown): number | undefined {
  return (error as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode;
}

/**
 * Reads the bucket's owner (via `ExpectedBucketOwner`) and region.
 * @throws BucketAccessError when the bucket does not exist.
 */
export async function inspectBucket(
  s3: S3Client,
  bucket: string,
  expectedOwner: string,
): Promise<BucketFacts> {
  try {
    const location = await s3.send(
      new GetBucketLocationCommand({ Bucket: bucket, ExpectedBucketOwner: expectedOwner }),
    );
    return { sameOwner: true, region: normaliseBucketRegion(location.LocationConstraint) };
  } catch (error) {
    const name = awsErrorName(error);
    if (name === 'NoSuchBucket' || httpStatus(error) === 404) {
      throw new BucketAccessError(`Bucket ${bucket} does not exist`, { cause: error, details: { bucket } });
    }
    if (name !== 'AccessDenied' && httpStatus(error) !== 403) throw error;
  }
  // Denied with ExpectedBucketOwner: either another account owns it, or we may not read it at all.
  try {
    const head = await s3.send(new HeadBucketCommand({ Bucket: bucket }));
    return {
      sameOwner: false,
      region: head.BucketRegion,
      problem: head.BucketRegion ? undefined : 'HeadBucket gave no region',
    };
  } catch (error) {
    if (httpStatus(error) === 404) {
      throw new BucketAccessError(`Bucket ${bucket} does not exist`, { cause: error, details: { bucket } });
    }
    return { problem: `access denied to bucket ${bucket} (${awsErrorName(error) ?? 'error'})` };
  }
}

/**
 * The bucket policy document, or undefined when the bucket has none.
 * @throws the SDK error when it cannot be read (AccessDenied...).
 */
export async function getBucketPolicy(
  s3: S3Client,
  bucket: string,
  expectedOwner: string,
): Promise<string | undefined> {
  const out = await unlessMissing(
    s3.send(new GetBucketPolicyCommand({ Bucket: bucket, ExpectedBucketOwner: expectedOwner })),
    'NoSuchBucketPolicy',
  );
  return out?.Policy;
}

/** The bucket's default encryption (algorithm and KMS key), or undefined when unknown or unreadable. */
export async function defaultEncryption(
  s3: S3Client,
  bucket: string,
  expectedOwner: string,
): Promise<{ algorithm?: string; kmsKeyId?: string } | undefined> {
  try {
    const out = await s3.send(
      new GetBucketEncryptionCommand({ Bucket: bucket, ExpectedBucketOwner: expectedOwner }),
    );
    const rule = out.ServerSideEncryptionConfiguration?.Rules?.[0]?.ApplyServerSideEncryptionByDefault;
    return rule && { algorithm: rule.SSEAlgorithm, kmsKeyId: rule.KMSMasterKeyID };
  } catch {
    // Encryption settings are advisory only.
    return undefined;
  }
}
