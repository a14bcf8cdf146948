/**
 * The cost of `checksum` verification against `size` (issue 14): the same EC2 stage-in of a tree of
 * --mib (1 GiB) in 16 files on the bench's local cloud, once verified by size and once by checksum,
 * timed end to end. The tree is uploaded once with the SDK's default CRC32 checksums (what content
 * verification compares with); between the two runs the file system copy is removed, so both
 * copy every byte. The difference is what the checksums step (every file read once more on the
 * file system) and the HeadObject per object add.
 */
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { getS3 } from '../shared/aws/clients.js';
import { BUCKET, fsxDir } from '../test/e2e/ec2-helpers.js';
import { type BenchContext, MAPPINGS } from './lib/context.js';
import type { Benchmark } from './lib/figures.js';
import { timedRun } from './lib/runs.js';

const FILES = 16;

/** The tree, uploaded once through the local S3's API with the SDK's default CRC32 checksums. */
function upload(context: BenchContext): Promise<{ bytes: number; seconds: number }> {
  return context.once('checksum-tree', async () => {
    await context.world();
    const bytes = context.options.mib * 2 ** 20;
    const per = Math.floor(bytes / FILES);
    const started = performance.now();
    for (let i = 0; i < FILES; i++) {
      await getS3().send(
        new PutObjectCommand({
          Bucket: BUCKET,
          Key: `${MAPPINGS.checksum}/file-${i}.bin`,
          Body: randomBytes(i === FILES - 1 ? bytes - per * (FILES - 1) : per),
        }),
      );
    }
    return { bytes, seconds: (performance.now() - started) / 1000 };
  });
}

const checksumBench: Benchmark<'checksum'> = {
  figure: 'checksum',
  title: 'the cost of checksum against size verification (EC2 stage-in)',
  order: 60,
  prepare: upload,
  async run(context) {
    const world = await context.world();
    const { bytes, seconds: uploadSeconds } = await upload(context);
    const request = { mapping: MAPPINGS.checksum, direction: 'stage-in' };
    context.log(
      `checksum: ${FILES} files uploaded in ${uploadSeconds.toFixed(1)} s; run verified by size ...`,
    );
    const size = await timedRun(world, { ...request, verify: 'size' }, 20 * 60_000);
    rmSync(fsxDir(world, MAPPINGS.checksum), { recursive: true, force: true });
    context.log(`checksum: size ${size.seconds.toFixed(1)} s; run verified by checksum ...`);
    const checksum = await timedRun(world, { ...request, verify: 'checksum' }, 20 * 60_000);
    const round = (n: number) => Math.round(n * 10) / 10;
    return {
      value: {
        bytes,
        sizeSeconds: round(size.seconds),
        checksumSeconds: round(checksum.seconds),
        extraSeconds: round(checksum.seconds - size.seconds),
      },
      details: {
        files: FILES,
        uploadSeconds: round(uploadSeconds),
        secondsByState: { size: size.stateSeconds, checksum: checksum.stateSeconds },
      },
    };
  },
};
export default checksumBench;
