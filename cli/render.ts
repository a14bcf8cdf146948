/**
 * How the CLI shows runs, progress, costs and plans to a person. Pure functions of the API's view
 * (shared/transfers/view.ts) and the planner's report, so the CLI and the API say the same thing;
 * `--json` prints those objects themselves.
 */

import type { RunCost } from '../shared/cost/actual.js';
import type { MethodReport, PlanReport } from '../shared/plan/planner.js';
import type { TransferProgress, TransferView } from '../shared/transfers/view.js';
import type { Verification } from '../shared/verify/content.js';
import { formatBytes, formatSeconds, formatUsd, paint, statusStyle, table } from './output.js';

const plural = (n: number, word: string) => `${n.toLocaleString('en-US')} ${word}${n === 1 ? '' : 's'}`;

/** `2026-11-30 10:00:01Z` (UTC, to the second). */
export function formatTime(iso: string | null | undefined): string {
  return iso ? iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z') : '-';
}

/**
 * One line of progress: files and bytes done of the totals, rate and time left, e.g.
 * `120 of 500 files, 1.2 GiB of 4.0 GiB (30%), 25.0 MiB/s, about 2m 10s left`.
 */
export function progressLine(progress: TransferProgress): string | undefined {
  if (progress.files === null && progress.bytes === null) return undefined;
  if (progress.source === 'sync' && !progress.files && !progress.bytes)
    return 'the sync has started; no file is done yet';
  const parts: string[] = [];
  const files = progress.files ?? 0;
  const approx = progress.totalsFinal ? '' : '~';
  parts.push(
    progress.totalFiles !== null && progress.source !== 'summary'
      ? `${files.toLocaleString('en-US')} of ${approx}${plural(progress.totalFiles, 'file')}`
      : plural(files, 'file'),
  );
  if (progress.bytes !== null) {
    const percent =
      progress.totalBytes && progress.source !== 'summary'
        ? ` (${Math.floor((100 * progress.bytes) / progress.totalBytes)}%)`
        : '';
    parts.push(
      progress.totalBytes !== null && progress.source !== 'summary'
        ? `${formatBytes(progress.bytes)} of ${approx}${formatBytes(progress.totalBytes)}${percent}`
        : formatBytes(progress.bytes),
    );
  } else if (progress.totalFiles && progress.source === 'data-repository-task') {
    parts[0] += ` (${Math.floor((100 * files) / progress.totalFiles)}%)`;
  }
  if (progress.failedFiles) parts.push(`${plural(progress.failedFiles, 'file')} failed`);
  if (progress.bytesPerSecond) parts.push(`${formatBytes(progress.bytesPerSecond)}/s`);
  else if (progress.filesPerSecond && progress.source === 'data-repository-task') {
    parts.push(`${progress.filesPerSecond.toFixed(1)} files/s`);
  }
  if (progress.etaSeconds !== null && progress.source !== 'summary' && progress.etaSeconds > 0) {
    parts.push(`about ${formatSeconds(progress.etaSeconds)} left`);
  }
  return parts.join(', ');
}

/** `$0.0021: c6i.large 1m 00s $0.0014, 14 transitions $0.00035, 10 Lambda invocations $0.000012, S3 requests $0.000004`. */
export function costLine(cost: RunCost): string {
  const parts = [
    ...cost.instances.map((i) => `${i.instanceType} ${formatSeconds(i.seconds)} ${formatUsd(i.usd)}`),
    `${plural(cost.transitions.count, 'transition')} ${formatUsd(cost.transitions.usd)}`,
    `${plural(cost.lambda.invocations, 'Lambda invocation')} ${formatUsd(cost.lambda.usd)}`,
    `${plural(cost.s3Requests.put + cost.s3Requests.get, 'S3 request')} ${formatUsd(cost.s3Requests.usd)}`,
  ];
  return `${formatUsd(cost.usd)}${cost.final ? '' : ' so far'} (${parts.join(', ')}; ${cost.prices.region} prices of ${cost.prices.asOf})`;
}

