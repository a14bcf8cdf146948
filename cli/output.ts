/**
 * Printing for the CLI: human lines on stderr/stdout, or one JSON document on the last stdout line;
 * exit codes; tables (cli-table3). Colour only on a terminal (and never with NO_COLOR or
 * TERM=dumb); nothing moves or redraws when the output is not a terminal.
 */
import { styleText } from 'node:util';
import Table from 'cli-table3';
import { awsErrorName, TransferError } from '../shared/errors.js';

/** The CLI's exit codes (README and docs/cli.md). */
export const EXIT = { ok: 0, runFailed: 1, badInput: 2, prerequisites: 3 } as const;

/** A usage problem the CLI reports itself (exit code 2). */
export class CliError extends Error {
  override name = 'CliError';
}

/** Something the command needs is not there: the stack, the local cloud, credentials (exit code 3). */
export class PrerequisiteError extends Error {
  override name = 'PrerequisiteError';
}

/** Errors of a request a user can fix by changing the command or the config. */
const BAD_INPUT = new Set([
  'CliError',
  'InvalidRequestError',
  'MappingNotFoundError',
  'ConfigError',
  'TransferNotFoundError',
  'ExecutionDoesNotExist',
  'InvalidArn',
  'InvalidName',
]);

/** Errors that say the account, the file system, the bucket or the deployment is not ready. */
const PREREQUISITES = new Set([
  'PrerequisiteError',
  'FileSystemNotFoundError',
  'FileSystemNotAvailableError',
  'AccountMismatchError',
  'BucketAccessError',
  'DraPrerequisiteError',
  'PathOverlapError',
  'StateMachineDoesNotExist',
  'CredentialsProviderError',
  'ExpiredToken',
  'ExpiredTokenException',
  'InvalidClientTokenId',
  'UnrecognizedClientException',
  'AccessDenied',
  'AccessDeniedException',
]);

function errorName(error: unknown): string {
  if (error instanceof TransferError || error instanceof CliError || error instanceof PrerequisiteError) {
    return error.name;
  }
  return awsErrorName(error) ?? (error as Error)?.name ?? 'Error';
}

/** 2 for bad input, 3 for prerequisites not met (or an endpoint that cannot be reached), else 1. */
export function exitCodeFor(error: unknown): number {
  const name = errorName(error);
  if (BAD_INPUT.has(name)) return EXIT.badInput;
  if (PREREQUISITES.has(name) || (error as { code?: string })?.code === 'ECONNREFUSED')
    return EXIT.prerequisites;
  return EXIT.runFailed;
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value)}\n`);
}

/** Progress and notes go to stderr so `--json` output on stdout stays machine-readable. */
export function note(message: string): void {
  process.stderr.write(`${message}\n`);
}

/** The human result of a command (stdout, so it can be piped). */
export function say(message: string): void {
  process.stdout.write(`${message}\n`);
}

export function printError(error: unknown, json: boolean): void {
  const name = errorName(error);
  let message = error instanceof Error ? error.message : String(error);
  if ((error as { code?: string })?.code === 'ECONNREFUSED') {
    const endpoint = process.env.AWS_ENDPOINT_URL ?? 'the AWS endpoint';
    message = `cannot reach ${endpoint} (${message}); with --local, start the local cloud first: npx fsx-transfer local up`;
  }
  const details =
    error instanceof TransferError && Object.keys(error.details).length ? error.details : undefined;
  if (json) {
    printJson({ error: name, message, exitCode: exitCodeFor(error), ...(details ? { details } : {}) });
    return;
  }
  // The message names the field and the rule; --json adds the details as data.
  // The CLI's own errors need no class name; the project's carry theirs (README troubleshooting).
  const label = error instanceof CliError || error instanceof PrerequisiteError ? 'error' : `error ${name}`;
  process.stderr.write(`${paint('red', label, process.stderr)}: ${message}\n`);
}

/** True when colour may be used on `stream`: a terminal, without NO_COLOR, not TERM=dumb. */
export function colorOn(stream: NodeJS.WriteStream = process.stdout): boolean {
  return Boolean(stream.isTTY) && !process.env.NO_COLOR && process.env.TERM !== 'dumb';
}

type Style = Parameters<typeof styleText>[0];

/** `text` in `style` on a colour terminal, unchanged otherwise. */
export function paint(style: Style, text: string, stream: NodeJS.WriteStream = process.stdout): string {
  return colorOn(stream) ? styleText(style, text) : text;
}

/** The colour of a run status. */
export function statusStyle(status: string): Style {
  if (status === 'SUCCEEDED') return 'green';
  if (status === 'RUNNING' || status === 'QUEUED') return 'cyan';
  return 'red';
}

/** Aligned columns without borders, headers bold on a terminal. */
export function table(head: readonly string[], rows: ReadonlyArray<ReadonlyArray<string | number>>): string {
  const t = new Table({
    head: head.map((h) => paint('bold', h)),
    chars: {
      top: '',
      'top-mid': '',
      'top-left': '',
      'top-right': '',
      bottom: '',
      'bottom-mid': '',
      'bottom-left': '',
      'bottom-right': '',
      left: '',
      'left-mid': '',
      mid: '',
      'mid-mid': '',
      right: '',
      'right-mid': '',
      middle: '  ',
    },
    style: { head: [], border: [], 'padding-left': 0, 'padding-right': 0, compact: true },
  });
  t.push(...rows.map((row) => row.map(String)));
  return t
    .toString()
    .split('\n')
    .map((line) => line.trimEnd())
    .join('\n');
}

/** Binary units, as `aws s3` prints them: 1.5 GiB. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}

/** `$0.15`, `$0.0031`, `$12.40`: enough digits to tell small costs apart. */
export function formatUsd(usd: number): string {
  if (usd === 0) return '$0';
  if (usd >= 1) return `$${usd.toFixed(2)}`;
  return `$${usd.toPrecision(2)}`;
}

/** `1h 25m`, `6m 15s`, `42s`. */
export { formatSeconds } from '../shared/cost/estimate.js';

const SIZE_UNITS: Record<string, number> = {
  b: 1,
  k: 1e3,
  kb: 1e3,
  m: 1e6,
  mb: 1e6,
  g: 1e9,
  gb: 1e9,
  t: 1e12,
  tb: 1e12,
  kib: 1024,
  mib: 1024 ** 2,
  gib: 1024 ** 3,
  tib: 1024 ** 4,
};

/** Parses `500GiB`, `1.5 TB`, `2048` (bytes). @throws CliError naming the accepted forms. */
export function parseSize(value: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(value);
  const factor = match ? SIZE_UNITS[(match[2] || 'b').toLowerCase()] : undefined;
  if (!match || factor === undefined) {
    throw new CliError(`must be a size like 500GiB, 1.5TB or 2048 (bytes), not ${JSON.stringify(value)}`);
  }
  return Math.round(Number(match[1]) * factor);
}
