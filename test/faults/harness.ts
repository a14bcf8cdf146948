/**
 * The fault matrix's harness: one local cloud per test file, and `runScenario`, which injects one
 * fault, runs the transfer while it is active, clears it, and then proves what issue 11 asks of
 * every fault:
 *
 * - no instance is left running (every instance launched is terminated, and every one was
 *   launched with IMDSv2 required, no public IP and an encrypted root volume);
 * - S3 objects and FSx files outside the run's scope are unchanged (sha256 of every object and
 *   file before and after; the scope is the destination of the run's mapping, plus fsx-transfer's
 *   own listings and completion reports);
 * - the run either succeeded and its destination is complete (checked here against the source,
 *   not through the product's own verification), or it ended with the error the scenario names,
 *   a class of shared/errors.ts (or ABORTED / TIMED_OUT for a stopped / timed-out execution), and
 *   its completion event says so;
 * - a second run after the fault clears completes, with a complete destination;
 * - no log line carries a task token.
 *
 * Each scenario test records `{leaked, lost}` in its meta; test/faults/reporter.ts sums them into
 * the matrix's one-line verdict.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import {
  CreateBucketCommand,
  GetObjectCommand,
  ListBucketsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import { expect } from 'vitest';
import type { InstanceRecord } from '../../local/ec2/core.js';
import { getS3, resetClients } from '../../shared/aws/clients.js';
import { loadConfig } from '../../shared/config/load.js';
import type { Config, MappingConfig, TransferRequest } from '../../shared/config/schema.js';
import { TAG_EXECUTION } from '../../shared/ec2/tags.js';
import { ERROR_CLASSES, type ErrorName } from '../../shared/errors.js';
import { parseS3Uri } from '../../shared/paths.js';
import {
  eventually,
  instancesNotTerminated,
  startTransfer,
  startWorld,
  type World,
  waitForExecution,
} from '../e2e/ec2-helpers.js';

/** The faults of issue 11's list (the matrix's columns; test/unit/faults-matrix.test.ts checks each appears). */
export const FAULT_KINDS = [
  'throttling',
  '5xx',
  'insufficient-capacity',
  'agent-never-online',
  'command-failure',
  'command-timeout',
  'dra-misconfigured',
  'dra-failed',
  'task-failed',
  'task-partial-failure',
  'task-slot-busy',
  'lambda-crash',
  'lambda-timeout',
  'execution-stopped',
  'execution-timed-out',
  'sqs-redelivery',
  'dynamodb-conflict',
  'lost-event',
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

/** How the run must end while the fault is active. */
export type Expected = 'SUCCEEDED' | 'ABORTED' | 'TIMED_OUT' | ErrorName;

export interface Outcome {
  executionArn: string;
  status: string;
  error?: string;
  cause?: string;
}

export interface ScenarioContext {
  world: FaultWorld;
  /** The request of both runs (the faulted one and the one after the fault clears). */
  request: TransferRequest;
  /** Starts the request as a run (CLI-style), returning its execution ARN. */
  start(request?: TransferRequest): Promise<string>;
  /** Locations the scenario itself wrote while the fault was active (an upload that triggers a run). */
  written: string[];
}

export interface Scenario {
  /** The state of the transfer state machine (or the trigger) that the fault hits. */
  state: string;
  fault: FaultKind;
  /** What is injected, in a few words (the test name). */
  what: string;
  expect: Expected;
  request: TransferRequest;
  /** Sets the scene before the fault (data, associations); `before` is taken after it. */
  setup?(ctx: ScenarioContext): Promise<void> | void;
  /** Injects the fault (fault rules, FSx faults, replaced functions). */
  inject(ctx: ScenarioContext): Promise<void> | void;
  /** False when the run's trigger adds its own data (S3 events): no new source file is put first. */
  freshSourceFile?: boolean;
  /** Runs the transfer while the fault is active (default: start the request, wait for its end). */
  act?(ctx: ScenarioContext): Promise<Outcome>;
  /** Clears the fault after the run, doing what the documented recovery does (default: remove every rule). */
  clear?(ctx: ScenarioContext): Promise<void> | void;
  /** Real ms the faulted run may take (default 60 s). */
  timeoutMs?: number;
}

export interface FaultWorld extends World {
  config: Config;
  /** Every task token a function was given, to check that no log line carries one. */
  taskTokens(): string[];
  /** The log lines the functions wrote (captured at INFO level, not printed). */
  logLines: string[];
}

export const FS_ID = 'fs-00000000000000001';
export const BUCKET = 'faults';
/** A bucket no mapping uses: it must never change. */
export const OTHER_BUCKET = 'faults-untouched';

/** Files every world starts with outside every run's scope (look-alike prefixes included). */
const PROTECTED_OBJECTS: Record<string, string> = {
  [`s3://${BUCKET}/other/keep.nc`]: 'other data',
  [`s3://${OTHER_BUCKET}/keep.nc`]: 'another bucket',
};

/**
 * Starts one local cloud for a test file with `config` (YAML), one SDK attempt per call (throttling
 * and 5xx must reach the state machine's Retry, not be hidden by the SDK), functions' logs captured,
 * and files outside every mapping to protect.
 */
export async function startFaultWorld(configYaml: string, timeScale: number): Promise<FaultWorld> {
  const saved = { attempts: process.env.FSX_TRANSFER_MAX_ATTEMPTS, mode: process.env.AWS_RETRY_MODE };
  process.env.FSX_TRANSFER_MAX_ATTEMPTS = '1';
  // In-process functions share one client per service: adaptive mode's client-side rate limiting
  // after throttling would slow every later call of every function (on Lambda each has its own).
  process.env.AWS_RETRY_MODE = 'standard';
  const world = await startWorld({ config: configYaml, timeScale });
  const config = loadConfig(join(world.dataDir, 'fsx-transfer.config.yaml'));
  await getS3().send(new CreateBucketCommand({ Bucket: OTHER_BUCKET }));
  const logLines = captureLogs();
  for (const [uri, body] of Object.entries(PROTECTED_OBJECTS)) await putObject(uri, body);
  for (const fs of world.cloud.fsx.listFileSystems()) {
    for (const mapping of config.mappings.filter((m) => m.fileSystemId === fs.FileSystemId)) {
      // A look-alike directory next to each mapping (`/data-old` beside `/data`) must never change.
      writeFsx(world, fs.FileSystemId!, `${mapping.fsxPath}-old/keep.nc`, `beside ${mapping.name}`);
    }
    writeFsx(world, fs.FileSystemId!, '/other/keep.nc', 'other data');
  }
  const stop = world.stop;
  return {
    ...world,
    config,
    logLines: logLines.lines,
    taskTokens: () =>
      world.cloud.lambdas.invocations
        .map((i) => (i.event as { taskToken?: unknown; Payload?: { taskToken?: unknown } } | undefined) ?? {})
        .map((event) => event.taskToken ?? event.Payload?.taskToken)
        .filter((token): token is string => typeof token === 'string'),
    stop: async () => {
      logLines.restore();
      await stop();
      for (const [name, value] of [
        ['FSX_TRANSFER_MAX_ATTEMPTS', saved.attempts],
        ['AWS_RETRY_MODE', saved.mode],
      ] as const) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
      resetClients();
    },
  };
}

/**
 * Captures the functions' structured log lines instead of printing them; other output passes
 * through. The test file sets LOG_LEVEL=INFO (as on Lambda) before the logger loads.
 */
function captureLogs(): { lines: string[]; restore(): void } {
  const lines: string[] = [];
  const streams = [process.stdout, process.stderr];
  const writes = streams.map((stream) => stream.write.bind(stream));
  streams.forEach((stream, i) => {
    stream.write = ((chunk: unknown, ...rest: unknown[]) => {
      const text = String(chunk);
      if (text.startsWith('{"level"')) {
        lines.push(text);
        return true;
      }
      return (writes[i] as (...args: unknown[]) => boolean)(chunk, ...rest);
    }) as typeof stream.write;
  });
  return {
    lines,
    restore: () => {
      streams.forEach((stream, i) => {
        stream.write = writes[i]!;
      });
    },
  };
}

export function writeFsx(world: World, fileSystemId: string, path: string, body: string): void {
  const file = join(world.cloud.fsx.fileSystemRoot(fileSystemId), path);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, body);
}

