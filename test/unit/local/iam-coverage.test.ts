/** IAM coverage across local clouds (local/iam/coverage.ts) and the exemptions docs/security.md lists. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { coverageLine, readExemptions, summarizeIamReports } from '../../../local/iam/coverage.js';
import type { IamReport } from '../../../local/iam/service.js';

const ROOT = join(import.meta.dirname, '..', '..', '..');

function report(allowed: Record<string, number>, denials = 0): IamReport {
  const statement = (id: string, actions: string[]) => ({
    id,
    origin: `origin of ${id}`,
    actions,
    resources: ['*'],
    allowed: allowed[id] ?? 0,
  });
  return {
    roles: [
      {
        logicalId: 'ARole',
        name: 'a',
        usedBy: 'function:a',
        statements: [
          statement('ARole#0', ['s3:GetObject']),
          statement('ARole#1', ['logs:CreateLogDelivery']),
        ],
      },
      {
        logicalId: 'BRole',
        name: 'b',
        usedBy: 'ec2',
        statements: [statement('BRole#0', ['ec2messages:GetMessages'])],
      },
    ],
    denials: Array.from({ length: denials }, () => ({
      at: '',
      principal: 'p',
      role: 'ARole',
      request: 's3:GetObject',
      action: 's3:GetObject',
      resource: 'r',
      decision: 'implicit-deny' as const,
      message: 'm',
      hint: 'h',
      enforced: true,
    })),
  };
}

describe('IAM coverage', () => {
  it('counts a statement as used when it allowed a call in any cloud, and adds up the denials', () => {
    const summary = summarizeIamReports([report({ 'ARole#0': 2 }), report({ 'BRole#0': 1 }, 1)], []);

    expect(coverageLine(summary)).toBe('iam: 2 roles, 3 statements, 2 used, unused 1, denied 1');
    expect(summary.unused.map((s) => s.id)).toEqual(['ARole#1']);
  });

  it('does not count a statement docs/security.md explains as unused, and reports explanations of nothing', () => {
    const exemptions = [
      { role: 'ARole', actions: ['logs:CreateLogDelivery'], reason: 'AWS-side' },
      { role: 'ARole', actions: ['s3:DeleteObject'], reason: 'gone' },
    ];

    const summary = summarizeIamReports([report({ 'ARole#0': 1, 'BRole#0': 1 })], exemptions);

    expect(coverageLine(summary)).toBe('iam: 2 roles, 3 statements, 2 used, unused 0, denied 0');
    expect(summary.exempt).toEqual(['ARole#1']);
    expect(summary.staleExemptions).toEqual([exemptions[1]]);
  });

  it("reads docs/security.md's table of statements the local cloud cannot exercise", () => {
    const exemptions = readExemptions(readFileSync(join(ROOT, 'docs', 'security.md'), 'utf8'));

    expect(exemptions.length).toBeGreaterThan(0);
    for (const exemption of exemptions) {
      expect(exemption.role).toMatch(/^[A-Za-z0-9]+$/);
      expect(exemption.actions.length).toBeGreaterThan(0);
      expect(exemption.reason.length).toBeGreaterThan(40);
    }
  });
});
