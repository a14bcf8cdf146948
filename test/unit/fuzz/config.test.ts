/**
 * Bad input in the config file: any field given a hostile value, a path that escapes, a malformed
 * S3 URI, an unknown file system or overlapping DRA paths is refused when the file is loaded, with
 * the file, the position, the field and the rule; nothing else runs with such a config.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { type ConfigIssue, formatField, parseConfig } from '../../../shared/config/load.js';
import { badName, badS3Uri, escapingPath, hostileString } from './corpus.js';

const RUNS = { numRuns: 200 };

/** A valid config (as data), one file system and two mappings. */
function validConfig() {
  return {
    version: 1,
    region: 'us-east-1',
    fileSystems: [
      {
        id: 'fs-00000000000000001',
        mountPoint: '/fsx',
        subnetIds: ['subnet-00000000000000001'],
        securityGroupIds: ['sg-00000000000000001'],
      },
    ],
    mappings: [
      {
        name: 'extdata',
        fileSystemId: 'fs-00000000000000001',
        fsxPath: '/ExtData',
        s3Uri: 's3://demo/ExtData',
        include: ['*.nc'],
      },
      { name: 'output', fileSystemId: 'fs-00000000000000001', fsxPath: '/output', s3Uri: 's3://demo/output' },
    ],
  };
}

type Config = ReturnType<typeof validConfig>;

/** The issues of a config that must be refused (fails the test when it loads). */
function issuesOf(config: unknown): ConfigIssue[] {
  try {
    parseConfig(stringify(config), 'fuzz.yaml');
  } catch (error) {
    expect((error as Error).name).toBe('ConfigError');
    return (error as { details: { issues: ConfigIssue[] } }).details.issues;
  }
  throw new Error(`accepted a bad config: ${JSON.stringify(config)}`);
}

/** Sets `path` of a config object to `value`. */
function setAt(config: Config, path: readonly (string | number)[], value: unknown): void {
  let node = config as unknown as Record<string | number, unknown>;
  for (const key of path.slice(0, -1)) node = node[key] as Record<string | number, unknown>;
  node[path.at(-1)!] = value;
}

const FILTER_BAD = [
  'a;b',
  'a$(id)',
  'a`id`',
  "a'",
  'a"b',
  'a\nb',
  'a b',
  'a\u0000',
  'é.nc',
  '-rf',
  '~root',
  'a|b',
  'a&b',
  'a\\b',
];

/** One field (as a path) given a bad value. */
const bad = fc.oneof(
  // fsxPath must be absolute: a hostile one, one with a .. segment, or a relative one.
  fc
    .oneof(
      hostileString.map((v) => `/${v}`),
      escapingPath.filter((p) => p.split('/').includes('..')).map((p) => `/${p.replace(/^\/+/, '')}`),
      fc.constantFrom('ExtData', 'relative/path', '~/x', ''),
    )
    .map((value) => ({ path: ['mappings', 0, 'fsxPath'], value })),
  fc
    .oneof(
      hostileString,
      escapingPath.filter((p) => !p.startsWith('/')),
    )
    .map((value) => ({ path: ['fileSystems', 0, 'mountPoint'], value })),
  badS3Uri.map((value) => ({ path: ['mappings', 0, 's3Uri'], value })),
  badName.map((value) => ({ path: ['mappings', 0, 'name'], value })),
  badName.map((value) => ({ path: ['fileSystems', 0, 'id'], value })),
  badName.map((value) => ({ path: ['fileSystems', 0, 'subnetIds', 0], value })),
  badName.map((value) => ({ path: ['region'], value })),
  fc.constantFrom(...FILTER_BAD).map((value) => ({ path: ['mappings', 0, 'include', 0], value })),
  // A file system the config does not declare.
  fc
    .constantFrom('fs-0000000000000000f', 'fs-deadbeef')
    .map((value) => ({ path: ['mappings', 1, 'fileSystemId'], value })),
);

describe('config files with bad values', () => {
  it('refuse each, naming the field with its position and the rule', () => {
    fc.assert(
      fc.property(bad, ({ path, value }) => {
        const config = validConfig();
        setAt(config, path, value);
        const field = formatField(path);

        const issues = issuesOf(config);

        const issue = issues.find((i) => i.field === field);
        expect(issue, JSON.stringify(issues)).toBeDefined();
        expect(issue!.rule.length).toBeGreaterThan(5);
        expect(issue!.line).toBeGreaterThan(1);
      }),
      RUNS,
    );
  });

  it('refuse mappings whose DRA paths overlap on one file system (either side)', () => {
    const nested = fc.constantFrom('/ExtData/sub', '/ExtData', '/', '/ExtData/');
    const prefixes = fc.constantFrom('s3://demo/ExtData/sub', 's3://demo/ExtData', 's3://demo');
    fc.assert(
      fc.property(
        fc.oneof(
          nested.map((p) => ['fsxPath', p]),
          prefixes.map((u) => ['s3Uri', u]),
        ),
        ([key, value]) => {
          const config = validConfig();
          (config.mappings[1] as Record<string, unknown>)[key!] = value;

          const issues = issuesOf(config);

          expect(issues.map((i) => i.field)).toContain(`mappings[1].${key}`);
          expect(issues.find((i) => i.field === `mappings[1].${key}`)!.rule).toMatch(/overlap|contain/);
        },
      ),
      { numRuns: 30 },
    );
  });
});
