/**
 * Verifying a DRA transfer with the one comparison of shared/verify. A task that says SUCCEEDED is
 * not enough (users report associations that "succeed" while files never show up):
 * - stage-in: the import task's counts must cover the S3 listing of the scope; where a Lustre client
 *   listed the file system, every S3 object must be there with its size;
 * - export: the S3 listing must hold every file of the scope (listed through the Lustre client)
 *   with its size; without a client, the export task's counts are compared with the listing.
 * Differences fail the run and are listed.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { VerificationFailedError } from '../errors.js';
import { isWithin, parseS3Uri } from '../paths.js';
import type { TransferPlan } from '../plan/schema.js';
import { type BranchResult, compareScope, verificationFailure } from '../verify/compare.js';
import { sizeOnlyVerification } from '../verify/content.js';
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

/** Why a DRA run's `checksum` verification covers sizes only (docs/verification.md). */
export const DRA_SIZE_ONLY_NOTE =
  'DRA runs are verified by size only: FSx moves the data and no Lustre client read it; run with method ec2 (a launched transfer instance reads every file and compares its checksums with S3) for content verification';

/**
 * Verifies the transfer and builds the branch result: files and bytes of the S3 scope.
 * @throws VerificationFailedError listing the differences (first 20) and their count.
 */
export async function verifyDraTransfer(deps: { s3: S3Client }, input: VerifyInput): Promise<BranchResult> {
  const { plan } = input;
  const reportFolder = reportFolderInScope(plan, input.reportPath);
  const comparison = compareScope({
    direction: plan.direction,
    s3: await listS3Scope(deps.s3, plan.scope.bucket, plan.scope.prefix),
    fsx: fileSystemListing(input.listing),
    task: input.task,
    // A DRA deletes nothing on the destination side on its own: extra files are not differences.
    delete: false,
    ignore: reportFolder ? [reportFolder] : [],
  });
  if (!comparison.ok) throw verificationFailure(plan, comparison);
  const { checks } = comparison;
  const notes = [...(input.association?.notes ?? [])];
  if (checks.length === 0) {
    notes.push(
      'not verified: no data repository task ran and no Lustre client is configured to list the file system (set fileSystems[].lustreClientInstanceId)',
    );
  }
  if (input.listing && !input.listing.sent) notes.push(input.listing.reason);
  const mode = plan.options?.verify ?? 'size';
  return {
    files: comparison.s3.files,
    bytes: comparison.s3.bytes,
    verified: checks.length > 0,
    verification: sizeOnlyVerification(
      mode,
      comparison.s3.files,
      mode === 'checksum' ? DRA_SIZE_ONLY_NOTE : undefined,
    ),
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
