/**
 * coalescing: --events (100,000) S3 "Object Created" events for one mapping put on the local bus
 * in one burst, as S3 would send them for an upload: the real rule -> SQS queue -> s3-event-trigger
 * path from serverless.yml, then the quiet-period check and the runs. Executions = the runs the
 * burst started; lost = events the trigger never handed to a run: no "seen" record (EVENT#<event
 * id>, written once the event's run is secured) in the transfers table. The trigger's daily
 * counters go in the details (a redelivered batch counts twice there).
 *
 * The clock: the trigger path works through the burst at this machine's speed (about 1,000 events
 * a second here), but a run stops waiting for quiet after `autoStage.maxSettleMinutes` (30) on
 * the *scaled* clock: 18 s real at the bench's 0.01, shorter than the burst takes, so every 18 s
 * of processing would open another run, which on AWS (30 real minutes) it would not. The burst
 * therefore runs at --coalescing-time-scale (0.1: a 3-minute settle limit, 6 s quiet checks) until
 * the queue is drained; then the clock goes back to the bench's scale.
 */
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { BatchGetCommand } from '@aws-sdk/lib-dynamodb';
import { getDynamoDb, getS3 } from '../shared/aws/clients.js';
import { eventKey, transfersTable } from '../shared/transfers/table.js';
import { encodeEventKey } from '../shared/triggers/s3-events.js';
import { BUCKET } from '../test/e2e/ec2-helpers.js';
import { counterDelta, eventCounters, eventRuns, settled } from '../test/e2e/trigger-runs.js';
import { MAPPINGS } from './lib/context.js';
import type { Benchmark } from './lib/figures.js';

/** Events put on the bus between two yields to the event loop (the burst stays one burst). */
const CHUNK = 1000;
/** How long the trigger, the queue and the runs get to finish before the counters are read. */
const SETTLE_MINUTES = 20;

/** How many of the event ids have no "seen" record in the transfers table. */
async function unseen(eventIds: string[]): Promise<number> {
  const table = transfersTable();
  let found = 0;
  let next = 0;
  // A few BatchGetItems side by side: 1,000 of them one after another took seconds.
  const reader = async () => {
    for (let i = next; i < eventIds.length; i = next) {
      next += 100;
      let keys: Record<string, unknown>[] = eventIds.slice(i, i + 100).map(eventKey);
      while (keys.length > 0) {
        const out = await getDynamoDb().send(
          new BatchGetCommand({ RequestItems: { [table]: { Keys: keys, ProjectionExpression: 'pk' } } }),
        );
        found += out.Responses?.[table]?.length ?? 0;
        keys = out.UnprocessedKeys?.[table]?.Keys ?? [];
      }
    }
  };
  await Promise.all(Array.from({ length: 4 }, reader));
  return eventIds.length - found;
}

const coalescing: Benchmark<'coalescing'> = {
  figure: 'coalescing',
  title: 'S3 events of one mapping in a burst -> runs',
  order: 50,
  prepare: (context) => context.world(),
  async run(context) {
    const events = context.options.events;
    const world = await context.world();
    // One object really there, so each run has something to copy.
    await getS3().send(
      new PutObjectCommand({ Bucket: BUCKET, Key: `${MAPPINGS.burst}/burst/first.nc`, Body: 'first' }),
    );
    await settled(world);
    const before = await eventCounters();
    const runsBefore = (await eventRuns(world, MAPPINGS.burst)).length;

    const clock = world.cloud.clock;
    const benchScale = clock.timeScale;
    const burstScale = context.options.coalescingTimeScale;
    const { quietSeconds, maxSettleMinutes } = world.cloud.config?.defaults.autoStage ?? {
      quietSeconds: 60,
      maxSettleMinutes: 30,
    };
    clock.setTimeScale(burstScale);
    const started = performance.now();
    const eventIds: string[] = [];
    for (let i = 0; i < events; i++) {
      const key = `${MAPPINGS.burst}/burst/${String(i % 100).padStart(2, '0')}/obs-${i}.nc`;
      const event = world.cloud.events.emit({
        source: 'aws.s3',
        'detail-type': 'Object Created',
        resources: [`arn:aws:s3:::${BUCKET}`],
        detail: {
          version: '0',
          bucket: { name: BUCKET },
          object: {
            key: encodeEventKey(key),
            size: 1024,
            etag: 'd41d8cd98f00b204e9800998ecf8427e',
            sequencer: i.toString(16).padStart(16, '0'),
          },
          'request-id': `bench-${i}`,
          requester: world.cloud.events.accountId,
          'source-ip-address': '127.0.0.1',
          reason: 'PutObject',
        },
      });
      eventIds.push(event.id);
      if (i % CHUNK === CHUNK - 1) await new Promise((resolve) => setImmediate(resolve));
    }
    const putSeconds = (performance.now() - started) / 1000;
    context.log(
      `coalescing: ${events} events on the bus in ${putSeconds.toFixed(1)} s (time scale ${burstScale}); waiting until the queue is drained ...`,
    );
    const notes: string[] = [];
    let drainedSeconds: number | undefined;
    try {
      // Every event delivered to the queue and every batch handled by the trigger.
      await world.cloud.idle(SETTLE_MINUTES * 60_000);
      drainedSeconds = (performance.now() - started) / 1000;
      context.log(`coalescing: queue drained after ${drainedSeconds.toFixed(1)} s; waiting for the runs ...`);
    } catch (error) {
      notes.push(
        `queue not drained after ${SETTLE_MINUTES} minutes (${(error as Error).message.slice(0, 200)})`,
      );
    } finally {
      // The run waiting for quiet finishes its current wait at the burst's scale, the rest at the bench's.
      clock.setTimeScale(benchScale);
    }
    const settleLimitSeconds = maxSettleMinutes * 60 * burstScale;
    if (drainedSeconds !== undefined && drainedSeconds > settleLimitSeconds) {
      notes.push(
        `the trigger needed ${drainedSeconds.toFixed(0)} s for the burst, more than the ${settleLimitSeconds.toFixed(0)} s ` +
          `real that maxSettleMinutes ${maxSettleMinutes} lasts at time scale ${burstScale}: a run stopped waiting for quiet ` +
          'while events kept coming, so later events opened another run (a slow or loaded machine)',
      );
    }
    try {
      await settled(world, SETTLE_MINUTES * 60_000);
    } catch (error) {
      // Report what happened so far: the counters say how many events the trigger got through.
      notes.push(`not settled after ${SETTLE_MINUTES} minutes (${(error as Error).message.slice(0, 200)})`);
    }
    const settledSeconds = (performance.now() - started) / 1000;

    const delta = counterDelta(before, await eventCounters());
    const all = await eventRuns(world, MAPPINGS.burst);
    // Newest first: the ones the burst started come before those of the first object's upload.
    const runs = all.slice(0, all.length - runsBefore);
    return {
      value: { events, executions: runs.length, lost: await unseen(eventIds) },
      details: {
        counters: delta,
        runStatuses: runs.map((run) => run.status),
        busSeconds: Math.round(putSeconds * 10) / 10,
        drainedSeconds: drainedSeconds === undefined ? null : Math.round(drainedSeconds * 10) / 10,
        eventsPerSecond: drainedSeconds === undefined ? null : Math.round(events / drainedSeconds),
        settledSeconds: Math.round(settledSeconds * 10) / 10,
        timeScale: burstScale,
        quietCheckSeconds: quietSeconds * burstScale,
        settleLimitSeconds,
      },
      notes,
    };
  },
};

export default coalescing;