/** The status block of `status`, `watch` and `start --wait`. */
export function describeTransfer(view: TransferView): string {
  const status = paint(statusStyle(view.status), view.status);
  const lines = [`transfer ${view.id}: ${status}${view.statusReason ? ` (${view.statusReason})` : ''}`];
  const row = (label: string, value: string) => lines.push(`  ${label.padEnd(9)} ${value}`);
  row('mapping', `${view.mapping} ${view.direction}, started by ${view.trigger}`);
  const reasons = view.methodReasons ?? [];
  const chosen = reasons.find((r) => r.code.startsWith('METHOD_'));
  if (view.method) row('method', `${view.method}${chosen ? `: ${chosen.message}` : ''}`);
  for (const reason of reasons.filter((r) => !r.ok || !r.code.startsWith('METHOD_'))) {
    row('', `${reason.ok ? 'ok' : 'failed'} ${reason.code}: ${reason.message}`);
  }
  if (view.currentState) row('state', view.currentState);
  const timing = [
    `created ${formatTime(view.createdAt)}`,
    ...(view.endedAt ? [`ended ${formatTime(view.endedAt)}`] : []),
    ...(view.elapsedSeconds !== null
      ? [`${view.endedAt ? 'took' : 'running for'} ${formatSeconds(view.elapsedSeconds)}`]
      : []),
  ];
  row('time', timing.join(', '));
  const progress = progressLine(view.progress);
  if (progress) {
    const verified = view.summary?.verified === true ? ', verified on both sides' : '';
    row('progress', `${progress}${verified}`);
  }
  if (view.verification) row('verification', verificationLine(view.verification));
  if (view.error) row('error', `${view.error}: ${view.cause ?? ''}`);
  if (view.cost) row('cost', costLine(view.cost));
  return lines.join('\n');
}

/** What a run's verification covered, in one line. */
export function verificationLine(verification: Verification): string {
  const { mode, files, contentChecked, sizeOnly } = verification;
  if (mode === 'none') return 'none: not verified (verify: none)';
  if (mode === 'size')
    return `size: ${files} file(s) by name and size; content not checked (use --verify checksum)`;
  const by = Object.entries(verification.checkedBy ?? {})
    .map(([how, count]) => `${how} ${count}`)
    .join(', ');
  const note = verification.note ? `; ${verification.note}` : '';
  return `checksum: ${contentChecked} of ${files} file(s) checked by content${by ? ` (${by})` : ''}, ${sizeOnly} by size only${note}`;
}

/** The rows of `list`. */
export function listTable(views: readonly TransferView[]): string {
  return table(
    [
      'ID',
      'MAPPING',
      'DIRECTION',
      'TRIGGER',
      'STATUS',
      'METHOD',
      'FILES',
      'BYTES',
      'COST',
      'CREATED',
      'TOOK',
    ],
    views.map((v) => [
      v.id,
      v.mapping,
      v.direction,
      v.trigger,
      paint(statusStyle(v.status), v.status),
      v.method ?? '-',
      v.progress.files ?? '-',
      v.progress.bytes === null ? '-' : formatBytes(v.progress.bytes),
      v.cost ? formatUsd(v.cost.usd) : '-',
      formatTime(v.createdAt),
      v.endedAt && v.elapsedSeconds !== null ? formatSeconds(v.elapsedSeconds) : '-',
    ]),
  );
}

function estimateCells(name: string, report: MethodReport, chosen: boolean, scopeReason?: string): string[] {
  const label = `${name}${chosen ? ' (chosen)' : ''}`;
  if (report.seconds === null) {
    const why = report.reason === scopeReason ? 'the size of the scope is unknown (above)' : report.reason;
    return [label, '-', '-', report.possible ? `unknown: ${why}` : `not possible: ${why}`];
  }
  const limited = 'limitedBy' in report ? report.limitedBy : '';
  return [label, formatSeconds(report.seconds), formatUsd(report.usd), limited];
}

