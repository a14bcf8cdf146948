/**
 * The fault `corrupt-file` (local/faults.ts): flips one bit of a file on a file system, keeping its
 * size, so checksum verification can prove it notices what a size comparison cannot. The emulators
 * apply it at the moments a file may just have been written (a Run Command step ended, `lfs
 * hsm_restore` restored contents from S3); a rule fires once its file exists.
 */
import { existsSync, statSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import type { FaultInjector } from '../faults.js';

export interface CorruptibleFileSystem {
  id: string;
  /** The local directory that stands for the file system root. */
  root: string;
}

/** Flips the lowest bit of one byte of `file` (the middle one by default); returns its offset. */
export async function flipBit(file: string, offset?: number): Promise<number | undefined> {
  const handle = await open(file, 'r+');
  try {
    const { size } = await handle.stat();
    if (size === 0) return undefined;
    const at = Math.min(Math.max(0, offset ?? Math.floor(size / 2)), size - 1);
    const byte = Buffer.alloc(1);
    await handle.read(byte, 0, 1, at);
    byte.writeUInt8(byte.readUInt8(0) ^ 0x01, 0);
    await handle.write(byte, 0, 1, at);
    return at;
  } finally {
    await handle.close();
  }
}

/**
 * Applies the `corrupt-file` rules whose file (`match.Path`, from the file system root) exists now
 * (and, with `only`, is one of the files just written: `/a/b.nc` on file system `id`).
 */
export async function applyFileCorruption(
  faults: FaultInjector,
  fileSystems: readonly CorruptibleFileSystem[],
  log?: (message: string) => void,
  only?: (fileSystemId: string, path: string) => boolean,
): Promise<void> {
  for (const rule of faults.list()) {
    const path = rule.match?.Path;
    if (rule.behavior !== 'corrupt-file' || typeof path !== 'string') continue;
    const relative = path.replace(/^\/+/, '');
    if (relative.split('/').includes('..')) continue;
    for (const fileSystem of fileSystems) {
      const file = join(fileSystem.root, relative);
      if (only && !only(fileSystem.id, `/${relative}`)) continue;
      if (!existsSync(file) || !statSync(file).isFile() || statSync(file).size === 0) continue;
      if (!faults.behavior('corrupt-file', { FileSystemId: fileSystem.id, Path: path })) continue;
      const at = await flipBit(file, rule.offset);
      log?.(`fault corrupt-file: flipped a bit of ${fileSystem.id}:/${relative} at byte ${at}`);
    }
  }
}

/** The file systems of the FSx emulator with their local roots. */
export function corruptibleFileSystems(fsx: {
  listFileSystems(): { FileSystemId?: string }[];
  fileSystemRoot(id: string): string;
}): CorruptibleFileSystem[] {
  return fsx
    .listFileSystems()
    .flatMap((fs) =>
      fs.FileSystemId ? [{ id: fs.FileSystemId, root: fsx.fileSystemRoot(fs.FileSystemId) }] : [],
    );
}
