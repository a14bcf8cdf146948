/**
 * `fsx-transfer local up`: runs the local cloud as a server on 127.0.0.1 until SIGINT/SIGTERM,
 * printing the endpoint and the environment to use. State is kept in the data dir, so the next
 * `local up` with the same dir finds its buckets, file systems, instances and commands again.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { DEFAULT_CONFIG_PATH } from '../shared/config/load.js';
import { type LocalCloud, startLocalCloud } from './cloud.js';
import type { IamMode } from './iam/service.js';

export interface LocalUpOptions {
  port: number;
  dataDir: string;
  /** Config file; default `$FSX_TRANSFER_CONFIG`, else `fsx-transfer.config.yaml` when it exists. */
  configPath?: string;
  timeScale?: number;
  faultsFile?: string;
  /** IAM mode (default enforce): see LocalCloudOptions.iam. */
  iam?: IamMode;
  /** Print one JSON object (endpoint, apiUrl, env, admin) instead of the human-readable banner. */
  json?: boolean;
  /** Project root (serverless.yml, functions/, statemachines/, ssm/); default this repository. */
  rootDir?: string;
}

function iamLine(cloud: LocalCloud): string {
  if (cloud.iam.mode === 'off') return 'off: any access key is accepted and every request allowed';
  const what =
    cloud.iam.mode === 'enforce'
      ? "enforced: every signature is verified and every request evaluated against its principal's policies"
      : 'warn: signatures and policies are checked, and what would be refused is only logged';
  return `${what}; denials at ${cloud.endpoint}/_local/iam/denials`;
}

function banner(cloud: LocalCloud, configPath: string | undefined): string {
  const exports = Object.entries(cloud.env)
    .map(([key, value]) => `export ${key}=${value}`)
    .join('\n  ');
  return `fsx-transfer local cloud: S3, FSx, EC2, SSM, STS, Step Functions, SQS, DynamoDB and EventBridge on ${cloud.endpoint}
  data dir: ${cloud.dataDir}
  config:   ${configPath ?? '(none)'}
  account:  ${cloud.accountId}   region: ${cloud.region}   credentials: test / test (administrator)
  IAM:      ${iamLine(cloud)}

Point the SDKs and the project's CLI at it:
  ${exports}

Or the AWS CLI, per command:
  aws --endpoint-url ${cloud.endpoint} fsx describe-file-systems
  aws --endpoint-url ${cloud.endpoint} s3 ls

The transfers API (HTTP API, requests signed with SigV4 for service execute-api):
  ${cloud.apiUrl}

Admin API (JSON): ${cloud.endpoint}/_local/  (health, state, faults, clock, events, ...)
Press Ctrl-C to stop.`;
}

/** Starts the local cloud and resolves when it has been stopped by SIGINT or SIGTERM. */
export async function runLocalUp(options: LocalUpOptions): Promise<void> {
  const configPath =
    options.configPath ??
    process.env.FSX_TRANSFER_CONFIG ??
    (existsSync(DEFAULT_CONFIG_PATH) ? DEFAULT_CONFIG_PATH : undefined);
  const cloud = await startLocalCloud({
    port: options.port,
    dataDir: resolve(options.dataDir),
    configPath,
    timeScale: options.timeScale,
    faultsFile: options.faultsFile,
    iam: options.iam,
    quiet: Boolean(options.json),
    // A long-running cloud behaves like AWS: the deadline sweeper and the command poller run on their schedules.
    schedules: true,
    rootDir: options.rootDir,
  });
  if (options.json) {
    console.log(
      JSON.stringify({
        endpoint: cloud.endpoint,
        apiUrl: cloud.apiUrl,
        env: cloud.env,
        dataDir: cloud.dataDir,
        admin: `${cloud.endpoint}/_local/`,
      }),
    );
  } else {
    console.log(banner(cloud, configPath ? resolve(configPath) : undefined));
  }
  // Keep serving until interrupted; then stop cleanly (state is flushed to the data dir).
  await new Promise<void>((done) => {
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      if (!options.json) console.log(`\n${signal}: stopping the local cloud...`);
      cloud.stop().then(done, (error) => {
        console.error(error);
        done();
      });
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
  });
}