/** The human form of `plan`. */
export function describePlan(report: PlanReport): string {
  const out: string[] = [];
  const method = report.method
    ? paint('bold', report.method.toUpperCase())
    : paint('red', `not possible (method ${report.requestedMethod} was requested)`);
  out.push(`plan ${report.mapping} ${report.direction}: ${method}   (nothing was started or changed)`);
  const resolution = report.methodReasons[0];
  if (resolution) out.push(`  ${resolution.message}`);
  const fs = report.fileSystem;
  out.push('');
  out.push(`  S3           ${report.scope.s3Uri}`);
  out.push(`  FSx          ${fs.id}:${report.scope.fsxPath}`);
  out.push(
    `  file system  ${fs.deploymentType}, Lustre ${fs.lustreVersion}, ${fs.storageCapacityGiB.toLocaleString('en-US')} GiB x ${fs.perUnitStorageThroughput ?? 'baseline'} MB/s/TiB = ${Math.round(fs.throughputMBps).toLocaleString('en-US')} MB/s`,
  );
  const scope = report.scope;
  if (scope.files !== null && scope.bytes !== null) {
    const largest = scope.largestFile
      ? `, largest ${formatBytes(scope.largestFile.bytes)} (${scope.largestFile.path})`
      : '';
    const from = scope.source === 's3-listing' ? 'listed in S3' : 'as given';
    out.push(
      `  scope        ${plural(scope.files, 'file')}, ${formatBytes(scope.bytes)}${largest} (${from})`,
    );
  } else out.push(`  scope        unknown: ${scope.reason}`);
  out.push('', '  DRA prerequisites');
  const mark = (status: string) =>
    status === 'pass'
      ? paint('green', 'pass')
      : status === 'fail'
        ? paint('red', 'FAIL')
        : paint('dim', 'skip');
  out.push(
    indent(
      table(
        ['', 'CHECK', 'RESULT'],
        report.checks.map((c) => [
          mark(c.status),
          c.code,
          c.status === 'fail' && c.fix ? `${c.message}; fix: ${c.fix}` : c.message,
        ]),
      ),
      4,
    ),
  );
  out.push('', `  Estimates (instance type ${report.instanceType})`);
  out.push(
    indent(
      table(
        ['METHOD', 'DURATION', 'COST', 'LIMITED BY'],
        [
          estimateCells('dra', report.estimates.dra, report.method === 'dra', report.scope.reason),
          estimateCells('ec2', report.estimates.ec2, report.method === 'ec2', report.scope.reason),
        ],
      ),
      4,
    ),
  );
  for (const [name, estimate] of Object.entries(report.estimates)) {
    if ('notes' in estimate) for (const note of estimate.notes) out.push(`    ${name}: ${note}`);
  }
  if (report.scaleOut?.worthwhile) {
    out.push(
      `    faster: ${report.scaleOut.instances} x ${report.instanceType} in parallel, or one ${report.scaleOut.instanceType} (defaults.instanceType); ${report.scaleOut.reason}`,
    );
  }
  const timeouts = report.plan?.timeouts;
  if (timeouts?.runMinutes) {
    // The run's deadline counts from its turn at the gate (docs/planning.md, "The run's deadline").
    out.push(
      '',
      `  deadline: ${formatSeconds(timeouts.runMinutes * 60)} after the run gets its turn, from ${timeouts.runReason ?? 'the config'}`,
    );
  }
  out.push(
    '',
    `  prices: ${report.prices.region} list prices of ${report.prices.asOf} (config pricing overrides them; docs/planning.md)`,
  );
  return out.join('\n');
}

function indent(text: string, spaces: number): string {
  const pad = ' '.repeat(spaces);
  return text
    .split('\n')
    .map((line) => (line ? pad + line : line))
    .join('\n');
}
