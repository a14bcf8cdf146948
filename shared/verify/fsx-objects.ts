/**
 * What a Lustre client wrote to S3 for verification (the file system listing, the checksums of the
 * scope, under the bucket's `.fsx-transfer/`), and the one content comparison of a `checksum` run
 * that both methods make with it: the EC2 method's transfer instance writes them with the transfer
 * document; the DRA method's Lustre client (configured, or a transfer instance launched for the
 * checksums) with shared/dra/lustre-client.ts.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { rethrowTransient } from '../aws/transient.js';
import type { VerifyMode } from '../config/schema.js';
import { VerificationFailedError } from '../errors.js';
import { parseS3Uri } from '../paths.js';
import type { TransferPlan } from '../plan/schema.js';
import { deleteObject, getObjectText } from '../s3/objects.js';
import { type FileChecksums, parseChecksumListing } from './checksum-listing.js';
import { type Comparison, sameSizeFiles, withContentMismatches } from './compare.js';
import { checkContent, type Verification } from './content.js';
import type { ListedFile } from './listing.js';

/**
 * Reads and parses an object a Lustre client uploaded for verification (`what`: "file system listing").
 * @throws VerificationFailedError when it is missing or malformed.
 */
export async function readFsxObject<T>(
  s3: S3Client,
  uri: string,
  what: string,
  parse: (text: string) => T,
): Promise<T> {
  const { bucket, prefix: key } = parseS3Uri(uri);
  let text: string | undefined;
  try {
    text = await getObjectText(s3, bucket, key);
  } catch (error) {
    rethrowTransient(error, `reading the ${what} ${uri}`);
  }
  if (text === undefined) {
    throw new VerificationFailedError(
      `The instance that read the file system wrote no ${what} at ${uri}; cannot verify the transfer`,
      { details: { uri } },
    );
  }
  try {
    return parse(text);
  } catch (error) {
    throw new VerificationFailedError(`The ${what} ${uri} is unreadable: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

/**
 * Reads the file system checksums a Lustre client uploaded (checksum verification).
 * @throws VerificationFailedError when they are missing or malformed.
 */
export function readChecksumsObject(s3: S3Client, checksumsUri: string): Promise<Map<string, FileChecksums>> {
  return readFsxObject(s3, checksumsUri, 'file system checksums', parseChecksumListing);
}

/** Deletes fsx-transfer's own listing and checksums objects once verification is done. */
export async function removeFsxObjects(s3: S3Client, uris: readonly string[]): Promise<void> {
  for (const uri of uris) {
    const { bucket, prefix: key } = parseS3Uri(uri);
    try {
      await deleteObject(s3, bucket, key);
    } catch {
      // Only a leftover object under .fsx-transfer/; verification itself succeeded.
    }
  }
}

/**
 * `checksum` verification of the files present on both sides with the same size: the checksums
 * the Lustre client wrote against S3's record of each object (shared/verify/content.ts).
 * @returns what was covered (`files`: the source scope's count) and the comparison with each
 *   content difference added (naming its file).
 * @throws VerificationFailedError when the checksums object is missing or malformed; TransientAwsError.
 */
export async function verifyContent(
  deps: { s3: S3Client },
  input: {
    mode: VerifyMode;
    plan: { scope: Pick<TransferPlan['scope'], 'bucket' | 'prefix'> };
    /** The sync filters of an EC2 transfer (a DRA moves the whole scope). */
    filters?: { include?: readonly string[]; exclude?: readonly string[] };
    /** Where the Lustre client wrote the checksums, or the checksums already read (scale-out: the union). */
    checksums: string | Map<string, FileChecksums>;
    s3Files: readonly ListedFile[];
    fsxFiles: readonly ListedFile[];
    files: number;
    comparison: Comparison;
  },
): Promise<{ verification: Verification; comparison: Comparison }> {
  const { plan, mode, files } = input;
  const checksums =
    typeof input.checksums === 'string'
      ? await readChecksumsObject(deps.s3, input.checksums)
      : input.checksums;
  const content = await checkContent(deps, {
    bucket: plan.scope.bucket,
    prefix: plan.scope.prefix,
    files: sameSizeFiles(input.s3Files, input.fsxFiles, input.filters),
    fsx: checksums,
  });
  return {
    verification: {
      mode,
      files,
      contentChecked: content.contentChecked,
      sizeOnly: files - content.contentChecked,
      checkedBy: content.checkedBy,
      ...(content.sizeOnlyFiles.length ? { sizeOnlyFiles: content.sizeOnlyFiles } : {}),
    },
    comparison: withContentMismatches(input.comparison, content.mismatches),
  };
}
