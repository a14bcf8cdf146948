/**
 * What a transfer will take and cost, by method: the estimate model of `fsx-transfer plan`,
 * explained with worked examples in docs/planning.md (the unit tests check those numbers). Pure
 * functions of the scope, the file system, the instance type and the price table.
 *
 * Units: bytes; throughput in MB/s (10^6 bytes per second, as FSx and EC2 publish it); 1 Gbps is
 * 125 MB/s.
 */
import type { Direction, VerifyMode } from '../config/schema.js';
import type { PriceTable } from './prices.js';

/** How often the transfer document publishes its progress (ssm/transfer-document.yaml). */
export const PROGRESS_INTERVAL_SECONDS = 5;
/** The most instances a scale-out suggestion names. */
export const MAX_SUGGESTED_INSTANCES = 16;
/** Lambda duration assumed per invocation of the run's small handlers. */
const LAMBDA_SECONDS_PER_INVOCATION = 0.5;

export interface ScopeSize {
  files: number;
  bytes: number;
  /** Size of the largest file. */
  largestBytes: number;
}

export interface FileSystemFacts {
  deploymentType: string;
  storageCapacityGiB: number;
  /** MB/s per TiB of storage (LustreConfiguration.PerUnitStorageThroughput), when the type has one. */
  perUnitStorageThroughput?: number;
}

export interface EstimateInput {
  direction: Direction;
  scope: ScopeSize;
  fileSystem: FileSystemFacts;
  instanceType: string;
  /** The mapping's association already exists (no creation time). */
  associationExists: boolean;
  /** Stage-in restores file contents after the import (lfs hsm_restore). */
  preload: boolean;
  /** The verification mode (docs/verification.md); `size` when absent. */
  verify?: VerifyMode;
  /**
   * The file system has a configured Lustre client (`fileSystems[].lustreClientInstanceId`): a DRA
   * `checksum` run checksums there instead of on a launched instance.
   */
  lustreClient?: boolean;
}

/**
 * MB/s at which the checksums step hashes a file (MD5, CRC32, SHA1 and SHA256 in one read, one
 * Python process, as measured by `npm run bench`'s checksum figure on one core).
 */
export const CHECKSUM_HASH_MBPS = 300;

/**
 * What `checksum` verification adds to an EC2 run: the Lustre client reads every file once more
 * (at the file system's or the instance's rate, or the hashing rate, whichever is lowest) and
 * verification reads each object's metadata (one HeadObject, billed as a GET; one more per part
 * of a composite checksum, not counted here), plus the checksums object (one PUT, one GET).
 */
export function checksumCost(scope: Pick<ScopeSize, 'files' | 'bytes'>, readMBps: number) {
  const rate = Math.min(readMBps, CHECKSUM_HASH_MBPS);
  return { seconds: scope.bytes / MB / rate, s3Get: scope.files + 1, s3Put: 1 };
}

export interface CostBreakdown {
  instances: number;
  s3Requests: number;
  stepFunctions: number;
  lambda: number;
}

export interface Phase {
  name: string;
  seconds: number;
}

export interface MethodEstimate {
  seconds: number;
  usd: number;
  phases: Phase[];
  costs: CostBreakdown;
  /** What limits the data rate: the instance network (baseline or burst) or the file system. */
  limitedBy: string;
  /** Counts the cost rests on. */
  counts: {
    transitions: number;
    lambdaInvocations: number;
    s3Put: number;
    s3Get: number;
    instanceSeconds: number;
  };
  notes: string[];
}

const MB = 1e6;

/**
 * File system throughput in MB/s: storage capacity (TiB) x throughput per TiB. FSx counts its
 * capacity steps of 1,200 GiB as 1.2 TiB (a 2,400 GiB PERSISTENT_2 file system at 125 MB/s/TiB
 * gives 300 MB/s), so a TiB is 1,000 GiB here.
 */
export function fileSystemThroughputMBps(fs: FileSystemFacts, prices: PriceTable): number {
  const perUnit =
    fs.perUnitStorageThroughput ??
    prices.fsx.perUnitStorageThroughputByDeploymentType[fs.deploymentType] ??
    200;
  return (fs.storageCapacityGiB / 1000) * perUnit;
}

/** The table's entry for an instance type. @throws Error naming the type when the table lacks it. */
export function instancePrice(type: string, prices: PriceTable) {
  const price = prices.ec2[type];
  if (!price) {
    throw new Error(
      `no price for instance type ${type}: add it under pricing.ec2 in the config (usdPerHour, baselineGbps, burstGbps)`,
    );
  }
  return price;
}

