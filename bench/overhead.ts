/**
 * overheadRatio: wall time of an EC2 stage-in run of a tree on the local cloud (the real state
 * machine, handlers, instance emulator and SSM document, whose `aws s3 sync` copies the tree) over
 * a raw `aws s3 sync` of the same tree from the same local S3, with the CLI's default settings
 * (the mean of one just before the run and one just after it). Tree: --files files, --mib MiB (the target: 10,000 files, 1 GiB).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BUCKET } from '../test/e2e/ec2-helpers.js';
import { MAPPINGS } from './lib/context.js';
import type { Benchmark } from './lib/figures.js';
import { ec2TreeRun, MiB, mappingTree, timedAws } from './lib/runs.js';

const overhead: Benchmark<'overheadRatio'> = {
  figure: 'overheadRatio',
  title: 'EC2 run wall time / raw aws s3 sync of the same tree',
  order: 30,
  prepare: (context) => mappingTree(context, MAPPINGS.ec2Long, context.options.files, context.options.mib),
  async run(context) {
    const { files, mib } = context.options;
    const world = await context.world();
    // The tree is in S3 from the setup; the first raw sync runs just before the EC2 run (ec2TreeRun
    // calls it), the second just after.
    const rawDir = mkdtempSync(join(tmpdir(), 'fsx-transfer-bench-raw-'));
    // Raw as a user types it: progress output on (the document's sync prints it too), CLI defaults.
    const rawSync = async (into: string) => {
      context.log('raw aws s3 sync of the same tree ...');
      const seconds = await timedAws(world, [
        's3',
        'sync',
        `s3://${BUCKET}/${MAPPINGS.ec2Long}/`,
        join(rawDir, into),
      ]);
      context.log(`raw aws s3 sync ${seconds.toFixed(1)} s`);
      return seconds;
    };
    const raw: number[] = [];
    try {
      // One raw sync just before the run and one just after it: the machine's load drifts.
      const treeRun = await ec2TreeRun(context, MAPPINGS.ec2Long, files, mib, async () => {
        raw.push(await rawSync('before'));
      });
      raw.push(await rawSync('after'));
      const rawSeconds = (raw[0]! + raw[1]!) / 2;
      const ratio = treeRun.seconds / rawSeconds;
      const notes: string[] = [];
      if (files < 10_000 || mib < 1024) {
        notes.push(`tree of ${files} files, ${mib} MiB: smaller than the target's 10,000 files, 1 GiB`);
      }
      return {
        value: Math.round(ratio * 1000) / 1000,
        details: {
          files: treeRun.tree.files,
          bytes: treeRun.tree.bytes,
          MiB: Math.round(treeRun.tree.bytes / MiB),
          rawSyncSeconds: raw.map(round),
          ec2RunSeconds: round(treeRun.seconds),
          uploadSeconds: round(treeRun.tree.uploadSeconds),
          secondsByState: treeRun.stateSeconds,
        },
        notes,
      };
    } finally {
      rmSync(rawDir, { recursive: true, force: true });
    }
  },
};

function round(seconds: number): number {
  return Math.round(seconds * 100) / 100;
}

export default overhead;
