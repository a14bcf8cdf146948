/**
 * Verification after an EC2 transfer, with the one comparison of shared/verify: the destination
 * must hold every file of the source scope that the filters let through, with the same size (and
 * nothing more when the transfer deletes). The transfer instance wrote the file system listing to
 * S3 (the document's `ListingUri`).
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { rethrowTransient } from '../aws/transient.js';
import { VerificationFailedError } from '../errors.js';
import { parseS3Uri } from '../paths.js';
import type { TransferPlan } from '../plan/schema.js';
import { deleteObject, getObjectText } from '../s3/objects.js';
import { type BranchResult, compareScope, verificationFailure } from '../verify/compare.js';
import { type ListedFile, type Listing, listingHash, parseListing } from '../verify/listing.js';
import { listS3Scope } from '../verify/scope.js';

/**
 * Reads the file system listing the instance uploaded.
 * @throws VerificationFailedError when it is missing, malformed or incomplete.
 */
export async function readListingObject(s3: S3Client, listingUri: string): Promise<Listing> {
  const { bucket, prefix: key } = parseS3Uri(listingUri);
  let text: string | undefined;
  try {
    text = await getObjectText(s3, bucket, key);
  } catch (error) {
    rethrowTransient(error, `reading the file system listing ${listingUri}`);
  }
  if (text === undefined) {
    throw new VerificationFailedError(
      `The transfer instance wrote no file system listing at ${listingUri}; cannot verify the transfer`,
      { details: { listingUri } },
    );
  }
  let listing: Listing;
  try {
    listing = parseListing(text);
  } catch (error) {
    throw new VerificationFailedError(
      `The file system listing ${listingUri} is unreadable: ${(error as Error).message}`,
      { cause: error },
    );
  }
  if (listing.truncated) {
    throw new VerificationFailedError(
      `The file system listing ${listingUri} is incomplete: ${listing.files.length} of ${listing.count} files`,
      { details: { listingUri } },
    );
  }
  return listing;
}

/**
 * Compares the S3 listing of the scope with the file system listing written by the instance.
 * @returns the branch result (`$.result`): files and bytes of the source scope, verified.
 * @throws VerificationFailedError listing the first differences.
 */
export async function verifyEc2Transfer(
  deps: { s3: S3Client },
  input: {
    plan: Pick<TransferPlan, 'direction' | 'scope' | 'fileSystem' | 'options'>;
    listingUri: string;
    keepListing?: boolean;
    /** The file system listing, when already read (scale-out: the union of the shards'). */
    fsx?: Listing;
  },
): Promise<BranchResult> {
  const { plan, listingUri } = input;
  const fsx = input.fsx ?? (await readListingObject(deps.s3, listingUri));
  const comparison = compareScope({
    direction: plan.direction,
    s3: await listS3Scope(deps.s3, plan.scope.bucket, plan.scope.prefix),
    fsx,
    include: plan.options.include,
    exclude: plan.options.exclude,
    delete: plan.options.delete,
  });
  if (!comparison.ok) throw verificationFailure(plan, comparison, { listingUri });
  if (!input.keepListing) {
    const { bucket, prefix: key } = parseS3Uri(listingUri);
    try {
      await deleteObject(deps.s3, bucket, key);
    } catch {
      // Only a leftover listing under .fsx-transfer/; verification itself succeeded.
    }
  }
  const source = plan.direction === 'stage-in' ? comparison.s3 : comparison.fsx;
  const destination = plan.direction === 'stage-in' ? comparison.fsx : comparison.s3;
  return {
    files: source?.files ?? 0,
    bytes: source?.bytes ?? 0,
    verified: true,
    details: { destinationFiles: destination?.files ?? 0, extraInDestination: comparison.extra },
  };
}

/**
 * Verification of a scaled-out run: each shard instance listed the whole scope when its own sync
 * ended, while other shards may still have been copying, so only the files of its own key range
 * count from its listing. The union of those parts is compared with the S3 listing of the scope.
 * @returns the branch result, as verifyEc2Transfer.
 * @throws VerificationFailedError (a missing or incomplete listing, or differences).
 */
export async function verifyEc2Shards(
  deps: { s3: S3Client },
  input: {
    plan: Pick<TransferPlan, 'direction' | 'scope' | 'fileSystem' | 'options'>;
    listings: { listingUri: string; includes: (path: string) => boolean }[];
  },
): Promise<BranchResult> {
  const files: ListedFile[] = [];
  let exists = false;
  for (const { listingUri, includes } of input.listings) {
    const listing = await readListingObject(deps.s3, listingUri);
    exists ||= listing.exists;
    files.push(...listing.files.filter((file) => includes(file.path)));
  }
  files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const union: Listing = {
    exists,
    count: files.length,
    bytes: files.reduce((sum, file) => sum + file.size, 0),
    sha256: listingHash(files),
    files,
    truncated: false,
  };
  const result = await verifyEc2Transfer(deps, {
    plan: input.plan,
    listingUri: input.listings.map((l) => l.listingUri).join(' '),
    keepListing: true,
    fsx: union,
  });
  for (const { listingUri } of input.listings) {
    const { bucket, prefix: key } = parseS3Uri(listingUri);
    await deleteObject(deps.s3, bucket, key).catch(() => undefined);
  }
  return result;
}
