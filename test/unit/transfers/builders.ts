/** Builders for the gate, records and finish tests: WaitForTurn inputs and execution ends. */
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { GetExecutionHistoryCommand, SFNClient } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach } from 'vitest';
import type { TransferRequest } from '../../../shared/config/schema.js';
import type { FinishDeps } from '../../../shared/transfers/finish.js';
import { buildTransferPlan } from '../../support/plan.js';
import { startTestTable, type TestTable } from '../../support/transfers-table.js';

export const STATE_MACHINE_ARN =
  'arn:aws:states:us-east-1:000000000000:stateMachine:fsx-transfer-test-transfer';
export const executionArn = (name: string) =>
  `${STATE_MACHINE_ARN.replace(':stateMachine:', ':execution:')}:${name}`;

/** A clock the test moves by hand. */
export function testClock(start = '2026-11-30T10:00:00.000Z') {
  let now = new Date(start);
  return {
    now: () => now,
    advance(ms: number) {
      now = new Date(now.getTime() + ms);
    },
  };
}

export function finishDeps(
  table: TestTable,
  clock = testClock(),
): FinishDeps & { clock: ReturnType<typeof testClock> } {
  return {
    db: table.db,
    table: table.table,
    now: clock.now,
    clock,
    sfn: new SFNClient({ region: 'us-east-1' }),
    events: new EventBridgeClient({ region: 'us-east-1' }),
    stateMachineArn: STATE_MACHINE_ARN,
  };
}

/** What WaitForTurn passes for run `id` of `mapping` (the state: request fields plus the plan). */
export function turnInput(
  id: string,
  options: { mapping?: string; direction?: 'stage-in' | 'export'; dryRun?: boolean; trigger?: string } = {},
) {
  const mapping = options.mapping ?? 'extdata';
  const direction = options.direction ?? 'stage-in';
  const request: Record<string, unknown> = {
    mapping,
    direction,
    ...(options.trigger ? { trigger: options.trigger } : {}),
  };
  const plan = buildTransferPlan({
    transferId: id,
    executionName: id,
    mapping,
    direction,
    options: { dryRun: options.dryRun ?? false },
    timeouts: {
      transferMinutes: 120,
      agentOnlineMinutes: 15,
      associationMinutes: 60,
      waitSeconds: 14_400,
      turnSeconds: 1_213_200,
    },
  });
  return {
    taskToken: `token-${id}`,
    executionArn: executionArn(id),
    plan,
    request: { ...request, plan },
  };
}

/** The detail of a Step Functions Execution Status Change event for run `id`. */
export function executionEnd(
  id: string,
  status: 'SUCCEEDED' | 'FAILED' | 'ABORTED' | 'TIMED_OUT',
  options: { request?: Partial<TransferRequest>; output?: unknown; error?: string; cause?: string } = {},
) {
  return {
    executionArn: executionArn(id),
    stateMachineArn: STATE_MACHINE_ARN,
    name: id,
    status,
    startDate: Date.parse('2026-11-30T10:00:00Z'),
    stopDate: Date.parse('2026-11-30T10:30:00Z'),
    input: JSON.stringify({ mapping: 'extdata', direction: 'stage-in', ...options.request }),
    output: options.output === undefined ? null : JSON.stringify(options.output),
    error: options.error ?? null,
    cause: options.cause ?? null,
  };
}

/**
 * One dynalite table per test file, mocked Step Functions and EventBridge clients (PutEvents
 * succeeds), reset before each test; `mapping()` is a name of its own per test (tests share the table).
 */
export function gateTestBed(prefix: string) {
  const sfnMock = mockClient(SFNClient);
  const eventsMock = mockClient(EventBridgeClient);
  const bed = {
    table: undefined as unknown as TestTable,
    sfnMock,
    eventsMock,
    mapping: () => `${prefix}-${counter}`,
  };
  let counter = 0;
  beforeAll(async () => {
    bed.table = await startTestTable();
  });
  afterAll(async () => {
    await bed.table.stop();
  });
  beforeEach(() => {
    sfnMock.reset();
    eventsMock.reset();
    eventsMock.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'e-1' }] });
    // The history the run cost is read from: empty unless a test gives one.
    sfnMock.on(GetExecutionHistoryCommand).resolves({ events: [] });
    counter += 1;
  });
  return bed;
}
