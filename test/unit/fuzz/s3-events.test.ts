/**
 * Bad input in S3 events (the SQS messages of the S3 event rule): hostile keys, foreign or
 * malformed buckets, malformed messages. An event starts a run only for a key under a watched
 * mapping's prefix, the run's request never carries the key, and a malformed message is refused
 * naming what is wrong (it goes back to the queue, then to the dead-letter queue), never thrown.
 */
import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import fc from 'fast-check';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parseS3Uri } from '../../../shared/paths.js';
import { clearPendingRun, readGate } from '../../../shared/transfers/gate.js';
import { classifyS3Event, S3ObjectEvent } from '../../../shared/triggers/s3-events.js';
import { stageOnEvents } from '../../../shared/triggers/stage-on-events.js';
import { startTestTable, type TestTable } from '../../support/transfers-table.js';
import { STATE_MACHINE_ARN } from '../transfers/builders.js';
import { config, messages, s3Event } from '../triggers/builders.js';
import { BAD_S3_URIS, badPath, hostileString } from './corpus.js';

const sfnMock = mockClient(SFNClient);
let table: TestTable;

beforeAll(async () => {
  table = await startTestTable();
});
afterAll(async () => {
  await table.stop();
});
beforeEach(async () => {
  sfnMock.reset();
  sfnMock.on(StartExecutionCommand).callsFake((input) => ({
    executionArn: `${STATE_MACHINE_ARN.replace(':stateMachine:', ':execution:')}:${input.name}`,
    startDate: new Date(),
  }));
  for (const mapping of config.mappings) {
    const gate = await readGate(deps(), { mapping: mapping.name, direction: 'stage-in' });
    if (gate.pendingRun) await clearPendingRun(deps(), gate, gate.pendingRun);
  }
});

const deps = () => ({
  db: table.db,
  table: table.table,
  config,
  sfn: new SFNClient({}),
  stateMachineArn: STATE_MACHINE_ARN,
});

/** Keys: hostile ones anywhere, and hostile ones under a watched prefix (legal S3 keys all). */
const keys = fc.oneof(
  hostileString,
  badPath,
  fc.oneof(hostileString, badPath).map((rest) => `blended-tropomi/${rest}`),
  fc.oneof(hostileString, badPath).map((rest) => `blended-tropomi-lookalike/${rest}`),
);
/** Bucket names of well-formed events: ours, or any other (S3 never sends an empty one). */
const buckets = fc.oneof(
  fc.constant('demo'),
  fc.constantFrom(
    ...BAD_S3_URIS.map((uri) => uri.replace(/^s3:\/\//, '').split('/')[0] ?? '').filter(Boolean),
  ),
  hostileString,
);

/** The mappings whose prefix holds `key` in `bucket` and that watch S3 events. */
function watchedHolders(bucket: string, key: string): string[] {
  return config.mappings
    .filter((m) => m.autoStage)
    .filter((m) => {
      const location = parseS3Uri(m.s3Uri);
      return location.bucket === bucket && key.startsWith(`${location.prefix}/`);
    })
    .map((m) => m.name);
}

describe('S3 events with hostile keys and buckets', () => {
  it('match only mappings whose prefix holds the key, in their own bucket', () => {
    fc.assert(
      fc.property(keys, buckets, fc.boolean(), (key, bucket, deleted) => {
        const event = S3ObjectEvent.parse(s3Event(key, { bucket, deleted }));

        const classification = classifyS3Event(config, event);

        expect(classification.key).toBe(key);
        if (classification.kind === 'matched') {
          const names = classification.matches.map((m) => m.mapping.name);
          expect(names.every((name) => watchedHolders(bucket, key).includes(name))).toBe(true);
        } else {
          expect(classification.detail.length).toBeGreaterThan(5);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('start runs whose request names only the mapping (never the key), and only for watched prefixes', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(keys, buckets), { minLength: 1, maxLength: 5 }), async (pairs) => {
        sfnMock.resetHistory();
        const events = pairs.map(([key, bucket]) => s3Event(key, { bucket }));

        const outcome = await stageOnEvents(deps(), messages(events));

        const inputs = sfnMock
          .commandCalls(StartExecutionCommand)
          .map((c) => JSON.parse(c.args[0].input.input!));
        const allowed = new Set(pairs.flatMap(([key, bucket]) => watchedHolders(bucket, key)));
        for (const input of inputs) {
          expect(Object.keys(input).sort()).toEqual(['direction', 'mapping', 'transferId', 'trigger']);
          expect(allowed.has(input.mapping)).toBe(true);
        }
        expect(outcome.failedMessageIds).toEqual([]);
      }),
      { numRuns: 40 },
    );
  });

  it('refuse malformed messages without throwing, naming them for the retry and the dead-letter queue', async () => {
    const bodies = fc.oneof(
      hostileString,
      fc.constant(''),
      fc.constant('{'),
      fc.constant('x'.repeat(300_000)),
      hostileString.map((text) =>
        JSON.stringify({ source: 'aws.s3', 'detail-type': 'Object Created', detail: text }),
      ),
      hostileString.map((key) =>
        JSON.stringify({
          ...s3Event('blended-tropomi/a.nc'),
          // `%G` is never a URL escape (a bare `%` before two hex digits the fuzzer drew would be).
          detail: { bucket: { name: 'demo' }, object: { key: `%G${key}` } },
        }),
      ),
    );
    await fc.assert(
      fc.asyncProperty(bodies, async (body) => {
        sfnMock.resetHistory();

        const outcome = await stageOnEvents(deps(), [{ messageId: 'bad-1', body }]);

        expect(outcome.failedMessageIds).toEqual(['bad-1']);
        expect(sfnMock.commandCalls(StartExecutionCommand)).toEqual([]);
      }),
      { numRuns: 60 },
    );
  });
});
