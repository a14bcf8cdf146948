/**
 * Scale-out efficiency of the EC2 method on the local cloud: the same stage-in with 1, 2 and 4
 * instances (the real state machine, PlanShards and the TransferShards Map) on one local cloud of
 * its own, whose instances' network is paced at their type's baseline x a scale
 * (local/ssm/instance-network.ts), so that the figure measures the orchestration (sharding
 * balance, parallel launch, per-shard overheads) and not this machine's cores.
 *
 * The scale is derived, not guessed: every emulated instance runs the real AWS CLI on this
 * machine, so first a raw `aws s3 sync` of the same tree (on the bench's main local cloud,
 * unpaced) measures what one CLI process moves here; each instance then gets
 * `CPU_SHARE / maxWorkers` of that, so even 4 instances together ask for half of what one CLI
 * already moves on these cores and the modelled network, not the CPU, bounds them.
 *
 * throughput(N) = bytes / (last shard command's end - first shard command's start): the data
 * phase, without the launch and agent wait that do not grow with the data.
 * efficiency(N) = throughput(N) / (N x throughput(1)); issue 12 asks for >= 0.8 at 4.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  ListStateMachinesCommand,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { GetCommandInvocationCommand } from '@aws-sdk/client-ssm';
import { startLocalCloud } from '../local/cloud.js';
import { instanceBytesPerSecond } from '../local/ssm/instance-network.js';
import { getSfn, getSsm, resetClients } from '../shared/aws/clients.js';
import { BUCKET } from '../test/e2e/ec2-helpers.js';
import type { BenchContext } from './lib/context.js';
import type { Benchmark } from './lib/figures.js';
import { putTree, seedTree, timedAws } from './lib/runs.js';

/** Worker counts measured (the first must be 1). */
const WORKERS = [1, 2, 4];
/** The probe tree of the raw sync: 32 files of 1 MiB on average. */
const PROBE_FILES = 32;
/** Files of the scope (sizes from 0.5x to 1.5x the mean): 8 per shard at 4 instances. */
const FILES = 32;
/** The instance type the runs launch (the config's default). */
const INSTANCE_TYPE = 'c6i.large';
/**
 * The part of one raw CLI's throughput that all instances of the largest run share. With 0.5 and
 * with 0.25 alike, 4 instances' largest shard moved 80-85% of its paced rate here (1 and 2
 * instances: 94-100%): what 4 shards lose on 2 shared cores is their fixed cost (4 CLIs start at
 * once), not bandwidth, so half.
 */
const CPU_SHARE = 0.5;

export interface ScaleOutResult {
  workers: number[];
  efficiency: number[];
  /** MB/s of the data phase, per worker count. */
  throughputMBps: number[];
  /** Seconds of the data phase, per worker count. */
  seconds: number[];
  /** Seconds of each shard's transfer step (its balance), per worker count. */
  shardSeconds: number[][];
  /** Bytes of the largest shard PlanShards planned, per worker count (the whole scope for one). */
  largestShardBytes: number[];
}

const FS_ID = 'fs-00000000000000001';

/** One mapping per worker count (each its own copy of the tree and folder); `maxInstances` bounds the run. */
function config(maxInstances: number): string {
  const mappings = WORKERS.map(
    (n) =>
      `  - {name: bench-${n}, fileSystemId: ${FS_ID}, fsxPath: /bench-${n}, s3Uri: 's3://${BUCKET}/scale-out-${n}', directions: [stage-in], method: ec2}`,
  ).join('\n');
  return `version: 1
region: us-east-1
accountId: '000000000000'
fileSystems:
  - id: ${FS_ID}
    mountPoint: /fsx
    subnetIds: [subnet-00000000000000001]
    securityGroupIds: [sg-00000000000000001]
mappings:
${mappings}
defaults:
  scaleOut: {maxInstances: ${maxInstances}}
pricing:
  ec2:
    ${INSTANCE_TYPE}: {usdPerHour: 0.085, baselineGbps: 0.01, burstGbps: 0.01}
  model: {instanceStartupSeconds: 0, instanceFinishSeconds: 0}
`;
}

/** Runs the transfer state machine for `mapping` until it ends; its output. */
async function run(mapping: string): Promise<{ executionArn: string; output: string }> {
  const machines = await getSfn().send(new ListStateMachinesCommand({}));
  const stateMachineArn = machines.stateMachines?.find((m) => m.name?.endsWith('-transfer'))?.stateMachineArn;
  const { executionArn } = await getSfn().send(
    new StartExecutionCommand({
      stateMachineArn,
      name: `bench-scale-out-${mapping}`,
      input: JSON.stringify({ mapping, direction: 'stage-in' }),
    }),
  );
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    const described = await getSfn().send(new DescribeExecutionCommand({ executionArn }));
    if (described.status === 'RUNNING') continue;
    if (described.status !== 'SUCCEEDED' || !described.output)
      throw new Error(`the scale-out run of ${mapping} ended ${described.status}: ${described.cause ?? ''}`);
    return { executionArn: executionArn!, output: described.output };
  }
}

