/**
 * The transfer document's progress publishing, run for real in bash: a stand-in `aws` prints what
 * `aws s3 sync` prints (file lines, carriage-return progress records, a pause longer than the
 * publishing interval) and keeps every progress object `aws s3 cp` uploads.
 */
import { execFile } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const DOCUMENT = parse(
  readFileSync(new URL('../../../ssm/transfer-document.yaml', import.meta.url), 'utf8'),
) as {
  mainSteps: { inputs: { runCommand: string[] } }[];
};
const SCRIPT = DOCUMENT.mainSteps[0]!.inputs.runCommand.join('\n');

const FAKE_AWS = `#!/bin/bash
if [ "$1 $2" = "s3 sync" ]; then
  printf 'Completed 1.0 MiB/~3.0 MiB (1.0 MiB/s) with ~2 file(s) remaining (calculating...)\\r'
  printf 'download: s3://demo/in/a.nc to /fsx/in/a.nc\\n'
  printf 'Completed 2.0 MiB/3.0 MiB (1.0 MiB/s) with 1 file(s) remaining\\r'
  sleep "$FAKE_SYNC_PAUSE"
  printf 'download: s3://demo/in/b.nc to /fsx/in/b.nc\\n'
  printf 'Completed 3.0 MiB/3.0 MiB (1.0 MiB/s) with 0 file(s) remaining\\r'
  printf '                                                                   \\n'
  exit "$FAKE_SYNC_EXIT"
fi
if [ "$1 $2" = "s3 cp" ]; then
  args=("$@")
  cp "\${args[-2]}" "$CAPTURE/$(date +%s%N).json"
  exit 0
fi
exit 9
`;

interface Run {
  code: number;
  stdout: string;
  progress: Array<Record<string, unknown>>;
}

/** Runs the script in a new directory; the stand-in sync pauses `pause` seconds mid-way. */
function runScript(syncExit: number, pause: number): Promise<Run> {
  const dir = mkdtempSync(join(tmpdir(), 'fsx-transfer-progress-'));
  const bin = join(dir, 'bin');
  const capture = join(dir, 'capture');
  for (const sub of [bin, capture]) mkdirSync(sub);
  for (const [name, body] of Object.entries({
    aws: FAKE_AWS,
    mount: '#!/bin/bash\nexit 0\n',
    'mount.lustre': '#!/bin/bash\nexit 0\n',
  })) {
    writeFileSync(join(bin, name), body, { flag: 'w' });
    chmodSync(join(bin, name), 0o755);
  }
  const values: Record<string, string> = {
    Mode: 'sync',
    Direction: 'stage-in',
    FileSystemDnsName: 'fs-1.fsx.us-east-1.amazonaws.com',
    MountName: 'abcdef',
    MountPoint: join(dir, 'fsx'),
    FsxPath: '/in',
    S3Bucket: 'demo',
    S3Prefix: 'in',
    Include: '',
    Exclude: '',
    Delete: 'false',
    ListingUri: '',
    ProgressUri: 's3://demo/.fsx-transfer/progress/run-1.json',
    Region: 'us-east-1',
    MaxConcurrentRequests: '32',
  };
  const script = SCRIPT.replace(/\{\{ (\w+) \}\}/g, (_, name: string) => values[name] ?? '');
  writeFileSync(join(dir, 'script.sh'), script);
  return new Promise((resolve) => {
    execFile(
      'bash',
      [join(dir, 'script.sh')],
      {
        env: {
          PATH: `${bin}:${process.env.PATH}`,
          CAPTURE: capture,
          FAKE_SYNC_EXIT: String(syncExit),
          FAKE_SYNC_PAUSE: String(pause),
          HOME: dir,
        },
        timeout: 30_000,
      },
      (error, stdout) => {
        const progress = readdirSync(capture)
          .sort()
          .map((file) => JSON.parse(readFileSync(join(capture, file), 'utf8')));
        rmSync(dir, { recursive: true, force: true });
        resolve({ code: error ? Number(error.code) : 0, stdout, progress });
      },
    );
  });
}

describe('transfer document: progress of the sync', () => {
  let run: Run;
  beforeAll(async () => {
    run = await runScript(0, 6);
  }, 30_000);

  it('publishes the counts while aws prints nothing for longer than 5 s, and at the end', () => {
    expect(run.code, run.stdout).toBe(0);
    expect(run.progress).toHaveLength(2);
    expect(run.progress[0]).toEqual({
      version: 1,
      phase: 'syncing',
      files: 1,
      deleted: 0,
      completed: '2.0 MiB/3.0 MiB (1.0 MiB/s) with 1 file(s) remaining',
      elapsedSeconds: expect.any(Number),
    });
    expect(run.progress.at(-1)).toMatchObject({
      phase: 'synced',
      files: 2,
      deleted: 0,
      completed: '3.0 MiB/3.0 MiB (1.0 MiB/s) with 0 file(s) remaining',
    });
    expect(run.progress.at(-1)!.elapsedSeconds).toBeGreaterThanOrEqual(5);
  });

  it('keeps the file lines in the command output, without the progress records', () => {
    expect(run.stdout).toContain('download: s3://demo/in/a.nc to /fsx/in/a.nc\n');
    expect(run.stdout).toContain('download: s3://demo/in/b.nc to /fsx/in/b.nc\n');
    expect(run.stdout).not.toContain('Completed');
    expect(run.stdout).toContain('aws s3 sync exited with 0');
  });

  it('fails with the sync exit code and publishes phase failed; a short sync publishes only its end', async () => {
    const failed = await runScript(2, 0);

    expect(failed.code).toBe(2);
    expect(failed.progress).toEqual([expect.objectContaining({ phase: 'failed', files: 2 })]);
    expect(failed.stdout).toContain('aws s3 sync exited with 2');
  }, 30_000);
});
