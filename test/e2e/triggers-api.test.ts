/**
 * The transfers API on the local cloud: the real HTTP API routes of serverless.yml, SigV4 verified
 * (API Gateway's AWS_IAM), the real handlers, the real state machine; data checked on both sides.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  configYaml,
  eventually,
  FS_ID,
  fsxDir,
  instancesOf,
  putTree,
  s3Tree,
  sha256,
  sleep,
  startWorld,
  type World,
} from './ec2-helpers.js';
import { api, executions, settled } from './trigger-runs.js';

let world: World;

beforeAll(async () => {
  // Plus a DRA mapping, to read a running data repository task's counts through the API.
  world = await startWorld({
    config: configYaml({
      extraMappings: [
        '  - name: inputs-dra',
        `    fileSystemId: ${FS_ID}`,
        '    fsxPath: /inputs-dra',
        '    s3Uri: s3://demo/inputs-dra',
        '    directions: [stage-in]',
        '    method: dra',
      ].join('\n'),
    }),
  });
}, 60_000);

afterAll(async () => {
  await world?.stop();
}, 60_000);

/** Writes model output below /output/<run> on the local Lustre root. */
function writeOutput(run: string, files: Record<string, string>): void {
  for (const [path, body] of Object.entries(files)) {
    const file = join(fsxDir(world, `/output/${run}`), path);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, body);
  }
}

async function finished(id: string, timeoutMs = 120_000) {
  let transfer: any;
  await eventually(
    async () => {
      transfer = (await api(world).get(`/transfers/${id}`)).body;
      return ['SUCCEEDED', 'FAILED', 'ABORTED', 'TIMED_OUT'].includes(transfer.status);
    },
    `transfer ${id} ended`,
    timeoutMs,
  );
  return transfer;
}

