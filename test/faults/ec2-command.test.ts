/** Fault matrix, EC2 method: the transfer command, and runs that end early: see scenarios/ec2.ts for the table and harness.ts for what is proven. */
import { afterAll, beforeAll, describe, vi } from 'vitest';
import { type FaultWorld, startFaultWorld } from './harness.js';
import { scenarioTests } from './scenarios/builders.js';
import { EC2_COMMAND_CONFIG, EC2_COMMAND_SCENARIOS } from './scenarios/ec2.js';

// Functions log at INFO, as on Lambda (the logger reads LOG_LEVEL when it loads): the harness
// checks that no line carries a task token.
vi.hoisted(() => {
  process.env.LOG_LEVEL = 'INFO';
});

let world: FaultWorld;

beforeAll(async () => {
  // 0.01: boots, agents, retries and polls take milliseconds; a transfer command (the real AWS
  // CLI, a few real seconds) may outlast the 15-minute heartbeat (9 s), which polling then covers,
  // and has 36 s before its 60-minute run deadline even on a busy machine.
  world = await startFaultWorld(EC2_COMMAND_CONFIG, 0.01);
}, 60_000);

afterAll(async () => {
  await world?.stop();
}, 60_000);

describe('fault matrix: EC2 method: the transfer command, and runs that end early', () => {
  scenarioTests(() => world, EC2_COMMAND_SCENARIOS);
});
