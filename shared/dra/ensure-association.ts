/**
 * Ensuring the data repository association of a mapping: reuse one with the same paths, or create
 * it (idempotently, import-only by default), then wait until it is AVAILABLE.
 *
 * AWS facts: CreateDataRepositoryAssociation takes a ClientRequestToken of at most 63 ASCII
 * characters (`[A-za-z0-9_.-]`), so a retried create returns the same association; associations
 * are created one at a time per file system; lifecycle CREATING -> AVAILABLE, MISCONFIGURED
 * (automatic sync stopped until the cause is fixed), UPDATING, DELETING, FAILED (terminal).
 */
import { createHash } from 'node:crypto';
import { rethrowTransient } from '../aws/transient.js';
import {
  awsErrorName,
  DraFailedError,
  DraMisconfiguredError,
  DraPrerequisiteError,
  FileSystemNotFoundError,
  NotReadyYetError,
  PathOverlapError,
  TransferTimeoutError,
} from '../errors.js';
import {
  createAssociation,
  type DataRepositoryAssociation,
  describeAssociation,
  type EventType,
  listAssociations,
} from '../fsx/associations.js';
import type { FSxClient } from '../fsx/file-systems.js';
import { formatS3Uri, fsxPathsOverlap, looseFsxPath, parseS3Uri, s3LocationsOverlap } from '../paths.js';
import type { TransferPlan } from '../plan/schema.js';
import { findSameAssociation, toAssociationPaths } from './association-paths.js';
import { MAX_ASSOCIATIONS } from './prerequisites.js';
import type { AssociationState } from './state.js';

/** What the association of a mapping is derived from. */
export type AssociationPlan = Pick<
  TransferPlan,
  'transferId' | 'mapping' | 'fileSystem' | 'scope' | 'options'
>;

/** Import-only by default: S3 changes flow to FSx, nothing flows back automatically (the seed's advice). */
export const AUTO_IMPORT_EVENTS: EventType[] = ['NEW', 'CHANGED', 'DELETED'];
/**
 * Auto-export when a mapping opts in. DELETED is left out on purpose: deleting a file on FSx must
 * never delete its object in S3 (S3 is the durable copy).
 */
export const AUTO_EXPORT_EVENTS: EventType[] = ['NEW', 'CHANGED'];

/**
 * The ClientRequestToken for a mapping's association: derived from the run and the settings that go
 * into the request, so a retried step reuses the first create. A later run finds the association by
 * listing first, and never gets back (by a replayed token) an association that was deleted since,
 * e.g. a FAILED one the user removed. At most 63 characters of `[a-z0-9-]`.
 */
export function associationToken(plan: AssociationPlan): string {
  const digest = createHash('sha256')
    .update(
      [
        plan.fileSystem.id,
        plan.scope.mappingFsxPath,
        plan.scope.mappingS3Uri,
        plan.options.autoExport,
        plan.transferId,
      ].join('|'),
    )
    .digest('hex')
    .slice(0, 16);
  return `fsxt-${plan.mapping}-${digest}`.slice(0, 63);
}

function toState(
  association: DataRepositoryAssociation,
  created: boolean,
  notes: string[] = [],
): AssociationState {
  return {
    associationId: association.AssociationId ?? '',
    lifecycle: association.Lifecycle ?? 'UNKNOWN',
    created,
    fileSystemPath: looseFsxPath(association.FileSystemPath),
    dataRepositoryPath: association.DataRepositoryPath ?? '',
    autoImportEvents: association.S3?.AutoImportPolicy?.Events ?? [],
    autoExportEvents: association.S3?.AutoExportPolicy?.Events ?? [],
    batchImportMetaDataOnCreate: association.BatchImportMetaDataOnCreate ?? false,
    ...(association.CreationTime ? { creationTime: new Date(association.CreationTime).toISOString() } : {}),
    notes,
  };
}