/**
 * Seconds to move `bytes` at `burst` MB/s for at most `burstSeconds`, then at `baseline` MB/s.
 */
export function dataSeconds(bytes: number, burst: number, baseline: number, burstSeconds: number): number {
  const megabytes = bytes / MB;
  const inBurst = burst * burstSeconds;
  if (megabytes <= inBurst) return megabytes / burst;
  return burstSeconds + (megabytes - inBurst) / baseline;
}

/**
 * Attempts a Retry with FULL jitter makes to wait `seconds` (mean delay: half the capped backoff).
 */
export function pollAttempts(
  seconds: number,
  retry: { intervalSeconds: number; backoffRate: number; maxDelaySeconds: number },
): number {
  let waited = 0;
  let attempts = 1;
  let delay = retry.intervalSeconds;
  while (waited < seconds && attempts < 1000) {
    waited += Math.min(delay, retry.maxDelaySeconds) / 2;
    delay *= retry.backoffRate;
    attempts += 1;
  }
  return attempts;
}

/** The Retry block of WaitForAgent in statemachines/transfer.asl.json (the EC2 method's one polling state). */
const WAIT_FOR_AGENT = { intervalSeconds: 5, backoffRate: 1.5, maxDelaySeconds: 30 };
/** The DRA wait poller (functions/poll-dra-waits) runs once a minute for all runs. */
const DRA_POLLER_SECONDS = 60;

/** Step Functions and Lambda cost of `transitions` state transitions and `invocations` function runs. */
function orchestration(transitions: number, invocations: number, prices: PriceTable) {
  const gbSeconds = invocations * LAMBDA_SECONDS_PER_INVOCATION * (prices.lambda.memoryMb / 1024);
  return {
    stepFunctions: transitions * prices.stepFunctions.perTransition,
    lambda: invocations * prices.lambda.perRequest + gbSeconds * prices.lambda.perGbSecond,
  };
}

export function s3Cost(put: number, get: number, prices: PriceTable): number {
  return (put * prices.s3.putListPer1000 + get * prices.s3.getPer1000) / 1000;
}

/** Requests to move a scope: one per file, or one per part for files larger than a part. */
export function dataRequests(scope: Pick<ScopeSize, 'files' | 'bytes'>, partSize: number): number {
  return Math.max(scope.files, Math.ceil(scope.bytes / partSize));
}

const total = (costs: CostBreakdown) =>
  costs.instances + costs.s3Requests + costs.stepFunctions + costs.lambda;

/**
 * The EC2 method: one transfer instance runs `aws s3 sync` between the mounted file system and S3.
 * Data moves at the smaller of the instance's network bandwidth (burst while its credits last,
 * then baseline) and the file system's throughput; each file adds a request's latency, spread over
 * the sync's parallel requests.
 */
