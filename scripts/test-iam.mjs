#!/usr/bin/env node
/**
 * Runs a test command with IAM coverage (`npm test`: `vitest run`; `npm run test:iam`:
 * `vitest run test/e2e`). Every local cloud the tests start enforces IAM and writes its report
 * (each role statement and the calls it allowed, each denial) into a fresh directory
 * (`$FSX_TRANSFER_IAM_REPORT_DIR`); then the reports are added up and the last line says
 *
 *   iam: R roles, S statements, U used, unused N, denied D
 *
 * Exits non-zero when the tests fail, when a statement allowed no call and docs/security.md does
 * not explain why it cannot be exercised locally, when a request was denied, or when
 * docs/security.md explains a statement that no longer exists.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tsImport } from 'tsx/esm/api';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const [command, ...args] = process.argv.slice(2);
if (!command) {
  console.error('usage: node scripts/test-iam.mjs <test command> [args...]');
  process.exit(2);
}
const coverage = await tsImport('../local/iam/coverage.ts', import.meta.url);
const dir = mkdtempSync(join(tmpdir(), 'fsx-transfer-iam-'));
const run = spawnSync(command, args, {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, [coverage.IAM_REPORT_DIR_VARIABLE]: dir },
});

const reports = coverage.readIamReports(dir);
rmSync(dir, { recursive: true, force: true });
const exemptions = coverage.readExemptions(readFileSync(join(root, 'docs', 'security.md'), 'utf8'));
const summary = coverage.summarizeIamReports(reports, exemptions);

for (const statement of summary.unused) {
  console.log(`iam: unused ${statement.id} (${statement.origin}): ${statement.actions.join(', ')}`);
}
for (const denial of summary.denials.slice(0, 20)) {
  console.log(
    `iam: denied ${denial.request} for ${denial.principal}: ${denial.action} on ${denial.resource}: ${denial.hint}`,
  );
}
for (const stale of summary.staleExemptions) {
  console.log(`iam: docs/security.md explains ${stale.role} ${stale.actions.join(', ')}, which no role has`);
}
if (reports.length === 0) console.log('iam: no local cloud wrote a report');
console.log(coverage.coverageLine(summary));

const iamFailed =
  reports.length === 0 ||
  summary.unused.length > 0 ||
  summary.denied > 0 ||
  summary.staleExemptions.length > 0;
process.exit(run.status !== 0 ? (run.status ?? 1) : iamFailed ? 1 : 0);
