/**
 * Data repository task completion reports (format REPORT_CSV_20191124, scope FAILED_FILES_ONLY):
 * one CSV line per failed file with the columns FilePath, FileStatus, ErrorCode, written by FSx to
 * `<Report.Path>/<TaskId>/failures.csv` in the linked bucket.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { parseS3Uri } from '../paths.js';
import { findObjectText } from '../s3/objects.js';

export interface FailedFile {
  filePath: string;
  fileStatus: string;
  errorCode: string;
}

/** Splits one CSV line (RFC 4180 quoting: `"a,b"`, `""` for a quote). */
export function splitCsvLine(line: string): string[] {
  const fields: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      fields.push(field);
      field = '';
    } else field += ch;
  }
  fields.push(field);
  return fields;
}

/** Parses a completion report; a header line (FilePath,FileStatus,ErrorCode), if present, is skipped. */
export function parseCompletionReport(csv: string): FailedFile[] {
  return csv
    .split(/\r?\n/)
    .filter((line) => line.trim() !== '')
    .map(splitCsvLine)
    .filter((fields) => fields[0]?.trim().toLowerCase() !== 'filepath')
    .map(([filePath = '', fileStatus = '', errorCode = '']) => ({
      filePath: filePath.trim(),
      fileStatus: fileStatus.trim(),
      errorCode: errorCode.trim(),
    }));
}

/** `path (ErrorCode)` for the first `limit` files, then `and N more`. */
export function describeFailedFiles(files: readonly FailedFile[], limit = 10): string {
  const shown = files
    .slice(0, limit)
    .map((f) => `${f.filePath} (${f.errorCode || f.fileStatus || 'FAILED'})`);
  const more = files.length > limit ? `, and ${files.length - limit} more` : '';
  return `${shown.join(', ')}${more}`;
}

/** Candidate keys of a task's report under `reportPath` (the folder is the task id, `task-...`), either file name. */
export function reportKeys(reportPath: string, taskId: string): { bucket: string; keys: string[] } {
  const { bucket, prefix } = parseS3Uri(reportPath);
  const base = prefix ? `${prefix}/` : '';
  const folders = taskId.startsWith('task-') ? [taskId] : [taskId, `task-${taskId}`];
  // Export and release tasks write failures.csv; import tasks write report.csv (FSx user guide).
  return {
    bucket,
    keys: folders.flatMap((folder) => [`${base}${folder}/failures.csv`, `${base}${folder}/report.csv`]),
  };
}

/**
 * Reads and parses a task's completion report: the usual keys first, then any CSV naming the task
 * below the report path (report file names are FSx's to choose), through every page of the listing
 * (the report folder collects the reports of every run).
 * @returns the failed files and where the report was, or undefined when no report was found.
 */
export async function readCompletionReport(
  s3: S3Client,
  reportPath: string,
  taskId: string,
): Promise<{ uri: string; files: FailedFile[] } | undefined> {
  const { bucket, keys } = reportKeys(reportPath, taskId);
  const { prefix } = parseS3Uri(reportPath);
  const found = await findObjectText(s3, bucket, {
    keys,
    prefix: prefix ? `${prefix}/` : '',
    matches: (key) => key.includes(taskId) && key.endsWith('.csv'),
  });
  return found && { uri: `s3://${bucket}/${found.key}`, files: parseCompletionReport(found.text) };
}
