import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ScaledClock } from '../../../local/clock.js';
import { EventBus, rateMillis, transformInput } from '../../../local/events.js';
import { LambdaRegistry } from '../../../local/lambda.js';
import { FIXTURE, waitFor } from './sfn-helpers.js';

let lambdas: LambdaRegistry;
let bus: EventBus;
let logged: string[];
let started: { arn: string; input: string }[];

function invocationsOf(key: string) {
  return lambdas.invocations.filter((record) => record.functionName === `fixture-local-${key}`);
}

beforeEach(() => {
  lambdas = new LambdaRegistry({ rootDir: FIXTURE });
  logged = [];
  started = [];
  bus = new EventBus({ clock: new ScaledClock(0.001), lambdas, log: (line) => logged.push(line) });
  bus.connectStateMachines(async (arn, input) => {
    started.push({ arn, input });
  });
});

afterEach(() => bus.close());

describe('rules from serverless.yml', () => {
  it('reads function events, state machine events and AWS::Events::Rule resources', () => {
    const rules = Object.fromEntries(bus.rules.map((rule) => [rule.name, rule]));

    expect(Object.keys(rules).sort()).toEqual([
      'callback-rule-1',
      'fixture-audit',
      'fixture-callback-ended',
      'fixture-local-echo-rule-1',
      'fixture-local-fail-schedule-1',
      'fixture-local-record-token-rule-1',
      'fixture-nightly',
    ]);
    expect(rules['fixture-local-fail-schedule-1']).toMatchObject({
      schedule: 'rate(5 minutes)',
      logicalId: 'FailEventsRuleSchedule1',
      targets: [{ arn: 'arn:aws:lambda:us-east-1:000000000000:function:fixture-local-fail' }],
    });
    expect(rules['fixture-audit']?.targets).toEqual([
      {
        id: 'echo',
        arn: 'arn:aws:lambda:us-east-1:000000000000:function:fixture-local-echo',
        inputPath: '$.detail',
      },
    ]);
    expect(rules['callback-rule-1']?.targets[0]?.arn).toBe(
      'arn:aws:states:us-east-1:000000000000:stateMachine:fixture-local-callback',
    );
  });

  it('evaluates CloudFormation references in patterns, and skips (and logs) rules it cannot evaluate', () => {
    const rule = bus.rules.find((candidate) => candidate.name === 'fixture-callback-ended');

    expect(rule?.pattern).toEqual({
      source: ['aws.states'],
      detail: {
        stateMachineArn: ['arn:aws:states:us-east-1:000000000000:stateMachine:fixture-local-callback'],
      },
    });
    expect(bus.rules.some((candidate) => candidate.name === 'fixture-unknowable')).toBe(false);
    expect(
      logged.some((line) => line.includes('fixture-unknowable') && line.includes('SomethingElsewhere')),
    ).toBe(true);
  });
});

