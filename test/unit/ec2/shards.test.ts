import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import YAML from 'yaml';
import {
  inShard,
  instanceCount,
  patternsBelow,
  patternsFrom,
  planShards,
  shortestBoundary,
} from '../../../shared/ec2/shards.js';
import { syncTuning } from '../../../shared/ec2/tuning.js';

const ROOT = join(import.meta.dirname, '..', '..', '..');

/** The python program of the document's `shard_patterns` (ssm/transfer-document.yaml). */
function documentShardProgram(): string {
  const document = YAML.parse(readFileSync(join(ROOT, 'ssm/transfer-document.yaml'), 'utf8')) as {
    mainSteps: { inputs: { runCommand: string[] } }[];
  };
  const script = document.mainSteps[0]!.inputs.runCommand.join('\n');
  const program = /<<'PY'\n([\s\S]*?)\nPY\n/.exec(script)?.[1];
  if (!program) throw new Error('shard_patterns not found in the transfer document');
  return program;
}

function documentPatterns(start: string, end: string): string[] {
  const out = execFileSync('python3', ['-', start, end], { input: documentShardProgram() });
  return out.toString('utf8').split('\0').slice(0, -1);
}

/** Which keys `aws s3 sync` keeps with these excludes: the CLI's own rule (fnmatch, last match wins). */
function cliKeeps(keys: string[], excludes: string[]): string[] {
  const program = [
    'import fnmatch, json, sys',
    'data = json.loads(sys.stdin.read())',
    "print(json.dumps([k for k in data['keys'] if not any(fnmatch.fnmatch(k, p) for p in data['excludes'])]))",
  ].join('\n');
  const out = execFileSync('python3', ['-c', program], { input: JSON.stringify({ keys, excludes }) });
  return JSON.parse(out.toString('utf8'));
}

const HOSTILE = [
  "a'quote",
  'a b',
  'a*star',
  'a?q',
  'a[x]',
  'a\nnewline',
  'a\\back',
  'ab',
  'abc',
  'abd/deeper/file.nc',
  'ab/',
  'b',
  'a-1',
  'a.2',
  'b-',
  'b.',
  'b.x',
  'b_',
  'b0',
  'bZ',
  'b~tilde',
  'c/é/ü.nc',
  'c/😀',
  'c/\u0001ctrl',
  'zzz',
  '~end',
];

describe('planShards', () => {
  it('cuts a listing into contiguous key ranges of about equal bytes', () => {
    const files = Array.from({ length: 40 }, (_, i) => ({
      path: `out/f${String(i).padStart(3, '0')}.nc`,
      size: 1e6,
    }));

    const shards = planShards(files, 4);

    expect(shards.map((s) => s.files)).toEqual([10, 10, 10, 10]);
    expect(shards.map((s) => [s.start, s.end])).toEqual([
      [undefined, 'out/f01'],
      ['out/f01', 'out/f02'],
      ['out/f02', 'out/f03'],
      ['out/f03', undefined],
    ]);
  });

  it('puts every file in exactly one shard, also for hostile names', () => {
    const files = HOSTILE.map((path, i) => ({ path, size: 1000 * (i + 1) }));

    const shards = planShards(files, 4, 0);

    expect(shards.length).toBeGreaterThan(1);
    for (const file of files)
      expect(shards.filter((s) => inShard(file.path, s)).map((s) => s.index)).toHaveLength(1);
    expect(shards.reduce((n, s) => n + s.files, 0)).toBe(files.length);
  });

  it('keeps one shard when no allowed boundary separates the keys', () => {
    const shards = planShards(
      [
        { path: '*a', size: 10 },
        { path: '*b', size: 10 },
      ],
      2,
    );

    expect(shards).toEqual([{ index: 0, count: 1, files: 2, bytes: 20 }]);
  });

  it('chooses the shortest prefix of the next key that sorts after the previous key', () => {
    expect(shortestBoundary('out/a.nc', 'out/b.nc')).toBe('out/b');
    expect(shortestBoundary('a', 'ab')).toBe('ab');
    expect(shortestBoundary('a', 'a*b')).toBeUndefined();
    expect(shortestBoundary('scenario-1.nc', 'scenario-2.nc')).toBe('scenario-2');
  });
});

describe('shard filters', () => {
  it('match what the transfer document builds', () => {
    expect(documentPatterns('ab/c', 'b_0')).toEqual([...patternsBelow('ab/c'), ...patternsFrom('b_0')]);
    expect(documentPatterns('', 'b')).toEqual(patternsFrom('b'));
    expect(documentPatterns('c', '')).toEqual(patternsBelow('c'));
  });

  it.each([
    ['', 'ab'],
    ['ab', 'b_'],
    ['b_', 'c/'],
    ['c/', ''],
    ['abd/deeper', 'b0'],
    ['B', 'bZ'],
    ['a-', 'b-'],
    ['b.', 'b_'],
  ])('leave aws s3 sync exactly the keys in [%j, %j), whatever their characters', (start, end) => {
    const kept = cliKeeps(HOSTILE, documentPatterns(start, end));

    expect(kept).toEqual(
      HOSTILE.filter((key) => inShard(key, { start: start || undefined, end: end || undefined })),
    );
  });
});

describe('instanceCount', () => {
  it("follows the planner's suggestion only when scaling out is worthwhile, within the bounds", () => {
    expect(instanceCount({ instances: 8, worthwhile: false }, 4, 1000)).toBe(1);
    expect(instanceCount({ instances: 8, worthwhile: true }, 4, 1000)).toBe(4);
    expect(instanceCount({ instances: 3, worthwhile: true }, 4, 1000)).toBe(3);
    expect(instanceCount({ instances: 8, worthwhile: true }, 4, 2)).toBe(2);
  });
});

describe('syncTuning', () => {
  it('gives faster instance types more parallel requests and larger parts, never less than the CLI defaults', () => {
    expect(syncTuning('c6i.large')).toEqual({ maxConcurrentRequests: 40, multipartChunkSizeMb: 8 });
    expect(syncTuning('c6in.2xlarge')).toEqual({ maxConcurrentRequests: 64, multipartChunkSizeMb: 16 });
    expect(syncTuning('x9.unknown')).toEqual({ maxConcurrentRequests: 10, multipartChunkSizeMb: 8 });
  });
});
