/** Fault matrix, DRA method: see scenarios/dra.ts for the table and harness.ts for what is proven. */
import { afterAll, beforeAll, describe, vi } from 'vitest';
import type { FaultWorld } from './harness.js';
import { startFaultWorld } from './harness.js';
import { scenarioTests } from './scenarios/builders.js';
import { DRA_CONFIG, DRA_SCENARIOS } from './scenarios/dra.js';

// Functions log at INFO, as on Lambda (the logger reads LOG_LEVEL when it loads): the harness
// checks that no line carries a task token.
vi.hoisted(() => {
  process.env.LOG_LEVEL = 'INFO';
});

let world: FaultWorld;

beforeAll(async () => {
  world = await startFaultWorld(DRA_CONFIG, 0.004);
}, 60_000);

afterAll(async () => {
  await world?.stop();
}, 60_000);

describe('fault matrix: DRA method and the states every run shares', () => {
  scenarioTests(() => world, DRA_SCENARIOS);
});
