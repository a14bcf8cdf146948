/**
 * The file system view of an emulated instance: `<dataDir>/instances/<instance-id>/` holds
 * `root/` (where the instance's absolute paths under its mount points live), `home/` (HOME for
 * Run Command scripts, so `aws configure set ...` stays per instance) and `mounts.json`.
 *
 * Run Command scripts run on this machine, so their absolute paths are mapped: every occurrence
 * of a mount-point prefix (each configured `mountPoint`, `/fsx`, and absolute values of document
 * parameters whose name contains "mount") in the substituted script becomes
 * `<instance root><prefix>`. Mounting Lustre replaces that directory with a symlink to the FSx
 * emulator's directory for the file system, so `aws s3 sync s3://b/p /fsx/input` writes into the
 * local Lustre root. `/proc/mounts` is mapped too: the instance's own file lists its Lustre mounts.
 * Outputs are mapped back (the instance root prefix is removed), so logs show `/fsx/...`.
 */
import {
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { isAbsolute, join, relative, resolve } from 'node:path';

export interface MountEntry {
  /** Local path of the mount point (inside the instance root). */
  mountPoint: string;
  /** The mount point as the instance sees it (`/fsx`). */
  instancePath: string;
  source: string;
  fileSystemId: string;
  fileSystemRoot: string;
}

const BEFORE = `(^|[\\s'"=(\`;|&<>])`;
const AFTER = `(?=$|[/\\s'"\`;|&<>)}])`;

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export class InstanceFilesystems {
  constructor(private readonly dataDir: string) {}

  dir(instanceId: string): string {
    return join(this.dataDir, 'instances', instanceId);
  }

  root(instanceId: string): string {
    const dir = join(this.dir(instanceId), 'root');
    mkdirSync(dir, { recursive: true });
    return dir;
  }

  home(instanceId: string): string {
    const dir = join(this.dir(instanceId), 'home');
    mkdirSync(dir, { recursive: true });
    return dir;
  }

  /** The local path standing for an absolute path on the instance. */
  localPath(instanceId: string, instancePath: string): string {
    const root = this.root(instanceId);
    if (instancePath === root || instancePath.startsWith(`${root}/`)) return instancePath;
    return join(root, instancePath);
  }

  /** Rewrites the mount-point prefixes in a script to the instance's local directories. */
  rewrite(instanceId: string, script: string, prefixes: string[]): string {
    const root = this.root(instanceId);
    const unique = [
      ...new Set(prefixes.filter((p) => p.startsWith('/') && p.length > 1).map((p) => p.replace(/\/+$/, ''))),
    ];
    // Longest first, so /fsx/data is not rewritten as /fsx + /data.
    unique.sort((a, b) => b.length - a.length);
    if (unique.length === 0) return script;
    const pattern = new RegExp(`${BEFORE}(${unique.map(escapeRegExp).join('|')})${AFTER}`, 'g');
    return script.replace(pattern, (_whole, before: string, prefix: string) => `${before}${root}${prefix}`);
  }

  mounts(instanceId: string): MountEntry[] {
    try {
      return JSON.parse(readFileSync(join(this.dir(instanceId), 'mounts.json'), 'utf8')) as MountEntry[];
    } catch {
      return [];
    }
  }

  /** Rewrites the instance's mount table files (mounts.json and its /proc/mounts) from mounts.json. */
  refresh(instanceId: string): void {
    this.saveMounts(instanceId, this.mounts(instanceId));
  }

  private saveMounts(instanceId: string, mounts: MountEntry[]): void {
    mkdirSync(this.dir(instanceId), { recursive: true });
    writeFileSync(join(this.dir(instanceId), 'mounts.json'), `${JSON.stringify(mounts, null, 1)}\n`);
    // The instance's /proc/mounts (scripts check it to skip mounting twice); Run Command maps
    // `/proc/mounts` in scripts to this file.
    const proc = join(this.root(instanceId), 'proc');
    mkdirSync(proc, { recursive: true });
    writeFileSync(
      join(proc, 'mounts'),
      mounts.map((m) => `${m.source} ${m.mountPoint} lustre rw,relatime,flock,lazystatfs 0 0\n`).join(''),
    );
  }

  /**
   * Mounts a file system root at a local mount point (replacing the directory with a symlink).
   * @throws Error with a `mount`-style message when the mount point is missing or already mounted.
   */
  mount(instanceId: string, entry: Omit<MountEntry, 'instancePath'>): MountEntry {
    const root = this.root(instanceId);
    const mountPoint = entry.mountPoint;
    const mounts = this.mounts(instanceId);
    if (mounts.some((m) => m.mountPoint === mountPoint)) {
      throw new Error(`mount: ${mountPoint}: ${entry.source} already mounted or mount point busy.`);
    }
    if (!existsSync(mountPoint) || !lstatSync(mountPoint).isDirectory()) {
      throw new Error(`mount: ${mountPoint}: mount point does not exist.`);
    }
    // A real mount hides what was in the directory; keep it aside and bring it back on umount.
    if (readdirSync(mountPoint).length > 0) renameSync(mountPoint, `${mountPoint}.hidden-by-mount`);
    else rmSync(mountPoint, { recursive: true });
    symlinkSync(entry.fileSystemRoot, mountPoint, 'dir');
    const instancePath = mountPoint.startsWith(`${root}/`) ? mountPoint.slice(root.length) : mountPoint;
    const full = { ...entry, instancePath };
    this.saveMounts(instanceId, [...mounts, full]);
    return full;
  }

  umount(instanceId: string, mountPoint: string): MountEntry {
    const mounts = this.mounts(instanceId);
    const entry = mounts.find((m) => m.mountPoint === mountPoint || m.source === mountPoint);
    if (!entry) throw new Error(`umount: ${mountPoint}: not mounted.`);
    rmSync(entry.mountPoint, { force: true });
    if (existsSync(`${entry.mountPoint}.hidden-by-mount`))
      renameSync(`${entry.mountPoint}.hidden-by-mount`, entry.mountPoint);
    else mkdirSync(entry.mountPoint, { recursive: true });
    this.saveMounts(
      instanceId,
      mounts.filter((m) => m !== entry),
    );
    return entry;
  }

  /**
   * The file system and the path on it (`/ExtData/a.nc`) for a local path under a mount point.
   * Accepts paths through the mount symlink and paths already resolved into the file system root.
   */
  resolveOnFileSystem(
    instanceId: string,
    path: string,
    cwd?: string,
  ): { fileSystemId: string; path: string } | undefined {
    const absolute = isAbsolute(path) ? path : resolve(cwd ?? this.root(instanceId), path);
    for (const entry of [...this.mounts(instanceId)].sort(
      (a, b) => b.mountPoint.length - a.mountPoint.length,
    )) {
      for (const base of [entry.mountPoint, entry.fileSystemRoot]) {
        if (absolute === base || absolute.startsWith(`${base}/`)) {
          const rel = relative(base, absolute);
          return { fileSystemId: entry.fileSystemId, path: `/${rel}`.replace(/\/$/, '') || '/' };
        }
      }
    }
    return undefined;
  }

  /** Removes an instance's directory (mount symlinks are removed, never followed). */
  remove(instanceId: string): void {
    rmSync(this.dir(instanceId), { recursive: true, force: true });
  }
}