async function putObject(uri: string, body: string): Promise<void> {
  const { bucket, prefix } = parseS3Uri(uri);
  await getS3().send(new PutObjectCommand({ Bucket: bucket, Key: prefix, Body: body }));
}

const sha256 = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');

/** fsx-transfer's own objects: transfer listings and completion reports. */
function bookkeeping(key: string): boolean {
  return key.split('/').some((segment) => segment === '.fsx-transfer' || segment === 'fsx-transfer-reports');
}

interface Entry {
  size: number;
  sha256: string;
  /** False for a file whose contents are not on the file system (lazily imported, or released). */
  contents: boolean;
}
/** `s3://bucket/key` and `fsx://fs-id/path` -> size and checksum. */
export type Snapshot = Map<string, Entry>;

/**
 * sha256 of each object version read so far, by `s3://bucket/key` (the version is ETag,
 * LastModified and size): a snapshot downloads only objects that are new or changed since.
 */
const objectChecksums = new Map<string, Entry & { version: string }>();

/** Every object of every bucket and every file of every file system, with its sha256. */
export async function snapshot(world: World): Promise<Snapshot> {
  const entries: Snapshot = new Map();
  const buckets = (await getS3().send(new ListBucketsCommand({}))).Buckets ?? [];
  for (const { Name: bucket } of buckets) {
    let token: string | undefined;
    do {
      const page = await getS3().send(
        new ListObjectsV2Command({ Bucket: bucket!, ContinuationToken: token }),
      );
      for (const object of page.Contents ?? []) {
        if (bookkeeping(object.Key!)) continue;
        const location = `s3://${bucket}/${object.Key}`;
        const version = `${object.ETag}|${object.LastModified?.toISOString()}|${object.Size}`;
        let known = objectChecksums.get(location);
        if (known?.version !== version) {
          const got = await getS3().send(new GetObjectCommand({ Bucket: bucket!, Key: object.Key! }));
          const body = Buffer.from(await got.Body!.transformToByteArray());
          known = { version, size: body.length, sha256: sha256(body), contents: true };
          objectChecksums.set(location, known);
        }
        entries.set(location, { size: known.size, sha256: known.sha256, contents: true });
      }
      token = page.NextContinuationToken;
    } while (token);
  }
  for (const fs of world.cloud.fsx.listFileSystems()) {
    const root = world.cloud.fsx.fileSystemRoot(fs.FileSystemId!);
    for (const file of walk(root)) {
      const path = `/${relative(root, file)}`;
      const hsm = world.cloud.fsx.hsmState(fs.FileSystemId!, path);
      const body = readFileSync(file);
      entries.set(`fsx://${fs.FileSystemId}${path}`, {
        size: hsm?.size ?? body.length,
        sha256: sha256(body),
        contents: hsm?.contentsPresent !== false,
      });
    }
  }
  return entries;
}

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return walk(path);
    return entry.isFile() ? [path] : [];
  });
}

