/** Fault matrix, the triggers: see scenarios/triggers.ts for the table and harness.ts for what is proven. */
import { afterAll, beforeAll, describe, vi } from 'vitest';
import { type FaultWorld, startFaultWorld } from './harness.js';
import { scenarioTests } from './scenarios/builders.js';
import { TRIGGER_SCENARIOS, TRIGGERS_CONFIG } from './scenarios/triggers.js';

// Functions log at INFO, as on Lambda (the logger reads LOG_LEVEL when it loads): the harness
// checks that no line carries a task token.
vi.hoisted(() => {
  process.env.LOG_LEVEL = 'INFO';
});

let world: FaultWorld;

beforeAll(async () => {
  world = await startFaultWorld(TRIGGERS_CONFIG, 0.01);
}, 60_000);

afterAll(async () => {
  await world?.stop();
}, 60_000);

describe('fault matrix: S3 events, the transfers API, the gate and the end of every run', () => {
  scenarioTests(() => world, TRIGGER_SCENARIOS);
});
