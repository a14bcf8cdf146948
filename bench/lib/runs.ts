/**
 * Runs on the bench's local cloud: trees of files in S3, timed `aws s3 sync`s, transfer runs and
 * their billed state transitions. The EC2 runs of a tree are memoized on the context, so the
 * overhead ratio and the transitions figures read the same run.
 */
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { GetExecutionHistoryCommand, type HistoryEvent } from '@aws-sdk/client-sfn';
import { getSfn } from '../../shared/aws/clients.js';
import { BUCKET, type Run, runTransfer, type World } from '../../test/e2e/ec2-helpers.js';
import { awsCli } from '../../test/e2e/trigger-runs.js';
import type { BenchContext } from './context.js';

export const MiB = 1024 * 1024;

/** Every event of an execution's history. */
export async function historyOf(executionArn: string): Promise<HistoryEvent[]> {
  const events: HistoryEvent[] = [];
  let nextToken: string | undefined;
  do {
    const page = await getSfn().send(
      new GetExecutionHistoryCommand({ executionArn, nextToken, maxResults: 1000 }),
    );
    events.push(...(page.events ?? []));
    nextToken = page.nextToken;
  } while (nextToken);
  return events;
}

export interface Transitions {
  /** States entered plus retries: what Step Functions Standard bills. */
  billed: number;
  statesEntered: number;
  /** Task invocations beyond the first of each Task state entered (Retry attempts). */
  retries: number;
}

/**
 * Billed state transitions of an execution from its history: every state entered, plus every
 * retry (a Task state entered once and scheduled n times was retried n - 1 times).
 */
export function billedTransitions(events: HistoryEvent[]): Transitions {
  const count = (test: (type: string) => boolean) => events.filter((e) => test(String(e.type))).length;
  const statesEntered = count((type) => type.endsWith('StateEntered'));
  const tasksEntered = count((type) => type === 'TaskStateEntered');
  const scheduled = count((type) => type === 'TaskScheduled' || type === 'LambdaFunctionScheduled');
  const retries = Math.max(0, scheduled - tasksEntered);
  return { billed: statesEntered + retries, statesEntered, retries };
}

/**
 * Seconds spent in each state (StateEntered to StateExited, summed over entries): where a run's
 * wall time goes. The local cloud's history timestamps are wall-clock times.
 */
export function secondsByState(events: HistoryEvent[]): Record<string, number> {
  const entered = new Map<string, number>();
  const spent: Record<string, number> = {};
  for (const event of events) {
    const type = String(event.type);
    const at = event.timestamp ? new Date(event.timestamp).getTime() : Number.NaN;
    if (type.endsWith('StateEntered') && event.stateEnteredEventDetails?.name) {
      entered.set(event.stateEnteredEventDetails.name, at);
    } else if (type.endsWith('StateExited') && event.stateExitedEventDetails?.name) {
      const name = event.stateExitedEventDetails.name;
      const since = entered.get(name);
      if (since !== undefined)
        spent[name] = Math.round(((spent[name] ?? 0) + (at - since) / 1000) * 100) / 100;
    }
  }
  return spent;
}

/** Runs the transfer state machine and returns the run, its wall time and its transitions. */
export async function timedRun(
  world: World,
  request: Record<string, unknown>,
  timeoutMs: number,
): Promise<{ run: Run; seconds: number; transitions: Transitions; stateSeconds: Record<string, number> }> {
  const started = performance.now();
  const run = await runTransfer(world, request, timeoutMs);
  const seconds = (performance.now() - started) / 1000;
  if (run.status !== 'SUCCEEDED') {
    throw new Error(`${JSON.stringify(request)} ended ${run.status}: ${run.error} ${run.cause ?? ''}`);
  }
  const history = await historyOf(run.executionArn);
  return { run, seconds, transitions: billedTransitions(history), stateSeconds: secondsByState(history) };
}

/** `aws s3 <args>` against the local cloud, timed; throws when it fails. */
export async function timedAws(world: World, args: string[]): Promise<number> {
  const started = performance.now();
  const out = await awsCli(world, args);
  if (out.code !== 0)
    throw new Error(`aws ${args.join(' ')} exited ${out.code}: ${out.stderr.slice(0, 2000)}`);
  return (performance.now() - started) / 1000;
}