/** The two sides of a request's mapping, as snapshot locations (`s3://b/prefix/`, `fsx://fs/path/`). */
export function sidesOf(
  config: Config,
  request: TransferRequest,
): { source: string; destination: string; mapping: MappingConfig } {
  const mapping = config.mappings.find((m) => m.name === request.mapping)!;
  const { bucket, prefix } = parseS3Uri(mapping.s3Uri);
  const s3 = `s3://${bucket}/${prefix ? `${prefix}/` : ''}`;
  const fsx = `fsx://${mapping.fileSystemId}${mapping.fsxPath === '/' ? '/' : `${mapping.fsxPath}/`}`;
  return request.direction === 'stage-in'
    ? { source: s3, destination: fsx, mapping }
    : { source: fsx, destination: s3, mapping };
}

/** Locations of the run's scope: its mapping's destination (and, for a release, the FSx side too). */
function inScope(config: Config, request: TransferRequest): (location: string) => boolean {
  const { source, destination, mapping } = sidesOf(config, request);
  const released = request.direction === 'export' && mapping.release;
  return (location) => location.startsWith(destination) || (released && location.startsWith(source));
}

/** Protected locations that were added, changed or lost between two snapshots. */
export function outsideChanges(
  before: Snapshot,
  after: Snapshot,
  scope: (location: string) => boolean,
): { changed: string[]; lost: string[]; added: string[] } {
  const changed: string[] = [];
  const lost: string[] = [];
  const added: string[] = [];
  for (const [location, entry] of before) {
    if (scope(location)) continue;
    const now = after.get(location);
    if (!now) lost.push(location);
    else if (now.sha256 !== entry.sha256 || now.size !== entry.size) changed.push(location);
  }
  for (const location of after.keys()) if (!scope(location) && !before.has(location)) added.push(location);
  return { changed, lost, added };
}