describe('the transfers API', () => {
  it('answers 403 to an unsigned request and to a request signed with a wrong secret', async () => {
    const unsigned = await fetch(`${world.cloud.apiUrl}/transfers`, {
      method: 'POST',
      body: JSON.stringify({ mapping: 'output', direction: 'export' }),
    });
    const wrong = await api(world, { accessKeyId: 'test', secretAccessKey: 'not-the-secret' }).post(
      '/transfers',
      {
        mapping: 'output',
        direction: 'export',
      },
    );

    expect(unsigned.status).toBe(403);
    expect(wrong.status).toBe(403);
    expect(wrong.body.message).toMatch(/signature/i);
    expect(await executions(world)).toEqual([]);
  });

  it.each([
    [{ mapping: 'nope', direction: 'export' }, 'mapping'],
    [{ mapping: 'output', direction: 'export', subPath: '../../etc' }, 'subPath'],
    [{ mapping: 'output', direction: 'export', subPath: 'run;rm -rf /' }, 'subPath'],
    [{ mapping: 'output', direction: 'export', subPath: 'run-`id`' }, 'subPath'],
  ])('refuses %j with 400 naming %s, and starts no execution', async (body, field) => {
    const response = await api(world).post('/transfers', body);

    expect(response.status).toBe(400);
    expect(response.headers['content-type']).toContain('application/problem+json');
    expect(response.body.errors.map((e: { field: string }) => e.field)).toContain(field);
    expect(await executions(world)).toEqual([]);
  });

  it('exports model output requested with POST /transfers: 202, the run completes, the files are in S3 byte for byte', async () => {
    const files = { 'OutputDir/GEOSChem.SpeciesConc.nc4': 'species '.repeat(500), 'Logs/run.log': 'done\n' };
    writeOutput('run-api', files);

    const response = await api(world).post('/transfers', {
      mapping: 'output',
      direction: 'export',
      subPath: 'run-api',
    });
    const transfer = await finished(response.body.id);

    expect(response.status).toBe(202);
    expect(response.headers.location).toBe(`/transfers/${response.body.id}`);
    expect(transfer).toMatchObject({
      status: 'SUCCEEDED',
      method: 'ec2',
      trigger: 'api',
      progress: { files: 2 },
    });
    const tree = await s3Tree('output/run-api');
    for (const [path, body] of Object.entries(files)) expect(tree[path]?.sha256).toBe(sha256(body));
    // The completion event follows the execution's end (the status-change rule runs finish-transfer).
    await world.cloud.idle();
    const completion = world.cloud.eventLog.find(
      (e) =>
        e.source === 'fsx-transfer' && (e.detail as { transferId?: string }).transferId === response.body.id,
    );
    expect(completion).toMatchObject({
      'detail-type': 'Transfer Succeeded',
      detail: { mapping: 'output', direction: 'export', status: 'SUCCEEDED', files: 2, verified: true },
    });
  }, 180_000);

  it('returns the same transfer and starts one execution for a repeated Idempotency-Key', async () => {
    writeOutput('run-idem', { 'a.nc': 'a' });
    const headers = { 'idempotency-key': 'model-run-idem' };
    const body = { mapping: 'output', direction: 'export', subPath: 'run-idem' };

    const first = await api(world).post('/transfers', body, headers);
    const second = await api(world).post('/transfers', body, headers);
    const conflict = await api(world).post('/transfers', { ...body, subPath: 'other' }, headers);
    await finished(first.body.id);
    const third = await api(world).post('/transfers', body, headers);

    expect([first.status, second.status, third.status, conflict.status]).toEqual([202, 202, 202, 409]);
    expect(new Set([first.body.id, second.body.id, third.body.id]).size).toBe(1);
    expect((await executions(world)).filter((e) => e.name === first.body.id)).toHaveLength(1);
  }, 180_000);

  it('cancels a running EC2 transfer with DELETE: the execution is aborted and its instance terminated', async () => {
    writeOutput('run-cancel', { 'slow.nc': 'slow' });
    world.cloud.faults.add({ service: 'ssm', behavior: 'command-slow', delayMs: 3_000_000, count: 1 });
    const { body } = await api(world).post('/transfers', {
      mapping: 'output',
      direction: 'export',
      subPath: 'run-cancel',
    });
    await eventually(
      async () => (await api(world).get(`/transfers/${body.id}`)).body.currentState === 'RunTransferCommand',
      'the transfer command runs',
      60_000,
    );

    const cancelled = await api(world).delete(`/transfers/${body.id}`);
    const transfer = await finished(body.id);

    expect(cancelled.status).toBe(202);
    expect(transfer.status).toBe('ABORTED');
    await eventually(
      async () =>
        (await instancesOf(transfer.executionArn)).every((i) =>
          ['shutting-down', 'terminated'].includes(String(i.State?.Name)),
        ),
      'the instance of the cancelled transfer is terminated',
      60_000,
    );
    expect((await instancesOf(transfer.executionArn)).length).toBeGreaterThan(0);
    expect((await api(world).delete(`/transfers/${body.id}`)).status).toBe(409);
  }, 180_000);

  it("shows a running DRA import's task counts as the transfer's progress", async () => {
    await putTree('inputs-dra', { 'a.nc': 'a', 'b.nc': 'bb', 'sub/c.nc': 'ccc' });
    world.cloud.fsx.setFaults({ taskFileDelayMs: 20_000 });
    try {
      const { body } = await api(world).post('/transfers', { mapping: 'inputs-dra', direction: 'stage-in' });
      let progress: any;
      await eventually(
        async () => {
          progress = (await api(world).get(`/transfers/${body.id}`)).body.progress;
          return progress?.source === 'data-repository-task' && progress.totalFiles === 3;
        },
        'the import task counts in GET /transfers/{id}',
        120_000,
      );
      world.cloud.fsx.setFaults({});
      const transfer = await finished(body.id, 180_000);

      expect(progress).toMatchObject({ source: 'data-repository-task', totalFiles: 3 });
      expect(progress.files).toBeLessThanOrEqual(3);
      expect(transfer.status).toBe('SUCCEEDED');
    } finally {
      world.cloud.fsx.setFaults({});
    }
  }, 300_000);

  it('lists transfers page by page, newest first, filtered by status', async () => {
    for (let i = 0; i < 5; i++) {
      await api(world).post('/transfers', {
        mapping: 'output',
        direction: 'export',
        subPath: `dry-${i}`,
        dryRun: true,
      });
      await sleep(5);
    }
    await settled(world);

    const ids: string[] = [];
    let nextToken: string | null = null;
    do {
      const page: any = await api(world).get(
        `/transfers?limit=2${nextToken ? `&nextToken=${nextToken}` : ''}`,
      );
      expect(page.status).toBe(200);
      expect(page.body.transfers.length).toBeLessThanOrEqual(2);
      ids.push(...page.body.transfers.map((t: { id: string }) => t.id));
      nextToken = page.body.nextToken;
    } while (nextToken);
    const succeeded = await api(world).get('/transfers?status=SUCCEEDED&limit=100');

    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.length).toBeGreaterThanOrEqual(8);
    expect(succeeded.body.transfers.every((t: { status: string }) => t.status === 'SUCCEEDED')).toBe(true);
    expect((await api(world).get('/transfers?nextToken=bogus')).status).toBe(400);
  }, 120_000);
});