export function estimateEc2(input: EstimateInput, prices: PriceTable): MethodEstimate {
  const { model } = prices;
  const instance = instancePrice(input.instanceType, prices);
  const fs = fileSystemThroughputMBps(input.fileSystem, prices);
  const burst = Math.min(instance.burstGbps * 125, fs);
  const baseline = Math.min(instance.baselineGbps * 125, fs);
  const burstSeconds = instance.burstGbps > instance.baselineGbps ? model.networkBurstMinutes * 60 : 0;
  const data = dataSeconds(input.scope.bytes, burst, baseline, burstSeconds);
  const perFile = (input.scope.files * model.syncSecondsPerFile) / model.syncConcurrency;
  const sync = data + perFile;
  const checksums = input.verify === 'checksum' ? checksumCost(input.scope, baseline) : undefined;
  const instanceSeconds =
    model.instanceStartupSeconds + sync + (checksums?.seconds ?? 0) + model.instanceFinishSeconds;
  const seconds = model.runOverheadSeconds + instanceSeconds;

  const lists = Math.ceil(input.scope.files / 1000);
  const moved = dataRequests(input.scope, model.partSizeBytes);
  const progress = Math.ceil(sync / PROGRESS_INTERVAL_SECONDS);
  // stage-in: the sync lists the source and GETs the data; export: it lists the destination and
  // PUTs. Either way verification lists the S3 scope, and the listing is one PUT and one GET.
  const s3Put =
    (input.direction === 'export' ? moved : 0) + 2 * lists + progress + 1 + (checksums?.s3Put ?? 0);
  const s3Get = (input.direction === 'stage-in' ? moved : 0) + 1 + (checksums?.s3Get ?? 0);
  const agentPolls = pollAttempts(model.instanceStartupSeconds / 2, WAIT_FOR_AGENT);
  // Validate ChooseTurn WaitForTurn ChooseMethod PlanShards ChooseScaleOut LaunchInstance
  // WaitForAgent ChooseInstanceCommand RunTransferCommand VerifyEc2Transfer TerminateInstance
  // Summarize Succeed, and the agent polls; functions: the 8 Task states, command-callback and
  // finish-transfer. (One instance: a scaled-out run adds the Map's states per shard.)
  const transitions = 14 + (agentPolls - 1);
  const invocations = 10 + (agentPolls - 1);
  const costs: CostBreakdown = {
    instances: (Math.max(prices.ec2MinimumSeconds, instanceSeconds) * instance.usdPerHour) / 3600,
    s3Requests: s3Cost(s3Put, s3Get, prices),
    ...orchestration(transitions, invocations, prices),
  };
  const fixed = model.instanceStartupSeconds + model.instanceFinishSeconds;
  const inBurst = input.scope.bytes / MB <= burst * burstSeconds;
  const limitedBy =
    sync < fixed
      ? `starting and stopping the instance (${formatSeconds(fixed)}); the sync itself takes ${formatSeconds(sync)}`
      : data < perFile
        ? `per-file requests (${input.scope.files.toLocaleString('en-US')} files, ${model.syncConcurrency} at a time)`
        : baseline < instance.baselineGbps * 125 || (inBurst && burst < instance.burstGbps * 125)
          ? `the file system (${round(fs)} MB/s)`
          : inBurst
            ? `the instance's ${instance.burstGbps} Gbps burst bandwidth`
            : burst < instance.burstGbps * 125
              ? `the file system during the ${model.networkBurstMinutes}-minute burst (${round(fs)} MB/s), then the instance's ${instance.baselineGbps} Gbps baseline`
              : `the instance network: ${instance.burstGbps} Gbps burst for ${model.networkBurstMinutes} min, then ${instance.baselineGbps} Gbps`;
  return {
    seconds,
    usd: total(costs),
    phases: [
      { name: 'validate and take the turn', seconds: model.runOverheadSeconds },
      { name: 'launch, SSM agent, mount', seconds: model.instanceStartupSeconds },
      { name: 'aws s3 sync', seconds: sync },
      ...(checksums ? [{ name: 'checksums (read every file on FSx)', seconds: checksums.seconds }] : []),
      { name: 'list, verify, terminate', seconds: model.instanceFinishSeconds },
    ],
    costs,
    limitedBy,
    counts: { transitions, lambdaInvocations: invocations, s3Put, s3Get, instanceSeconds },
    notes: checksums
      ? [
          `checksum verification reads all ${round(input.scope.bytes / 1024 ** 3)} GiB once more on the instance (${formatSeconds(checksums.seconds)}) and each object's metadata (${input.scope.files.toLocaleString('en-US')} HeadObject)`,
        ]
      : [],
  };
}

/**
 * The DRA method: the association (created once), then an import task (metadata only: file
 * contents load from S3 on first read, or by the preload) or an export task (file contents move
 * at the file system's throughput).
 */
