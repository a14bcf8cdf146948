import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { CHECKSUM_SCRIPT, parseChecksumListing } from '../../../shared/verify/checksum-listing.js';
import { checksumOf } from '../../../shared/verify/checksums.js';

const dir = mkdtempSync(join(tmpdir(), 'fsxt-checksums-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const run = (
  root: string,
  ...filters:
    | [include: string, exclude: string]
    | [include: string, exclude: string, start: string, end: string]
    | []
) =>
  execFileSync('python3', ['-', root, ...filters], { input: CHECKSUM_SCRIPT.join('\n'), encoding: 'utf8' });

describe('the checksum listing script', () => {
  it('lists every file (links followed, hostile names escaped) with the checksums S3 would compute', async () => {
    const root = join(dir, 'scope');
    mkdirSync(join(root, 'sub dir'), { recursive: true });
    const files: Record<string, Buffer> = {
      'a.nc': randomBytes(100_000),
      'sub dir/new\nline\\back.txt': Buffer.from('x'),
      empty: Buffer.alloc(0),
    };
    for (const [path, data] of Object.entries(files)) writeFileSync(join(root, path), data);
    symlinkSync(join(root, 'a.nc'), join(root, 'link.nc'));
    files['link.nc'] = files['a.nc'] as Buffer;

    const listing = parseChecksumListing(run(root));

    expect([...listing.keys()].sort()).toEqual(Object.keys(files).sort());
    for (const [path, data] of Object.entries(files)) {
      const entry = listing.get(path);
      expect(entry?.size).toBe(data.length);
      for (const algorithm of ['CRC32', 'CRC32C', 'CRC64NVME', 'SHA1', 'SHA256'] as const) {
        expect(entry?.checksums[algorithm], `${algorithm} of ${path}`).toBe(
          await checksumOf(algorithm, data),
        );
      }
      expect(entry?.checksums.MD5).toBe(createHash('md5').update(data).digest('base64'));
    }
  });

  it('reads only the files the sync filters let through (the last match wins, as aws s3 sync)', () => {
    const root = join(dir, 'filtered');
    mkdirSync(join(root, 'GEOS', 'restart'), { recursive: true });
    for (const path of ['a.nc', 'b.txt', 'GEOS/c.nc', 'GEOS/restart/d.nc', 'e.nc4'])
      writeFileSync(join(root, path), path);

    const listing = parseChecksumListing(run(root, '*.nc *.nc4', 'GEOS/restart/* e.*'));

    expect([...listing.keys()].sort()).toEqual(['GEOS/c.nc', 'a.nc']);
    expect([...parseChecksumListing(run(root, '', 'GEOS/*')).keys()].sort()).toEqual([
      'a.nc',
      'b.txt',
      'e.nc4',
    ]);
  });

  it("reads only a scale-out shard's key range (start <= path < end, either side open)", () => {
    const root = join(dir, 'sharded');
    mkdirSync(join(root, '2019'), { recursive: true });
    for (const path of ['2019/a.nc', '2019/m.nc', '2020.nc', 'b.nc', 'z.nc'])
      writeFileSync(join(root, path), path);
    const keys = (start: string, end: string) =>
      [...parseChecksumListing(run(root, '', '', start, end)).keys()].sort();

    expect(keys('2019/m', 'b')).toEqual(['2019/m.nc', '2020.nc']);
    expect(keys('', '2019/m')).toEqual(['2019/a.nc']);
    expect(keys('b', '')).toEqual(['b.nc', 'z.nc']);
    expect(keys('', '')).toHaveLength(5);
  });

  it('lists nothing for a directory that does not exist', () => {
    expect(parseChecksumListing(run(join(dir, 'missing'))).size).toBe(0);
  });

  it('is the script of the transfer document (its checksums step)', () => {
    const document = parse(
      readFileSync(new URL('../../../ssm/transfer-document.yaml', import.meta.url), 'utf8'),
    );
    const step = document.mainSteps.find((s: { name: string }) => s.name === 'checksums');
    const text: string = step.inputs.runCommand[0];
    const script = text.slice(
      text.indexOf("<<'PYTHON'\n") + "<<'PYTHON'\n".length,
      text.indexOf('\nPYTHON\n'),
    );

    expect(script).toBe(CHECKSUM_SCRIPT.join('\n'));
  });
});
