/** Printing for the CLI: human lines on stderr/stdout, or one JSON object on the last stdout line. */
import { awsErrorName, TransferError } from '../shared/errors.js';

/** A usage problem the CLI reports itself (exit code 2). */
export class CliError extends Error {
  override name = 'CliError';
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value)}\n`);
}

/** Progress and notes go to stderr so `--json` output on stdout stays machine-readable. */
export function note(message: string): void {
  process.stderr.write(`${message}\n`);
}

export function printError(error: unknown, json: boolean): void {
  const name = error instanceof TransferError ? error.name : (awsErrorName(error) ?? 'Error');
  let message = error instanceof Error ? error.message : String(error);
  if ((error as { code?: string })?.code === 'ECONNREFUSED') {
    const endpoint = process.env.AWS_ENDPOINT_URL ?? 'the AWS endpoint';
    message = `cannot reach ${endpoint} (${message}); with --local, start the local cloud first: npx fsx-transfer local up`;
  }
  const details =
    error instanceof TransferError && Object.keys(error.details).length ? error.details : undefined;
  if (json) {
    printJson({ error: name, message, ...(details ? { details } : {}) });
    return;
  }
  process.stderr.write(`error ${name}: ${message}\n`);
  if (details) process.stderr.write(`${JSON.stringify(details, null, 2)}\n`);
}

/** Fixed-width table for human output. */
export function table<Row extends object>(
  rows: readonly Row[],
  columns: ReadonlyArray<keyof Row & string>,
): string {
  const cells = rows.map((row) => columns.map((column) => String(row[column] ?? '')));
  const widths = columns.map((column, i) => Math.max(column.length, ...cells.map((cell) => cell[i]!.length)));
  const line = (values: readonly string[]) =>
    values
      .map((value, i) => value.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return [line(columns), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n');
}

export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}
