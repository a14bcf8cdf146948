/**
 * `npm run package` in a private copy of the project (node_modules linked), so it never races with
 * another `npm run package` or with tests that read the working tree, and leaves the developer's
 * .serverless/ alone. Used by the packaging tests and by `npm run bench` (bench/bundles.ts).
 */
import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';
import { inflateRawSync } from 'node:zlib';

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

export interface PackagedCopy {
  /** The copy; its .serverless/ holds the template, one zip per function and sourcemaps/. */
  dir: string;
  /** What `npm run package` printed (stdout and stderr). */
  log: string;
  remove(): void;
}

/** Copies the project at `root` to a temp dir and runs `npm run package` there (default config). */
export async function packageCopy(root: string): Promise<PackagedCopy> {
  const dir = mkdtempSync(join(tmpdir(), 'fsx-transfer-package-'));
  const remove = () => rmSync(dir, { recursive: true, force: true });
  try {
    cpSync(root, dir, {
      recursive: true,
      filter: (source) => !SKIP.has(relative(root, source).split(/[\\/]/)[0]!),
    });
    symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'), 'dir');
    const env = { ...process.env };
    delete env.FSX_TRANSFER_CONFIG;
    const { stdout, stderr } = await promisify(execFile)('npm', ['run', 'package'], {
      cwd: dir,
      env,
      maxBuffer: 16 * 1024 * 1024,
    });
    return { dir, log: stdout + stderr, remove };
  } catch (error) {
    remove();
    throw error;
  }
}

/** The entries of a zip file (name -> inflated content), read from its central directory. */
export function zipEntries(zip: Buffer): Map<string, Buffer> {
  const end = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  if (end < 0) throw new Error('not a zip file: no end of central directory record');
  const count = zip.readUInt16LE(end + 10);
  const entries = new Map<string, Buffer>();
  let at = zip.readUInt32LE(end + 16);
  for (let i = 0; i < count; i++) {
    const method = zip.readUInt16LE(at + 10);
    const compressedSize = zip.readUInt32LE(at + 20);
    const nameLength = zip.readUInt16LE(at + 28);
    const extraLength = zip.readUInt16LE(at + 30);
    const commentLength = zip.readUInt16LE(at + 32);
    const localHeader = zip.readUInt32LE(at + 42);
    const name = zip.toString('utf8', at + 46, at + 46 + nameLength);
    const dataStart =
      localHeader + 30 + zip.readUInt16LE(localHeader + 26) + zip.readUInt16LE(localHeader + 28);
    const data = zip.subarray(dataStart, dataStart + compressedSize);
    entries.set(name, method === 8 ? inflateRawSync(data) : data);
    at += 46 + nameLength + extraLength + commentLength;
  }
  return entries;
}
