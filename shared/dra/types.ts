/**
 * What the DRA branch's states pass to each other (under `$.dra`). Small, JSON-serialisable.
 */

/** `$.dra.association`: written by EnsureAssociation, refreshed by WaitForAssociation. */
export interface AssociationState {
  associationId: string;
  lifecycle: string;
  /** True when this run created the association (false: an existing one with the same paths was reused). */
  created: boolean;
  fileSystemPath: string;
  dataRepositoryPath: string;
  autoImportEvents: string[];
  autoExportEvents: string[];
  batchImportMetaDataOnCreate: boolean;
  /** ISO time the association was created, when FSx says. */
  creationTime?: string;
  /** Facts a user should know (settings of a reused association that differ from the mapping...). */
  notes: string[];
}

export type TaskType =
  | 'IMPORT_METADATA_FROM_REPOSITORY'
  | 'EXPORT_TO_REPOSITORY'
  | 'RELEASE_DATA_FROM_FILESYSTEM';

/** `$.dra.task` / `$.dra.release`: written by Start*Task, refreshed by WaitFor*Task. */
export interface TaskState {
  type: TaskType;
  /** False when no task was needed (auto-import already covers the change). */
  ran: boolean;
  /** Why the task ran or did not (shown in the execution output). */
  reason: string;
  taskId?: string;
  lifecycle?: string;
  /** The completion report Path (reports land in `<Path>/<TaskId>/failures.csv`). */
  reportPath?: string;
  paths?: string[];
  total?: number;
  succeeded?: number;
  failed?: number;
}

export type LustreCommandPurpose = 'list' | 'preload';

/** `$.dra.listing` / `$.result.details.preload`: a command on the Lustre client (configured or launched). */
export interface LustreCommandState {
  purpose: LustreCommandPurpose;
  /** False when no Lustre client is configured (nothing was sent). */
  sent: boolean;
  reason: string;
  instanceId?: string;
  /** True when the command ran on a transfer instance launched for it (LaunchPreloadInstance). */
  launched?: boolean;
  commandId?: string;
  status?: string;
  /** Standard output (SSM keeps at most 24,000 characters). */
  output?: string;
}
