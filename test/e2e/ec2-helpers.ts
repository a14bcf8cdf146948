/**
 * Shared set-up of the EC2-method end-to-end tests: a local cloud started in-process (random port,
 * temp data dir, fast clock), the real transfer state machine run through the Step Functions API,
 * and helpers to compare trees on S3 and on the local Lustre root and to count instances.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { DescribeInstancesCommand, type Instance } from '@aws-sdk/client-ec2';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import {
  DescribeExecutionCommand,
  type DescribeExecutionCommandOutput,
  GetExecutionHistoryCommand,
  ListStateMachinesCommand,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import {
  DRA_WAIT_POLLER,
  type LocalCloud,
  type LocalCloudOptions,
  startLocalCloud,
} from '../../local/cloud.js';
import { getEc2, getS3, getSfn, resetClients } from '../../shared/aws/clients.js';

export const FS_ID = 'fs-00000000000000001';
export const BUCKET = 'demo';

/** The local demo config plus `extraMappings` (YAML list items) and `defaults` (YAML block). */
export function configYaml(
  options: { extraMappings?: string; defaults?: string; lustreClientInstanceId?: string } = {},
): string {
  return `version: 1
region: us-east-1
accountId: '000000000000'
fileSystems:
  - id: ${FS_ID}
    mountPoint: /fsx
    subnetIds: [subnet-00000000000000001, subnet-00000000000000002]
    securityGroupIds: [sg-00000000000000001]
${options.lustreClientInstanceId ? `    lustreClientInstanceId: ${options.lustreClientInstanceId}\n` : ''}mappings:
  - name: blended-tropomi
    fileSystemId: ${FS_ID}
    fsxPath: /blended-tropomi
    s3Uri: s3://${BUCKET}/blended-tropomi
    directions: [stage-in, export]
    method: ec2
  - name: output
    fileSystemId: ${FS_ID}
    fsxPath: /output
    s3Uri: s3://${BUCKET}/output
    directions: [export]
    method: ec2
${options.extraMappings ?? ''}
${options.defaults ? `defaults:\n${options.defaults}` : ''}
`;
}

export interface World {
  cloud: LocalCloud;
  dataDir: string;
  stateMachineArn: string;
  stop(): Promise<void>;
}

/**
 * Starts a local cloud for one test file, with its own config, and points this process's SDK
 * clients (and the in-process Lambda handlers) at it.
 */