/**
 * Source files of the request's mapping that are missing from the destination or differ there
 * (size always; contents where both sides hold them, as a lazily imported or released file does not).
 */
export function missingAtDestination(state: Snapshot, config: Config, request: TransferRequest): string[] {
  const { source, destination } = sidesOf(config, request);
  const missing: string[] = [];
  for (const [location, entry] of state) {
    if (!location.startsWith(source)) continue;
    const target = state.get(destination + location.slice(source.length));
    if (!target || target.size !== entry.size) missing.push(location);
    else if (target.contents && entry.contents && target.sha256 !== entry.sha256) missing.push(location);
  }
  return missing;
}

let scenarios = 0;

/** Adds a new file to the source side of the request's scope, so every run has something to move. */
async function freshSourceFile(world: FaultWorld, request: TransferRequest): Promise<void> {
  scenarios += 1;
  const { source } = sidesOf(world.config, request);
  const name = `${request.subPath ? `${request.subPath}/` : ''}scenario-${scenarios}.nc`;
  const body = `${name} ${Date.now()} ${'x'.repeat(scenarios)}`;
  if (source.startsWith('s3://')) {
    await putObject(`${source}${name}`, body);
    return;
  }
  const [fsId, ...path] = source.slice('fsx://'.length).split('/');
  writeFsx(world, fsId!, `/${[...path.filter(Boolean), name].join('/')}`, body);
}

/** The outcome of a run: its end and how it failed. */
export async function outcomeOf(executionArn: string, timeoutMs = 60_000): Promise<Outcome> {
  const run = await waitForExecution(executionArn, timeoutMs);
  return {
    executionArn,
    status: run.status,
    ...(run.error ? { error: run.error } : {}),
    ...(run.cause ? { cause: run.cause } : {}),
  };
}

/** True when an outcome matches what the scenario expects (a FAILED run must carry a class's name). */
function matchesExpected(outcome: Outcome, expected: Expected): boolean {
  if (expected === 'SUCCEEDED' || expected === 'ABORTED' || expected === 'TIMED_OUT')
    return outcome.status === expected;
  return outcome.status === 'FAILED' && outcome.error === expected && expected in ERROR_CLASSES;
}

/** Instances launched with less than the hardening every transfer instance must have. */
function unhardened(world: World): string[] {
  return world.cloud.ec2
    .listInstances()
    .filter((i: InstanceRecord) => i.tags.some((t) => t.key === TAG_EXECUTION))
    .filter(
      (i) =>
        i.metadataOptions.httpTokens !== 'required' ||
        i.associatePublicIpAddress ||
        i.publicIpAddress !== undefined ||
        i.blockDeviceMappings.length === 0 ||
        i.blockDeviceMappings.some((b) => !b.encrypted),
    )
    .map((i) => i.instanceId);
}

/** The completion event of a run (`Transfer Succeeded` / `Transfer Failed`), if one was put. */
function completionEvent(world: World, executionArn: string) {
  const name = executionArn.split(':').at(-1);
  return world.cloud.eventLog.find(
    (e) => e.source === 'fsx-transfer' && (e.detail as { transferId?: string }).transferId === name,
  );
}

export interface ScenarioMeta {
  leaked: number;
  lost: number;
}

