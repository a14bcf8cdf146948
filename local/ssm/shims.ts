/**
 * PATH shims for Run Command scripts: only `mount`/`umount`/`mountpoint`, `dnf`/`yum`, `lfs` and
 * `sudo` are replaced; everything else (bash, coreutils, the real `aws` CLI) runs as is. Each shim
 * is a tiny node script that posts its argv to `POST /_local/ssm/shim`, where `runShimTool` does
 * the work with the instance's mount table and the FSx emulator:
 *
 * - `mount -t lustre [-o opts] <DNSName>@tcp:/<MountName> <dir>`: finds the file system by DNS name
 *   (and checks the mount name), then links `<dir>` to `FsxEmulator.fileSystemRoot()`.
 * - `umount <dir>`, `mountpoint [-q] <dir>`: use the instance's mount table.
 * - `dnf`/`yum ...`: succeed without installing anything (the Lustre client is not needed here).
 * - `lfs hsm_restore <files...>`: `FsxEmulator.restore(fileSystemId, path)` for each file;
 *   `lfs hsm_state` prints a state line; other `lfs` commands fail.
 * - `sudo [-opts] cmd...`: runs cmd (scripts already run as the instance's root).
 */
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { InstanceFilesystems } from './instance-fs.js';

export interface ShimResult {
  exitCode: number;
  stdout?: string;
  stderr?: string;
}

export interface FileSystemLookup {
  /** The file system with this DNS name: its id, root directory and mount name. */
  byDnsName(dnsName: string): { fileSystemId: string; root: string; mountName?: string } | undefined;
  restore(fileSystemId: string, path: string): Promise<void>;
  /** The `lfs hsm_state` line of a file (without the path), when the file system models HSM. */
  hsmState?(fileSystemId: string, path: string): string | undefined;
}

export const SHIM_TOOLS = ['mount', 'umount', 'mountpoint', 'dnf', 'yum', 'lfs'] as const;

/** Writes the shim scripts into `dir` and returns it (to prepend to PATH). */
export function writeShims(dir: string): string {
  mkdirSync(dir, { recursive: true });
  const node = /\s/.test(process.execPath) ? '/usr/bin/env node' : process.execPath;
  const body = `#!${node}
// fsx-transfer local cloud shim: forwards this command to the local cloud (see local/ssm/shims.ts).
const tool = process.argv[1].split('/').pop();
const admin = process.env.LOCAL_CLOUD_ADMIN;
const request = { instanceId: process.env.LOCAL_CLOUD_INSTANCE_ID, tool, args: process.argv.slice(2), cwd: process.cwd() };
fetch(admin + '/ssm/shim', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(request) })
  .then((res) => res.json())
  .then((result) => {
    if (result.error) {
      process.stderr.write(tool + ': ' + result.error.message + '\\n');
      process.exit(1);
    }
    if (result.stdout) process.stdout.write(result.stdout);
    if (result.stderr) process.stderr.write(result.stderr);
    process.exitCode = result.exitCode;
  })
  .catch((error) => {
    process.stderr.write(tool + ': cannot reach the local cloud at ' + admin + ': ' + error.message + '\\n');
    process.exitCode = 1;
  });
`;
  for (const tool of SHIM_TOOLS) {
    const file = join(dir, tool);
    writeFileSync(file, body);
    chmodSync(file, 0o755);
  }
  const sudo = join(dir, 'sudo');
  writeFileSync(
    sudo,
    '#!/usr/bin/env bash\n# local cloud shim: scripts already run as the instance root user.\nwhile [[ "$1" == -* ]]; do shift; done\nexec "$@"\n',
  );
  chmodSync(sudo, 0o755);
  return dir;
}

function parseMountArgs(args: string[]): { type?: string; options?: string; positional: string[] } {
  const positional: string[] = [];
  let type: string | undefined;
  let options: string | undefined;
  for (let i = 0; i < args.length; i += 1) {
    const arg = args[i]!;
    if (arg === '-t') type = args[++i];
    else if (arg.startsWith('-t') && arg.length > 2) type = arg.slice(2);
    else if (arg === '-o') options = args[++i];
    else if (arg.startsWith('--types=')) type = arg.slice(8);
    else if (arg.startsWith('--options=')) options = arg.slice(10);
    else if (arg.startsWith('-')) continue;
    else positional.push(arg);
  }
  return { type, options, positional };
}

