/**
 * The demo: starts the local cloud in-process, seeds a sample input tree in S3 and model output on
 * the local Lustre root, runs real transfers through the `transfer` state machine (stage-in and export,
 * by DRA and by a transfer instance), started the three ways people use it (like the CLI, by an
 * upload's S3 events, and by a signed `POST /transfers`), checks the data on both sides itself, and
 * prints a summary.
 */
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { DescribeInstancesCommand } from '@aws-sdk/client-ec2';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { ListExecutionsCommand } from '@aws-sdk/client-sfn';
import type { Command } from 'commander';
import { DRA_WAIT_POLLER, startLocalCloud } from '../../local/cloud.js';
import { transfersApi } from '../../shared/api/client.js';
import { getEc2, getS3, getSfn, resetClients } from '../../shared/aws/clients.js';
import { fileSystemFor, findMapping, loadConfig } from '../../shared/config/load.js';
import type { Direction, TransferRequest, Trigger } from '../../shared/config/schema.js';
import { REPORT_FOLDER } from '../../shared/dra/tasks.js';
import { TAG_EXECUTION } from '../../shared/ec2/tags.js';
import { parseS3Uri } from '../../shared/paths.js';
import type { TransferSummary } from '../../shared/plan/schema.js';
import { listObjects } from '../../shared/s3/objects.js';
import {
  findStateMachineArn,
  followTransfer,
  startTransfer,
  stateMachineName,
} from '../../shared/sfn/executions.js';
import { CliError, formatBytes, note, printJson, table } from '../output.js';

type DemoMethod = 'dra' | 'ec2' | 'both';

export interface DemoRun {
  mapping: string;
  direction: Direction;
  /** How the run was started: like `fsx-transfer start`, by S3 events, or through the transfers API. */
  trigger: Trigger;
  method: 'dra' | 'ec2';
  status: string;
  files: number;
  bytes: number;
  verified: boolean;
}

export interface DemoResult {
  runs: DemoRun[];
  leakedInstances: number;
}

interface PlannedRun {
  request: TransferRequest;
  method: 'dra' | 'ec2';
  /** `cli`: started like `fsx-transfer start`; `s3-event`: the upload starts it; `api`: POST /transfers. */
  via: 'cli' | 's3-event' | 'api';
}

/** Deterministic pseudo-random bytes, so the demo data is the same on every machine. */
function sampleBytes(seed: string, size: number): Buffer {
  const out = Buffer.alloc(size);
  let block = createHash('sha256').update(seed).digest();
  for (let offset = 0; offset < size; offset += block.length) {
    block.copy(out, offset, 0, Math.min(block.length, size - offset));
    block = createHash('sha256').update(block).digest();
  }
  return out;
}

/** Sample input in S3 (relative to each mapping's prefix) and model output on FSx. */
const INPUT: Record<string, Array<[string, number]>> = {
  extdata: [
    ['HEMCO/CEDS/v2024-06/2019/CEDS_NO_0.1x0.1_2019.nc', 256 * 1024],
    ['HEMCO/CEDS/v2024-06/2019/CEDS_CO_0.1x0.1_2019.nc', 200 * 1024],
    ['GEOS_0.25x0.3125/MERRA2/2019/01/MERRA2.20190101.A1.025x03125.nc4', 1024 * 1024],
    ['CHEM_INPUTS/Olson_Land_Map_201203/Olson_2001_Land_Map.025x025.generic.nc', 64 * 1024],
    ['README', 0],
  ],
  'blended-tropomi': [
    ['2019/01/S5P_BLND_L2__CH4____20190101T000000.nc', 512 * 1024],
    ['2019/01/S5P_BLND_L2__CH4____20190102T000000.nc', 384 * 1024],
    ['2019/02/S5P_BLND_L2__CH4____20190201T000000.nc', 128 * 1024],
  ],
};
const OUTPUT: Record<string, Array<[string, number]>> = {
  'run-dra': [
    ['OutputDir/GEOSChem.SpeciesConc.20190101_0000z.nc4', 300 * 1024],
    ['OutputDir/GEOSChem.Restart.20190102_0000z.nc4', 150 * 1024],
    ['Logs/imi_output.log', 4 * 1024],
  ],
  'run-ec2': [
    ['OutputDir/GEOSChem.SpeciesConc.20190101_0000z.nc4', 280 * 1024],
    ['Logs/imi_output.log', 3 * 1024],
    ['Logs/empty.log', 0],
  ],
};