/** Differences between a reused association's settings and what the mapping asks for. */
function settingNotes(association: DataRepositoryAssociation, plan: AssociationPlan): string[] {
  const notes: string[] = [];
  const exportEvents = association.S3?.AutoExportPolicy?.Events ?? [];
  if (plan.options.autoExport && exportEvents.length === 0) {
    notes.push(
      `mapping ${plan.mapping} asks for auto-export but the existing association ${association.AssociationId} has none (paths cannot change; update it with aws fsx update-data-repository-association)`,
    );
  }
  if (!plan.options.autoExport && exportEvents.length > 0) {
    notes.push(
      `the existing association ${association.AssociationId} also exports automatically (${exportEvents.join(', ')})`,
    );
  }
  if (exportEvents.includes('DELETED')) {
    notes.push(
      `the existing association ${association.AssociationId} propagates FSx deletions to S3 (AutoExportPolicy DELETED)`,
    );
  }
  return notes;
}

/**
 * Reuses the mapping's association (same file system path and S3 path, after normalisation) or
 * creates it: import-only (AutoImportPolicy NEW, CHANGED, DELETED), BatchImportMetaDataOnCreate,
 * tags naming the mapping; AutoExportPolicy NEW, CHANGED only when the mapping opts in.
 * @returns the association state (lifecycle may still be CREATING).
 * @throws PathOverlapError when another association now overlaps (it appeared after Validate),
 *   DraPrerequisiteError when the file system refuses (limit, unsupported), FileSystemNotFoundError,
 *   TransientAwsError on throttling.
 */
export async function ensureAssociation(
  deps: { fsx: FSxClient },
  plan: AssociationPlan,
): Promise<AssociationState> {
  const fsId = plan.fileSystem.id;
  const fileSystemPath = plan.scope.mappingFsxPath;
  const s3 = parseS3Uri(plan.scope.mappingS3Uri);
  try {
    const existing = await listAssociations(deps.fsx, fsId);
    const paths = existing.map(toAssociationPaths);
    const same = findSameAssociation(paths, fileSystemPath, s3);
    if (same) {
      const association = existing.find((a) => a.AssociationId === same.associationId)!;
      return toState(association, false, settingNotes(association, plan));
    }
    // Validate checked this; re-check because another run may have linked a path since.
    const conflicts = paths.filter(
      (a) => fsxPathsOverlap(a.fileSystemPath, fileSystemPath) || (a.s3 && s3LocationsOverlap(a.s3, s3)),
    );
    if (conflicts.length > 0) {
      throw new PathOverlapError(
        `Cannot link ${fileSystemPath} to ${formatS3Uri(s3)} on ${fsId}: it overlaps ${conflicts
          .map((c) => `${c.associationId} (${c.fileSystemPath} -> ${c.dataRepositoryPath})`)
          .join(', ')}`,
        { details: { fileSystemId: fsId, conflicts } },
      );
    }
    if (existing.length >= MAX_ASSOCIATIONS) {
      throw new DraPrerequisiteError(
        `${fsId} already has ${existing.length} data repository associations (the maximum is ${MAX_ASSOCIATIONS})`,
        { details: { fileSystemId: fsId, count: existing.length } },
      );
    }
    const created = await createAssociation(deps.fsx, {
      FileSystemId: fsId,
      FileSystemPath: fileSystemPath,
      DataRepositoryPath: plan.scope.mappingS3Uri,
      BatchImportMetaDataOnCreate: true,
      S3: {
        AutoImportPolicy: { Events: AUTO_IMPORT_EVENTS },
        ...(plan.options.autoExport ? { AutoExportPolicy: { Events: AUTO_EXPORT_EVENTS } } : {}),
      },
      ClientRequestToken: associationToken(plan),
      Tags: [
        { Key: 'Name', Value: `fsx-transfer-${plan.mapping}` },
        { Key: 'fsx-transfer:mapping', Value: plan.mapping },
        { Key: 'fsx-transfer:managed-by', Value: 'fsx-transfer' },
      ],
    });
    if (!created)
      throw new DraFailedError(
        `CreateDataRepositoryAssociation returned no association for ${fileSystemPath}`,
      );
    return toState(created, true);
  } catch (error) {
    const mapped = mapAssociationError(error, plan);
    // Another run of the mapping (the other direction) created the same association a moment ago.
    if (mapped instanceof PathOverlapError && awsErrorName(error) === 'BadRequest') {
      const existing = await listAssociations(deps.fsx, fsId).catch(() => []);
      const same = findSameAssociation(existing.map(toAssociationPaths), fileSystemPath, s3);
      const association = same && existing.find((a) => a.AssociationId === same.associationId);
      if (association) return toState(association, false, settingNotes(association, plan));
    }
    throw mapped;
  }
}