export interface Tree {
  prefix: string;
  files: number;
  bytes: number;
  /** Seconds writing the tree into the local S3 took. */
  uploadSeconds: number;
}

/** s3rver's own object store (the one the local S3 serves from), used to seed trees quickly. */
interface S3rverStore {
  putObject(object: unknown): Promise<{ size: number; md5: string }>;
}
const requireCjs = createRequire(import.meta.url);
const FilesystemStore = requireCjs('s3rver/lib/stores/filesystem') as new (root: string) => S3rverStore;
const S3rverObject = requireCjs('s3rver/lib/models/object') as new (
  bucket: string,
  key: string,
  content: Buffer,
  metadata: Record<string, string>,
) => unknown;

/**
 * Writes `files` objects of `mib` MiB in all (random bytes, sizes from half to one and a half
 * times the mean, 100 folders) to s3://demo/<prefix>/ of the world's local S3 (see seedTree).
 */
export async function putTree(world: World, prefix: string, files: number, mib: number): Promise<Tree> {
  return seedTree(world.cloud.s3.directory, BUCKET, prefix, files, mib);
}

/**
 * Writes a tree of `files` objects of `mib` MiB in all to s3://<bucket>/<prefix>/ of the local S3
 * whose store is `s3Directory`. The tree is not what is measured, so it is written straight into
 * the store (s3rver's FilesystemStore, the class s3rver itself stores a PutObject with: same
 * files, ETags and metadata) instead of through 10,000 signed PUTs, which took minutes on 2 cores
 * and sent 10,000 object events through the trigger.
 */
export async function seedTree(
  s3Directory: string,
  bucket: string,
  prefix: string,
  files: number,
  mib: number,
): Promise<Tree> {
  const started = performance.now();
  const store = new FilesystemStore(s3Directory);
  const mean = (mib * MiB) / files;
  let bytes = 0;
  let next = 0;
  const writer = async () => {
    for (let i = next++; i < files; i = next++) {
      const size = Math.round(mean * (0.5 + ((i * 7919) % 1000) / 1000));
      const key = `${prefix}/d${String(i % 100).padStart(2, '0')}/f${i}.bin`;
      const object = new S3rverObject(bucket, key, randomBytes(size), {
        'content-type': 'application/octet-stream',
      });
      const { size: written } = await store.putObject(object);
      bytes += written;
    }
  };
  await Promise.all(Array.from({ length: 8 }, writer));
  return { prefix, files, bytes, uploadSeconds: (performance.now() - started) / 1000 };
}

export interface TreeRun {
  tree: Tree;
  /** Wall time of the run, from StartExecution until its end was seen (polled every 100 ms). */
  seconds: number;
  transitions: Transitions;
  states: string[];
  /** Seconds spent in each state. */
  stateSeconds: Record<string, number>;
}

/** The tree of `mapping` in the world's S3, written once per context. */
export function mappingTree(
  context: BenchContext,
  mapping: string,
  files: number,
  mib: number,
): Promise<Tree> {
  return context.once(`tree:${mapping}`, async () => {
    const world = await context.world();
    context.log(`${mapping}: writing ${files} files, ${mib} MiB into the local S3 ...`);
    const tree = await putTree(world, mapping, files, mib);
    context.log(`${mapping}: written in ${tree.uploadSeconds.toFixed(1)} s`);
    return tree;
  });
}

/**
 * The EC2 stage-in run of the tree of `mapping`, once per context and mapping; `beforeRun`
 * runs just before it (the overhead ratio's raw sync of the same tree).
 */
export function ec2TreeRun(
  context: BenchContext,
  mapping: string,
  files: number,
  mib: number,
  beforeRun?: () => Promise<void>,
): Promise<TreeRun> {
  return context.once(`ec2-tree-run:${mapping}`, async () => {
    const world = await context.world();
    const tree = await mappingTree(context, mapping, files, mib);
    await beforeRun?.();
    context.log(`${mapping}: EC2 stage-in run ...`);
    const { run, seconds, transitions, stateSeconds } = await timedRun(
      world,
      { mapping, direction: 'stage-in' },
      30 * 60_000,
    );
    context.log(`${mapping}: EC2 run ${seconds.toFixed(1)} s, ${transitions.billed} billed transitions`);
    return { tree, seconds, transitions, states: run.states, stateSeconds };
  });
}
