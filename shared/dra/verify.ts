/**
 * Verifying a DRA transfer with the one comparison of shared/verify. A task that says SUCCEEDED is
 * not enough (users report associations that "succeed" while files never show up):
 * - stage-in: the import task's counts must cover the S3 listing of the scope; where a Lustre client
 *   listed the file system, every S3 object must be there with its size;
 * - export: the S3 listing must hold every file of the scope (listed through the Lustre client)
 *   with its size; without a client, the export task's counts are compared with the listing.
 * Differences fail the run and are listed. In `checksum` mode the Lustre client that listed the
 * scope (configured, or a transfer instance launched for it) also wrote the checksums of its files,
 * compared with S3's record of each object as for the EC2 method (shared/verify/fsx-objects.ts).
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { VerificationFailedError } from '../errors.js';
import { isWithin, parseS3Uri } from '../paths.js';
import type { TransferPlan } from '../plan/schema.js';
import { type BranchResult, compareScope, verificationFailure } from '../verify/compare.js';
import { sizeOnlyVerification, type Verification } from '../verify/content.js';
import { readChecksumsObject, removeFsxObjects, verifyContent } from '../verify/fsx-objects.js';
import { type Listing, parseListing } from '../verify/listing.js';
import { listS3Scope } from '../verify/scope.js';
import type { AssociationState, LustreCommandState, TaskState } from './state.js';

export interface VerifyInput {
  plan: Pick<TransferPlan, 'direction' | 'scope' | 'fileSystem'> & {
    options?: Pick<TransferPlan['options'], 'verify'>;
  };
  association?: AssociationState;
  task?: TaskState;
  listing?: LustreCommandState;
  /** The completion report path used by the tasks (left out of the comparison). */
  reportPath: string;
}

/**
 * Where the completion reports lie inside the scope, relative to it (FSx writes them inside the
 * linked prefix, so they are in S3 and possibly on the file system, but were never transferred).
 */
function reportFolderInScope(plan: VerifyInput['plan'], reportPath: string): string | undefined {
  const report = parseS3Uri(reportPath);
  const scope = `/${plan.scope.prefix}`.replace(/\/$/, '') || '/';
  const folder = `/${report.prefix}`;
  if (report.bucket !== plan.scope.bucket || folder === scope || !isWithin(scope, folder)) return undefined;
  return folder.slice(scope === '/' ? 1 : scope.length + 1);
}

/** The Lustre client's listing of the scope, when one was taken. */
function fileSystemListing(command: LustreCommandState | undefined): Listing | undefined {
  if (!command?.sent || command.output === undefined) return undefined;
  try {
    return parseListing(command.output);
  } catch (error) {
    throw new VerificationFailedError(
      `The listing of the scope from ${command.instanceId} is unreadable: ${(error as Error).message}`,
      { cause: error, details: { commandId: command.commandId } },
    );
  }
}

/**
 * Why a DRA run's `checksum` verification covered sizes only: no Lustre client checksummed the
 * scope (docs/verification.md). The state machine always sends one in `checksum` mode (the
 * configured client, else a launched transfer instance); this says so if it did not.
 */
export const DRA_SIZE_ONLY_NOTE =
  'verified by size only: no Lustre client computed the checksums of the scope (FSx moves the data of a DRA and exposes no checksum of it); a checksum run checksums the scope on fileSystems[].lustreClientInstanceId, else on a transfer instance launched for it';

/**
 * Verifies the transfer and builds the branch result: files and bytes of the S3 scope.
 * @throws VerificationFailedError listing the differences (first 20) and their count.
 */
export async function verifyDraTransfer(deps: { s3: S3Client }, input: VerifyInput): Promise<BranchResult> {
  const { plan } = input;
  const mode = plan.options?.verify ?? 'size';
  const reportFolder = reportFolderInScope(plan, input.reportPath);
  const s3Files = await listS3Scope(deps.s3, plan.scope.bucket, plan.scope.prefix);
  const fsx = fileSystemListing(input.listing);
  let comparison = compareScope({
    direction: plan.direction,
    s3: s3Files,
    fsx,
    task: input.task,
    // A DRA deletes nothing on the destination side on its own: extra files are not differences.
    delete: false,
    ignore: reportFolder ? [reportFolder] : [],
  });
  const checksumsUri = input.listing?.sent ? input.listing.checksumsUri : undefined;
  let verification: Verification = sizeOnlyVerification(
    mode,
    comparison.s3.files,
    mode === 'checksum' ? DRA_SIZE_ONLY_NOTE : undefined,
  );
  if (mode === 'checksum' && checksumsUri) {
    // The checksum listing names every file with its size: it stands for the file system side when
    // SSM cut the listing's output short. Completion reports were never transferred.
    const checksums = await readChecksumsObject(deps.s3, checksumsUri);
    const notReport = (file: { path: string }) =>
      !reportFolder || !(file.path === reportFolder || file.path.startsWith(`${reportFolder}/`));
    ({ verification, comparison } = await verifyContent(deps, {
      mode,
      plan,
      checksums,
      s3Files: s3Files.filter(notReport),
      fsxFiles: [...checksums.values()],
      files: comparison.s3.files,
      comparison,
    }));
  }
  if (!comparison.ok) throw verificationFailure(plan, comparison, { verification });
  if (checksumsUri) await removeFsxObjects(deps.s3, [checksumsUri]);
  const { checks } = comparison;
  const notes = [...(input.association?.notes ?? [])];
  if (checks.length === 0) {
    notes.push(
      'not verified: no data repository task ran and no Lustre client is configured to list the file system (set fileSystems[].lustreClientInstanceId)',
    );
  }
  if (input.listing && !input.listing.sent) notes.push(input.listing.reason);
  if (verification.contentChecked > 0) checks.push(`content of ${verification.contentChecked} file(s)`);
  return {
    files: comparison.s3.files,
    bytes: comparison.s3.bytes,
    verified: checks.length > 0,
    verification,
    details: {
      ...(input.association
        ? { associationId: input.association.associationId, associationCreated: input.association.created }
        : {}),
      ...(input.task
        ? {
            task: {
              type: input.task.type,
              ran: input.task.ran,
              reason: input.task.reason,
              ...(input.task.taskId ? { taskId: input.task.taskId } : {}),
              ...(input.task.ran
                ? { total: input.task.total, succeeded: input.task.succeeded, failed: input.task.failed }
                : {}),
            },
          }
        : {}),
      checks,
      reportPath: input.reportPath,
      ...(notes.length ? { notes } : {}),
    },
  };
}