/** The data phase of a run: seconds from the first transfer step's start to the last one's end. */
async function dataPhase(
  executionArn: string,
  output: string,
  workers: number,
): Promise<{ seconds: number; bytes: number; shardSeconds: number[]; largestShardBytes: number }> {
  const summary = JSON.parse(output) as {
    bytes: number;
    details: {
      instanceId?: string;
      commandId?: string;
      shards?: { instanceId: string; commandId: string }[];
    };
  };
  const commands = summary.details.shards ?? [
    { instanceId: summary.details.instanceId!, commandId: summary.details.commandId! },
  ];
  const history = await getSfn().send(new GetExecutionHistoryCommand({ executionArn, maxResults: 1000 }));
  const launched =
    (history.events ?? []).filter((e) =>
      ['LaunchInstance', 'LaunchShardInstance'].includes(e.stateEnteredEventDetails?.name ?? ''),
    ).length || 1;
  if (launched !== workers || commands.length !== workers)
    throw new Error(`asked for ${workers} instance(s), the run launched ${launched}`);
  const spans = await Promise.all(
    commands.map(async ({ instanceId, commandId }) => {
      const out = await getSsm().send(
        new GetCommandInvocationCommand({
          CommandId: commandId,
          InstanceId: instanceId,
          PluginName: 'transfer',
        }),
      );
      return [
        Date.parse(out.ExecutionStartDateTime ?? ''),
        Date.parse(out.ExecutionEndDateTime ?? ''),
      ] as const;
    }),
  );
  const first = Math.min(...spans.map((s) => s[0]));
  const last = Math.max(...spans.map((s) => s[1]));
  const planned = (history.events ?? []).find((e) => e.stateExitedEventDetails?.name === 'PlanShards');
  const items =
    (
      JSON.parse(planned?.stateExitedEventDetails?.output ?? '{}') as {
        shards?: { items?: { bytes: number }[] };
      }
    ).shards?.items ?? [];
  return {
    largestShardBytes: workers === 1 ? summary.bytes : Math.max(...items.map((item) => item.bytes)),
    seconds: (last - first) / 1000,
    bytes: summary.bytes,
    shardSeconds: spans.map(([start, end]) => Math.round((end - start) / 100) / 10),
  };
}

/**
 * Measures the scale-out efficiency on a local cloud of its own whose instances are paced at
 * `networkScale` x their type's baseline; one tree, one run per worker count.
 */
