/**
 * The SSM Command document is the one place where request values meet a shell. These tests pin
 * its parameter patterns to the path rules of shared/paths.ts and check, property by property,
 * that no value carrying shell syntax or leaving the scope can pass.
 */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import {
  fsxPathProblem,
  keyPrefixProblem,
  normalizeFsxPath,
  SAFE_FILTER_PATTERN,
} from '../../../shared/paths.js';
import {
  buildCommandParameters,
  DOCUMENT_PATTERNS,
  DOCUMENT_VALUES,
  documentParameterProblems,
  javaSafeClasses,
  listingUriFor,
} from '../../../shared/ssm/document.js';
import { buildPlan } from '../ec2/builders.js';

interface DocumentParameter {
  type: string;
  allowedPattern?: string;
  allowedValues?: string[];
  default?: string;
}
const DOCUMENT = parse(
  readFileSync(new URL('../../../ssm/transfer-document.yaml', import.meta.url), 'utf8'),
) as {
  schemaVersion: string;
  parameters: Record<string, DocumentParameter>;
  mainSteps: { name: string; action: string; inputs: { runCommand: string[]; timeoutSeconds: string } }[];
};
const SCRIPT = DOCUMENT.mainSteps[0]?.inputs.runCommand.join('\n') ?? '';
const RUNS = { numRuns: 400 };
const test = (name: keyof typeof DOCUMENT_PATTERNS, value: string) =>
  new RegExp(DOCUMENT_PATTERNS[name]).test(value);

const segment = fc.stringMatching(/^[A-Za-z0-9._+=@,:~-]{1,10}$/).filter((s) => s !== '.' && s !== '..');
const UNSAFE = [...';$`\'"|&<>\\\n\r\t ()#{}', '$(id)', '`id`', '..', '\u0000'];

