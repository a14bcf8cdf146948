/**
 * IAM coverage across test files: each local cloud writes its report (every role statement and
 * how many checks it allowed, every denial) into `$FSX_TRANSFER_IAM_REPORT_DIR` when it stops;
 * `summarizeIamReports` adds them up. A statement counts as used when it allowed at least one call
 * in any cloud; statements listed in docs/security.md ("Statements the local cloud cannot
 * exercise") with the AWS-side reason are not counted as unused.
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { IamReport } from './service.js';

export const IAM_REPORT_DIR_VARIABLE = 'FSX_TRANSFER_IAM_REPORT_DIR';

/** Writes a cloud's report into the report directory (no-op without one). */
export function writeIamReport(report: IamReport, dir = process.env[IAM_REPORT_DIR_VARIABLE]): void {
  if (!dir) return;
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `${process.pid}-${randomUUID()}.json`), JSON.stringify(report));
}

/** A statement docs/security.md explains instead of a test: its role and its actions. */
export interface Exemption {
  role: string;
  actions: string[];
  reason: string;
}

/**
 * The exemptions table of docs/security.md: rows `| \`<RoleLogicalId>\` | \`action\`, ... | reason |`
 * under the heading "Statements the local cloud cannot exercise".
 */
export function readExemptions(markdown: string): Exemption[] {
  const section =
    markdown.split(/^## Statements the local cloud cannot exercise\s*$/m)[1]?.split(/^## /m)[0] ?? '';
  const rows: Exemption[] = [];
  for (const line of section.split('\n')) {
    const cells = line.split('|').map((cell) => cell.trim());
    const role = /^`([A-Za-z0-9]+)`$/.exec(cells[1] ?? '')?.[1];
    if (!role) continue;
    const actions = [...(cells[2] ?? '').matchAll(/`([a-z0-9-]+:[A-Za-z0-9*]+)`/g)].map((m) => m[1]!);
    rows.push({ role, actions, reason: cells[3] ?? '' });
  }
  return rows;
}

export interface CoverageSummary {
  roles: number;
  statements: number;
  used: number;
  /** Statements no test exercised and docs/security.md does not explain. */
  unused: { id: string; origin: string; actions: string[] }[];
  /** Statements docs/security.md explains (not counted as unused). */
  exempt: string[];
  denied: number;
  denials: IamReport['denials'];
  /** Exemptions that match no statement (stale rows in docs/security.md). */
  staleExemptions: Exemption[];
}

const sameActions = (a: string[], b: string[]) =>
  a.length === b.length && [...a].sort().every((action, i) => action === [...b].sort()[i]);

/** Adds up the reports of every cloud. */
export function summarizeIamReports(reports: IamReport[], exemptions: Exemption[]): CoverageSummary {
  const statements = new Map<string, { role: string; origin: string; actions: string[]; allowed: number }>();
  const roles = new Set<string>();
  for (const report of reports) {
    for (const role of report.roles) {
      roles.add(role.logicalId);
      for (const statement of role.statements) {
        const known = statements.get(statement.id);
        statements.set(statement.id, {
          role: role.logicalId,
          origin: statement.origin,
          actions: statement.actions,
          allowed: (known?.allowed ?? 0) + statement.allowed,
        });
      }
    }
  }
  const exempted = (role: string, actions: string[]) =>
    exemptions.some((e) => e.role === role && sameActions(e.actions, actions));
  const unused: CoverageSummary['unused'] = [];
  const exempt: string[] = [];
  let used = 0;
  for (const [id, statement] of statements) {
    if (statement.allowed > 0) used++;
    else if (exempted(statement.role, statement.actions)) exempt.push(id);
    else unused.push({ id, origin: statement.origin, actions: statement.actions });
  }
  const denials = reports.flatMap((report) => report.denials);
  return {
    roles: roles.size,
    statements: statements.size,
    used,
    unused,
    exempt,
    denied: denials.length,
    denials,
    staleExemptions: exemptions.filter(
      (e) => ![...statements.values()].some((s) => s.role === e.role && sameActions(s.actions, e.actions)),
    ),
  };
}

/** Every report written into `dir`. */
export function readIamReports(dir: string): IamReport[] {
  return readdirSync(dir)
    .filter((file) => file.endsWith('.json'))
    .map((file) => JSON.parse(readFileSync(join(dir, file), 'utf8')) as IamReport);
}

/** The closing line: `iam: R roles, S statements, U used, unused N, denied D`. */
export function coverageLine(summary: CoverageSummary): string {
  return `iam: ${summary.roles} roles, ${summary.statements} statements, ${summary.used} used, unused ${summary.unused.length}, denied ${summary.denied}`;
}
