/**
 * Set-up shared by the local cloud conformance tests (test/e2e/local-cloud-*.test.ts): a local
 * cloud in-process on a random port with a temp data dir and a fast clock, SDK v3 clients aimed
 * at it, and a runner for the real AWS CLI (`aws --endpoint-url ...`).
 *
 * The project root given to the cloud is a temp copy holding only `ssm/transfer-document.yaml`,
 * so these tests exercise the emulators alone (no project Lambdas react to their events).
 */
import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type EC2Client, RunInstancesCommand, type RunInstancesCommandInput } from '@aws-sdk/client-ec2';
import type { S3Client } from '@aws-sdk/client-s3';
import type { SSMClient } from '@aws-sdk/client-ssm';
import type { STSClient } from '@aws-sdk/client-sts';
import { type LocalCloud, type LocalCloudOptions, startLocalCloud } from '../../local/cloud.js';
import { localClients } from '../support/local-clients.js';

export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const FS_ID = 'fs-00000000000000001';

export const CONFIG_YAML = `version: 1
region: us-east-1
accountId: '000000000000'
fileSystems:
  - id: ${FS_ID}
    mountPoint: /fsx
    subnetIds: [subnet-00000000000000001, subnet-00000000000000002]
    securityGroupIds: [sg-00000000000000001]
mappings:
  - name: data
    fileSystemId: ${FS_ID}
    fsxPath: /data
    s3Uri: s3://conformance/data
    method: ec2
`;

export interface TestCloud {
  cloud: LocalCloud;
  dir: string;
  s3: S3Client;
  ec2: EC2Client;
  ssm: SSMClient;
  sts: STSClient;
  /** Runs the AWS CLI against the cloud; resolves with exit code and outputs (never rejects). */
  aws(
    args: string[],
    options?: { cwd?: string; timeoutMs?: number },
  ): Promise<{ code: number; stdout: string; stderr: string }>;
  /** JSON admin API call. */
  admin(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }>;
  stop(): Promise<void>;
}

export async function startTestCloud(
  options: Partial<LocalCloudOptions> & { config?: string } = {},
): Promise<TestCloud> {
  const dir = mkdtempSync(join(tmpdir(), 'fsx-transfer-local-cloud-'));
  const rootDir = join(dir, 'project');
  mkdirSync(join(rootDir, 'ssm'), { recursive: true });
  copyFileSync(join(REPO_ROOT, 'ssm/transfer-document.yaml'), join(rootDir, 'ssm/transfer-document.yaml'));
  const configPath = join(dir, 'fsx-transfer.config.yaml');
  writeFileSync(configPath, options.config ?? CONFIG_YAML);
  const cloud = await startLocalCloud({
    port: 0,
    dataDir: join(dir, 'data'),
    configPath,
    timeScale: 0.01,
    quiet: true,
    rootDir,
    ...options,
  });
  const clients = localClients(cloud.endpoint, { maxAttempts: 1 });
  const s3 = clients.s3();
  const ec2 = clients.ec2();
  const ssm = clients.ssm();
  const sts = clients.sts();
  const cliEnv: NodeJS.ProcessEnv = {
    ...process.env,
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    AWS_DEFAULT_REGION: 'us-east-1',
    AWS_REGION: 'us-east-1',
    AWS_PAGER: '',
    AWS_CONFIG_FILE: join(dir, 'aws-config'),
    AWS_SHARED_CREDENTIALS_FILE: join(dir, 'aws-credentials'),
  };
  delete cliEnv.AWS_ENDPOINT_URL;
  delete cliEnv.AWS_PROFILE;
  return {
    cloud,
    dir,
    s3,
    ec2,
    ssm,
    sts,
    aws: (args, opts = {}) =>
      new Promise((resolve) => {
        execFile(
          'aws',
          ['--endpoint-url', cloud.endpoint, ...args],
          {
            env: cliEnv,
            cwd: opts.cwd ?? dir,
            timeout: opts.timeoutMs ?? 120_000,
            maxBuffer: 64 * 1024 * 1024,
          },
          (error, stdout, stderr) => {
            const code = error
              ? typeof (error as { code?: unknown }).code === 'number'
                ? (error as { code: number }).code
                : 1
              : 0;
            resolve({ code, stdout, stderr });
          },
        );
      }),
    admin: async (method, path, body) => {
      const res = await fetch(`${cloud.endpoint}/_local${path}`, {
        method,
        headers: { 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return { status: res.status, body: await res.json() };
    },
    stop: async () => {
      for (const client of [s3, ec2, ssm, sts]) client.destroy();
      await cloud.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The AMI the conformance tests launch (the local cloud accepts any well-formed id). */
export const AMI = 'ami-0a1b2c3d4e5f60718';

/** RunInstances of one c6i.large from AMI, with `overrides`. */
export function launchInstance(ec2: EC2Client, overrides: Partial<RunInstancesCommandInput> = {}) {
  return ec2.send(
    new RunInstancesCommand({
      ImageId: AMI,
      InstanceType: 'c6i.large',
      MinCount: 1,
      MaxCount: 1,
      ...overrides,
    }),
  );
}

/** Polls `check` until it returns a truthy value (or throws the last error after `timeoutMs`). */
export async function waitFor<T>(
  check: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs = 10_000,
  intervalMs = 20,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value) return value;
    } catch (error) {
      lastError = error;
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  throw lastError ?? new Error(`condition not met within ${timeoutMs} ms`);
}

/** The error a promise rejects with (fails the test when it resolves). */
export async function errorOf(
  promise: Promise<unknown>,
): Promise<Error & { name: string; $metadata?: { httpStatusCode?: number } }> {
  try {
    await promise;
  } catch (error) {
    return error as Error & { name: string };
  }
  throw new Error('expected the call to fail, but it succeeded');
}
