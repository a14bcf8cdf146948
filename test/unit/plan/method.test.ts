/** chooseMethod is a pure function of the gathered facts: tested with plain data, no AWS mocks. */
import { describe, expect, it } from 'vitest';
import type { DraFacts } from '../../../shared/dra/prerequisites.js';
import { DraPrerequisiteError } from '../../../shared/errors.js';
import { chooseMethod } from '../../../shared/plan/method.js';

/** Facts under which every DRA prerequisite holds: Lustre 2.15, same account and region, no associations. */
function healthy(overrides: Partial<DraFacts> = {}): DraFacts {
  return {
    fileSystem: {
      id: 'fs-0123456789abcdef0',
      type: 'LUSTRE',
      lifecycle: 'AVAILABLE',
      lustreVersion: '2.15',
      deploymentType: 'PERSISTENT_2',
      region: 'us-east-1',
      ownerId: '111122223333',
    },
    target: { fileSystemPath: '/ExtData', s3: { bucket: 'dzhang-imi-gchp-test', prefix: 'ExtData' } },
    callerAccount: '111122223333',
    bucket: { region: 'us-east-1', sameOwner: true },
    associations: [],
    roleAccess: { checked: true, denied: [], conditional: [], principals: [] },
    request: { direction: 'stage-in', delete: false, include: [], exclude: [], preload: false },
    ...overrides,
  };
}
const onLustre210 = () => healthy({ fileSystem: { ...healthy().fileSystem, lustreVersion: '2.10' } });

describe('chooseMethod', () => {
  it('takes ec2 as asked, without judging DRA prerequisites', () => {
    const choice = chooseMethod({ mapping: 'extdata', requested: 'ec2' });

    expect(choice.method).toBe('ec2');
    expect(choice.reasons).toEqual([expect.objectContaining({ code: 'METHOD_EC2', ok: true })]);
  });

  it('resolves auto to dra when every prerequisite holds', () => {
    const choice = chooseMethod({ mapping: 'extdata', requested: 'auto', dra: healthy() });

    expect(choice.method).toBe('dra');
    expect(choice.reasons).toEqual([
      expect.objectContaining({
        code: 'METHOD_AUTO',
        ok: true,
        seen: { requested: 'auto', resolved: 'dra' },
      }),
    ]);
  });

  it('resolves auto to ec2 when a prerequisite fails, naming it after the resolution', () => {
    const choice = chooseMethod({ mapping: 'extdata', requested: 'auto', dra: onLustre210() });

    expect(choice.method).toBe('ec2');
    expect(choice.reasons.map((r) => [r.code, r.ok])).toEqual([
      ['METHOD_AUTO', true],
      ['LUSTRE_VERSION', false],
    ]);
    expect(choice.reasons[0]!.message).toContain('LUSTRE_VERSION');
  });

  it('keeps dra when asked and every prerequisite holds', () => {
    const choice = chooseMethod({ mapping: 'extdata', requested: 'dra', dra: healthy() });

    expect(choice).toMatchObject({ method: 'dra', reasons: [{ code: 'METHOD_DRA', ok: true }] });
  });

  it('refuses dra when asked but prerequisites fail, listing every failed one', () => {
    const facts = healthy({
      fileSystem: { ...onLustre210().fileSystem, deploymentType: 'SCRATCH_1' },
      request: { direction: 'export', delete: true, include: [], exclude: [], preload: false },
    });

    let error: unknown;
    try {
      chooseMethod({ mapping: 'extdata', requested: 'dra', dra: facts });
    } catch (thrown) {
      error = thrown;
    }

    expect(error).toBeInstanceOf(DraPrerequisiteError);
    expect((error as Error).message).toMatch(/mapping extdata.*3 DRA prerequisite\(s\) failed/);
    const reasons = (error as DraPrerequisiteError).details.reasons as { code: string }[];
    expect(reasons.map((r) => r.code)).toEqual(['LUSTRE_VERSION', 'DEPLOYMENT_TYPE', 'EXPORT_DELETE']);
  });
});
