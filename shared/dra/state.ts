/**
 * What the DRA branch's states pass to each other (under `$.dra`): small, JSON-serialisable, one
 * zod schema each with the type inferred from it, so the steps check their input against the same
 * contract the producing step follows.
 */
import * as z from 'zod';

/** `$.dra.association`: written by EnsureAssociation, refreshed by WaitForAssociation. */
export const AssociationState = z.object({
  associationId: z.string().min(1),
  lifecycle: z.string(),
  /** True when this run created the association (false: an existing one with the same paths was reused). */
  created: z.boolean(),
  fileSystemPath: z.string(),
  dataRepositoryPath: z.string(),
  autoImportEvents: z.array(z.string()),
  autoExportEvents: z.array(z.string()),
  batchImportMetaDataOnCreate: z.boolean(),
  /** ISO time the association was created, when FSx says. */
  creationTime: z.string().optional(),
  /** Facts a user should know (settings of a reused association that differ from the mapping...). */
  notes: z.array(z.string()),
});
export type AssociationState = z.infer<typeof AssociationState>;

export const TaskType = z.enum([
  'IMPORT_METADATA_FROM_REPOSITORY',
  'EXPORT_TO_REPOSITORY',
  'RELEASE_DATA_FROM_FILESYSTEM',
]);
export type TaskType = z.infer<typeof TaskType>;

/** `$.dra.task` / `$.dra.release`: written by Start*Task, refreshed by WaitFor*Task. */
export const TaskState = z.object({
  type: TaskType,
  /** False when no task was needed (auto-import already covers the change). */
  ran: z.boolean(),
  /** Why the task ran or did not (shown in the execution output). */
  reason: z.string(),
  taskId: z.string().optional(),
  lifecycle: z.string().optional(),
  /** The completion report Path (reports land in `<Path>/<TaskId>/failures.csv`). */
  reportPath: z.string().optional(),
  paths: z.array(z.string()).optional(),
  total: z.number().optional(),
  succeeded: z.number().optional(),
  failed: z.number().optional(),
});
export type TaskState = z.infer<typeof TaskState>;

export const LustreCommandPurpose = z.enum(['list', 'preload']);
export type LustreCommandPurpose = z.infer<typeof LustreCommandPurpose>;

/** `$.dra.listing` / `$.result.details.preload`: a command on the Lustre client (configured or launched). */
export const LustreCommandState = z.object({
  purpose: LustreCommandPurpose,
  /** False when no Lustre client is configured (nothing was sent). */
  sent: z.boolean(),
  reason: z.string(),
  instanceId: z.string().optional(),
  /** True when the command ran on a transfer instance launched for it (LaunchPreloadInstance). */
  launched: z.boolean().optional(),
  commandId: z.string().optional(),
  /** Where a listing command of a `checksum` run wrote the checksums of the scope (FSXT-CHECKSUMS v1). */
  checksumsUri: z.string().startsWith('s3://').optional(),
  status: z.string().optional(),
  /** Standard output (SSM keeps at most 24,000 characters). */
  output: z.string().optional(),
});
export type LustreCommandState = z.infer<typeof LustreCommandState>;
