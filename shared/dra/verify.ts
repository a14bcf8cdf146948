/**
 * Verifying a DRA transfer. A task that says SUCCEEDED is not enough (users report associations
 * that "succeed" while files never show up):
 * - stage-in: the import task's counts must cover the S3 listing of the scope; where a Lustre client
 *   is configured, every S3 object must be listed on the file system with its size;
 * - export: the S3 listing must hold every file of the scope (listed through the Lustre client)
 *   with its size; without a client, the export task's counts are compared with the listing.
 * Differences fail the run and are listed.
 */
import { ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { rethrowTransient } from '../aws/transient.js';
import { VerificationFailedError } from '../errors.js';
import { parseS3Uri } from '../paths.js';
import type { TransferPlan } from '../plan/types.js';
import { type Listing, parseListing } from './lustre-client.js';
import type { AssociationState, LustreCommandState, TaskState } from './types.js';

export interface ScopeObject {
  /** Path relative to the scope (the same as the file's path below the scope on FSx). */
  path: string;
  size: number;
}

/** What a branch hands to Summarize (`$.result`). */
export interface BranchResult {
  files: number;
  bytes: number;
  verified: boolean;
  details: Record<string, unknown>;
}

/**
 * Every object below `prefix/` (all pages), as paths relative to the scope. Folder markers
 * (keys ending in `/`) and anything below `excludePrefix` (completion reports) are left out.
 */
export async function listScopeObjects(
  s3: S3Client,
  bucket: string,
  prefix: string,
  excludePrefix?: string,
): Promise<ScopeObject[]> {
  const base = prefix ? `${prefix}/` : '';
  const objects: ScopeObject[] = [];
  let ContinuationToken: string | undefined;
  try {
    do {
      const page = await s3.send(
        new ListObjectsV2Command({ Bucket: bucket, Prefix: base, ContinuationToken }),
      );
      for (const object of page.Contents ?? []) {
        const key = object.Key ?? '';
        if (!key || key.endsWith('/')) continue;
        if (excludePrefix && key.startsWith(`${excludePrefix}/`)) continue;
        objects.push({ path: key.slice(base.length), size: object.Size ?? 0 });
      }
      ContinuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (ContinuationToken);
  } catch (error) {
    rethrowTransient(error, `listing s3://${bucket}/${base}`);
  }
  return objects;
}

export interface CompareInput {
  direction: TransferPlan['direction'];
  s3: ScopeObject[];
  task?: TaskState;
  /** Parsed listing of the scope on the file system (Lustre client), when one was taken. */
  listing?: Listing;
  /** Relative path (below the scope) of the completion report folder, left out of the FSx listing. */
  excludePath?: string;
}

export interface Comparison {
  differences: string[];
  /** What was compared (task counts, FSx listing). */
  checks: string[];
}

/** Compares what the transfer should have produced with what is there. Pure. */
export function compareDraTransfer(input: CompareInput): Comparison {
  const differences: string[] = [];
  const checks: string[] = [];
  const s3 = new Map(input.s3.map((o) => [o.path, o.size]));
  const task = input.task;
  if (task?.ran) {
    checks.push(`${task.type} task ${task.taskId} counts`);
    if ((task.failed ?? 0) > 0)
      differences.push(`${task.type} task ${task.taskId} reports ${task.failed} failed file(s)`);
    if (input.direction === 'stage-in' && (task.succeeded ?? 0) < s3.size) {
      differences.push(
        `the import task imported ${task.succeeded ?? 0} file(s), but the S3 scope holds ${s3.size}`,
      );
    }
    if (input.direction === 'export' && !input.listing && (task.succeeded ?? 0) > s3.size) {
      differences.push(
        `the export task exported ${task.succeeded} file(s), but the S3 scope holds only ${s3.size}`,
      );
    }
  }
  const listing = input.listing;
  if (listing) {
    checks.push(
      `file system listing (${listing.count} files${listing.truncated ? ', output truncated' : ''})`,
    );
    const excluded = (path: string) =>
      input.excludePath !== undefined && path.startsWith(`${input.excludePath}/`);
    const fsFiles = new Map([...listing.files].filter(([path]) => !excluded(path)));
    if (input.direction === 'stage-in') {
      if (!listing.exists && s3.size > 0)
        differences.push('the scope directory does not exist on the file system');
      for (const [path, size] of s3) {
        const fsSize = fsFiles.get(path);
        if (fsSize === undefined) {
          if (!listing.truncated) differences.push(`missing on FSx: ${path}`);
        } else if (fsSize !== size) differences.push(`size differs: ${path} (S3 ${size}, FSx ${fsSize})`);
      }
      if (listing.truncated && listing.count < s3.size) {
        differences.push(`FSx lists ${listing.count} file(s) in the scope, S3 holds ${s3.size}`);
      }
    } else {
      for (const [path, size] of fsFiles) {
        const s3Size = s3.get(path);
        if (s3Size === undefined) differences.push(`missing in S3: ${path}`);
        else if (s3Size !== size) differences.push(`size differs: ${path} (FSx ${size}, S3 ${s3Size})`);
      }
      if (listing.truncated && listing.count > s3.size) {
        differences.push(`FSx holds ${listing.count} file(s) in the scope, S3 only ${s3.size}`);
      }
    }
  }
  return { differences, checks };
}

export interface VerifyInput {
  plan: TransferPlan;
  association?: AssociationState;
  task?: TaskState;
  listing?: LustreCommandState;
  /** The completion report path used by the tasks (left out of listings). */
  reportPath: string;
}

/**
 * Verifies the transfer and builds the branch result.
 * @throws VerificationFailedError listing the differences (first 20) and their count.
 */
export async function verifyDraTransfer(deps: { s3: S3Client }, input: VerifyInput): Promise<BranchResult> {
  const { plan } = input;
  const report = parseS3Uri(input.reportPath);
  const excludePrefix = report.bucket === plan.scope.bucket ? report.prefix : undefined;
  const objects = await listScopeObjects(deps.s3, plan.scope.bucket, plan.scope.prefix, excludePrefix);
  const scopeBase = plan.scope.prefix ? `${plan.scope.prefix}/` : '';
  const excludePath = excludePrefix?.startsWith(scopeBase)
    ? excludePrefix.slice(scopeBase.length)
    : undefined;
  const listing =
    input.listing?.sent && input.listing.output !== undefined
      ? parseListing(input.listing.output)
      : undefined;
  const { differences, checks } = compareDraTransfer({
    direction: plan.direction,
    s3: objects,
    task: input.task,
    listing,
    excludePath,
  });
  const scope = `s3://${plan.scope.bucket}/${plan.scope.prefix} <-> ${plan.fileSystem.id}:${plan.scope.fsxPath}`;
  if (differences.length > 0) {
    const shown = differences.slice(0, 20).join('; ');
    throw new VerificationFailedError(
      `Verification of the ${plan.direction} ${scope} found ${differences.length} difference(s): ${shown}${
        differences.length > 20 ? `; and ${differences.length - 20} more` : ''
      }`,
      { details: { differences: differences.slice(0, 100), count: differences.length, checks } },
    );
  }
  const notes = [...(input.association?.notes ?? [])];
  if (checks.length === 0) {
    notes.push(
      'not verified: no data repository task ran and no Lustre client is configured to list the file system (set fileSystems[].lustreClientInstanceId)',
    );
  }
  if (input.listing && !input.listing.sent) notes.push(input.listing.reason);
  return {
    files: objects.length,
    bytes: objects.reduce((sum, o) => sum + o.size, 0),
    verified: checks.length > 0,
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