/**
 * The runs of the demo, one per way in: the DRA stage-in is started like `fsx-transfer start`,
 * the EC2 stage-in by the upload itself (blended-tropomi has `autoStage`), the DRA export again
 * like the CLI, and the EC2 export by a signed `POST /transfers` after a pretend model run.
 */
function plannedRuns(method: DemoMethod): PlannedRun[] {
  const extdata: PlannedRun = {
    request: { mapping: 'extdata', direction: 'stage-in', method: 'dra', trigger: 'cli' },
    method: 'dra',
    via: 'cli',
  };
  const tropomi: PlannedRun = {
    request: { mapping: 'blended-tropomi', direction: 'stage-in', trigger: 's3-event' },
    method: 'ec2',
    via: 's3-event',
  };
  const exportRun = (subPath: string, m: 'dra' | 'ec2', via: 'cli' | 'api'): PlannedRun => ({
    request: { mapping: 'output', direction: 'export', subPath, method: m, trigger: via },
    method: m,
    via,
  });
  if (method === 'dra') return [extdata, exportRun('run-dra', 'dra', 'cli')];
  if (method === 'ec2') return [tropomi, exportRun('run-ec2', 'ec2', 'api')];
  return [extdata, tropomi, exportRun('run-dra', 'dra', 'cli'), exportRun('run-ec2', 'ec2', 'api')];
}

async function uploadInput(bucket: string, prefix: string, mapping: string): Promise<void> {
  for (const [key, size] of INPUT[mapping] ?? []) {
    const Key = [prefix, key].filter(Boolean).join('/');
    await getS3().send(new PutObjectCommand({ Bucket: bucket, Key, Body: sampleBytes(Key, size) }));
  }
}

/**
 * The run S3 events started for `mapping` (named `s3-<mapping>-<hash of its events>`): the first
 * one, once the trigger started it.
 */
async function eventRun(stateMachineArn: string, mapping: string): Promise<string> {
  const name = new RegExp(`^s3-${mapping}-[0-9a-f]+$`);
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    const page = await getSfn().send(new ListExecutionsCommand({ stateMachineArn, maxResults: 1000 }));
    const runs = (page.executions ?? []).filter((e) => name.test(e.name ?? ''));
    const first = runs.sort((a, b) => (a.startDate?.getTime() ?? 0) - (b.startDate?.getTime() ?? 0))[0];
    if (first?.executionArn) return first.executionArn;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new CliError(`no run started for the upload to ${mapping} within 2 minutes (is autoStage set?)`);
}

async function ensureBucket(bucket: string): Promise<void> {
  try {
    await getS3().send(new CreateBucketCommand({ Bucket: bucket }));
  } catch (error) {
    if (
      (error as Error).name !== 'BucketAlreadyOwnedByYou' &&
      (error as Error).name !== 'BucketAlreadyExists'
    )
      throw error;
  }
}

async function listS3(bucket: string, prefix: string): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  const base = prefix ? `${prefix}/` : '';
  for await (const object of listObjects(getS3(), bucket, base)) {
    const body = await getS3().send(new GetObjectCommand({ Bucket: bucket, Key: object.key }));
    const bytes = Buffer.from(await body.Body!.transformToByteArray());
    files.set(object.key.slice(base.length), createHash('sha256').update(bytes).digest('hex'));
  }
  return files;
}

async function listDir(
  root: string,
  dir = root,
  files = new Map<string, string>(),
): Promise<Map<string, string>> {
  let entries: import('node:fs').Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return files;
  }
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) await listDir(root, path, files);
    else if (entry.isFile())
      files.set(
        relative(root, path),
        createHash('sha256')
          .update(await readFile(path))
          .digest('hex'),
      );
  }
  return files;
}

/** Our own check, independent of the state machine's: same names and same bytes on both sides. */
async function sameOnBothSides(fsDir: string, bucket: string, prefix: string, restore?: () => Promise<void>) {
  await restore?.();
  const [onFsx, inS3] = await Promise.all([listDir(fsDir), listS3(bucket, prefix)]);
  // Data repository task completion reports live inside the mapping's S3 prefix (FSx requires it).
  for (const key of [...inS3.keys()]) if (key.startsWith(`${REPORT_FOLDER}/`)) inS3.delete(key);
  if (onFsx.size !== inS3.size || onFsx.size === 0) return false;
  for (const [key, hash] of inS3) if (onFsx.get(key) !== hash) return false;
  return true;
}

