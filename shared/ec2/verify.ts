/**
 * Verification after an EC2 transfer, with the one comparison of shared/verify: the destination
 * must hold every file of the source scope that the filters let through, with the same size (and
 * nothing more when the transfer deletes). The transfer instance wrote the file system listing to
 * S3 (the document's `ListingUri`).
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { VerificationFailedError } from '../errors.js';
import type { TransferPlan } from '../plan/schema.js';
import type { FileChecksums } from '../verify/checksum-listing.js';
import { type BranchResult, compareScope, verificationFailure } from '../verify/compare.js';
import { sizeOnlyVerification, type Verification } from '../verify/content.js';
import {
  readChecksumsObject,
  readFsxObject,
  removeFsxObjects,
  verifyContent,
} from '../verify/fsx-objects.js';
import { type ListedFile, type Listing, listingHash, parseListing } from '../verify/listing.js';
import { listS3Scope } from '../verify/scope.js';

/**
 * Reads the file system listing the instance uploaded.
 * @throws VerificationFailedError when it is missing, malformed or incomplete.
 */
export async function readListingObject(s3: S3Client, listingUri: string): Promise<Listing> {
  const listing = await readFsxObject(s3, listingUri, 'file system listing', parseListing);
  if (listing.truncated) {
    throw new VerificationFailedError(
      `The file system listing ${listingUri} is incomplete: ${listing.files.length} of ${listing.count} files`,
      { details: { listingUri } },
    );
  }
  return listing;
}

/**
 * Compares the S3 listing of the scope with the file system listing written by the instance and,
 * in `checksum` mode, the content of every transferred file (shared/verify/content.ts); in `none`
 * mode differences are counted but do not fail the run.
 * @returns the branch result (`$.result`): files and bytes of the source scope, and what was verified.
 * @throws VerificationFailedError listing the first differences (a content difference names the file).
 */
export async function verifyEc2Transfer(
  deps: { s3: S3Client },
  input: {
    plan: Pick<TransferPlan, 'direction' | 'scope' | 'fileSystem' | 'options'>;
    listingUri: string;
    /** Where the instance wrote the file system checksums (checksum mode). */
    checksumsUri?: string;
    keepListing?: boolean;
    /** The file system listing, when already read (scale-out: the union of the shards'). */
    fsx?: Listing;
    /** The file system checksums, when already read (scale-out: the union of the shards'). */
    checksums?: Map<string, FileChecksums>;
  },
): Promise<BranchResult> {
  const { plan, listingUri } = input;
  const mode = plan.options.verify;
  const fsx = input.fsx ?? (await readListingObject(deps.s3, listingUri));
  const s3Files = await listS3Scope(deps.s3, plan.scope.bucket, plan.scope.prefix);
  let comparison = compareScope({
    direction: plan.direction,
    s3: s3Files,
    fsx,
    include: plan.options.include,
    exclude: plan.options.exclude,
    delete: plan.options.delete,
  });
  const source = plan.direction === 'stage-in' ? comparison.s3 : comparison.fsx;
  const files = source?.files ?? 0;
  let verification: Verification = sizeOnlyVerification(mode, files);
  const checksums = input.checksums ?? input.checksumsUri;
  if (mode === 'checksum' && checksums) {
    ({ verification, comparison } = await verifyContent(deps, {
      mode,
      plan,
      filters: plan.options,
      checksums,
      s3Files,
      fsxFiles: fsx.files,
      files,
      comparison,
    }));
  }
  if (!comparison.ok && mode !== 'none')
    throw verificationFailure(plan, comparison, { listingUri, verification });
  if (!input.keepListing)
    await removeFsxObjects(deps.s3, [listingUri, ...(input.checksumsUri ? [input.checksumsUri] : [])]);
  const destination = plan.direction === 'stage-in' ? comparison.fsx : comparison.s3;
  return {
    files,
    bytes: source?.bytes ?? 0,
    verified: mode !== 'none',
    verification,
    details: {
      destinationFiles: destination?.files ?? 0,
      extraInDestination: comparison.extra,
      ...(mode === 'none' ? { unverifiedDifferences: comparison.count } : {}),
    },
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
    /** Each shard's listing (and, in checksum mode, checksums) with its key range. */
    listings: { listingUri: string; checksumsUri?: string; includes: (path: string) => boolean }[];
  },
): Promise<BranchResult> {
  const files: ListedFile[] = [];
  const checksums = new Map<string, FileChecksums>();
  let exists = false;
  for (const { listingUri, checksumsUri, includes } of input.listings) {
    const listing = await readListingObject(deps.s3, listingUri);
    exists ||= listing.exists;
    files.push(...listing.files.filter((file) => includes(file.path)));
    if (input.plan.options.verify !== 'checksum' || !checksumsUri) continue;
    for (const [path, entry] of await readChecksumsObject(deps.s3, checksumsUri)) {
      if (includes(path)) checksums.set(path, entry);
    }
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
    ...(input.listings.some((l) => l.checksumsUri) ? { checksums } : {}),
  });
  await removeFsxObjects(
    deps.s3,
    input.listings.flatMap((l) => [l.listingUri, ...(l.checksumsUri ? [l.checksumsUri] : [])]),
  );
  return result;
}
