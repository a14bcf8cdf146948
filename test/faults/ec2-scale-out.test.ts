/** Fault matrix, EC2 scale-out: see scenarios/ec2-scale-out.ts for the table and harness.ts for what is proven. */
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, vi } from 'vitest';
import { getS3 } from '../../shared/aws/clients.js';
import { BUCKET, type FaultWorld, startFaultWorld } from './harness.js';
import { scenarioTests } from './scenarios/builders.js';
import { EC2_SCALE_OUT_CONFIG, EC2_SCALE_OUT_SCENARIOS, SHARDED_FILES } from './scenarios/ec2-scale-out.js';

// Functions log at INFO, as on Lambda: the harness checks that no line carries a task token.
vi.hoisted(() => {
  process.env.LOG_LEVEL = 'INFO';
});

let world: FaultWorld;

beforeAll(async () => {
  world = await startFaultWorld(EC2_SCALE_OUT_CONFIG, 0.005);
  for (const name of SHARDED_FILES) {
    await getS3().send(new PutObjectCommand({ Bucket: BUCKET, Key: `sharded/${name}`, Body: `${name}\n` }));
  }
}, 60_000);

afterAll(async () => {
  await world?.stop();
}, 60_000);

describe('fault matrix: EC2 scale-out: shard planning, the shards, verification over the union, termination', () => {
  scenarioTests(() => world, EC2_SCALE_OUT_SCENARIOS);
});