/** Runs one shim invocation for an instance. */
export async function runShimTool(
  fsView: InstanceFilesystems,
  fileSystems: FileSystemLookup,
  request: { instanceId: string; tool: string; args: string[]; cwd?: string },
): Promise<ShimResult> {
  const { instanceId, tool, args } = request;
  // Absolute paths are instance paths; the working directory is already a real path on this
  // machine (the shim runs inside it, past the mount symlink), so relative paths join it as is.
  const local = (path: string) =>
    path.startsWith('/') || !request.cwd ? fsView.localPath(instanceId, path) : join(request.cwd, path);
  switch (tool) {
    case 'dnf':
    case 'yum': {
      const packages = args.filter(
        (a) => !a.startsWith('-') && a !== 'install' && a !== 'update' && a !== 'upgrade',
      );
      return {
        exitCode: 0,
        stdout: `${packages.map((p) => `Package ${p} is available (local cloud: nothing installed).\n`).join('')}Complete!\n`,
      };
    }
    case 'mount': {
      const { type, positional } = parseMountArgs(args);
      if (positional.length === 0) {
        const lines = fsView
          .mounts(instanceId)
          .map((m) => `${m.source} on ${m.instancePath} type lustre (rw,relatime,flock,lazystatfs)\n`)
          .join('');
        return { exitCode: 0, stdout: lines };
      }
      if (positional.length !== 2)
        return {
          exitCode: 1,
          stderr: 'mount: bad usage (local cloud emulates `mount -t lustre SOURCE DIR`)\n',
        };
      const [source, target] = positional as [string, string];
      const m = /^([^@]+)@tcp:\/([^/]+)\/?$/.exec(source);
      if ((type && type !== 'lustre') || !m) {
        return {
          exitCode: 32,
          stderr: `mount: ${target}: only Lustre mounts (-t lustre <DNSName>@tcp:/<MountName>) are emulated by the local cloud\n`,
        };
      }
      const found = fileSystems.byDnsName(m[1]!);
      if (!found || (found.mountName && found.mountName !== m[2])) {
        return {
          exitCode: 32,
          stderr: `mount.lustre: mount ${source} at ${target} failed: No such file or directory\nIs the MGS specification correct?\nIs the filesystem name correct?\n`,
        };
      }
      try {
        fsView.mount(instanceId, {
          mountPoint: local(target),
          source,
          fileSystemId: found.fileSystemId,
          fileSystemRoot: found.root,
        });
      } catch (error) {
        return { exitCode: 32, stderr: `${(error as Error).message}\n` };
      }
      return { exitCode: 0 };
    }
    case 'umount': {
      const targets = args.filter((a) => !a.startsWith('-'));
      if (targets.length === 0) return { exitCode: 1, stderr: 'umount: bad usage\n' };
      for (const target of targets) {
        try {
          fsView.umount(instanceId, target.includes('@tcp:') ? target : local(target));
        } catch (error) {
          return { exitCode: 32, stderr: `${(error as Error).message}\n` };
        }
      }
      return { exitCode: 0 };
    }
    case 'mountpoint': {
      const quiet = args.includes('-q');
      const target = args.filter((a) => !a.startsWith('-'))[0];
      if (!target) return { exitCode: 1, stderr: 'mountpoint: bad usage\n' };
      const mounted = fsView.mounts(instanceId).some((m) => m.mountPoint === local(target));
      return mounted
        ? { exitCode: 0, stdout: quiet ? '' : `${target} is a mountpoint\n` }
        : { exitCode: 32, stdout: quiet ? '' : `${target} is not a mountpoint\n` };
    }
    case 'lfs': {
      const [command, ...rest] = args;
      const files = rest.filter((a) => !a.startsWith('-'));
      if (command === 'hsm_restore' || command === 'hsm_state' || command === 'hsm_action') {
        if (files.length === 0) return { exitCode: 22, stderr: `lfs ${command}: no file specified\n` };
        let stdout = '';
        let stderr = '';
        let exitCode = 0;
        for (const file of files) {
          const target = fsView.resolveOnFileSystem(instanceId, local(file), request.cwd);
          if (!target) {
            stderr += `lfs ${command}: ${file}: not on a Lustre file system\n`;
            exitCode = 22;
            continue;
          }
          if (command === 'hsm_restore') {
            try {
              await fileSystems.restore(target.fileSystemId, target.path);
            } catch (error) {
              stderr += `lfs hsm_restore: ${file}: ${(error as Error).message}\n`;
              exitCode = 2;
            }
          } else if (command === 'hsm_state') {
            const state = fileSystems.hsmState?.(target.fileSystemId, target.path);
            stdout += `${file}: ${state ?? '(0x00000000)'}\n`;
          } else {
            stdout += `${file}: NOOP\n`;
          }
        }
        return { exitCode, stdout, stderr };
      }
      return {
        exitCode: 1,
        stderr: `lfs: '${command ?? ''}' is not emulated by the local cloud (only hsm_restore, hsm_state, hsm_action)\n`,
      };
    }
    default:
      return { exitCode: 127, stderr: `${tool}: not a local cloud shim\n` };
  }
}