export async function startWorld(
  options: {
    config?: string;
    timeScale?: number;
    /** IAM settings of the cloud (default: enforced, with this project's roles). */
    iam?: Pick<LocalCloudOptions, 'iam' | 'iamWithoutStatements' | 'iamReport'>;
    /** Schedules running on the scaled clock (default: the DRA wait poller, as on AWS; the others fire on demand). */
    schedules?: LocalCloudOptions['schedules'];
    /** The instances' network model (local/ssm/instance-network.ts); off by default. */
    instanceNetworkScale?: number;
  } = {},
): Promise<World> {
  const dataDir = mkdtempSync(join(tmpdir(), 'fsx-transfer-e2e-ec2-'));
  const configPath = join(dataDir, 'fsx-transfer.config.yaml');
  writeFileSync(configPath, options.config ?? configYaml());
  const cloud = await startLocalCloud({
    port: 0,
    dataDir: join(dataDir, 'cloud'),
    configPath,
    timeScale: options.timeScale ?? 0.01,
    quiet: true,
    schedules: options.schedules ?? [DRA_WAIT_POLLER],
    ...options.iam,
    ...(options.instanceNetworkScale ? { instanceNetworkScale: options.instanceNetworkScale } : {}),
  });
  Object.assign(process.env, cloud.env);
  resetClients();
  const machines = await getSfn().send(new ListStateMachinesCommand({}));
  const stateMachineArn = machines.stateMachines?.find(
    (m) => m.name === 'fsx-transfer-local-transfer',
  )?.stateMachineArn;
  if (!stateMachineArn) throw new Error('the local cloud has no fsx-transfer-local-transfer state machine');
  return {
    cloud,
    dataDir,
    stateMachineArn,
    stop: async () => {
      resetClients();
      await cloud.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export interface Run {
  executionArn: string;
  status: string;
  error?: string;
  cause?: string;
  output?: Record<string, any>;
  /** Names of the states entered, in order. */
  states: string[];
}

let runs = 0;

/** Starts the transfer state machine and returns once the execution has ended. */
export async function startTransfer(world: World, request: Record<string, unknown>): Promise<string> {
  runs++;
  const started = await getSfn().send(
    new StartExecutionCommand({
      stateMachineArn: world.stateMachineArn,
      name: `e2e-${process.pid}-${Date.now()}-${runs}`,
      input: JSON.stringify(request),
    }),
  );
  return started.executionArn!;
}

/** Waits until the execution has ended (polling DescribeExecution) and reads its history. */
export async function waitForExecution(executionArn: string, timeoutMs = 60_000): Promise<Run> {
  const until = Date.now() + timeoutMs;
  let described: DescribeExecutionCommandOutput;
  do {
    await sleep(100);
    described = await getSfn().send(new DescribeExecutionCommand({ executionArn }));
  } while (described.status === 'RUNNING' && Date.now() < until);
  if (described.status === 'RUNNING')
    throw new Error(`execution ${executionArn} still RUNNING after ${timeoutMs} ms`);
  return {
    executionArn,
    status: described.status!,
    ...(described.error ? { error: described.error } : {}),
    ...(described.cause ? { cause: described.cause } : {}),
    ...(described.output ? { output: JSON.parse(described.output) } : {}),
    states: await statesEntered(executionArn),
  };
}

export async function runTransfer(
  world: World,
  request: Record<string, unknown>,
  timeoutMs?: number,
): Promise<Run> {
  return waitForExecution(await startTransfer(world, request), timeoutMs);
}

export async function statesEntered(executionArn: string): Promise<string[]> {
  const names: string[] = [];
  let nextToken: string | undefined;
  do {
    const page = await getSfn().send(
      new GetExecutionHistoryCommand({ executionArn, nextToken, maxResults: 1000 }),
    );
    for (const event of page.events ?? []) {
      if (event.stateEnteredEventDetails?.name) names.push(event.stateEnteredEventDetails.name);
    }
    nextToken = page.nextToken;
  } while (nextToken);
  return names;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Every instance EC2 knows (terminated ones stay visible for a while). */
export async function allInstances(): Promise<Instance[]> {
  const out = await getEc2().send(new DescribeInstancesCommand({}));
  return (out.Reservations ?? []).flatMap((reservation) => reservation.Instances ?? []);
}

/** Instances still costing money: not shutting-down and not terminated. */
export async function instancesNotTerminated(): Promise<Instance[]> {
  return (await allInstances()).filter(
    (i) => !['shutting-down', 'terminated'].includes(String(i.State?.Name)),
  );
}

/** Instances tagged with an execution. */
export async function instancesOf(executionArn: string): Promise<Instance[]> {
  return (await allInstances()).filter((i) =>
    i.Tags?.some((tag) => tag.Key === 'fsx-transfer:execution' && tag.Value === executionArn),
  );
}

/** Waits until `check` holds (polling), or fails with `what`. */
export async function eventually(
  check: () => Promise<boolean>,
  what: string,
  timeoutMs = 20_000,
): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (await check()) return;
    await sleep(100);
  }
  throw new Error(`timed out waiting until ${what}`);
}

export function sha256(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

async function fileSha256(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Uploads files (relative path -> content) below `prefix`. */
export async function putTree(prefix: string, files: Record<string, Buffer | string>): Promise<void> {
  for (const [path, body] of Object.entries(files)) {
    await getS3().send(new PutObjectCommand({ Bucket: BUCKET, Key: `${prefix}/${path}`, Body: body }));
  }
}

/** Objects below `prefix` as relative path -> {size, sha256}. */
export async function s3Tree(prefix: string): Promise<Record<string, { size: number; sha256: string }>> {
  const tree: Record<string, { size: number; sha256: string }> = {};
  let token: string | undefined;
  do {
    const page = await getS3().send(
      new ListObjectsV2Command({ Bucket: BUCKET, Prefix: `${prefix}/`, ContinuationToken: token }),
    );
    for (const object of page.Contents ?? []) {
      const got = await getS3().send(new GetObjectCommand({ Bucket: BUCKET, Key: object.Key! }));
      const hash = createHash('sha256');
      for await (const chunk of got.Body as AsyncIterable<Uint8Array>) hash.update(chunk);
      tree[object.Key!.slice(prefix.length + 1)] = { size: object.Size ?? 0, sha256: hash.digest('hex') };
    }
    token = page.NextContinuationToken;
  } while (token);
  return tree;
}

/** Files below `dir` as relative path -> {size, sha256}. */
export async function fsTree(dir: string): Promise<Record<string, { size: number; sha256: string }>> {
  const tree: Record<string, { size: number; sha256: string }> = {};
  const walk = async (current: string) => {
    for (const entry of readdirSync(current, { withFileTypes: true })) {
      const path = join(current, entry.name);
      if (entry.isDirectory()) await walk(path);
      else if (entry.isFile())
        tree[relative(dir, path)] = { size: statSync(path).size, sha256: await fileSha256(path) };
    }
  };
  await walk(dir);
  return tree;
}

/** The local directory standing for `path` on the test file system. */
export function fsxDir(world: World, path: string): string {
  return join(world.cloud.fsx.fileSystemRoot(FS_ID), path);
}

/**
 * The hostile-names tree: every kind of name and size a model run produces (empty, spaces,
 * unicode, deep nesting, a big file), shared by the transfer and the checksum tests.
 */
export function sampleTree(big: Buffer, bigName = 'big/100mb.bin'): Record<string, Buffer | string> {
  return {
    empty: '',
    'name with spaces.txt': 'spaces\n',
    'ünïcödé/数据 файл.nc': Buffer.from('unicode names\n'),
    'a/b/c/d/deep.nc': randomBytes(4096),
    'a/sibling.txt': 'sibling\n',
    [bigName]: big,
  };
}

/** What a tree must look like on either side: relative path -> {size, sha256}. */
export function expectedTree(
  tree: Record<string, Buffer | string>,
): Record<string, { size: number; sha256: string }> {
  return Object.fromEntries(
    Object.entries(tree).map(([path, body]) => [
      path,
      { size: Buffer.byteLength(body), sha256: sha256(body) },
    ]),
  );
}
