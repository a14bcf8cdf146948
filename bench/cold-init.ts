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

/** One sample: import `handler` in a fresh `node` process with the function's Lambda environment. */
async function importOnce(key: string, taskRoot: string): Promise<{ wallMs: number; cpuMs: number }> {
  const handler = pathToFileURL(join(taskRoot, 'functions', key, 'handler.mjs')).href;
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--input-type=module', '--eval', IMPORT_ONE, handler],
    { cwd: taskRoot, env: lambdaEnvironment(key, taskRoot) },
  );
  return JSON.parse(stdout) as { wallMs: number; cpuMs: number };
}

const round = (ms: number) => Math.round(ms * 10) / 10;
const byValue = (record: Record<string, number>) =>
  Object.fromEntries(Object.entries(record).sort((a, b) => b[1] - a[1]));

const coldInit: Benchmark<'coldInitMs'> = {
  figure: 'coldInitMs',
  title: 'bundled handler import time',
  order: 20,
  prepare: (context) => context.packaged(),
  async run(context) {
    const packaged = await context.packaged();
    const zips = join(packaged.dir, '.serverless');
    const keys = Object.keys(zipSizes(packaged.dir)).sort();
    const work = mkdtempSync(join(tmpdir(), 'fsx-transfer-bench-cold-init-'));
    const wall: Record<string, number[]> = Object.fromEntries(keys.map((key) => [key, []]));
    const cpu: Record<string, number[]> = Object.fromEntries(keys.map((key) => [key, []]));
    const loadBefore = loadavg()[0]!;
    try {
      for (const key of keys) unzip(join(zips, `${key}.zip`), join(work, key));
      // Round-robin over the handlers, so a change of the machine's load touches them all alike.
      for (let i = 0; i < context.options.samples; i++) {
        for (const key of keys) {
          const sample = await importOnce(key, join(work, key));
          wall[key]!.push(sample.wallMs);
          cpu[key]!.push(sample.cpuMs);
        }
      }
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
    const load = Math.max(loadBefore, loadavg()[0]!);
    const medians = byValue(Object.fromEntries(keys.map((key) => [key, round(median(wall[key]!))])));
    const maxima = byValue(Object.fromEntries(keys.map((key) => [key, round(Math.max(...wall[key]!))])));
    const cpuMedians = byValue(Object.fromEntries(keys.map((key) => [key, round(median(cpu[key]!))])));
    const [slowest, slowestMs] = Object.entries(medians)[0]!;
    const notes = [
      `slowest handler ${slowest}: median ${Math.round(slowestMs)} ms, max ${Math.round(maxima[slowest]!)} ms ` +
        `over ${context.options.samples} fresh processes; median handler ${Math.round(median(Object.values(medians)))} ms; ` +
        `Node.js ${process.version} here, Lambda runs nodejs22.x`,
    ];
    if (load > cpus().length / 2) {
      notes.push(
        `LOADED MACHINE: load average ${load.toFixed(1)} on ${cpus().length} CPUs while measuring: wall times include waiting for a CPU; ` +
          `the slowest handler's import used ${Math.round(cpuMedians[slowest]!)} ms of CPU (median; CPU time also counts V8's compile and GC threads)`,
      );
    }
    return {
      value: Math.round(slowestMs),
      details: {
        samplesPerHandler: context.options.samples,
        slowest,
        slowestMaxMs: Math.round(maxima[slowest]!),
        maxWallMs: Math.round(Math.max(...Object.values(maxima))),
        medianHandlerMs: Math.round(median(Object.values(medians))),
        slowestCpuMs: Math.round(cpuMedians[slowest]!),
        loadAverage: { before: round(loadBefore), after: round(loadavg()[0]!) },
        medianWallMs: medians,
        maxWallMsByHandler: maxima,
        medianCpuMs: cpuMedians,
      },
      notes,
    };
  },
};

export default coldInit;