export async function measureScaleOut(networkScale: number, mib: number): Promise<ScaleOutResult> {
  const dir = mkdtempSync(join(tmpdir(), 'fsx-transfer-bench-scale-out-'));
  const configs = WORKERS.map((n) => {
    const path = join(dir, `fsx-transfer.${n}.config.yaml`);
    writeFileSync(path, config(n));
    return path;
  });
  const cloud = await startLocalCloud({
    port: 0,
    dataDir: join(dir, 'cloud'),
    configPath: configs[0]!,
    timeScale: 0.01,
    quiet: true,
    iamReport: false,
    instanceNetworkScale: networkScale,
  });
  const saved = { ...process.env };
  Object.assign(process.env, cloud.env);
  resetClients();
  try {
    // The same sizes under each mapping (mappings of one file system may not overlap).
    for (const n of WORKERS) await seedTree(cloud.s3.directory, BUCKET, `scale-out-${n}`, FILES, mib);
    const seconds: number[] = [];
    const throughput: number[] = [];
    const shardSeconds: number[][] = [];
    const largestShardBytes: number[] = [];
    for (const [i, n] of WORKERS.entries()) {
      cloud.useConfig(configs[i]!);
      const { executionArn, output } = await run(`bench-${n}`);
      const phase = await dataPhase(executionArn, output, n);
      seconds.push(Math.round(phase.seconds * 100) / 100);
      throughput.push(phase.bytes / 1e6 / phase.seconds);
      shardSeconds.push(phase.shardSeconds);
      largestShardBytes.push(phase.largestShardBytes);
    }
    const base = throughput[0]!;
    return {
      workers: WORKERS,
      efficiency: throughput.map((t, i) => Math.round((t / (WORKERS[i]! * base)) * 100) / 100),
      throughputMBps: throughput.map((t) => Math.round(t * 100) / 100),
      seconds,
      shardSeconds,
      largestShardBytes,
    };
  } finally {
    resetClients();
    await cloud.stop();
    for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key];
    Object.assign(process.env, saved);
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * What one `aws s3 sync` process moves per second on this machine: the same tree synced raw from
 * the bench's main local cloud (unpaced) to a local folder.
 */
async function rawCliBytesPerSecond(
  context: BenchContext,
): Promise<{ bytesPerSecond: number; seconds: number }> {
  const world = await context.world();
  const tree = await putTree(world, 'bench-scale-out-probe', PROBE_FILES, PROBE_FILES);
  const into = mkdtempSync(join(tmpdir(), 'fsx-transfer-bench-scale-out-raw-'));
  try {
    const seconds = await timedAws(world, [
      's3',
      'sync',
      `s3://${BUCKET}/${tree.prefix}/`,
      into,
      '--only-show-errors',
    ]);
    return { bytesPerSecond: tree.bytes / seconds, seconds };
  } finally {
    rmSync(into, { recursive: true, force: true });
  }
}

/** `npm run bench`: efficiency at 1, 2 and 4 instances, each paced at a share of this machine's CLI throughput. */
const scaleOut: Benchmark<'scaleOut'> = {
  figure: 'scaleOut',
  title: 'scale-out efficiency over 1, 2 and 4 instances',
  order: 90,
  async run(context) {
    const raw = await rawCliBytesPerSecond(context);
    const maxWorkers = Math.max(...WORKERS);
    const perInstance = (raw.bytesPerSecond * CPU_SHARE) / maxWorkers;
    const baseline = instanceBytesPerSecond(INSTANCE_TYPE, 1)!;
    const networkScale = perInstance / baseline;
    // The scope's bytes are sized from the measured rate, so the data phase with one instance
    // lasts --scale-out-seconds (the three runs about 1.75x that) whatever this machine's speed.
    const mib = (perInstance * context.options.scaleOutSeconds) / 2 ** 20;
    context.log(
      `scaleOut: raw aws s3 sync ${(raw.bytesPerSecond / 1e6).toFixed(1)} MB/s here; each instance paced at ${(perInstance / 1e6).toFixed(2)} MB/s (${INSTANCE_TYPE} baseline x ${networkScale.toPrecision(2)})`,
    );
    const result = await measureScaleOut(networkScale, mib);
    // What one instance spent beyond moving its bytes at the paced rate: a shard's fixed cost.
    const oneBytes = result.throughputMBps[0]! * 1e6 * result.seconds[0]!;
    const fixedSeconds = Math.round((result.seconds[0]! - oneBytes / perInstance) * 10) / 10;
    // Did the modelled network bound each run? The largest shard's rate, after the fixed cost,
    // against the paced rate: below 90%, the CPU (or another limit of this machine) bounded it.
    const shardMBps = result.seconds.map(
      (seconds, i) =>
        Math.round(result.largestShardBytes[i]! / Math.max(0.1, seconds - fixedSeconds) / 1e4) / 100,
    );
    const slow = result.workers.filter((_, i) => shardMBps[i]! < 0.9 * (perInstance / 1e6));
    return {
      value: { workers: result.workers, efficiency: result.efficiency },
      details: {
        throughputMBps: result.throughputMBps,
        dataPhaseSeconds: result.seconds,
        shardSeconds: result.shardSeconds,
        files: FILES,
        MiB: Math.round(mib * 10) / 10,
        rawCliMBps: Math.round(raw.bytesPerSecond / 1e4) / 100,
        instanceMBps: Math.round(perInstance / 1e4) / 100,
        networkScale: Number(networkScale.toPrecision(3)),
        fixedSecondsPerShard: fixedSeconds,
        largestShardMB: result.largestShardBytes.map((b) => Math.round(b / 1e5) / 10),
        largestShardMBps: shardMBps,
      },
      notes: [
        `network model: one raw aws s3 sync moved ${(raw.bytesPerSecond / 1e6).toFixed(1)} MB/s on this machine; ` +
          `each instance is paced at ${CPU_SHARE} / ${maxWorkers} of that, ${(perInstance / 1e6).toFixed(2)} MB/s ` +
          `(${INSTANCE_TYPE} baseline ${(baseline / 1e6).toFixed(0)} MB/s x ${networkScale.toPrecision(2)}), so ${maxWorkers} ` +
          `instances together need ${CPU_SHARE} x what one CLI process moves here: the figure measures the orchestration ` +
          '(sharding balance, parallel launch, per-shard overheads), not the CPU of this machine; efficiency is from measured wall times',
        `per-shard fixed cost: the one-instance data phase lasted ${fixedSeconds} s longer than its bytes take at the paced rate ` +
          `(the CLI's start and listing); each shard pays it again, against a data phase of ${context.options.scaleOutSeconds} s / N ` +
          '(--scale-out-seconds; on AWS a shard moves for hours and this cost vanishes)',
        ...(slow.length
          ? [
              `NOT NETWORK-BOUND with ${slow.join(', ')} instance(s): the largest shard moved ${slow.map((n) => shardMBps[result.workers.indexOf(n)]).join(', ')} MB/s ` +
                `against the paced ${(perInstance / 1e6).toFixed(2)} MB/s (after the one-instance fixed cost): this machine's CPU, shared ` +
                'with other work, still bounded it (several CLIs starting at once on 2 cores make the fixed cost of each shard larger)',
            ]
          : []),
      ],
    };
  },
};
export default scaleOut;
