/**
 * `npm run bench [-- --json] [-- --only bundles,coldInitMs] [-- --files N --mib M --events N]`:
 * measures the figures of issue 12 side by side in one run, compares each with its target and says
 * loudly which are missed. Every bench/<name>.ts default-exports one benchmark (lib/figures.ts);
 * a figure no module measures is reported as not measured. With --json the last stdout line is
 * one JSON object: the figures, the checks, the machine, details and notes.
 *
 * Not part of `npm test`: it takes minutes and its numbers depend on the machine.
 */
// As the CLI does (cli/bin.mjs): the SDK's notice about Node.js 20 says nothing about the bench.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

import { readdirSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { BenchContext, type BenchOptions } from './lib/context.js';
import { type Benchmark, type Check, checkTargets, FIGURE_KEYS, type Figures } from './lib/figures.js';
import { awsCliVersion } from './lib/machine.js';

function options(): BenchOptions {
  const { values } = parseArgs({
    options: {
      json: { type: 'boolean', default: false },
      only: { type: 'string', default: '' },
      files: { type: 'string', default: '10000' },
      mib: { type: 'string', default: '1024' },
      events: { type: 'string', default: '100000' },
      samples: { type: 'string', default: '5' },
      'time-scale': { type: 'string', default: '0.01' },
      'coalescing-time-scale': { type: 'string', default: '0.1' },
      'scale-out-seconds': { type: 'string', default: '60' },
    },
  });
  return {
    json: values.json,
    only: values.only.split(',').filter(Boolean),
    files: Number(values.files),
    mib: Number(values.mib),
    events: Number(values.events),
    samples: Number(values.samples),
    timeScale: Number(values['time-scale']),
    coalescingTimeScale: Number(values['coalescing-time-scale']),
    scaleOutSeconds: Number(values['scale-out-seconds']),
  };
}

/** Every benchmark module of bench/ (each file but this one exports one by default). */
async function benchmarks(): Promise<Benchmark[]> {
  const dir = import.meta.dirname;
  const files = readdirSync(dir).filter((file) => file.endsWith('.ts') && file !== 'run.ts');
  const found: Benchmark[] = [];
  for (const file of files) {
    const module = (await import(pathToFileURL(join(dir, file)).href)) as { default?: Benchmark };
    if (module.default?.figure) found.push(module.default);
  }
  return found.sort((a, b) => a.order - b.order);
}

/** Issue 12: the bench runs from a fresh clone in under 10 minutes on 2 cores. */
const BUDGET_SECONDS = 600;

function load1(): number {
  return Math.round(loadavg()[0]! * 100) / 100;
}

function machine() {
  const cpu = cpus();
  return {
    cpus: cpu.length,
    cpuModel: cpu[0]?.model.trim(),
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    awsCli: awsCliVersion(),
    platform: `${process.platform} ${process.arch}`,
    loadAverageAtStart: loadavg().map((l) => Math.round(l * 100) / 100),
  };
}

function report(checks: Check[], notMeasured: string[], failed: Record<string, string>): string[] {
  const lines = [
    '',
    'figure          check                                         target          actual      ',
  ];
  for (const c of checks) {
    lines.push(
      `${c.met ? 'met   ' : 'MISSED'}  ${c.figure.padEnd(14)} ${c.what.padEnd(44)} ${c.target.padEnd(15)} ${c.actual}`,
    );
  }
  for (const figure of notMeasured) lines.push(`NOT MEASURED  ${figure}: no bench/ module measures it yet`);
  for (const [figure, error] of Object.entries(failed)) lines.push(`FAILED  ${figure}: ${error}`);
  const missed = checks.filter((c) => !c.met);
  lines.push('');
  if (missed.length + notMeasured.length + Object.keys(failed).length === 0) lines.push('Every target met.');
  else {
    lines.push('!!! TARGETS MISSED OR NOT MEASURED !!!');
    for (const c of missed) lines.push(`!!! ${c.figure}: ${c.what} is ${c.actual}, target ${c.target}`);
    for (const figure of [...notMeasured, ...Object.keys(failed)]) lines.push(`!!! ${figure}: no figure`);
  }
  return lines;
}

async function main(): Promise<void> {
  const opts = options();
  const context = new BenchContext(opts);
  const started = Date.now();
  const host = machine();
  const all = await benchmarks();
  const wanted = (figure: string) => opts.only.length === 0 || opts.only.includes(figure);
  const figures: Partial<Figures> = {};
  const details: Record<string, unknown> = {};
  const notes: Record<string, string[]> = {};
  const failed: Record<string, string> = {};
  /** Where the bench's time went: setup, then each measurement, with the load average after it. */
  const timing: { step: string; seconds: number; load1: number }[] = [];
  const timed = async <T>(step: string, work: () => Promise<T>): Promise<T> => {
    const t0 = Date.now();
    try {
      return await work();
    } finally {
      timing.push({ step, seconds: Math.round((Date.now() - t0) / 1000), load1: load1() });
    }
  };
  const chosen = all.filter((b) => wanted(b.figure));
  try {
    // Setup that measures nothing, side by side: packaging, the local cloud, the trees.
    context.log('setup: packaging, local cloud, trees ...');
    const setup = await timed('setup (side by side)', () =>
      Promise.allSettled(chosen.map((benchmark) => benchmark.prepare?.(context))),
    );
    for (const [i, benchmark] of chosen.entries()) {
      const outcome = setup[i]!;
      if (outcome.status === 'rejected') {
        const error = outcome.reason as Error;
        failed[benchmark.figure] = `setup: ${error.stack ?? String(error)}`;
        context.log(`${benchmark.figure}: setup FAILED ${error.message}`);
      }
    }
    for (const benchmark of chosen.filter((b) => !(b.figure in failed))) {
      context.log(`${benchmark.figure}: ${benchmark.title} ...`);
      const t0 = Date.now();
      try {
        const measured = await timed(benchmark.figure, () => benchmark.run(context));
        (figures as Record<string, unknown>)[benchmark.figure] = measured.value;
        details[benchmark.figure] = { ...measured.details, seconds: Math.round((Date.now() - t0) / 1000) };
        if (measured.notes?.length) notes[benchmark.figure] = measured.notes;
        context.log(`${benchmark.figure}: ${JSON.stringify(measured.value)}`);
      } catch (error) {
        failed[benchmark.figure] = (error as Error).stack ?? String(error);
        context.log(`${benchmark.figure}: FAILED ${(error as Error).message}`);
      }
    }
  } finally {
    await context.close();
  }
  const measuredBy = new Set(all.map((b) => b.figure));
  const notMeasured = FIGURE_KEYS.filter((key) => wanted(key) && !measuredBy.has(key));
  const checks = checkTargets(figures);
  const seconds = Math.round((Date.now() - started) / 1000);
  const result = {
    ...Object.fromEntries(FIGURE_KEYS.filter((key) => key in figures).map((key) => [key, figures[key]])),
    ...Object.fromEntries(notMeasured.map((key) => [key, { measured: false }])),
    missed: [
      ...checks.filter((c) => !c.met).map((c) => `${c.figure}: ${c.what} ${c.actual} (target ${c.target})`),
      ...(seconds > BUDGET_SECONDS ? [`bench: ${seconds} s (target < ${BUDGET_SECONDS} s on 2 cores)`] : []),
    ],
    notMeasured,
    failed: Object.keys(failed),
    checks,
    machine: { ...host, loadAverageAtEnd: machine().loadAverageAtStart },
    seconds,
    timing,
    details,
    notes,
  };
  const lines = report(checks, notMeasured, failed);
  for (const [figure, list] of Object.entries(notes))
    for (const note of list) lines.push(`note  ${figure}: ${note}`);
  lines.push('', 'time    load  step');
  for (const t of timing)
    lines.push(`${`${t.seconds} s`.padStart(6)} ${t.load1.toFixed(1).padStart(5)}  ${t.step}`);
  lines.push(
    `(${result.seconds} s on ${host.cpus} x ${host.cpuModel}, load average ${host.loadAverageAtStart.join(' ')} at the start, ${result.machine.loadAverageAtEnd.join(' ')} at the end)`,
  );
  if (seconds > BUDGET_SECONDS)
    lines.push(`!!! the bench took ${result.seconds} s, more than the 10 minutes issue 12 allows`);
  if (Math.max(...host.loadAverageAtStart, ...result.machine.loadAverageAtEnd) > host.cpus)
    lines.push(
      `!!! the machine was loaded (load average above its ${host.cpus} CPUs): wall times include waiting for a CPU`,
    );
  if (opts.json) {
    process.stderr.write(`${lines.join('\n')}\n`);
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } else {
    process.stdout.write(`${JSON.stringify(figures, null, 2)}\n${lines.join('\n')}\n`);
  }
  // Missed targets are the bench's finding, not its failure; a figure that could not be measured is.
  process.exitCode = Object.keys(failed).length > 0 ? 1 : 0;
}

await main();