describe('transfer document', () => {
  it('is a schema 2.2 Command document with a transfer and a checksums aws:runShellScript step', () => {
    expect(DOCUMENT.schemaVersion).toBe('2.2');
    expect(DOCUMENT.mainSteps.map((step) => [step.name, step.action])).toEqual([
      ['transfer', 'aws:runShellScript'],
      ['checksums', 'aws:runShellScript'],
    ]);
    for (const step of DOCUMENT.mainSteps) expect(step.inputs.timeoutSeconds).toBe('{{ ExecutionTimeout }}');
  });

  it('reads the parameters of its checksums step once each, inside single quotes', () => {
    const script = String(DOCUMENT.mainSteps[1]?.inputs.runCommand[0]);
    const names = [
      'MountPoint',
      'FsxPath',
      'Include',
      'Exclude',
      'ChecksumsUri',
      'Region',
      'ShardStart',
      'ShardEnd',
    ];

    for (const name of names)
      expect(script, name).toMatch(new RegExp(`^ *[A-Z_]+='\\{\\{ ${name} \\}\\}'$`, 'm'));
    expect(script.match(/\{\{/g)).toHaveLength(names.length);
  });

  it('carries exactly the patterns and allowed values of shared/ssm/document.ts', () => {
    const patterns = Object.fromEntries(
      Object.entries(DOCUMENT.parameters)
        .filter(([, p]) => p.allowedPattern !== undefined)
        .map(([name, p]) => [name, p.allowedPattern]),
    );
    const values = Object.fromEntries(
      Object.entries(DOCUMENT.parameters)
        .filter(([, p]) => p.allowedValues !== undefined)
        .map(([name, p]) => [name, p.allowedValues]),
    );

    expect(patterns).toEqual(DOCUMENT_PATTERNS);
    expect(values).toEqual(DOCUMENT_VALUES);
  });

  it('validates every parameter, and every default passes its own rule', () => {
    for (const [name, parameter] of Object.entries(DOCUMENT.parameters)) {
      expect(parameter.type, name).toBe('String');
      expect(parameter.allowedPattern ?? parameter.allowedValues, name).toBeDefined();
      if (parameter.default === undefined) continue;
      if (parameter.allowedPattern)
        expect(new RegExp(parameter.allowedPattern).test(parameter.default), name).toBe(true);
      else expect(parameter.allowedValues, name).toContain(parameter.default);
    }
  });

  it('reads each parameter exactly once, inside single quotes, and nowhere else', () => {
    // ExecutionTimeout is read by SSM itself (the step's timeoutSeconds), not by the script.
    const scriptParameters = Object.keys(DOCUMENT.parameters).filter((name) => name !== 'ExecutionTimeout');
    for (const name of scriptParameters) {
      const uses = SCRIPT.split(`{{ ${name} }}`).length - 1;
      expect(uses, name).toBe(1);
      expect(SCRIPT, name).toMatch(new RegExp(`^[A-Z_]+='\\{\\{ ${name} \\}\\}'$`, 'm'));
    }
    expect(SCRIPT.match(/\{\{/g)).toHaveLength(scriptParameters.length);
  });

  it('mounts Lustre as AWS documents it, copies with aws s3 sync, deletes only on opt-in', () => {
    expect(SCRIPT).toContain('mount -t lustre -o relatime,flock "$FS_DNS@tcp:/$MOUNT_NAME" "$MOUNT_POINT"');
    expect(SCRIPT).toContain('aws s3 sync "$S3_URL" "$LOCAL_DIR" "$@"');
    expect(SCRIPT).toContain('aws s3 sync "$LOCAL_DIR" "$S3_URL" "$@"');
    // aws s3 sync's progress records feed the published progress (progress-script.test.ts).
    expect(SCRIPT).toContain('aws s3 sync "$S3_URL" "$LOCAL_DIR" "$@" | follow_sync');
    expect(SCRIPT).toContain('if [ "$DELETE" = true ]; then set -- "$@" --delete; fi');
  });

  it('has no dollar-brace expression anywhere (Serverless would resolve it as a variable when packaging)', () => {
    expect(
      readFileSync(new URL('../../../ssm/transfer-document.yaml', import.meta.url), 'utf8'),
    ).not.toContain('${');
  });

  it('uses no unescaped [ inside a character class (SSM checks patterns with Java regex)', () => {
    for (const pattern of Object.values(DOCUMENT_PATTERNS)) expect(javaSafeClasses(pattern)).toBe(pattern);
  });
});

describe('parameter patterns against the path rules', () => {
  it('accept every normalised file system path the path rules accept', () => {
    const path = fc.array(segment, { maxLength: 6 }).map((parts) => `/${parts.join('/')}`);
    fc.assert(
      fc.property(path, (p) => {
        expect(fsxPathProblem(p)).toBeUndefined();
        expect(test('FsxPath', normalizeFsxPath(p))).toBe(true);
      }),
      RUNS,
    );
  });

  it('accept every key prefix the path rules accept', () => {
    const prefix = fc.array(segment, { maxLength: 6 }).map((parts) => parts.join('/'));
    fc.assert(
      fc.property(prefix, (p) => {
        expect(keyPrefixProblem(p)).toBeUndefined();
        expect(test('S3Prefix', p)).toBe(true);
      }),
      RUNS,
    );
  });

  it('accept every filter the filter rule accepts, alone or space-separated', () => {
    const filter = fc.stringMatching(SAFE_FILTER_PATTERN).filter((f) => f.length > 0);
    fc.assert(
      fc.property(fc.array(filter, { maxLength: 4 }), (filters) => {
        expect(test('Include', filters.join(' '))).toBe(true);
        expect(test('Exclude', filters.join(' '))).toBe(true);
      }),
      RUNS,
    );
  });

  it('refuse any path, prefix, bucket or filter carrying shell syntax or a .. segment', () => {
    const hostile = fc
      .tuple(
        fc.array(segment, { maxLength: 3 }),
        fc.constantFrom(...UNSAFE),
        fc.array(segment, { maxLength: 3 }),
      )
      .map(([before, bad, after]) => [...before, bad, ...after].join('/'));
    fc.assert(
      fc.property(hostile, (value) => {
        for (const name of ['MountPoint', 'FsxPath', 'S3Prefix', 'ListingUri', 'S3Bucket'] as const) {
          const candidate =
            name === 'ListingUri' ? `s3://bucket/${value}` : name === 'S3Prefix' ? value : `/${value}`;
          expect(test(name, candidate), `${name}=${JSON.stringify(candidate)}`).toBe(false);
        }
        if (/[^A-Za-z0-9._/+=@,:~*?[\]! -]/.test(value)) expect(test('Include', value)).toBe(false);
      }),
      RUNS,
    );
  });

  it('refuse the mount point /, relative paths and . segments', () => {
    expect(test('MountPoint', '/')).toBe(false);
    expect(test('FsxPath', 'ExtData')).toBe(false);
    expect(test('FsxPath', '/ExtData/./x')).toBe(false);
    expect(test('S3Prefix', '/ExtData')).toBe(false);
    expect(test('S3Prefix', 'ExtData/')).toBe(false);
    expect(test('FsxPath', '/')).toBe(true);
    expect(test('FsxPath', '/.hidden/..data/...')).toBe(true);
  });
});

describe('buildCommandParameters', () => {
  it('builds parameters the document accepts from a plan, including the listing location', () => {
    const plan = buildPlan({
      options: { include: ['*.nc', 'data/[ab]*'], exclude: ['tmp/*'], delete: true },
    });

    const parameters = buildCommandParameters(plan, {
      mode: 'sync',
      listingUri: listingUriFor(plan, 'i-0123456789abcdef0'),
      executionTimeoutSeconds: 7200.7,
    });

    expect(documentParameterProblems(parameters)).toEqual([]);
    expect(parameters).toMatchObject({
      Include: '*.nc data/[ab]*',
      Exclude: 'tmp/*',
      Delete: 'true',
      ExecutionTimeout: '7200',
      ListingUri:
        's3://dzhang-imi-gchp-test/.fsx-transfer/listings/extdata-stage-in-1/i-0123456789abcdef0.list',
    });
  });

  it('caps the execution timeout at what aws:runShellScript accepts', () => {
    const parameters = buildCommandParameters(buildPlan(), {
      mode: 'list',
      listingUri: '',
      executionTimeoutSeconds: 1e9,
    });

    expect(parameters.ExecutionTimeout).toBe('172800');
  });

  it('names unknown and missing parameters', () => {
    const { Region: _region, ...rest } = buildCommandParameters(buildPlan(), {
      mode: 'sync',
      listingUri: '',
      executionTimeoutSeconds: 60,
    });

    expect(documentParameterProblems({ ...rest, Extra: 'x' })).toEqual([
      'Region: missing',
      'Extra: not a document parameter',
    ]);
  });
});
