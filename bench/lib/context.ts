/**
 * What benchmarks share: the options, a progress log (stderr, so `--json`'s last stdout line stays
 * the result), one packaged copy of the project, and one local cloud world started on first use
 * (its config has a mapping per benchmark, so each works in its own prefix and file system path).
 */
import { join } from 'node:path';
import { type PackagedCopy, packageCopy } from '../../scripts/sls/package-copy.js';
import { configYaml, FS_ID, startWorld, type World } from '../../test/e2e/ec2-helpers.js';

export const ROOT = join(import.meta.dirname, '..', '..');

export interface BenchOptions {
  json: boolean;
  /** Figures to measure (all when empty). */
  only: string[];
  /** Files and MiB of the tree the overhead ratio copies. */
  files: number;
  mib: number;
  /** S3 object events of the coalescing burst. */
  events: number;
  /** Fresh processes per handler for the cold init median. */
  samples: number;
  /** Time scale of the local cloud (simulated waits x this). */
  timeScale: number;
  /** Time scale while the coalescing burst is processed (bench/coalescing.ts says why). */
  coalescingTimeScale: number;
  /**
   * Seconds the scale-out's data phase lasts with one instance: longer makes a shard's fixed
   * costs (the CLI's start, its listing) weigh less, as on AWS, where a shard moves for hours.
   */
  scaleOutSeconds: number;
}

/** Mappings of the bench world: EC2 trees of the overhead and transitions, a DRA mapping, a burst target, the checksum tree. */
export const MAPPINGS = {
  ec2Long: 'bench-ec2-long',
  ec2Short: 'bench-ec2-short',
  dra: 'bench-dra',
  burst: 'bench-burst',
  checksum: 'bench-checksum',
} as const;

const BENCH_MAPPINGS = `  - { name: ${MAPPINGS.ec2Long}, fileSystemId: ${FS_ID}, fsxPath: /${MAPPINGS.ec2Long}, s3Uri: s3://demo/${MAPPINGS.ec2Long}, directions: [stage-in], method: ec2 }
  - { name: ${MAPPINGS.ec2Short}, fileSystemId: ${FS_ID}, fsxPath: /${MAPPINGS.ec2Short}, s3Uri: s3://demo/${MAPPINGS.ec2Short}, directions: [stage-in], method: ec2 }
  - { name: ${MAPPINGS.dra}, fileSystemId: ${FS_ID}, fsxPath: /${MAPPINGS.dra}, s3Uri: s3://demo/${MAPPINGS.dra}, directions: [stage-in, export], method: dra }
  - { name: ${MAPPINGS.burst}, fileSystemId: ${FS_ID}, fsxPath: /${MAPPINGS.burst}, s3Uri: s3://demo/${MAPPINGS.burst}, directions: [stage-in], method: ec2, autoStage: true }
  - { name: ${MAPPINGS.checksum}, fileSystemId: ${FS_ID}, fsxPath: /${MAPPINGS.checksum}, s3Uri: s3://demo/${MAPPINGS.checksum}, directions: [stage-in], method: ec2 }
`;

export class BenchContext {
  private packaging?: Promise<PackagedCopy>;
  private starting?: Promise<World>;
  private readonly started = Date.now();
  private readonly memo = new Map<string, Promise<unknown>>();

  constructor(readonly options: BenchOptions) {}

  /** A progress line on stderr, with the seconds since the bench started. */
  log(message: string): void {
    const seconds = ((Date.now() - this.started) / 1000).toFixed(0).padStart(4);
    process.stderr.write(`[bench ${seconds}s] ${message}\n`);
  }

  /** `work()` once per `key` for the whole bench (work two figures share, e.g. one EC2 run). */
  once<T>(key: string, work: () => Promise<T>): Promise<T> {
    if (!this.memo.has(key)) this.memo.set(key, work());
    return this.memo.get(key) as Promise<T>;
  }

  /** The project packaged once (`npm run package` in a private copy). */
  packaged(): Promise<PackagedCopy> {
    if (!this.packaging) {
      this.log('npm run package (in a private copy of the project) ...');
      this.packaging = packageCopy(ROOT);
    }
    return this.packaging;
  }

  /** The local cloud with the bench mappings, IAM enforced, schedules running, at the bench's time scale. */
  world(): Promise<World> {
    if (!this.starting) {
      this.log(`starting the local cloud (time scale ${this.options.timeScale}) ...`);
      this.starting = startWorld({
        // A day per run: the transfer command's timeout and the instance watchdog count down on
        // the scaled clock while the data really moves, so the default 4 hours (144 s real at 0.01) could
        // stop a large tree's sync.
        config: configYaml({
          extraMappings: BENCH_MAPPINGS,
          defaults: '  timeouts:\n    transferMinutes: 1440',
        }),
        timeScale: this.options.timeScale,
      }).then((world) => {
        // As deployed: the schedules run (the command poller's heartbeats, the sweeper, reconcile).
        world.cloud.events.startSchedules();
        return world;
      });
    }
    return this.starting;
  }

  /** Stops the local cloud and removes the packaged copy. */
  async close(): Promise<void> {
    const world = await this.starting?.catch(() => undefined);
    await world?.stop();
    const packaged = await this.packaging?.catch(() => undefined);
    packaged?.remove();
  }
}
