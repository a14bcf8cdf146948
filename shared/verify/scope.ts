/** The S3 side of a transfer scope, listed for verification. */
import type { S3Client } from '@aws-sdk/client-s3';
import { isTransientAwsError, rethrowTransient } from '../aws/transient.js';
import { awsErrorName, VerificationFailedError } from '../errors.js';
import { formatS3Uri } from '../paths.js';
import { listObjects } from '../s3/objects.js';
import type { ListedFile } from './listing.js';

/**
 * Every object below `prefix/` (a scope's key prefix; '' for the whole bucket) as files relative to
 * the scope, in key order. Folder markers (keys ending in `/`) are not files and are left out.
 * @throws TransientAwsError on throttling; VerificationFailedError when the scope cannot be listed
 *   (NoSuchBucket, AccessDenied...).
 */
export async function listS3Scope(s3: S3Client, bucket: string, prefix: string): Promise<ListedFile[]> {
  const base = prefix ? `${prefix}/` : '';
  const files: ListedFile[] = [];
  try {
    for await (const object of listObjects(s3, bucket, base)) {
      if (object.key.endsWith('/')) continue;
      files.push({ path: object.key.slice(base.length), size: object.size });
    }
  } catch (error) {
    const uri = formatS3Uri({ bucket, prefix });
    if (isTransientAwsError(error)) rethrowTransient(error, `listing ${uri}`);
    throw new VerificationFailedError(
      `Cannot list ${uri} to verify the transfer: ${awsErrorName(error)}: ${(error as Error).message}`,
      { cause: error },
    );
  }
  return files;
}
