/**
 * coldInitMs: how long importing each bundled handler takes in a fresh Node.js process (what a
 * Lambda cold start adds to the runtime's own start), from the zip `npm run package` built,
 * unpacked as Lambda does (/var/task = the zip's root, the config beside the bundle). Several
 * processes per handler; the figure is the slowest handler's median.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { zipEntries } from '../scripts/sls/package-copy.js';
import { zipSizes } from './bundles.js';
import type { Benchmark } from './lib/figures.js';

/**
 * Imports the module and prints the milliseconds the import took, as wall time and as CPU time of
 * this process (user + system): on a machine shared with other work, wall time also counts the
 * time other processes had the CPU, CPU time does not.
 */
const IMPORT_ONE = `
const cpu = process.cpuUsage();
const started = performance.now();
const module = await import(process.argv[1]);
const wallMs = performance.now() - started;
const used = process.cpuUsage(cpu);
if (typeof module.handler !== 'function') throw new Error('no handler export');
process.stdout.write(JSON.stringify({ wallMs, cpuMs: (used.user + used.system) / 1000 }));
`;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** Unpacks a function zip into `dir`. */
function unzip(zipPath: string, dir: string): void {
  for (const [name, content] of zipEntries(readFileSync(zipPath))) {
    if (name.endsWith('/')) continue;
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), content);
  }
}

/** The environment Lambda gives a function, with the values serverless.yml sets. */
function lambdaEnvironment(key: string, taskRoot: string): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    LAMBDA_TASK_ROOT: taskRoot,
    AWS_REGION: 'us-east-1',
    AWS_DEFAULT_REGION: 'us-east-1',
    AWS_LAMBDA_FUNCTION_NAME: `fsx-transfer-dev-${key}`,
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '512',
    AWS_ACCESS_KEY_ID: 'AKIDBENCH',
    AWS_SECRET_ACCESS_KEY: 'bench',
    AWS_SESSION_TOKEN: 'bench',
    FSX_TRANSFER_CONFIG: 'fsx-transfer.config.yaml',
    FSX_TRANSFER_STAGE: 'dev',
    TRANSFERS_TABLE: 'fsx-transfer-dev-transfers',
    TRANSFER_STATE_MACHINE_ARN:
      'arn:aws:states:us-east-1:000000000000:stateMachine:fsx-transfer-dev-transfer',
    POWERTOOLS_SERVICE_NAME: 'fsx-transfer',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  };
}

const coldInit: Benchmark<'coldInitMs'> = {
  figure: 'coldInitMs',
  title: 'bundled handler import time',
  order: 20,
  async run(context) {
    const packaged = await context.packaged();
    const zips = join(packaged.dir, '.serverless');
    const keys = Object.keys(zipSizes(packaged.dir)).sort();
    const work = mkdtempSync(join(tmpdir(), 'fsx-transfer-bench-cold-init-'));
    const medians: Record<string, number> = {};
    const cpuMedians: Record<string, number> = {};
    try {
      for (const key of keys) {
        const taskRoot = join(work, key);
        unzip(join(zips, `${key}.zip`), taskRoot);
        const handler = pathToFileURL(join(taskRoot, 'functions', key, 'handler.mjs')).href;
        const samples: number[] = [];
        const cpuSamples: number[] = [];
        for (let i = 0; i < context.options.samples; i++) {
          const { stdout } = await promisify(execFile)(
            process.execPath,
            ['--input-type=module', '--eval', IMPORT_ONE, handler],
            { cwd: taskRoot, env: lambdaEnvironment(key, taskRoot) },
          );
          const { wallMs, cpuMs } = JSON.parse(stdout) as { wallMs: number; cpuMs: number };
          samples.push(wallMs);
          cpuSamples.push(cpuMs);
        }
        medians[key] = Math.round(median(samples) * 10) / 10;
        cpuMedians[key] = Math.round(median(cpuSamples) * 10) / 10;
      }
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
    const slowest = Object.entries(medians).sort((a, b) => b[1] - a[1]);
    const slowestCpu = Object.entries(cpuMedians).sort((a, b) => b[1] - a[1]);
    const load = loadavg()[0]!;
    const notes = [`Node.js ${process.version} here; Lambda runs nodejs22.x`];
    if (load > cpus().length) {
      notes.push(
        `load average ${load.toFixed(1)} on ${cpus().length} CPUs: wall times include waiting for the CPU; ` +
          `the slowest import used ${Math.round(slowestCpu[0]![1])} ms of CPU (median)`,
      );
    }
    return {
      value: Math.round(slowest[0]![1]),
      details: {
        samplesPerHandler: context.options.samples,
        slowestCpuMs: Math.round(slowestCpu[0]![1]),
        medianWallMs: Object.fromEntries(slowest),
        medianCpuMs: Object.fromEntries(slowestCpu),
      },
      notes,
    };
  },
};

export default coldInit;
