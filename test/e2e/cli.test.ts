/**
 * The `fsx-transfer` command as a user runs it (a child process of `cli/bin.mjs`): the demo on its
 * own in-process local cloud, and start/status/watch/cancel/plan/doctor against a local cloud
 * running in this test process, read back through the Step Functions API.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import {
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  ListExecutionsCommand,
  type SFNClient,
} from '@aws-sdk/client-sfn';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DRA_WAIT_POLLER, type LocalCloud, startLocalCloud } from '../../local/cloud.js';
import { getRecord } from '../../shared/transfers/records.js';
import { getTransfer, type TransferProgress } from '../../shared/transfers/view.js';
import { localClients } from '../support/local-clients.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BIN = join(ROOT, 'cli/bin.mjs');
const CONFIG = join(ROOT, 'fsx-transfer.config.yaml');

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function cli(args: string[], env: Record<string, string> = {}, timeout = 120_000): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      {
        cwd: ROOT,
        env: { ...process.env, ...env, FSX_TRANSFER_CONFIG: CONFIG },
        timeout,
        maxBuffer: 16 << 20,
      },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

const lastJson = (run: Run) => JSON.parse(run.stdout.trim().split('\n').at(-1) ?? 'null');

describe('fsx-transfer demo', () => {
  it('stages in and exports by DRA and by EC2, verified on both sides, with no instance left', async () => {
    const run = await cli(['demo', '--json']);

    expect(run.code, run.stderr).toBe(0);
    const summary = lastJson(run);
    expect(summary.leakedInstances).toBe(0);
    expect(
      summary.runs.map((r: { method: string; direction: string }) => `${r.direction}/${r.method}`),
    ).toEqual(['stage-in/dra', 'stage-in/ec2', 'export/dra', 'export/ec2']);
    for (const r of summary.runs) {
      expect(r).toMatchObject({ status: 'SUCCEEDED', verified: true });
      expect(r.files).toBeGreaterThan(0);
    }
  }, 180_000);
});

describe('fsx-transfer against a running local cloud', () => {
  let cloud: LocalCloud;
  let dir: string;
  let env: Record<string, string>;
  let sfn: SFNClient;
  let s3: S3Client;
  let clients: ReturnType<typeof localClients>;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'fsx-transfer-cli-'));
    cloud = await startLocalCloud({
      port: 0,
      dataDir: dir,
      configPath: CONFIG,
      timeScale: 0.01,
      quiet: true,
      schedules: [DRA_WAIT_POLLER],
    });
    env = { ...cloud.env, AWS_ENDPOINT_URL: cloud.endpoint };
    clients = localClients(cloud.endpoint);
    sfn = clients.sfn();
    s3 = clients.s3();
    await s3.send(
      new PutObjectCommand({ Bucket: 'demo', Key: 'blended-tropomi/2019/01/a.nc', Body: 'tropomi' }),
    );
  }, 60_000);

  afterAll(async () => {
    await cloud?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('start --wait runs the transfer state machine; status and the history are readable', async () => {
    const started = await cli(
      ['start', 'blended-tropomi', 'stage-in', '--transfer-id', 'cli-stage-in', '--wait', '--json'],
      env,
    );
    const status = await cli(['status', 'cli-stage-in', '--json'], env);
    const history = await sfn.send(
      new GetExecutionHistoryCommand({ executionArn: lastJson(status).executionArn, maxResults: 1000 }),
    );

    expect(started.code, started.stderr).toBe(0);
    expect(lastJson(started)).toMatchObject({
      status: 'SUCCEEDED',
      output: { method: 'ec2', files: 1, verified: true },
      progress: { files: 1, bytes: 7, source: 'summary' },
      cost: { final: true, instances: [{ instanceType: 'c6i.large' }] },
    });
    expect(lastJson(started).cost.usd).toBeGreaterThan(0);
    expect(lastJson(started).cost.transitions.count).toBeGreaterThan(5);
    expect(lastJson(status)).toMatchObject({ name: 'cli-stage-in', status: 'SUCCEEDED' });
    const staged = join(cloud.fsx.fileSystemRoot('fs-00000000000000001'), 'blended-tropomi/2019/01/a.nc');
    expect(readFileSync(staged, 'utf8')).toBe('tropomi');
    const entered = history.events!.flatMap((e) => e.stateEnteredEventDetails?.name ?? []);
    expect(entered).toEqual(
      expect.arrayContaining(['Validate', 'LaunchInstance', 'TerminateInstance', 'Succeed']),
    );
  }, 120_000);

  it('plan shows the resolved method and reasons and starts nothing', async () => {
    const before = await sfn.send(new ListExecutionsCommand({ stateMachineArn: await transferArn() }));

    const plan = await cli(['plan', 'blended-boundary-conditions', 'stage-in', '--json'], env);
    const after = await sfn.send(new ListExecutionsCommand({ stateMachineArn: await transferArn() }));

    expect(plan.code, plan.stderr).toBe(0);
    expect(lastJson(plan)).toMatchObject({ mapping: 'blended-boundary-conditions', method: 'dra' });
    expect(after.executions).toHaveLength(before.executions!.length);
  }, 60_000);

  it('plan --json has the scope from a listing and a duration and cost for each method', async () => {
    await s3.send(
      new PutObjectCommand({
        Bucket: 'demo',
        Key: 'blended-boundary-conditions/2019/bc.nc',
        Body: 'x'.repeat(2048),
      }),
    );

    const plan = await cli(['plan', 'blended-boundary-conditions', 'stage-in', '--json'], env);
    const text = await cli(['plan', 'blended-boundary-conditions', 'stage-in'], env);

    expect(plan.code, plan.stderr).toBe(0);
    const report = lastJson(plan);
    expect(report.scope).toMatchObject({
      files: 1,
      bytes: 2048,
      largestFile: { path: '2019/bc.nc', bytes: 2048 },
      source: 's3-listing',
    });
    for (const method of ['dra', 'ec2']) {
      expect(report.estimates[method]).toMatchObject({ possible: true });
      expect(report.estimates[method].seconds).toBeGreaterThan(0);
      expect(report.estimates[method].usd).toBeGreaterThan(0);
    }
    expect(report.checks.map((c: { code: string }) => c.code)).toContain('LUSTRE_VERSION');
    expect(report.checks.find((c: { code: string }) => c.code === 'PRELOAD_CLIENT').status).toBe('skipped');
    expect(report.fileSystem).toMatchObject({
      deploymentType: 'PERSISTENT_2',
      throughputMBps: expect.any(Number),
    });
    expect(text.stdout).toMatch(/scope +1 file, 2\.0 KiB, largest 2\.0 KiB \(2019\/bc\.nc\)/);
    expect(text.stdout).toMatch(/dra \(chosen\) +\d/);
  }, 60_000);

  it('plan of an export estimates only a given size, and says why otherwise', async () => {
    const unknown = await cli(['plan', 'output', 'export', '--json'], env);
    const given = await cli(
      ['plan', 'output', 'export', '--files', '1200', '--bytes', '80GiB', '--json'],
      env,
    );

    expect(unknown.code, unknown.stderr).toBe(0);
    expect(lastJson(unknown).scope).toMatchObject({ files: null, bytes: null, source: 'unknown' });
    expect(lastJson(unknown).estimates.ec2).toMatchObject({ seconds: null, usd: null });
    expect(lastJson(unknown).estimates.ec2.reason).toMatch(
      /cannot be listed from here: give --files and --bytes/,
    );
    expect(lastJson(given).scope).toMatchObject({ files: 1200, bytes: 80 * 1024 ** 3, source: 'given' });
    expect(lastJson(given).estimates.ec2.seconds).toBeGreaterThan(600);
  }, 60_000);

  it('plan shows the run deadline that follows the estimate of a transfer of days', async () => {
    const args = ['plan', 'output', 'export', '--files', '1000000', '--bytes', '30TB'];

    const json = await cli([...args, '--json'], env);
    const text = await cli(args, env);

    expect(json.code, json.stderr).toBe(0);
    const report = lastJson(json);
    const estimate = report.estimates[report.method].seconds;
    expect(estimate).toBeGreaterThan(86_400);
    // 2 x the estimate, not the configured 240 minutes (the old limit was 24 h).
    expect(report.plan.timeouts.transferMinutes).toBe(240);
    expect(report.plan.timeouts.runMinutes).toBe(Math.ceil((2 * Math.ceil(estimate)) / 60));
    expect(report.plan.timeouts.waitSeconds).toBeGreaterThan(report.plan.timeouts.runMinutes * 60);
    expect(Date.parse(report.plan.deadline) - Date.now()).toBeGreaterThan(2 * estimate * 1000);
    expect(text.stdout).toMatch(/deadline: \d+h \d+m after the run gets its turn, from the estimate x 2 \(/);
  }, 60_000);

  it("plan --verify checksum includes the checksums phase in the DRA estimate: the configured Lustre client's read", async () => {
    const args = [
      'plan',
      'blended-boundary-conditions',
      'stage-in',
      '--files',
      '1200',
      '--bytes',
      '80GiB',
      '--json',
    ];
    const size = lastJson(await cli(args, env));
    const checked = await cli([...args, '--verify', 'checksum'], env);

    expect(checked.code, checked.stderr).toBe(0);
    // fsx-transfer.config.yaml names a Lustre client for the file system: nothing is launched.
    const dra = lastJson(checked).estimates.dra;
    const phase = dra.phases.find(
      (p: { name: string }) => p.name === 'checksums on the Lustre client (read every file)',
    );
    expect(phase?.seconds).toBeGreaterThan(0);
    expect(dra.seconds).toBeCloseTo(size.estimates.dra.seconds + phase.seconds, 3);
    expect(dra.costs.instances).toBe(0);
    expect(dra.notes.join(' ')).toContain('on the configured Lustre client');
  }, 60_000);

  it('exits 3 when a prerequisite is not met, and 2 with one line naming a bad argument', async () => {
    const otherConfig = join(dir, 'unknown-file-system.yaml');
    writeFileSync(
      otherConfig,
      readFileSync(CONFIG, 'utf8').replaceAll('fs-00000000000000001', 'fs-00000000000000009'),
    );

    const filtered = join(dir, 'dra-with-filters.yaml');
    writeFileSync(
      filtered,
      readFileSync(CONFIG, 'utf8').replace('    method: dra\n', "    method: dra\n    include: ['*.nc']\n"),
    );

    const missingFs = await cli(['--config', otherConfig, 'plan', 'extdata', 'stage-in'], env);
    const draImpossible = await cli(['--config', filtered, 'plan', 'extdata', 'stage-in', '--json'], env);
    const missingArg = await cli(['start', 'extdata'], env);
    const badMethod = await cli(['plan', 'extdata', 'stage-in', '--method', 'fast'], env);
    const badLimit = await cli(['list', '--limit', '0', '--json'], env);

    expect(missingFs.code).toBe(3);
    expect(missingFs.stderr).toMatch(
      /FileSystemNotFoundError: File system fs-00000000000000009 does not exist/,
    );
    expect(draImpossible.code).toBe(3);
    expect(lastJson(draImpossible)).toMatchObject({
      method: null,
      requestedMethod: 'dra',
      estimates: { dra: { possible: false, seconds: null }, ec2: { possible: true } },
    });
    expect(lastJson(draImpossible).estimates.dra.reason).toMatch(/FILTERS/);
    expect(lastJson(draImpossible).checks).toContainEqual(
      expect.objectContaining({ code: 'FILTERS', status: 'fail', fix: expect.any(String) }),
    );
    expect(missingArg.code).toBe(2);
    expect(missingArg.stderr.trim().split('\n')).toEqual([
      "error: missing required argument 'direction' (see fsx-transfer start --help)",
    ]);
    expect(badMethod.code).toBe(2);
    expect(badMethod.stderr).toMatch(/^error: option '--method <method>' argument 'fast' is invalid/);
    expect(badLimit.code).toBe(2);
    expect(lastJson(badLimit)).toMatchObject({ error: 'UsageError', exitCode: 2 });
    expect(lastJson(badLimit).message).toMatch(/--limit/);
  }, 60_000);

  it('list shows recent runs with their status and cost, filtered by mapping and status', async () => {
    await cli(
      ['start', 'blended-tropomi', 'stage-in', '--transfer-id', 'cli-listed', '--wait', '--json'],
      env,
    );
    await waitForRecordCost('cli-listed');

    const all = await cli(['list', '--json'], env);
    const filtered = await cli(['list', '--mapping', 'extdata', '--status', 'SUCCEEDED', '--json'], env);
    const text = await cli(['list', '--mapping', 'blended-tropomi'], env);

    expect(all.code, all.stderr).toBe(0);
    const listed = lastJson(all).transfers.find((t: { id: string }) => t.id === 'cli-listed');
    expect(listed).toMatchObject({
      mapping: 'blended-tropomi',
      status: 'SUCCEEDED',
      trigger: 'cli',
      method: 'ec2',
    });
    expect(listed.cost.usd).toBeGreaterThan(0);
    expect(lastJson(filtered).transfers.every((t: { mapping: string }) => t.mapping === 'extdata')).toBe(
      true,
    );
    expect(text.stdout).toMatch(
      /^ID +MAPPING +DIRECTION +TRIGGER +STATUS +METHOD +FILES +BYTES +COST +CREATED +TOOK/,
    );
    expect(text.stdout).toMatch(
      /cli-listed +blended-tropomi +stage-in +cli +SUCCEEDED +ec2 +1 +7 B +\$0\.\d+/,
    );
  }, 120_000);

  it('publishes progress while an EC2 sync runs, which status and the API read', async () => {
    for (let i = 0; i < 40; i += 1) {
      await s3.send(
        new PutObjectCommand({
          Bucket: 'demo',
          Key: `blended-boundary-conditions/progress/f-${i}.nc`,
          Body: Buffer.alloc(1024 * 1024, i),
        }),
      );
    }
    const deps = {
      db: DynamoDBDocumentClient.from(clients.dynamodb()),
      table: 'fsx-transfer-local-transfers',
      sfn,
      stateMachineArn: await transferArn(),
      live: { s3, fsx: clients.fsx() },
    };
    const seen: TransferProgress[] = [];
    // Two of the sync's downloads take 6 s (simulated 10 minutes): the sync outlasts one 5-second
    // publishing interval.
    cloud.faults.add({
      service: 's3',
      operation: 'GetObject',
      delayMs: 600_000,
      count: 2,
      match: { Key: 'blended-boundary-conditions/progress/f-1*' },
    });

    const started = cli(
      [
        'start',
        'blended-boundary-conditions',
        'stage-in',
        '--method',
        'ec2',
        '--sub-path',
        'progress',
        '--transfer-id',
        'cli-progress',
        '--wait',
        '--json',
      ],
      env,
    );
    for (;;) {
      const view = await viewOrUndefined();
      if (view?.progress.source === 'sync') seen.push(view.progress);
      if (view && ['SUCCEEDED', 'FAILED', 'ABORTED', 'TIMED_OUT'].includes(view.status)) break;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    const run = await started;
    const object = await s3.send(
      new GetObjectCommand({ Bucket: 'demo', Key: '.fsx-transfer/progress/cli-progress.json' }),
    );

    expect(run.code, run.stderr).toBe(0);
    // Published mid-sync: some files done, not all.
    expect(seen.some((p) => p.phase === 'syncing' && p.files! > 0 && p.files! < 40)).toBe(true);
    expect(JSON.parse(await object.Body!.transformToString())).toMatchObject({ phase: 'synced', files: 40 });
    expect(lastJson(run).progress).toMatchObject({ files: 40, bytes: 40 * 1024 * 1024 });

    async function viewOrUndefined() {
      try {
        return await getTransfer(deps, 'cli-progress');
      } catch {
        return undefined;
      }
    }
  }, 180_000);

  it('refuses bad input naming the field and the rule, and starts no execution', async () => {
    const before = await sfn.send(new ListExecutionsCommand({ stateMachineArn: await transferArn() }));

    const badSubPath = await cli(['start', 'extdata', 'stage-in', '--sub-path', '../etc', '--json'], env);
    const badMapping = await cli(['start', 'ext;data', 'stage-in', '--json'], env);
    const badDirection = await cli(['start', 'extdata', 'export', '--json'], env);
    const after = await sfn.send(new ListExecutionsCommand({ stateMachineArn: await transferArn() }));

    expect([badSubPath.code, badMapping.code, badDirection.code]).toEqual([2, 2, 2]);
    expect(lastJson(badSubPath)).toMatchObject({
      error: 'InvalidRequestError',
      message: expect.stringMatching(/subPath: .*\.\./),
    });
    expect(lastJson(badMapping).message).toMatch(/mapping: must be 1-40 lowercase letters/);
    expect(lastJson(badDirection).message).toMatch(/direction: export is not allowed by mapping extdata/);
    expect(after.executions).toHaveLength(before.executions!.length);
  }, 60_000);

  it('cancel stops a run (ABORTED)', async () => {
    await cli(['start', 'blended-tropomi', 'stage-in', '--transfer-id', 'cli-cancel', '--json'], env);

    const cancelled = await cli(['cancel', 'cli-cancel', '--json'], env);
    const status = await cli(['status', 'cli-cancel', '--json'], env);

    expect(cancelled.code, cancelled.stderr).toBe(0);
    expect(lastJson(status).status).toBe('ABORTED');
  }, 60_000);

  it("local schedule fires a mapping's config schedule: a run with the schedule's request starts", async () => {
    const before = await sfn.send(new ListExecutionsCommand({ stateMachineArn: await transferArn() }));

    const fired = await cli(['local', 'schedule', 'output', '--direction', 'export', '--json'], env);
    const missing = await cli(['local', 'schedule', 'extdata', '--json'], env);
    const after = await sfn.send(new ListExecutionsCommand({ stateMachineArn: await transferArn() }));

    expect(fired.code, fired.stderr).toBe(0);
    expect(lastJson(fired)).toMatchObject({ mapping: 'output', fired: [expect.any(String)] });
    const started = after.executions!.filter(
      (e) => !before.executions!.some((b) => b.executionArn === e.executionArn),
    );
    expect(started).toHaveLength(1);
    const described = await sfn.send(
      new DescribeExecutionCommand({ executionArn: started[0]!.executionArn }),
    );
    expect(JSON.parse(described.input!)).toEqual({
      mapping: 'output',
      direction: 'export',
      trigger: 'schedule',
    });
    expect(missing.code).toBe(2);
    expect(lastJson(missing).message).toContain('has no schedule');
  }, 60_000);

  it('doctor reports every mapping with what auto resolves to', async () => {
    const doctor = await cli(['doctor', '--json'], env);

    const report = lastJson(doctor);
    expect(report.mappings.map((m: { mapping: string }) => m.mapping)).toEqual([
      'extdata',
      'blended-tropomi',
      'blended-boundary-conditions',
      'output',
    ]);
    expect(report.mappings.find((m: { mapping: string }) => m.mapping === 'extdata').autoResolvesTo).toBe(
      'dra',
    );
    // Every check has a status, and the counts add up to them.
    const statuses = report.mappings.flatMap((m: { reasons: { status: string }[] }) =>
      m.reasons.map((r) => r.status),
    );
    expect(new Set(statuses).size).toBeGreaterThan(0);
    expect(statuses.every((s: string) => ['ok', 'warn', 'fail', 'skipped'].includes(s))).toBe(true);
    const counts = report.counts as Record<string, number>;
    expect(Object.values(counts).reduce((a, b) => a + b, 0)).toBe(statuses.length);
  }, 60_000);

  /** finish-transfer records the cost once the execution's end reaches it. */
  async function waitForRecordCost(id: string): Promise<void> {
    const db = DynamoDBDocumentClient.from(clients.dynamodb());
    for (let i = 0; i < 100; i += 1) {
      const record = await getRecord({ db, table: 'fsx-transfer-local-transfers' }, id);
      if (record?.cost) return;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    throw new Error(`no cost recorded for ${id}`);
  }

  async function transferArn(): Promise<string> {
    return `arn:aws:states:us-east-1:000000000000:stateMachine:fsx-transfer-local-transfer`;
  }
});