/**
 * Runs one scenario end to end and asserts every guarantee (see the file comment). Records the
 * leaked instances and lost files in `meta` before asserting, so the verdict counts failures too.
 */
export async function runScenario(world: FaultWorld, scenario: Scenario, meta: ScenarioMeta): Promise<void> {
  const { request } = scenario;
  const ctx: ScenarioContext = {
    world,
    request,
    start: (req = request) => startTransfer(world, req),
    written: [],
  };
  if (scenario.freshSourceFile !== false) await freshSourceFile(world, request);
  await scenario.setup?.(ctx);
  await world.cloud.idle();
  // Taken before the fault is injected: the harness's own calls are never faulted.
  const before = await snapshot(world);

  await scenario.inject(ctx);
  const outcome = scenario.act
    ? await scenario.act(ctx)
    : await outcomeOf(await ctx.start(), scenario.timeoutMs ?? 60_000);
  if (scenario.clear) await scenario.clear(ctx);
  world.cloud.faults.clear();
  world.cloud.fsx.setFaults({});
  const afterFault = await snapshot(world);

  const settled = await settle(world);
  const second = await outcomeOf(await ctx.start(), 90_000);
  await settle(world);
  const after = await snapshot(world);

  const scope = inScope(world.config, request);
  const outside = outsideChanges(
    before,
    after,
    (location) => scope(location) || ctx.written.includes(location),
  );
  const missingAfterFault =
    outcome.status === 'SUCCEEDED' ? missingAtDestination(afterFault, world.config, request) : [];
  const missingAfterSecond = missingAtDestination(after, world.config, request);
  meta.leaked = settled.leaked;
  meta.lost =
    outside.lost.length + outside.changed.length + missingAfterFault.length + missingAfterSecond.length;

  const how = `${outcome.status} ${outcome.error ?? ''}: ${outcome.cause?.slice(0, 400) ?? ''}`;
  expect(matchesExpected(outcome, scenario.expect), `the faulted run ended ${how}`).toBe(true);
  expect(settled.leaked, 'instances left running').toBe(0);
  expect(
    unhardened(world),
    'instances without IMDSv2, private-only networking and an encrypted root volume',
  ).toEqual([]);
  expect(outside, 'S3 objects and FSx files outside the run scope').toEqual({
    changed: [],
    lost: [],
    added: [],
  });
  expect(missingAfterFault, 'source files missing from the destination of the succeeded run').toEqual([]);
  expect(
    completionEvent(world, outcome.executionArn)?.detail,
    'completion event of the faulted run',
  ).toMatchObject(
    outcome.status === 'SUCCEEDED'
      ? { status: 'SUCCEEDED', verified: true }
      : { status: outcome.status, ...(outcome.status === 'FAILED' ? { error: outcome.error } : {}) },
  );
  expect(
    second.status,
    `the run after the fault cleared: ${second.error} ${second.cause?.slice(0, 400)}`,
  ).toBe('SUCCEEDED');
  expect(missingAfterSecond, 'source files missing from the destination after the second run').toEqual([]);
  const leakedTokens = world
    .taskTokens()
    .filter((token) => world.logLines.some((line) => line.includes(token)));
  expect(leakedTokens, 'task tokens in log lines').toEqual([]);
}

/** Transfer instances (tagged by LaunchInstance) that are neither shutting down nor terminated. */
async function transferInstancesRunning(): Promise<number> {
  return (await instancesNotTerminated()).filter((i) => i.Tags?.some((t) => t.Key === TAG_EXECUTION)).length;
}

/**
 * Waits until nothing runs: no event delivery, no transfer instance that is not terminated (up to
 * 30 s, the cleanup rule's time); returns how many transfer instances still run.
 */
async function settle(world: World): Promise<{ leaked: number }> {
  await world.cloud.idle();
  try {
    await eventually(
      async () => (await transferInstancesRunning()) === 0,
      'no transfer instance runs',
      // The watchdog fires at the run deadline: 60 simulated minutes are 36 s at 0.01.
      60_000,
    );
  } catch {
    // Counted below, and asserted by the caller.
  }
  await world.cloud.idle();
  return { leaked: await transferInstancesRunning() };
}