describe('emit', () => {
  it('completes the envelope and delivers a matching event to the Lambda target', async () => {
    const sent = bus.emit({
      source: 'fixture.orders',
      'detail-type': 'Order Placed',
      detail: { amount: 250 },
    });
    await bus.idle();

    expect(sent).toMatchObject({ version: '0', account: '000000000000', region: 'us-east-1', resources: [] });
    expect(sent.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(sent.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(invocationsOf('echo').map((record) => record.event)).toContainEqual(sent);
  });

  it('does not deliver an event the pattern rejects', async () => {
    bus.emit({
      source: 'fixture.orders',
      'detail-type': 'Order Placed',
      detail: { amount: 5, kind: 'noise' },
    });
    await bus.idle();

    expect(invocationsOf('echo')).toHaveLength(0);
  });

  it('applies InputPath and InputTransformer to what the target receives', async () => {
    bus.emit({
      source: 'aws.states',
      'detail-type': 'Step Functions Execution Status Change',
      detail: { executionArn: 'arn:exec', status: 'ABORTED' },
    });
    bus.emit({ source: 'fixture.audit', 'detail-type': 'Audit', detail: { kind: 'login', user: 'ada' } });
    await bus.idle();

    expect(invocationsOf('record-token').map((record) => record.event)).toEqual([
      { execution: 'arn:exec', text: 'ended ABORTED' },
    ]);
    expect(invocationsOf('echo').map((record) => record.event)).toEqual([{ kind: 'login', user: 'ada' }]);
  });

  it('never throws a target failure back to the emitter; it logs and records it', async () => {
    bus.putRule({
      name: 'to-fail',
      pattern: { source: ['fixture.fail'] },
      targets: [{ id: 'f', arn: lambdas.arnOf('fail')! }],
    });

    expect(() => bus.emit({ source: 'fixture.fail', 'detail-type': 'X', detail: {} })).not.toThrow();
    await bus.idle();

    const delivery = bus.deliveries.find((d) => d.rule === 'to-fail');
    expect(delivery).toMatchObject({ ok: false, error: 'BoomError: it went boom' });
    expect(logged.some((line) => line.includes('to-fail') && line.includes('BoomError'))).toBe(true);
  });

  it('starts the state machine a rule targets, with the event as input', async () => {
    const sent = bus.emit({ source: 'fixture.start', 'detail-type': 'Go', detail: { mapping: 'extdata' } });
    await bus.idle();

    expect(started).toEqual([
      {
        arn: 'arn:aws:states:us-east-1:000000000000:stateMachine:fixture-local-callback',
        input: JSON.stringify(sent),
      },
    ]);
  });

  it('rejects a rule whose pattern EventBridge would reject', () => {
    expect(() => bus.putRule({ name: 'bad', pattern: { source: 'x' } })).toThrow(/must be inside an array/);
  });
});

describe('schedules', () => {
  it('fires a scheduled rule on demand with a Scheduled Event, by rule name, logical id or function', async () => {
    await bus.fireSchedule('fixture-local-fail-schedule-1');
    await bus.fireSchedule('FailEventsRuleSchedule1');
    await bus.fireSchedule('fixture-nightly');

    const events = invocationsOf('fail').map((record) => record.event as Record<string, unknown>);
    expect(events).toHaveLength(3);
    expect(events[0]).toMatchObject({
      source: 'aws.events',
      'detail-type': 'Scheduled Event',
      resources: ['arn:aws:events:us-east-1:000000000000:rule/fixture-local-fail-schedule-1'],
      detail: {},
    });
    expect(events[2]).toEqual({ nightly: true });
    await expect(bus.fireSchedule('nope')).rejects.toThrow(/No scheduled rule named nope/);
  });

  it('runs rate() schedules on the scaled clock once started', async () => {
    const startedAt = Date.now();

    bus.startSchedules();
    await waitFor(() => invocationsOf('fail').length >= 2 || undefined, 5000, 'two scheduled runs');
    const elapsed = Date.now() - startedAt;
    bus.close();
    await bus.idle();

    // rate(5 minutes) at a time scale of 0.001 fires every 300 ms; cron rules only fire on demand.
    expect(elapsed).toBeGreaterThanOrEqual(550);
    expect(invocationsOf('fail').length).toBeLessThanOrEqual(Math.floor(elapsed / 300) + 1);
  });

  it('parses rate expressions', () => {
    expect(rateMillis('rate(1 minute)')).toBe(60_000);
    expect(rateMillis('rate(2 hours)')).toBe(7_200_000);
    expect(rateMillis('rate(1 day)')).toBe(86_400_000);
    expect(rateMillis('cron(0 3 * * ? *)')).toBeUndefined();
  });
});

describe('transformInput', () => {
  it('inserts values as JSON outside strings and as text inside strings', () => {
    const event = bus.envelope({
      source: 's',
      'detail-type': 'd',
      detail: { n: 3, obj: { a: 1 }, s: 'x"y' },
    });

    const out = transformInput(
      {
        id: 't',
        arn: 'a',
        inputTransformer: {
          inputPathsMap: { n: '$.detail.n', obj: '$.detail.obj', s: '$.detail.s' },
          inputTemplate: '{"n": <n>, "obj": <obj>, "text": "n=<n> s=<s>", "s": <s>}',
        },
      },
      event,
    );

    expect(out).toEqual({ n: 3, obj: { a: 1 }, text: 'n=3 s=x"y', s: 'x"y' });
  });
});