export function estimateDra(input: EstimateInput, prices: PriceTable): MethodEstimate {
  const { model } = prices;
  const fs = fileSystemThroughputMBps(input.fileSystem, prices);
  const { files, bytes } = input.scope;
  const association = input.associationExists ? 0 : model.draAssociationSeconds;
  const contentSeconds = bytes / MB / fs;
  const task =
    input.direction === 'stage-in'
      ? model.draTaskSeconds + files / model.draImportFilesPerSecond
      : model.draTaskSeconds + files / model.draExportFilesPerSecond + contentSeconds;
  const checksums = input.verify === 'checksum' ? draChecksums(input, fs, prices) : undefined;
  // Reading a staged file to checksum it restores its contents: a preload then has nothing left to do.
  const restores = input.direction === 'stage-in' && (input.preload || checksums !== undefined);
  const preload = input.direction === 'stage-in' && input.preload && !checksums ? contentSeconds : 0;
  const seconds = model.runOverheadSeconds + association + task + preload + (checksums?.seconds ?? 0);

  const lists = Math.ceil(files / 1000);
  // Import: FSx lists the prefix and reads each object's metadata; export: FSx PUTs the data.
  // The run lists the S3 scope once more to verify, and the report is one PUT and one GET.
  const s3Put =
    (input.direction === 'export' ? dataRequests(input.scope, model.partSizeBytes) : 0) +
    2 * lists +
    1 +
    (checksums?.s3Put ?? 0);
  // FSx loads contents in chunks of ImportedFileChunkSize (1 GiB by default).
  const s3Get =
    (input.direction === 'stage-in' ? files : 0) +
    (restores ? dataRequests(input.scope, 1024 ** 3) : 0) +
    1 +
    (checksums?.s3Get ?? 0);
  // Validate ChooseTurn WaitForTurn ChooseMethod EnsureAssociation WaitForAssociation
  // ChooseDraDirection Start*Task (ImportTaskStarted) WaitFor*Task StartFileListing FileListingSent
  // WaitForFileListing VerifyDraTransfer ChooseDraFollowUp Summarize Succeed, and the preload
  // (StartPreload PreloadSent WaitForPreload). The waits are .waitForTaskToken states: one
  // transition each however long they last.
  const transitions =
    (input.direction === 'stage-in' ? 16 : 15) + (preload ? 3 : 0) + (checksums?.transitions ?? 0);
  // Functions: the 9 Task states, finish-transfer, the preload's two, and the poller's rounds while
  // the run waits (shared with the other runs waiting at the same time: at most this many).
  const waits = association + task + preload + (checksums?.seconds ?? 0);
  const pollerRounds = Math.ceil(waits / DRA_POLLER_SECONDS);
  const invocations = 10 + (preload ? 2 : 0) + pollerRounds + (checksums?.invocations ?? 0);
  const costs: CostBreakdown = {
    instances: checksums?.instanceUsd ?? 0,
    s3Requests: s3Cost(s3Put, s3Get, prices),
    ...orchestration(transitions, invocations, prices),
  };
  const notes: string[] = checksums ? [checksums.note] : [];
  if (input.direction === 'stage-in' && !restores && contentSeconds >= 1) {
    notes.push(
      `file contents load from S3 on first read: ${formatSeconds(contentSeconds)} of reading at the file system's ${round(fs)} MB/s (mapping option preload restores them during the run)`,
    );
  }
  if (!input.associationExists) notes.push('the association is created by this run (once per mapping)');
  notes.push('the file system itself is billed by its storage whether or not it transfers');
  return {
    seconds,
    usd: total(costs),
    phases: [
      { name: 'validate and take the turn', seconds: model.runOverheadSeconds },
      ...(association ? [{ name: 'create the association', seconds: association }] : []),
      { name: input.direction === 'stage-in' ? 'import task (metadata)' : 'export task', seconds: task },
      ...(preload ? [{ name: 'preload (lfs hsm_restore)', seconds: preload }] : []),
      ...(checksums?.phases ?? []),
    ],
    costs,
    limitedBy:
      association > task + preload + (checksums?.seconds ?? 0)
        ? `creating the association (${formatSeconds(association)}, once per mapping)`
        : checksums && checksums.seconds > task + preload
          ? checksums.limitedBy
          : input.direction === 'export' || preload
            ? `the file system (${round(fs)} MB/s)`
            : `file metadata (${model.draImportFilesPerSecond} files/s)`,
    counts: {
      transitions,
      lambdaInvocations: invocations,
      s3Put,
      s3Get,
      instanceSeconds: checksums?.instanceSeconds ?? 0,
    },
    notes,
  };
}

/**
 * What `checksum` verification adds to a DRA run (docs/verification.md): a Lustre client reads
 * every file once (restoring a staged file's contents from S3 first). The configured client reads
 * in the listing command, at the file system's rate or the hashing rate; without one, the run
 * launches a transfer instance for it (launch, agent, the read at min(its baseline, the file
 * system, hashing), terminate), billed as the EC2 method's. The launched path replaces
 * WaitForFileListing VerifyDraTransfer ChooseDraFollowUp with LaunchInstance WaitForAgent (and its
 * polls) ChooseInstanceCommand SendChecksumsCommand WaitForChecksumsCommand VerifyDraContent
 * ChooseInstanceFollowUp TerminateInstance ChooseAfterTermination: 4 more functions.
 */
