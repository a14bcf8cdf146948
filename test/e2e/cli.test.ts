/**
 * The `fsx-transfer` command as a user runs it (a child process of `cli/bin.mjs`): the demo on its
 * own in-process local cloud, and start/status/watch/cancel/plan/doctor against a local cloud
 * running in this test process, read back through the Step Functions API.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import {
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  ListExecutionsCommand,
  type SFNClient,
} from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalCloud, startLocalCloud } from '../../local/cloud.js';
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

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'fsx-transfer-cli-'));
    cloud = await startLocalCloud({
      port: 0,
      dataDir: dir,
      configPath: CONFIG,
      timeScale: 0.01,
      quiet: true,
    });
    env = { ...cloud.env, AWS_ENDPOINT_URL: cloud.endpoint };
    const clients = localClients(cloud.endpoint);
    sfn = clients.sfn();
    const s3 = clients.s3();
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
    });
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

  async function transferArn(): Promise<string> {
    return `arn:aws:states:us-east-1:000000000000:stateMachine:fsx-transfer-local-transfer`;
  }
});