function mapAssociationError(error: unknown, plan: AssociationPlan): unknown {
  const name = awsErrorName(error);
  const message = (error as Error)?.message ?? String(error);
  const where = `${plan.scope.mappingFsxPath} -> ${plan.scope.mappingS3Uri} on ${plan.fileSystem.id}`;
  switch (name) {
    case 'FileSystemNotFound':
      return new FileSystemNotFoundError(`File system ${plan.fileSystem.id} no longer exists`, {
        cause: error,
      });
    case 'ServiceLimitExceeded':
    case 'UnsupportedOperation':
      return new DraPrerequisiteError(`Cannot create the association ${where}: ${name}: ${message}`, {
        cause: error,
      });
    case 'BadRequest':
    case 'IncompatibleParameterError':
      return /overlap|already|conflict/i.test(message)
        ? new PathOverlapError(`Cannot create the association ${where}: ${message}`, { cause: error })
        : new DraPrerequisiteError(`Cannot create the association ${where}: ${name}: ${message}`, {
            cause: error,
          });
    default:
      try {
        rethrowTransient(error, `creating the association ${where}`);
      } catch (mapped) {
        return mapped;
      }
  }
}

/**
 * Checks the association's lifecycle once; the state machine retries on NotReadyYetError with back-off.
 * @returns the refreshed state when AVAILABLE.
 * @throws NotReadyYetError while CREATING/UPDATING, DraMisconfiguredError (MISCONFIGURED) and
 *   DraFailedError (FAILED, DELETING, gone) with FSx's FailureDetails.Message, TransferTimeoutError
 *   after the plan's deadline.
 */
export async function checkAssociation(
  deps: { fsx: FSxClient; now?: () => Date },
  plan: Pick<TransferPlan, 'deadline'>,
  state: AssociationState,
): Promise<AssociationState> {
  let association: DataRepositoryAssociation | undefined;
  try {
    association = await describeAssociation(deps.fsx, state.associationId);
  } catch (error) {
    rethrowTransient(error, `describing ${state.associationId}`);
  }
  if (!association) {
    throw new DraFailedError(`Data repository association ${state.associationId} no longer exists`, {
      details: { associationId: state.associationId },
    });
  }
  const next = { ...toState(association, state.created, state.notes) };
  const failure = association.FailureDetails?.Message;
  const where = `${state.associationId} (${next.fileSystemPath} -> ${next.dataRepositoryPath})`;
  switch (association.Lifecycle) {
    case 'AVAILABLE':
      return next;
    case 'MISCONFIGURED':
      throw new DraMisconfiguredError(
        `Data repository association ${where} is MISCONFIGURED: ${failure ?? 'no details'}. Automatic import/export is stopped until the cause (bucket permissions, event notification) is fixed`,
        { details: { associationId: state.associationId, failureDetails: failure } },
      );
    case 'FAILED':
    case 'DELETING':
      throw new DraFailedError(
        `Data repository association ${where} is ${association.Lifecycle}: ${failure ?? 'no details'}`,
        {
          details: {
            associationId: state.associationId,
            lifecycle: association.Lifecycle,
            failureDetails: failure,
          },
        },
      );
    default: {
      const now = deps.now?.() ?? new Date();
      if (now.getTime() > Date.parse(plan.deadline)) {
        throw new TransferTimeoutError(
          `Data repository association ${where} is still ${association.Lifecycle} at the run's deadline ${plan.deadline}`,
          { details: { associationId: state.associationId, lifecycle: association.Lifecycle } },
        );
      }
      throw new NotReadyYetError(`Data repository association ${where} is ${association.Lifecycle}`, {
        details: { associationId: state.associationId, lifecycle: association.Lifecycle },
      });
    }
  }
}
