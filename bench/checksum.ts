/**
 * The cost of `checksum` verification against `size` (issue 14): the same EC2 stage-in of a tree of
 * the given size on the local cloud, once verified by size and once by checksum, timed end to end.
 * The difference is what the checksums step (every file read once more on the file system) and the
 * HeadObject per object add; `npm run bench` reports it for 1 GiB.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import {
  DescribeExecutionCommand,
  ListStateMachinesCommand,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { startLocalCloud } from '../local/cloud.js';
import { getS3, getSfn, resetClients } from '../shared/aws/clients.js';
import type { Benchmark } from './lib/figures.js';

export interface ChecksumBenchOptions {
  /** Total size of the tree (default 1 GiB). */
  bytes?: number;
  /** How many files it is split into (default 16). */
  files?: number;
  /** Simulated-time scale of the local cloud (default 0.01: instance boot and waits are short). */
  timeScale?: number;
}

export interface ChecksumBenchResult {
  bytes: number;
  files: number;
  sizeSeconds: number;
  checksumSeconds: number;
  /** checksumSeconds - sizeSeconds. */
  extraSeconds: number;
  /** What the checksum run's summary says it verified. */
  verification: unknown;
}

const BUCKET = 'bench';
const FS_ID = 'fs-00000000000000001';

const config = `version: 1
region: us-east-1
accountId: '000000000000'
fileSystems:
  - id: ${FS_ID}
    mountPoint: /fsx
    subnetIds: [subnet-00000000000000001]
    securityGroupIds: [sg-00000000000000001]
mappings:
  - name: bench
    fileSystemId: ${FS_ID}
    fsxPath: /bench
    s3Uri: s3://${BUCKET}/bench
    directions: [stage-in]
    method: ec2
`;

/** Runs one stage-in and returns its wall-clock seconds and summary. */
async function timedRun(stateMachineArn: string, request: Record<string, unknown>) {
  const started = Date.now();
  const { executionArn } = await getSfn().send(
    new StartExecutionCommand({
      stateMachineArn,
      name: `bench-${Date.now()}`,
      input: JSON.stringify(request),
    }),
  );
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, 200));
    const run = await getSfn().send(new DescribeExecutionCommand({ executionArn }));
    if (run.status === 'RUNNING') continue;
    if (run.status !== 'SUCCEEDED') throw new Error(`bench run ${run.status}: ${run.cause ?? ''}`);
    return { seconds: (Date.now() - started) / 1000, summary: JSON.parse(run.output ?? '{}') };
  }
}

/**
 * Measures a `size` and a `checksum` stage-in of the same tree (uploaded with the SDK's default
 * CRC32 checksums) on a local cloud of its own.
 */
export async function measureChecksum(options: ChecksumBenchOptions = {}): Promise<ChecksumBenchResult> {
  const bytes = options.bytes ?? 1024 ** 3;
  const files = options.files ?? 16;
  const dir = mkdtempSync(join(tmpdir(), 'fsx-transfer-bench-checksum-'));
  const configPath = join(dir, 'fsx-transfer.config.yaml');
  writeFileSync(configPath, config);
  const cloud = await startLocalCloud({
    port: 0,
    dataDir: join(dir, 'cloud'),
    configPath,
    timeScale: options.timeScale ?? 0.01,
    quiet: true,
  });
  const saved = { ...process.env };
  try {
    Object.assign(process.env, cloud.env);
    resetClients();
    const machines = await getSfn().send(new ListStateMachinesCommand({}));
    const arn = machines.stateMachines?.find(
      (m) => m.name === 'fsx-transfer-local-transfer',
    )?.stateMachineArn;
    if (!arn) throw new Error('the local cloud has no transfer state machine');
    const per = Math.floor(bytes / files);
    for (const run of ['size', 'checksum']) {
      for (let i = 0; i < files; i++) {
        const body = randomBytes(i === files - 1 ? bytes - per * (files - 1) : per);
        await getS3().send(
          new PutObjectCommand({ Bucket: BUCKET, Key: `bench/${run}/file-${i}.bin`, Body: body }),
        );
      }
    }
    const size = await timedRun(arn, {
      mapping: 'bench',
      direction: 'stage-in',
      subPath: 'size',
      verify: 'size',
    });
    const checksum = await timedRun(arn, {
      mapping: 'bench',
      direction: 'stage-in',
      subPath: 'checksum',
      verify: 'checksum',
    });
    return {
      bytes,
      files,
      sizeSeconds: size.seconds,
      checksumSeconds: checksum.seconds,
      extraSeconds: checksum.seconds - size.seconds,
      verification: checksum.summary.verification,
    };
  } finally {
    resetClients();
    process.env = saved;
    await cloud.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** `npm run bench`: `checksum` against `size` on a tree of `--mib` (1 GiB by default) in 16 files. */
const checksumBench: Benchmark<'checksum'> = {
  figure: 'checksum',
  title: 'the cost of checksum against size verification (EC2 stage-in)',
  order: 95,
  async run(context) {
    const bytes = context.options.mib * 2 ** 20;
    const result = await measureChecksum({ bytes, files: 16 });
    const round = (n: number) => Math.round(n * 10) / 10;
    return {
      value: {
        bytes,
        sizeSeconds: round(result.sizeSeconds),
        checksumSeconds: round(result.checksumSeconds),
        extraSeconds: round(result.extraSeconds),
      },
      details: { verification: result.verification },
    };
  },
};
export default checksumBench;
