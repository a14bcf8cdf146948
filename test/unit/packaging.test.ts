/**
 * `npm run package` builds a deployable template offline. The package runs in a private copy of
 * the project (node_modules linked), so it never races with another `npm run package` or with
 * tests that read the working tree, and it leaves the developer's .serverless/ alone.
 */
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';
import aslValidator from 'asl-validator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lambdaLogicalId, readStateMachines } from '../../scripts/sls/asl.js';

const ROOT = join(import.meta.dirname, '..', '..');
/** Not copied: dependencies (linked instead), VCS data and build or run outputs. */
const SKIP = new Set([
  'node_modules',
  '.git',
  '.serverless',
  '.esbuild',
  '.local-cloud',
  'coverage',
  'dist',
  '.tmp',
]);

interface Resource {
  Type: string;
  Properties: Record<string, any>;
}

let workDir: string;
let resources: Record<string, Resource>;
let packageLog = '';

beforeAll(async () => {
  workDir = mkdtempSync(join(tmpdir(), 'fsx-transfer-package-'));
  cpSync(ROOT, workDir, {
    recursive: true,
    filter: (source) => !SKIP.has(relative(ROOT, source).split(/[\\/]/)[0]!),
  });
  symlinkSync(join(ROOT, 'node_modules'), join(workDir, 'node_modules'), 'dir');
  const env = { ...process.env };
  delete env.FSX_TRANSFER_CONFIG;
  const { stdout, stderr } = await promisify(execFile)('npm', ['run', 'package'], {
    cwd: workDir,
    env,
    maxBuffer: 16 * 1024 * 1024,
  });
  packageLog = stdout + stderr;
  const template = JSON.parse(
    readFileSync(join(workDir, '.serverless', 'cloudformation-template-update-stack.json'), 'utf8'),
  );
  resources = template.Resources;
}, 240_000);

afterAll(() => {
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

const functionFolders = readdirSync(join(ROOT, 'functions'), { withFileTypes: true })
  .filter((entry) => entry.isDirectory() && existsSync(join(ROOT, 'functions', entry.name, 'handler.ts')))
  .map((entry) => entry.name);
const stateMachines = readStateMachines(join(ROOT, 'statemachines'));

function ofType(type: string): Array<[string, Resource]> {
  return Object.entries(resources).filter(([, resource]) => resource.Type === type);
}

/** Every IAM statement of a role's inline policies. */
function statementsOf(role: Resource): Array<{ Action: string | string[]; Resource: unknown }> {
  return (role.Properties.Policies ?? []).flatMap(
    (policy: { PolicyDocument: { Statement: unknown[] } }) => policy.PolicyDocument.Statement,
  );
}

describe('npm run package', () => {
  it('reports the functions and state machines it packaged', () => {
    expect(packageLog).toContain('Template: .serverless/cloudformation-template-update-stack.json');
  });

  it.each(functionFolders)('packages functions/%s as a nodejs22.x Lambda bundled with the config', (key) => {
    const fn = resources[lambdaLogicalId(key)];

    expect(fn?.Type).toBe('AWS::Lambda::Function');
    expect(fn!.Properties.Runtime).toBe('nodejs22.x');
    expect(fn!.Properties.FunctionName).toBe(`fsx-transfer-dev-${key}`);
    const configFile = fn!.Properties.Environment.Variables.FSX_TRANSFER_CONFIG;
    const zip = readFileSync(join(workDir, '.serverless', `${key}.zip`));
    expect(zip.includes(Buffer.from(configFile))).toBe(true);
    expect(zip.includes(Buffer.from(`functions/${key}/handler.mjs`))).toBe(true);
  });

  it.each(functionFolders)('gives functions/%s its own role without wildcard actions', (key) => {
    const fn = resources[lambdaLogicalId(key)]!;
    const roleId = fn.Properties.Role['Fn::GetAtt'][0] as string;
    const role = resources[roleId]!;

    expect(roleId).not.toBe('IamRoleLambdaExecution');
    expect(role.Type).toBe('AWS::IAM::Role');
    const actions = statementsOf(role).flatMap((s) => [s.Action].flat());
    expect(actions.filter((action) => action.includes('*'))).toEqual([]);
  });

  it('writes every IAM Resource as a string or a list of strings and intrinsics (no nested lists)', () => {
    const roles = ofType('AWS::IAM::Role');
    const nested = roles.flatMap(([roleId, role]) =>
      statementsOf(role)
        .filter((s) => Array.isArray(s.Resource) && s.Resource.some((r) => Array.isArray(r)))
        .map((s) => `${roleId}: ${[s.Action].flat().join(',')}`),
    );

    expect(nested).toEqual([]);
  });

  it('creates no shared Lambda role', () => {
    expect(resources.IamRoleLambdaExecution).toBeUndefined();
  });

  it.each(Object.keys(stateMachines))(
    'packages statemachines/%s.asl.json with a definition that passes asl-validator',
    (name) => {
      const [, machine] = ofType('AWS::StepFunctions::StateMachine').find(
        ([, resource]) => resource.Properties.StateMachineName === `fsx-transfer-dev-${name}`,
      )!;
      const definitionString = machine.Properties.DefinitionString;
      const [text, params] = (
        typeof definitionString === 'string' ? [definitionString, {}] : [definitionString['Fn::Sub']].flat()
      ) as [string, Record<string, unknown>];
      const definition = JSON.parse(
        text.replace(/\$\{([A-Za-z0-9:]+)\}/g, (_, param: string) =>
          param in (params ?? {})
            ? `arn:aws:lambda:us-east-1:000000000000:function:${param}`
            : `dummy-${param}`,
        ),
      );

      const result = aslValidator(definition);

      expect(result.errors).toEqual([]);
      expect(definition.QueryLanguage).toBe('JSONPath');
      expect(Object.keys(definition.States).sort()).toEqual(
        Object.keys(stateMachines[name]!.States as object).sort(),
      );
    },
  );

  it('gives every state machine a role with explicit statements and no wildcard actions', () => {
    const machines = ofType('AWS::StepFunctions::StateMachine');

    expect(machines.length).toBe(Object.keys(stateMachines).length);
    for (const [, machine] of machines) {
      const role = resources[machine.Properties.RoleArn['Fn::GetAtt'][0]]!;
      const statements = statementsOf(role);
      expect(statements.length).toBeGreaterThan(0);
      expect(statements.flatMap((s) => [s.Action].flat()).filter((a) => a.includes('*'))).toEqual([]);
    }
  });
});
