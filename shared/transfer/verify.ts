/**
 * Verification after an EC2 transfer: the destination must hold every file of the source scope
 * with the same size (and nothing more when the transfer deletes). Success of `aws s3 sync` alone
 * is not proof: filters, permissions on single objects or a second writer can leave gaps.
 */
import { DeleteObjectCommand, GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { rethrowTransient } from '../aws/transient.js';
import { awsErrorName, VerificationFailedError } from '../errors.js';
import { parseS3Uri } from '../paths.js';
import type { TransferPlan } from '../plan/types.js';
import {
  compareListings,
  type ListedFile,
  type ListingComparison,
  listS3Scope,
  parseFsListing,
} from './listing.js';

export interface TransferResult {
  files: number;
  bytes: number;
  verified: boolean;
  details: Record<string, unknown>;
}

/**
 * Reads the file system listing the instance uploaded.
 * @throws VerificationFailedError when it is missing or malformed.
 */
export async function readFsListing(s3: S3Client, listingUri: string): Promise<ListedFile[]> {
  const { bucket, prefix: key } = parseS3Uri(listingUri);
  let text: string;
  try {
    const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    text = (await out.Body?.transformToString('utf8')) ?? '';
  } catch (error) {
    if (awsErrorName(error) === 'NoSuchKey') {
      throw new VerificationFailedError(
        `The transfer instance wrote no file system listing at ${listingUri}; cannot verify the transfer`,
        { cause: error, details: { listingUri } },
      );
    }
    rethrowTransient(error, `reading the file system listing ${listingUri}`);
  }
  try {
    return parseFsListing(text);
  } catch (error) {
    throw new VerificationFailedError(
      `The file system listing ${listingUri} is unreadable: ${(error as Error).message}`,
      {
        cause: error,
      },
    );
  }
}

/** Human summary of a failed comparison, with the first differences. */
export function describeDifferences(
  plan: Pick<TransferPlan, 'direction' | 'scope'>,
  c: ListingComparison,
): string {
  const [from, to] =
    plan.direction === 'stage-in'
      ? [`s3://${plan.scope.bucket}/${plan.scope.prefix}`, plan.scope.fsxPath]
      : [plan.scope.fsxPath, `s3://${plan.scope.bucket}/${plan.scope.prefix}`];
  const counts = [
    c.missing ? `${c.missing} missing` : '',
    c.sizeMismatches ? `${c.sizeMismatches} with another size` : '',
    c.extra ? `${c.extra} extra` : '',
  ].filter(Boolean);
  return `Verification failed for ${from} -> ${to}: source ${c.sourceFiles} files (${c.sourceBytes} bytes), destination ${c.destinationFiles} files (${c.destinationBytes} bytes); ${counts.join(', ')}. First differences: ${c.differences.join('; ')}`;
}

/**
 * Compares the S3 listing of the scope with the file system listing written by the instance.
 * @returns the branch result (`$.result`): files and bytes of the source scope, verified.
 * @throws VerificationFailedError listing the first differences.
 */
export async function verifyEc2Transfer(
  deps: { s3: S3Client },
  input: { plan: TransferPlan; listingUri: string; keepListing?: boolean },
): Promise<TransferResult> {
  const { plan, listingUri } = input;
  const fsFiles = await readFsListing(deps.s3, listingUri);
  let s3Files: ListedFile[];
  try {
    s3Files = await listS3Scope(deps.s3, plan.scope.bucket, plan.scope.prefix);
  } catch (error) {
    if (error instanceof Error && error.name === 'TransientAwsError') throw error;
    throw new VerificationFailedError(
      `Cannot list s3://${plan.scope.bucket}/${plan.scope.prefix} to verify the transfer: ${awsErrorName(error)}: ${(error as Error).message}`,
      { cause: error },
    );
  }
  const [source, destination] = plan.direction === 'stage-in' ? [s3Files, fsFiles] : [fsFiles, s3Files];
  const comparison = compareListings(source, destination, {
    include: plan.options.include,
    exclude: plan.options.exclude,
    delete: plan.options.delete,
  });
  if (!comparison.ok) {
    throw new VerificationFailedError(describeDifferences(plan, comparison), {
      details: { ...comparison, listingUri },
    });
  }
  if (!input.keepListing) {
    const { bucket, prefix: key } = parseS3Uri(listingUri);
    try {
      await deps.s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
    } catch {
      // Only a leftover listing under .fsx-transfer/; verification itself succeeded.
    }
  }
  return {
    files: comparison.sourceFiles,
    bytes: comparison.sourceBytes,
    verified: true,
    details: {
      destinationFiles: comparison.destinationFiles,
      extraInDestination: comparison.extra,
    },
  };
}
