/**
 * Data repository task completion reports (format REPORT_CSV_20191124, scope FAILED_FILES_ONLY):
 * one CSV line per failed file with the columns FilePath, FileStatus, ErrorCode, written by FSx to
 * `<Report.Path>/<TaskId>/failures.csv` in the linked bucket.
 */
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { awsErrorName } from '../errors.js';
import { parseS3Uri } from '../paths.js';

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
 * Reads and parses a task's completion report.
 * @returns the failed files and where the report was, or undefined when no report was found.
 */
export async function readCompletionReport(
  s3: S3Client,
  reportPath: string,
  taskId: string,
): Promise<{ uri: string; files: FailedFile[] } | undefined> {
  const { bucket, keys } = reportKeys(reportPath, taskId);
  for (const key of keys) {
    try {
      const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      const text = (await out.Body?.transformToString('utf8')) ?? '';
      return { uri: `s3://${bucket}/${key}`, files: parseCompletionReport(text) };
    } catch (error) {
      const name = awsErrorName(error);
      if (name !== 'NoSuchKey' && name !== 'NotFound') throw error;
    }
  }
  // Fall back to any CSV under the task's folder (report file names are FSx's to choose).
  const { bucket: b, prefix } = parseS3Uri(reportPath);
  const listed = await s3.send(
    new ListObjectsV2Command({ Bucket: b, Prefix: `${prefix ? `${prefix}/` : ''}` }),
  );
  const key = listed?.Contents?.map((o) => o.Key ?? '').find((k) => k.includes(taskId) && k.endsWith('.csv'));
  if (!key) return undefined;
  const out = await s3.send(new GetObjectCommand({ Bucket: b, Key: key }));
  return {
    uri: `s3://${b}/${key}`,
    files: parseCompletionReport((await out.Body?.transformToString('utf8')) ?? ''),
  };
}
