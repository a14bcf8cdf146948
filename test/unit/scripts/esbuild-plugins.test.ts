/**
 * The bundle plugins (scripts/sls/esbuild-plugins.cjs). The schema rewrite must not change a single
 * value of any SDK client this project bundles: each client's schemas are bundled with and without
 * the plugin, both bundles are imported, and every export is compared as a graph (thunks called).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build, type Plugin } from 'esbuild';
import { afterAll, describe, expect, it } from 'vitest';

const require = createRequire(import.meta.url);
const plugins = require('../../../scripts/sls/esbuild-plugins.cjs') as ((serverless: unknown) => Plugin[]) & {
  inlineSchemaKeys(source: string): string;
};
const { inlineSchemaKeys } = plugins;
const [schemaPlugin, libDynamoDbPlugin] = plugins({ config: { servicePath: tmpdir() } });

const CLIENTS = ['ec2', 's3', 'ssm', 'fsx', 'sfn', 'sts', 'dynamodb', 'eventbridge', 'sqs'];
const workDir = mkdtempSync(join(tmpdir(), 'fsx-transfer-esbuild-plugins-'));

afterAll(() => rmSync(workDir, { recursive: true, force: true }));

/** Bundles every export of a client's schemas file, imports it and returns the module. */
async function schemasOf(client: string, withPlugin: boolean): Promise<Record<string, unknown>> {
  const schemas = require
    .resolve(`@aws-sdk/client-${client}`)
    .replace(/dist-cjs[\\/].*$/, 'dist-es/schemas/schemas_0.js');
  const outfile = join(workDir, `${client}-${withPlugin}.mjs`);
  await build({
    stdin: { contents: `export * from ${JSON.stringify(schemas)};`, resolveDir: workDir },
    bundle: true,
    format: 'esm',
    platform: 'node',
    mainFields: ['module', 'main'],
    outfile,
    plugins: withPlugin ? [schemaPlugin!] : [],
    logLevel: 'error',
  });
  return import(pathToFileURL(outfile).href);
}

/** Where two schema graphs differ (thunks called, cycles followed once), or undefined. */
function difference(
  a: unknown,
  b: unknown,
  path: string,
  seen = new Map<unknown, unknown>(),
): string | undefined {
  if (typeof a === 'function' && typeof b === 'function') {
    // Schema thunks (`() => Shape$`) take no argument; classes and other functions are compared by name.
    return a.length === 0 && !/^class\b/.test(a.toString())
      ? difference(a(), b(), `${path}()`, seen)
      : a.name === b.name
        ? undefined
        : `${path}: ${a.name} != ${b.name}`;
  }
  if (typeof a !== 'object' || a === null || typeof b !== 'object' || b === null) {
    return Object.is(a, b) ? undefined : `${path}: ${String(a)} != ${String(b)}`;
  }
  if (seen.has(a)) return seen.get(a) === b ? undefined : `${path}: a different object`;
  seen.set(a, b);
  const keysA = Object.keys(a);
  const keysB = Object.keys(b);
  if (keysA.join() !== keysB.join()) return `${path}: keys ${keysA.join()} != ${keysB.join()}`;
  for (const key of keysA) {
    const found = difference(
      (a as Record<string, unknown>)[key],
      (b as Record<string, unknown>)[key],
      `${path}.${key}`,
      seen,
    );
    if (found) return found;
  }
  return undefined;
}

describe('tree-shakeable SDK schemas', () => {
  it('writes a computed key naming a string constant as that string, and leaves other keys alone', () => {
    const source = [
      'const _xN = "xmlName";',
      'const _n = 1;',
      'export var A$ = [3, n0, _A, 0, [_B], [[() => L, { [_xN]: _BDM }], { [_n]: 1 }, { a: 1,[_xN]: 2 }]];',
    ].join('\n');

    expect(inlineSchemaKeys(source)).toBe(
      [
        'const _xN = "xmlName";',
        'const _n = 1;',
        'export var A$ = [3, n0, _A, 0, [_B], [[() => L, { "xmlName": _BDM }], { [_n]: 1 }, { a: 1,"xmlName": 2 }]];',
      ].join('\n'),
    );
  });

  it.each(CLIENTS)(
    'leaves every schema of @aws-sdk/client-%s unchanged',
    async (client) => {
      const plain = await schemasOf(client, false);
      const rewritten = await schemasOf(client, true);

      expect(Object.keys(rewritten).sort()).toEqual(Object.keys(plain).sort());
      expect(difference(plain, rewritten, client)).toBeUndefined();
    },
    60_000,
  );
});

/** The npm packages a bundle of `source` (resolved from shared/) contains. */
async function packagesIn(source: string): Promise<string[]> {
  const result = await build({
    stdin: {
      contents: source,
      resolveDir: join(import.meta.dirname, '..', '..', '..', 'shared'),
      loader: 'ts',
    },
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'node',
    mainFields: ['module', 'main'],
    outdir: workDir,
    metafile: true,
    plugins: [schemaPlugin!, libDynamoDbPlugin!],
    logLevel: 'error',
  });
  // Inputs with bytes in the output (metafile.inputs lists every file read, shaken off or not).
  const output = Object.values(result.metafile.outputs)[0]!;
  const inputs = Object.entries(output.inputs)
    .filter(([, input]) => input.bytesInOutput > 0)
    .map(([path]) => path);
  return [
    ...new Set(inputs.map((path) => path.match(/node_modules\/(@aws-sdk\/[^/]+)/)?.[1]).filter(Boolean)),
  ] as string[];
}

describe('side-effect-free lib-dynamodb', () => {
  it('leaves the DynamoDB clients out of a bundle that uses only another client', async () => {
    const packages = await packagesIn("export { getFsx } from './aws/clients.ts';");

    expect(packages).toContain('@aws-sdk/client-fsx');
    expect(packages).not.toContain('@aws-sdk/lib-dynamodb');
    expect(packages).not.toContain('@aws-sdk/client-dynamodb');
  }, 60_000);

  it('keeps them in a bundle that uses DynamoDB', async () => {
    const packages = await packagesIn("export { getDynamoDb } from './aws/clients.ts';");

    expect(packages).toContain('@aws-sdk/lib-dynamodb');
    expect(packages).toContain('@aws-sdk/client-dynamodb');
  }, 60_000);
});