async function countLeakedInstances(): Promise<number> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    // Transfer instances carry the execution tag; a configured Lustre client is not ours to stop.
    const out = await getEc2().send(
      new DescribeInstancesCommand({ Filters: [{ Name: 'tag-key', Values: [TAG_EXECUTION] }] }),
    );
    const states = (out.Reservations ?? []).flatMap((r) => r.Instances ?? []).map((i) => i.State?.Name);
    const alive = states.filter((state) => state !== 'terminated').length;
    if (alive === 0 || Date.now() > deadline) return alive;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

export async function runDemo(options: {
  method: DemoMethod;
  json: boolean;
  keep: boolean;
  timeScale: number;
}) {
  const log = options.json ? () => {} : note;
  const configPath = process.env.FSX_TRANSFER_CONFIG ?? 'fsx-transfer.config.yaml';
  const config = loadConfig(configPath);
  const dataDir = await mkdtemp(join(tmpdir(), 'fsx-transfer-demo-'));
  log(`starting the local cloud (data in ${dataDir})`);
  const cloud = await startLocalCloud({
    port: 0,
    dataDir,
    configPath,
    timeScale: options.timeScale,
    quiet: true,
    // FSx has no completion event: the DRA runs end through the wait poller's schedule, as on AWS.
    schedules: [DRA_WAIT_POLLER],
  });
  Object.assign(process.env, cloud.env, { FSX_TRANSFER_CONFIG: configPath });
  resetClients();
  try {
    log(`local cloud on ${cloud.endpoint}`);
    const runs = plannedRuns(options.method);

    // Seed: input trees in S3 and model output on the Lustre root.
    for (const run of runs) {
      const mapping = findMapping(config, run.request.mapping);
      const { bucket, prefix } = parseS3Uri(mapping.s3Uri);
      await ensureBucket(bucket);
      if (run.via === 's3-event') continue; // uploaded in its own step: the upload starts the run
      if (run.request.direction === 'stage-in') {
        await uploadInput(bucket, prefix, mapping.name);
        log(`seeded s3://${bucket}/${prefix} with ${(INPUT[mapping.name] ?? []).length} files`);
      } else {
        const root = cloud.fsx.fileSystemRoot(mapping.fileSystemId);
        const files = OUTPUT[run.request.subPath ?? ''] ?? [];
        for (const [path, size] of files) {
          const file = join(root, mapping.fsxPath, run.request.subPath ?? '', path);
          await mkdir(dirname(file), { recursive: true });
          await writeFile(file, sampleBytes(file, size));
        }
        log(
          `wrote ${files.length} model output files to ${join(mapping.fsxPath, run.request.subPath ?? '')} on FSx`,
        );
      }
    }

    const stateMachineArn = await findStateMachineArn(getSfn(), stateMachineName('transfer'));
    const results: DemoRun[] = [];
    for (const run of runs) {
      const { request } = run;
      const label = `${request.mapping} ${request.direction}${request.subPath ? ` ${request.subPath}` : ''} by ${run.method.toUpperCase()}`;
      const began = Date.now();
      const onState = ({ state }: { state: string }) =>
        log(`  ${((Date.now() - began) / 1000).toFixed(1).padStart(5)}s  ${state}`);
      let executionArn: string;
      if (run.via === 'cli') {
        log(`\n▶ ${label}, started like fsx-transfer start`);
        executionArn = (await startTransfer(getSfn(), stateMachineArn, request)).executionArn;
      } else if (run.via === 's3-event') {
        const mapping = findMapping(config, request.mapping);
        const { bucket, prefix } = parseS3Uri(mapping.s3Uri);
        log(`\n▶ ${label}: new input uploaded to s3://${bucket}/${prefix}, staged with no other action`);
        await uploadInput(bucket, prefix, mapping.name);
        log(
          `  uploaded ${(INPUT[mapping.name] ?? []).length} files; S3 events -> rule -> queue -> s3-event-trigger`,
        );
        executionArn = await eventRun(stateMachineArn, mapping.name);
      } else {
        log(
          `\n▶ ${label}: the model run is done; its pipeline asks for the export with a signed POST /transfers`,
        );
        const api = transfersApi(cloud.apiUrl, {
          region: cloud.region,
          credentials: {
            accessKeyId: cloud.env.AWS_ACCESS_KEY_ID!,
            secretAccessKey: cloud.env.AWS_SECRET_ACCESS_KEY!,
          },
        });
        const { trigger: _trigger, ...body } = request;
        const response = await api.post('/transfers', body, { 'idempotency-key': `demo-${request.subPath}` });
        if (response.status !== 202)
          throw new CliError(`POST /transfers answered ${response.status}: ${JSON.stringify(response.body)}`);
        log(`  ${response.status} Accepted, Location: ${response.headers.location}`);
        executionArn = response.body.links.execution;
      }
      const described = await followTransfer(getSfn(), executionArn, { intervalMs: 100, onState });
      const summary = described.output ? (JSON.parse(described.output) as TransferSummary) : undefined;
      const mapping = findMapping(config, request.mapping);
      const fs = fileSystemFor(config, mapping);
      const { bucket, prefix } = parseS3Uri(mapping.s3Uri);
      const scopePrefix = [prefix, request.subPath].filter(Boolean).join('/');
      const fsDir = join(cloud.fsx.fileSystemRoot(fs.id), mapping.fsxPath, request.subPath ?? '');
      // DRA imports are lazy: restore contents (as `lfs hsm_restore` would) before comparing bytes.
      const restore =
        run.method === 'dra' && request.direction === 'stage-in'
          ? async () => {
              await cloud.fsx.restore(fs.id, join(mapping.fsxPath, request.subPath ?? ''));
            }
          : undefined;
      const checked =
        described.status === 'SUCCEEDED' && (await sameOnBothSides(fsDir, bucket, scopePrefix, restore));
      const result: DemoRun = {
        mapping: request.mapping,
        direction: request.direction,
        trigger: run.via,
        method: summary?.method ?? run.method,
        status: described.status ?? 'UNKNOWN',
        files: summary?.files ?? 0,
        bytes: summary?.bytes ?? 0,
        verified: Boolean(summary?.verified) && checked,
      };
      results.push(result);
      if (described.status !== 'SUCCEEDED') log(`  ✗ ${described.error}: ${described.cause}`);
      else log(`  ✓ ${result.files} files, ${formatBytes(result.bytes)}, verified: ${result.verified}`);
    }

    const leakedInstances = await countLeakedInstances();
    const outcome: DemoResult = { runs: results, leakedInstances };
    if (options.json) printJson(outcome);
    else {
      note(
        `\n${table(
          ['mapping', 'direction', 'trigger', 'method', 'status', 'files', 'bytes', 'verified'],
          results.map((r) => [
            r.mapping,
            r.direction,
            r.trigger,
            r.method,
            r.status,
            r.files,
            formatBytes(r.bytes),
            r.verified ? 'yes' : 'no',
          ]),
        )}`,
      );
      note(`transfer instances left running: ${leakedInstances}`);
    }
    const ok = results.every((run) => run.status === 'SUCCEEDED' && run.verified) && leakedInstances === 0;
    return ok ? 0 : 1;
  } finally {
    await cloud.stop();
    if (!options.keep) await rm(dataDir, { recursive: true, force: true });
    else log(`kept the local cloud data in ${dataDir}`);
  }
}

export function registerDemoCommand(program: Command): void {
  program
    .command('demo')
    .description(
      'run the end-to-end demo on an in-process local cloud: stage-in and export by DRA and by EC2, started by the CLI, by S3 events and through the transfers API',
    )
    .option('--method <method>', 'dra, ec2 or both', 'both')
    .option('--time-scale <factor>', 'speed of simulated AWS delays (1 = real time)', Number, 0.01)
    .option('--keep', 'keep the local cloud data directory')
    .option('--json', 'print one JSON summary on the last line')
    .action(async (options: { method: string; timeScale: number; keep?: boolean; json?: boolean }) => {
      if (!['dra', 'ec2', 'both'].includes(options.method)) {
        throw new CliError(`--method: must be dra, ec2 or both (got ${options.method})`);
      }
      process.exitCode = await runDemo({
        method: options.method as DemoMethod,
        json: Boolean(options.json),
        keep: Boolean(options.keep),
        timeScale: options.timeScale,
      });
    });
}
