/**
 * The one listing format: the script that writes it (run here with the real sh, find and
 * coreutils), the transfer document's copy of that script, and the parser both verifiers use.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import {
  formatListing,
  type ListedFile,
  listingCommands,
  listingHash,
  listingScript,
  parseListing,
} from '../../../shared/verify/listing.js';

const files = (...entries: [string, number][]): ListedFile[] =>
  entries.map(([path, size]) => ({ path, size }));

describe('listing script', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'fsxt-listing-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const run = (script: string[]) => execFileSync('sh', ['-c', script.join('\n')], { encoding: 'utf8' });

  it('prints names and sizes that parse back, with the hash the verifier computes', () => {
    mkdirSync(join(dir, 'GEOS/2024'), { recursive: true });
    writeFileSync(join(dir, 'GEOS/2024/a.nc'), 'aaaa');
    writeFileSync(join(dir, 'GEOS/b.nc'), 'bb');
    writeFileSync(join(dir, 'Z.txt'), '');

    const output = run(listingScript(dir));

    const listing = parseListing(output);
    expect(listing).toMatchObject({ exists: true, count: 3, bytes: 6, truncated: false });
    expect(listing.files).toEqual(files(['GEOS/2024/a.nc', 4], ['GEOS/b.nc', 2], ['Z.txt', 0]));
    expect(listing.sha256).toBe(listingHash(listing.files));
  });

  it('reports a missing directory instead of failing', () => {
    const output = run(listingScript(join(dir, 'nope')));

    expect(parseListing(output)).toMatchObject({ exists: false, count: 0 });
  });

  it('keeps one file per line whatever its name: newlines, backslashes, tabs, spaces, unicode', () => {
    const names = ['line\nbreak.nc', 'back\\slash', 'tab\there', 'a b/c d.nc', 'ünï/数据.txt'];
    mkdirSync(join(dir, 'a b'));
    mkdirSync(join(dir, 'ünï'));
    for (const name of names) writeFileSync(join(dir, name), name);

    const listing = parseListing(run(listingScript(dir)));

    expect(listing.count).toBe(names.length);
    expect([...listing.files].sort((a, b) => (a.path < b.path ? -1 : 1))).toEqual(
      names.sort().map((name) => ({ path: name, size: Buffer.byteLength(name) })),
    );
    expect(listing.sha256).toBe(listingHash(listing.files));
  });

  it('lists the files that symbolic links point to only when asked (as aws s3 sync copies them)', () => {
    writeFileSync(join(dir, 'real.nc'), 'abc');
    symlinkSync(join(dir, 'real.nc'), join(dir, 'link.nc'));

    const plain = parseListing(run(listingScript(dir)));
    const followed = parseListing(run(listingScript(dir, { followSymlinks: true })));

    expect(plain.files).toEqual(files(['real.nc', 3]));
    expect(followed.files).toEqual(files(['link.nc', 3], ['real.nc', 3]));
  });
});

describe('the transfer document writes the same listing', () => {
  const document = parse(
    readFileSync(new URL('../../../ssm/transfer-document.yaml', import.meta.url), 'utf8'),
  ) as { mainSteps: { inputs: { runCommand: string[] } }[] };
  const lines = (document.mainSteps[0]?.inputs.runCommand.join('\n') ?? '').split('\n').map((l) => l.trim());
  const close = lines.findIndex((line) => line.startsWith(') > "$WORK/listing"'));
  const open = lines.slice(0, close).lastIndexOf('(');
  const check = lines.findIndex((line, i) => i > close && line.startsWith('if [ "$rc" -ne 0 ]'));
  /** The document's listing section, from `(` to its exit code check, as the document runs it. */
  function runSection(dir: string): { status: number; stdout: string; listing: string } {
    const work = mkdtempSync(join(tmpdir(), 'fsxt-doc-work-'));
    const script = [
      'set -o nounset -o pipefail',
      'fail() { local code="$1"; shift; echo "fsx-transfer: ERROR: $*"; exit "$code"; }',
      `LOCAL_DIR='${dir}'`,
      `WORK='${work}'`,
      ...lines.slice(open, check + 1),
      'echo ok',
    ].join('\n');
    const result = spawnSync('bash', ['-c', script], { encoding: 'utf8' });
    const listing = readFileSync(join(work, 'listing'), 'utf8');
    rmSync(work, { recursive: true, force: true });
    return { status: result.status ?? -1, stdout: result.stdout, listing };
  }
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'fsxt-doc-listing-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("runs listingCommands()' lines, following symbolic links like aws s3 sync", () => {
    expect(lines.slice(open + 1, close)).toEqual([
      'dir="$LOCAL_DIR"',
      ...listingCommands({ followSymlinks: true }),
    ]);
  });

  it('writes a listing that parses', () => {
    writeFileSync(join(dir, 'a.nc'), 'aaaa');

    const result = runSection(dir);

    expect(result.stdout).toBe('ok\n');
    expect(parseListing(result.listing)).toMatchObject({ count: 1, files: files(['a.nc', 4]) });
  });

  it('fails with exit code 6 when listing the directory fails', () => {
    symlinkSync('.', join(dir, 'loop'));

    const result = runSection(dir);

    expect(result.status).toBe(6);
    expect(result.stdout).toContain('fsx-transfer: ERROR: listing');
  });
});

describe('parseListing', () => {
  it('round-trips names with spaces, unicode, tabs and nested folders', () => {
    const listed = files(
      ['a b/c d.nc', 10],
      ['tab\there', 5],
      ['x/y/z/deep', 1],
      ['ünï/кириллица/数据.txt', 0],
    );

    expect(parseListing(formatListing(listed)).files).toEqual(listed);
  });

  it('marks a listing cut by SSM as truncated and drops the partial last line', () => {
    const output = 'FSXT-LISTING v1\nCOUNT 3\nBYTES 30\nSHA256 abc\na\t10\nb\t1';

    const listing = parseListing(output);

    expect(listing.truncated).toBe(true);
    expect(listing.files.map((file) => file.path)).toEqual(['a']);
  });

  it('skips what a command printed before the listing (a mount message)', () => {
    const output = `mounted fs@tcp:/abc at /fsx\n${formatListing(files(['a', 1]))}`;

    expect(parseListing(output).files).toEqual(files(['a', 1]));
  });

  it('refuses a malformed record', () => {
    const output = 'FSXT-LISTING v1\nCOUNT 2\nBYTES 12\nSHA256 x\nok\t12\nx\tnotanumber\n';

    expect(() => parseListing(output)).toThrow(/malformed/);
  });

  it('refuses text that is not a listing', () => {
    expect(() => parseListing('12\tok\0notanumber\tx\0')).toThrow(/malformed/);
  });
});
