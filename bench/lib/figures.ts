/**
 * The figures of `npm run bench` (issue 12), their targets, and the shape of a benchmark module:
 * each file bench/<name>.ts default-exports one `Benchmark` measuring one figure; bench/run.ts
 * finds them, runs them in `order`, and reports a figure no module measures as not measured.
 */
import type { BenchContext } from './context.js';

export interface Figures {
  /** EC2 run wall time on the local cloud / raw `aws s3 sync` of the same tree. */
  overheadRatio: number;
  /** Billed state transitions (states entered + retries) of a short run and one 10x longer. */
  transitions: { ec2Short: number; ec2Long: number; draShort: number; draLong: number };
  /** S3 object events of one mapping sent in a burst, executions they started, events lost. */
  coalescing: { events: number; executions: number; lost: number };
  /** The largest function zip. */
  bundles: { maxZipBytes: number };
  /** Import time of the slowest bundled handler (median of fresh processes). */
  coldInitMs: number;
  /** Scale-out efficiency (throughput with N workers / N x throughput with one) per worker count. */
  scaleOut: { workers: number[]; efficiency: number[] };
  /** Issue 14: the cost of `checksum` against `size` verification of one EC2 stage-in of a tree. */
  checksum: { bytes: number; sizeSeconds: number; checksumSeconds: number; extraSeconds: number };
}

export type FigureKey = keyof Figures;

/** What a benchmark measured: the figure, and facts a reader needs to judge it. */
export interface Measured<K extends FigureKey> {
  value: Figures[K];
  /** Shown in the report and in the JSON `details`: sizes, samples, per-function numbers ... */
  details?: Record<string, unknown>;
  /** Caveats a reader must know (a smaller tree than the target's, a loaded machine ...). */
  notes?: string[];
}

export interface Benchmark<K extends FigureKey = FigureKey> {
  figure: K;
  title: string;
  /** Lower runs first (benchmarks that package run before those that start a local cloud). */
  order: number;
  /**
   * Setup that measures nothing (packaging, starting the local cloud, writing trees): every
   * chosen benchmark's prepare runs side by side before the first measurement.
   */
  prepare?(context: BenchContext): Promise<unknown>;
  run(context: BenchContext): Promise<Measured<K>>;
}

export interface Check {
  figure: FigureKey;
  what: string;
  target: string;
  actual: string;
  met: boolean;
}

const KB = 1000;

/** The targets, checked against what was measured. */
export function checkTargets(figures: Partial<Figures>): Check[] {
  const checks: Check[] = [];
  const check = (figure: FigureKey, what: string, target: string, actual: unknown, met: boolean) =>
    checks.push({ figure, what, target, actual: String(actual), met });
  const { overheadRatio, transitions, coalescing, bundles, coldInitMs, scaleOut } = figures;
  if (overheadRatio !== undefined)
    check('overheadRatio', 'EC2 run / raw aws s3 sync', '<= 1.10', overheadRatio, overheadRatio <= 1.1);
  if (transitions) {
    check('transitions', 'EC2 run, short', '<= 25', transitions.ec2Short, transitions.ec2Short <= 25);
    check('transitions', 'EC2 run, 10x longer', '<= 25', transitions.ec2Long, transitions.ec2Long <= 25);
    const ec2Growth = transitions.ec2Long - transitions.ec2Short;
    check('transitions', 'EC2 run, long - short (flat)', '<= 2', ec2Growth, Math.abs(ec2Growth) <= 2);
    check('transitions', 'DRA run, short', '<= 20', transitions.draShort, transitions.draShort <= 20);
    check('transitions', 'DRA run, 10x longer', '<= 20', transitions.draLong, transitions.draLong <= 20);
    const draGrowth = transitions.draLong - transitions.draShort;
    check('transitions', 'DRA run, long - short (flat)', '<= 2', draGrowth, Math.abs(draGrowth) <= 2);
  }
  if (coalescing) {
    check('coalescing', 'events lost', '0', coalescing.lost, coalescing.lost === 0);
    // The issue names no number; one burst is one upload, which test/e2e/triggers-s3-events
    // expects to start one run, at most two.
    check(
      'coalescing',
      'executions started by one burst',
      '<= 2',
      coalescing.executions,
      coalescing.executions <= 2,
    );
  }
  if (bundles)
    check(
      'bundles',
      'largest function zip',
      `<= ${300 * KB} bytes`,
      bundles.maxZipBytes,
      bundles.maxZipBytes <= 300 * KB,
    );
  if (coldInitMs !== undefined)
    check(
      'coldInitMs',
      'slowest bundled handler import (median)',
      '<= 150 ms',
      coldInitMs,
      coldInitMs <= 150,
    );
  if (scaleOut) {
    const at4 = scaleOut.efficiency[scaleOut.workers.indexOf(4)];
    check(
      'scaleOut',
      'efficiency at 4 workers',
      '>= 0.8',
      at4 ?? 'not measured',
      at4 !== undefined && at4 >= 0.8,
    );
  }
  return checks;
}

/** Every figure the issue asks for, in the order of its JSON example. */
export const FIGURE_KEYS: FigureKey[] = [
  'overheadRatio',
  'transitions',
  'coalescing',
  'bundles',
  'coldInitMs',
  'scaleOut',
  'checksum',
];
