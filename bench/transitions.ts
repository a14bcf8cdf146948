/**
 * transitions: billed state transitions (states entered + retries, from GetExecutionHistory) of
 * a short run and of one whose transfer takes 10x longer, for each method:
 * - EC2: the overhead ratio's tree (ec2Long) and a tree of a tenth of its files and bytes
 *   (ec2Short); the sync really copies the data, so the long one takes about 10x longer.
 * - DRA: a stage-in of the same files with the FSx emulator's data repository task slowed per
 *   file (simulated time, on the scaled clock): 30 s of task (draShort) and 300 s (draLong). A
 *   first, uncounted run creates the association, so both counted runs reuse it.
 */
import { type BenchContext, MAPPINGS } from './lib/context.js';
import type { Benchmark } from './lib/figures.js';
import { ec2TreeRun, mappingTree, timedRun } from './lib/runs.js';

/** Files of the DRA scope, and the simulated seconds of its short task. */
const DRA_FILES = 20;
const DRA_SHORT_TASK_SECONDS = 30;

/** The short EC2 run's tree: a tenth of the overhead ratio's files and bytes. */
function shortTree(context: BenchContext): [files: number, mib: number] {
  const { files, mib } = context.options;
  return [Math.max(1, Math.round(files / 10)), Math.max(1, Math.round(mib / 10))];
}

const transitions: Benchmark<'transitions'> = {
  figure: 'transitions',
  title: 'billed state transitions, short and 10x longer runs',
  order: 40,
  prepare: (context) =>
    Promise.all([
      mappingTree(context, MAPPINGS.ec2Long, context.options.files, context.options.mib),
      mappingTree(context, MAPPINGS.ec2Short, ...shortTree(context)),
      mappingTree(context, MAPPINGS.dra, DRA_FILES, 1),
    ]),
  async run(context) {
    const { files, mib } = context.options;
    const long = await ec2TreeRun(context, MAPPINGS.ec2Long, files, mib);
    const short = await ec2TreeRun(context, MAPPINGS.ec2Short, ...shortTree(context));

    const world = await context.world();
    await mappingTree(context, MAPPINGS.dra, DRA_FILES, 1);
    const dra = { mapping: MAPPINGS.dra, direction: 'stage-in' };
    context.log(`${MAPPINGS.dra}: first run (creates the association, not counted) ...`);
    await timedRun(world, dra, 10 * 60_000);
    const draRun = async (taskSeconds: number) => {
      world.cloud.fsx.setFaults({ taskFileDelayMs: (taskSeconds * 1000) / DRA_FILES });
      try {
        const run = await timedRun(world, dra, 20 * 60_000);
        context.log(`${MAPPINGS.dra}: ${taskSeconds} s task: ${run.transitions.billed} billed transitions`);
        return run;
      } finally {
        world.cloud.fsx.setFaults({});
      }
    };
    const draShort = await draRun(DRA_SHORT_TASK_SECONDS);
    const draLong = await draRun(10 * DRA_SHORT_TASK_SECONDS);

    return {
      value: {
        ec2Short: short.transitions.billed,
        ec2Long: long.transitions.billed,
        draShort: draShort.transitions.billed,
        draLong: draLong.transitions.billed,
      },
      details: {
        ec2Short: {
          ...short.transitions,
          seconds: short.seconds,
          files: short.tree.files,
          bytes: short.tree.bytes,
        },
        ec2Long: {
          ...long.transitions,
          seconds: long.seconds,
          files: long.tree.files,
          bytes: long.tree.bytes,
        },
        draShort: {
          ...draShort.transitions,
          seconds: draShort.seconds,
          simulatedTaskSeconds: DRA_SHORT_TASK_SECONDS,
        },
        draLong: {
          ...draLong.transitions,
          seconds: draLong.seconds,
          simulatedTaskSeconds: 10 * DRA_SHORT_TASK_SECONDS,
        },
        draStates: { short: draShort.run.states, long: draLong.run.states },
      },
      notes: [
        `DRA tasks of ${DRA_FILES} files slowed to ${DRA_SHORT_TASK_SECONDS} s and ${10 * DRA_SHORT_TASK_SECONDS} s of simulated time (time scale ${context.options.timeScale})`,
      ],
    };
  },
};

export default transitions;
