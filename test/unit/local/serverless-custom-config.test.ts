/**
 * `${self:custom.config.*}` on the local cloud: serverless.yml's `custom.config` comes from
 * `${file(./scripts/sls/config.cjs)}`, whose values the local cloud derives as packaging does
 * (deploymentValues), so config schedules become scheduled rules that start the transfer state
 * machine with their input, and the S3 events rule gets its pattern and state. Also the local
 * values of `!Ref`/`!GetAtt` of queues and tables, and the event source mappings of `sqs` events.
 */
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ScaledClock } from '../../../local/clock.js';
import { EventBus } from '../../../local/events.js';
import { LambdaRegistry } from '../../../local/lambda.js';
import { evaluateCfn, loadServerlessProject } from '../../../local/serverless-config.js';
import { eventSourceSpecs } from '../../../local/sqs/project.js';
import { deploymentValues } from '../../../scripts/sls/deployment.js';
import { loadConfig } from '../../../shared/config/load.js';
import { FIXTURE } from './sfn-helpers.js';

const REPO = resolve(import.meta.dirname, '../../..');
const CONFIG_FILE = resolve(REPO, 'fsx-transfer.config.yaml');
const PATTERN = { source: ['aws.s3'], detail: { bucket: { name: ['demo'] } } };

function busFor(rootDir: string, customConfig: Record<string, unknown>) {
  const lambdas = new LambdaRegistry({
    rootDir,
    serverlessFiles: { 'scripts/sls/config.cjs': customConfig },
  });
  const started: { arn: string; input: string }[] = [];
  const bus = new EventBus({ clock: new ScaledClock(0.001), lambdas, log: () => {} });
  bus.connectStateMachines(async (arn, input) => {
    started.push({ arn, input });
  });
  return { bus, started };
}

describe('custom.config from the config file', () => {
  it("turns the config's schedules into rules that start the transfer state machine with their input", async () => {
    const config = loadConfig(CONFIG_FILE);
    const values = deploymentValues(config, 'fsx-transfer.config.yaml');
    const expected = values.scheduleEvents.map((event) => event.schedule);
    const { bus, started } = busFor(REPO, values as unknown as Record<string, unknown>);

    const rules = bus.rules.filter((rule) => rule.owner === 'transfer' && rule.schedule);
    await bus.fireSchedule('transfer');
    bus.close();

    expect(expected.length).toBeGreaterThan(0);
    expect(rules.map((rule) => rule.schedule)).toEqual(expected.map((schedule) => schedule.rate));
    expect(started.map((run) => run.arn)).toEqual(
      expected.map(() => 'arn:aws:states:us-east-1:000000000000:stateMachine:fsx-transfer-local-transfer'),
    );
    expect(started.map((run) => JSON.parse(run.input))).toEqual(expected.map((schedule) => schedule.input));
  });

  it("fires a mapping's schedules by the mapping named in their input, and nothing for a mapping without one", async () => {
    const values = deploymentValues(loadConfig(CONFIG_FILE), 'fsx-transfer.config.yaml');
    const { bus, started } = busFor(REPO, values as unknown as Record<string, unknown>);

    const fired = await bus.fireTransferSchedules('output', 'export');
    const none = await bus.fireTransferSchedules('extdata');
    bus.close();

    expect(fired).toHaveLength(1);
    expect(none).toEqual([]);
    expect(started.map((run) => JSON.parse(run.input))).toEqual([
      { mapping: 'output', direction: 'export', trigger: 'schedule' },
    ]);
  });

  it('resolves Serverless variables inside Fn::Join, as Serverless does (the ARN the triggers start)', () => {
    const lambdas = new LambdaRegistry({ rootDir: REPO });

    expect(lambdas.find('s3-event-trigger')?.resolvedEnvironment.TRANSFER_STATE_MACHINE_ARN).toBe(
      'arn:aws:states:us-east-1:000000000000:stateMachine:fsx-transfer-local-transfer',
    );
  });

  it('gives a rule its EventPattern and State from custom.config', () => {
    const enabled = busFor(FIXTURE, { s3EventPattern: PATTERN, s3EventsRuleState: 'ENABLED' });
    const disabled = busFor(FIXTURE, { s3EventPattern: PATTERN, s3EventsRuleState: 'DISABLED' });
    const unresolved = busFor(FIXTURE, {});

    const rule = (bus: EventBus) => bus.rules.find((r) => r.logicalId === 'ObjectEventsRule');

    expect(rule(enabled.bus)).toMatchObject({
      name: 'fixture-local-object-events',
      pattern: PATTERN,
      enabled: true,
      targets: [{ id: 'work-queue', arn: 'arn:aws:sqs:us-east-1:000000000000:fixture-local-work' }],
    });
    expect(rule(disabled.bus)?.enabled).toBe(false);
    expect(rule(unresolved.bus)).toBeUndefined();
    for (const { bus } of [enabled, disabled, unresolved]) bus.close();
  });

  it('resolves self:custom.config paths and file(...):property variables from the given file values', () => {
    const project = loadServerlessProject({
      rootDir: resolve(FIXTURE, '../custom-config-project'),
      files: { 'scripts/sls/config.cjs': { region: 'eu-west-1', nested: { value: 'deep' } } },
    });

    expect(project.raw.provider).toEqual({ region: 'eu-west-1' });
    expect(project.raw.custom).toEqual({
      config: { region: 'eu-west-1', nested: { value: 'deep' } },
      deep: 'deep',
      missing: undefined,
    });
  });
});

describe('local values of queues and tables', () => {
  const project = loadServerlessProject({ rootDir: FIXTURE, endpoint: 'http://127.0.0.1:4566' });

  it('evaluates !Ref and !GetAtt of SQS queues and DynamoDB tables', () => {
    expect(evaluateCfn(project, { Ref: 'WorkQueue' })).toBe(
      'http://127.0.0.1:4566/000000000000/fixture-local-work',
    );
    expect(evaluateCfn(project, { 'Fn::GetAtt': ['WorkQueue', 'Arn'] })).toBe(
      'arn:aws:sqs:us-east-1:000000000000:fixture-local-work',
    );
    expect(evaluateCfn(project, { 'Fn::GetAtt': ['WorkQueue', 'QueueName'] })).toBe('fixture-local-work');
    expect(evaluateCfn(project, { Ref: 'ItemsTable' })).toBe('fixture-local-items');
    expect(evaluateCfn(project, { 'Fn::GetAtt': ['ItemsTable', 'Arn'] })).toBe(
      'arn:aws:dynamodb:us-east-1:000000000000:table/fixture-local-items',
    );
  });

  it('gives functions those values in their environment', () => {
    const lambdas = new LambdaRegistry({
      rootDir: FIXTURE,
      environment: { AWS_ENDPOINT_URL: 'http://127.0.0.1:9' },
    });

    expect(lambdas.find('sqs-worker')?.resolvedEnvironment).toMatchObject({
      FIXTURE_TABLE: 'fixture-local-items',
      FIXTURE_QUEUE_URL: 'http://127.0.0.1:9/000000000000/fixture-local-work',
    });
  });

  it("reads functions' sqs events as event source mappings", () => {
    expect(eventSourceSpecs(project, () => {})).toEqual([
      {
        functionName: 'sqs-worker',
        queueArn: 'arn:aws:sqs:us-east-1:000000000000:fixture-local-work',
        batchSize: 20,
        maximumBatchingWindow: 1,
        reportBatchItemFailures: true,
        maximumConcurrency: 2,
        enabled: true,
        filterPatterns: undefined,
      },
    ]);
  });
});