function draChecksums(input: EstimateInput, fs: number, prices: PriceTable) {
  const { model } = prices;
  const gib = round(input.scope.bytes / 1024 ** 3);
  if (input.lustreClient) {
    const read = checksumCost(input.scope, fs);
    return {
      ...read,
      phases: [{ name: 'checksums on the Lustre client (read every file)', seconds: read.seconds }],
      transitions: 0,
      invocations: 0,
      instanceSeconds: 0,
      instanceUsd: 0,
      limitedBy: `reading every file on the Lustre client (${round(Math.min(fs, CHECKSUM_HASH_MBPS))} MB/s)`,
      note: `checksum verification reads all ${gib} GiB on the configured Lustre client (${formatSeconds(read.seconds)}, not counting its own network) and each object's metadata (${input.scope.files.toLocaleString('en-US')} HeadObject)`,
    };
  }
  const instance = instancePrice(input.instanceType, prices);
  const rate = Math.min(instance.baselineGbps * 125, fs);
  const read = checksumCost(input.scope, rate);
  const instanceSeconds = model.instanceStartupSeconds + read.seconds + model.instanceFinishSeconds;
  const agentPolls = pollAttempts(model.instanceStartupSeconds / 2, WAIT_FOR_AGENT);
  return {
    ...read,
    seconds: instanceSeconds,
    phases: [
      { name: 'launch, SSM agent, mount (for checksums)', seconds: model.instanceStartupSeconds },
      { name: 'checksums on the instance (read every file)', seconds: read.seconds },
      { name: 'verify, terminate', seconds: model.instanceFinishSeconds },
    ],
    transitions: 6 + (agentPolls - 1),
    invocations: 4 + (agentPolls - 1),
    instanceSeconds,
    instanceUsd: (Math.max(prices.ec2MinimumSeconds, instanceSeconds) * instance.usdPerHour) / 3600,
    limitedBy: `reading every file on a launched ${input.instanceType} (${round(Math.min(rate, CHECKSUM_HASH_MBPS))} MB/s)`,
    note: `checksum verification launches a ${input.instanceType} (no Lustre client configured) that reads all ${gib} GiB (${formatSeconds(read.seconds)}) and each object's metadata (${input.scope.files.toLocaleString('en-US')} HeadObject)`,
  };
}

export interface ScaleOutSuggestion {
  /** Instances of the configured type that together reach the file system's throughput. */
  instances: number;
  /** The sync takes longer than starting and stopping an instance: going faster would show. */
  worthwhile: boolean;
  /** The cheapest instance type in the table that reaches it alone (or the fastest there is). */
  instanceType: string;
  reason: string;
}

/**
 * How to go faster than one instance of the configured type: the number of such instances whose
 * baseline bandwidth adds up to the file system's throughput (never more than files or
 * MAX_SUGGESTED_INSTANCES), and the cheapest single type that gets there.
 */
export function suggestScaleOut(input: EstimateInput, prices: PriceTable): ScaleOutSuggestion {
  const fs = fileSystemThroughputMBps(input.fileSystem, prices);
  const own = instancePrice(input.instanceType, prices);
  const perInstance = own.baselineGbps * 125;
  const instances = Math.max(
    1,
    Math.min(Math.ceil(fs / perInstance), Math.max(1, input.scope.files), MAX_SUGGESTED_INSTANCES),
  );
  const types = Object.entries(prices.ec2);
  const enough = types
    .filter(([, price]) => price.baselineGbps * 125 >= fs)
    .sort(([, a], [, b]) => a.usdPerHour - b.usdPerHour);
  const fastest = [...types].sort(([, a], [, b]) => b.baselineGbps - a.baselineGbps);
  const [instanceType] = enough[0] ?? fastest[0] ?? [input.instanceType];
  const sync = estimateEc2(input, prices).phases.find((p) => p.name === 'aws s3 sync')?.seconds ?? 0;
  return {
    instances,
    worthwhile:
      instances > 1 && sync > prices.model.instanceStartupSeconds + prices.model.instanceFinishSeconds,
    instanceType,
    reason:
      instances === 1
        ? `one ${input.instanceType} (${round(perInstance)} MB/s sustained) already reaches the file system's ${round(fs)} MB/s`
        : `one ${input.instanceType} sustains ${round(perInstance)} MB/s; the file system takes ${round(fs)} MB/s`,
  };
}

/** Rounds to 3 significant digits (for messages). */
export function round(value: number): number {
  return Number(value.toPrecision(3));
}

/** `1h 25m`, `6m 15s`, `42s`. */
export function formatSeconds(seconds: number): string {
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  const minutes = Math.floor(s / 60);
  if (minutes < 60) return `${minutes}m ${String(s % 60).padStart(2, '0')}s`;
  const hours = Math.floor(minutes / 60);
  return `${hours}h ${String(minutes % 60).padStart(2, '0')}m`;
}
