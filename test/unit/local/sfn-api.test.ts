import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ScaledClock } from '../../../local/clock.js';
import { LambdaRegistry } from '../../../local/lambda.js';
import { StepFunctionsEmulator } from '../../../local/sfn/service.js';
import { RETRIERS } from '../../../scripts/sls/asl.js';
import {
  ACCOUNT,
  awsError,
  call,
  FIXTURE,
  finished,
  REGION,
  type SfnHarness,
  sfnHarness,
  start,
  waitFor,
} from './sfn-helpers.js';

let h: SfnHarness;
const ROLE = 'arn:aws:iam::000000000000:role/test';
const PASS = JSON.stringify({ StartAt: 'P', States: { P: { Type: 'Pass', End: true } } });

/** An emulator of the fixture project that loads its state machines from `dir`. */
function emulatorLoading(dir: string): StepFunctionsEmulator {
  return new StepFunctionsEmulator({
    clock: new ScaledClock(0.01),
    accountId: ACCOUNT,
    region: REGION,
    emit: () => {},
    lambdas: new LambdaRegistry({ rootDir: FIXTURE }),
    stateMachinesDir: dir,
    substitutions: {},
  });
}

beforeEach(() => {
  h = sfnHarness();
});

afterEach(async () => {
  await h.sfn.close();
});

describe('state machines', () => {
  it('loads statemachines/*.asl.json under serverless.yml names, else <service>-<stage>-<file>', async () => {
    const out = await call<{ stateMachines: { name: string }[] }>(h.sfn, 'ListStateMachines', {});

    expect(out.stateMachines.map((machine) => machine.name)).toEqual([
      'fixture-local-callback',
      'fixture-local-execution-timeout',
      'fixture-local-retry-catch',
      'fixture-local-sdk',
      'fixture-local-shapes',
      'fixture-local-timeouts',
      'fixture-local-waits',
    ]);
  });

  it('substitutes function ARNs and custom.aslSubstitutions into the definition', async () => {
    const described = await call<{ definition: string; type: string; status: string }>(
      h.sfn,
      'DescribeStateMachine',
      {
        stateMachineArn: h.machineArn('shapes'),
      },
    );

    const definition = JSON.parse(described.definition);
    expect(definition.States.Greet.Parameters).toMatchObject({
      greeting: 'hello-local',
      echo: 'fixture-local-echo',
    });
    expect(definition.States.Each.ItemProcessor.States.Double.Resource).toBe(
      'arn:aws:lambda:us-east-1:000000000000:function:fixture-local-echo',
    );
    expect(described).toMatchObject({ type: 'STANDARD', status: 'ACTIVE' });
  });

  it('prefers the substitutions it is given over serverless.yml', async () => {
    const h2 = sfnHarness({ substitutions: { Greeting: 'local-greeting' } });

    const described = await call<{ definition: string }>(h2.sfn, 'DescribeStateMachine', {
      stateMachineArn: h2.machineArn('shapes'),
    });

    expect(JSON.parse(described.definition).States.Greet.Parameters.greeting).toBe('local-greeting');
  });

  it('refuses to start with a placeholder that has no value, naming it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sfn-'));
    try {
      writeFileSync(
        join(dir, 'broken.asl.json'),
        JSON.stringify({
          StartAt: 'P',
          States: { P: { Type: 'Pass', Result: ['$', '{', 'NoSuchValue', '}'].join(''), End: true } },
        }),
      );

      const build = () => emulatorLoading(dir);

      expect(build).toThrow(/broken\.asl\.json: No substitution for \$\{NoSuchValue\}/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('expands the shared Retry blocks of a file as packaging does', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sfn-'));
    try {
      const retry = ['$', '{', 'RetryTransientErrors', '}'].join('');
      writeFileSync(
        join(dir, 'retrying.asl.json'),
        JSON.stringify({
          StartAt: 'T',
          States: {
            T: {
              Type: 'Task',
              Resource: 'arn:aws:states:::lambda:invoke',
              Parameters: { FunctionName: 'x' },
              Retry: [retry],
              End: true,
            },
          },
        }),
      );
      const sfn = emulatorLoading(dir);

      const described = await call<{ definition: string }>(sfn, 'DescribeStateMachine', {
        stateMachineArn: `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:fixture-local-retrying`,
      });

      expect(JSON.parse(described.definition).States.T.Retry).toEqual([RETRIERS.RetryTransientErrors]);
      await sfn.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('creates state machines idempotently and refuses a different definition under the same name', async () => {
    const first = await call<{ stateMachineArn: string; creationDate: Date }>(h.sfn, 'CreateStateMachine', {
      name: 'm1',
      definition: PASS,
      roleArn: ROLE,
    });
    const again = await call<{ stateMachineArn: string; creationDate: Date }>(h.sfn, 'CreateStateMachine', {
      name: 'm1',
      definition: PASS,
      roleArn: ROLE,
    });

    expect(again).toEqual(first);
    await awsError(
      call(h.sfn, 'CreateStateMachine', {
        name: 'm1',
        roleArn: ROLE,
        definition: JSON.stringify({ StartAt: 'Q', States: { Q: { Type: 'Succeed' } } }),
      }),
      'StateMachineAlreadyExists',
    );
  });

  it('rejects invalid definitions, JSONata, unsupported resources and bad names', async () => {
    await awsError(
      call(h.sfn, 'CreateStateMachine', { name: 'x', definition: '{', roleArn: ROLE }),
      'InvalidDefinition',
    );
    await awsError(
      call(h.sfn, 'CreateStateMachine', {
        name: 'x',
        definition: JSON.stringify({ StartAt: 'Nope', States: {} }),
        roleArn: ROLE,
      }),
      'InvalidDefinition',
    );
    const jsonata = JSON.stringify({
      QueryLanguage: 'JSONata',
      StartAt: 'P',
      States: { P: { Type: 'Pass', End: true } },
    });
    expect(
      await awsError(
        call(h.sfn, 'CreateStateMachine', { name: 'x', definition: jsonata, roleArn: ROLE }),
        'InvalidDefinition',
      ),
    ).toMatch(/JSONata/);
    const sync = JSON.stringify({
      StartAt: 'T',
      States: { T: { Type: 'Task', Resource: 'arn:aws:states:::states:startExecution.sync:2', End: true } },
    });
    expect(
      await awsError(
        call(h.sfn, 'CreateStateMachine', { name: 'x', definition: sync, roleArn: ROLE }),
        'InvalidDefinition',
      ),
    ).toMatch(/\.sync/);
    await awsError(
      call(h.sfn, 'CreateStateMachine', { name: 'bad name', definition: PASS, roleArn: ROLE }),
      'InvalidName',
    );
    await awsError(
      call(h.sfn, 'CreateStateMachine', { name: 'x', definition: PASS, roleArn: 'role' }),
      'InvalidArn',
    );
  });

  it('answers InvalidArn for malformed ARNs and StateMachineDoesNotExist for unknown ones', async () => {
    await awsError(call(h.sfn, 'DescribeStateMachine', { stateMachineArn: 'nope' }), 'InvalidArn');
    await awsError(
      call(h.sfn, 'DescribeStateMachine', {
        stateMachineArn: `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:missing`,
      }),
      'StateMachineDoesNotExist',
    );
  });

  it('pages ListStateMachines', async () => {
    const first = await call<{ stateMachines: unknown[]; nextToken?: string }>(h.sfn, 'ListStateMachines', {
      maxResults: 3,
    });
    const second = await call<{ stateMachines: unknown[]; nextToken?: string }>(h.sfn, 'ListStateMachines', {
      maxResults: 3,
      nextToken: first.nextToken,
    });
    const third = await call<{ stateMachines: unknown[]; nextToken?: string }>(h.sfn, 'ListStateMachines', {
      maxResults: 3,
      nextToken: second.nextToken,
    });

    expect([first.stateMachines.length, second.stateMachines.length, third.stateMachines.length]).toEqual([
      3, 3, 1,
    ]);
    expect(third.nextToken).toBeUndefined();
    await awsError(call(h.sfn, 'ListStateMachines', { nextToken: 'bogus' }), 'InvalidToken');
  });

  it('deletes a state machine, aborting its running executions', async () => {
    const arn = await start(h, 'waits', { seconds: 0 });

    await call(h.sfn, 'DeleteStateMachine', { stateMachineArn: h.machineArn('waits') });

    await awsError(
      call(h.sfn, 'DescribeStateMachine', { stateMachineArn: h.machineArn('waits') }),
      'StateMachineDoesNotExist',
    );
    await awsError(call(h.sfn, 'DescribeExecution', { executionArn: arn }), 'ExecutionDoesNotExist');
  });
});

describe('executions', () => {
  it('returns the same execution for the same name and input while it runs, and ExecutionAlreadyExists otherwise', async () => {
    const input = JSON.stringify({ seconds: 0 });
    const first = await call<{ executionArn: string; startDate: Date }>(h.sfn, 'StartExecution', {
      stateMachineArn: h.machineArn('waits'),
      name: 'same',
      input,
    });

    const again = await call<{ executionArn: string; startDate: Date }>(h.sfn, 'StartExecution', {
      stateMachineArn: h.machineArn('waits'),
      name: 'same',
      input,
    });

    expect(again).toEqual(first);
    await awsError(
      call(h.sfn, 'StartExecution', {
        stateMachineArn: h.machineArn('waits'),
        name: 'same',
        input: '{"seconds":1}',
      }),
      'ExecutionAlreadyExists',
    );
    await call(h.sfn, 'StopExecution', { executionArn: first.executionArn });
    await awsError(
      call(h.sfn, 'StartExecution', { stateMachineArn: h.machineArn('waits'), name: 'same', input }),
      'ExecutionAlreadyExists',
    );
  });

  it('validates StartExecution input, name and state machine', async () => {
    await awsError(
      call(h.sfn, 'StartExecution', { stateMachineArn: h.machineArn('waits'), input: '{oops' }),
      'InvalidExecutionInput',
    );
    await awsError(
      call(h.sfn, 'StartExecution', { stateMachineArn: h.machineArn('waits'), name: 'a b' }),
      'InvalidName',
    );
    await awsError(
      call(h.sfn, 'StartExecution', { stateMachineArn: h.machineArn('waits'), name: 'x'.repeat(81) }),
      'InvalidName',
    );
    await awsError(
      call(h.sfn, 'StartExecution', { stateMachineArn: h.machineArn('missing') }),
      'StateMachineDoesNotExist',
    );
    await awsError(call(h.sfn, 'StartExecution', { stateMachineArn: 'arn:aws:s3:::bucket' }), 'InvalidArn');
  });

  it('describes executions and reports unknown ones as ExecutionDoesNotExist', async () => {
    const arn = await start(h, 'shapes', { items: [], fail: false }, 'describe-me');

    const described = await finished(h, arn);

    expect(described).toMatchObject({
      executionArn: `arn:aws:states:${REGION}:${ACCOUNT}:execution:fixture-local-shapes:describe-me`,
      stateMachineArn: h.machineArn('shapes'),
      name: 'describe-me',
      status: 'SUCCEEDED',
      input: JSON.stringify({ items: [], fail: false }),
      redriveStatus: 'NOT_REDRIVABLE',
    });
    expect(described.startDate).toBeInstanceOf(Date);
    expect(described.stopDate.getTime()).toBeGreaterThanOrEqual(described.startDate.getTime());
    await awsError(
      call(h.sfn, 'DescribeExecution', { executionArn: `${arn}-nope` }),
      'ExecutionDoesNotExist',
    );
  });

  it('lists executions newest first, filtered by status and paged', async () => {
    const done = [];
    for (const name of ['e1', 'e2', 'e3'])
      done.push(await start(h, 'shapes', { items: [], fail: false }, name));
    for (const arn of done) await finished(h, arn);
    const running = await start(h, 'waits', { seconds: 0 }, 'e4');

    const succeeded = await call<{ executions: { name: string }[]; nextToken?: string }>(
      h.sfn,
      'ListExecutions',
      {
        stateMachineArn: h.machineArn('shapes'),
        statusFilter: 'SUCCEEDED',
        maxResults: 2,
      },
    );
    const rest = await call<{ executions: { name: string }[]; nextToken?: string }>(h.sfn, 'ListExecutions', {
      stateMachineArn: h.machineArn('shapes'),
      statusFilter: 'SUCCEEDED',
      maxResults: 2,
      nextToken: succeeded.nextToken,
    });
    const runningList = await call<{ executions: { name: string; status: string }[] }>(
      h.sfn,
      'ListExecutions',
      {
        stateMachineArn: h.machineArn('waits'),
        statusFilter: 'RUNNING',
      },
    );

    expect(succeeded.executions.map((e) => e.name)).toEqual(['e3', 'e2']);
    expect(rest.executions.map((e) => e.name)).toEqual(['e1']);
    expect(rest.nextToken).toBeUndefined();
    expect(runningList.executions).toMatchObject([{ name: 'e4', status: 'RUNNING' }]);
    await awsError(
      call(h.sfn, 'ListExecutions', {
        stateMachineArn: h.machineArn('waits'),
        nextToken: succeeded.nextToken,
      }),
      'InvalidToken',
    );
    await call(h.sfn, 'StopExecution', { executionArn: running });
  });

  it('pages the history in both orders without gaps', async () => {
    const arn = await start(h, 'retry-catch', {}, 'paged');
    await finished(h, arn);
    const all = (
      await call<{ events: { id: number }[] }>(h.sfn, 'GetExecutionHistory', { executionArn: arn })
    ).events;

    const forward: number[] = [];
    const backward: number[] = [];
    for (const [reverseOrder, out] of [
      [false, forward],
      [true, backward],
    ] as const) {
      let nextToken: string | undefined;
      do {
        const page = await call<{ events: { id: number }[]; nextToken?: string }>(
          h.sfn,
          'GetExecutionHistory',
          {
            executionArn: arn,
            maxResults: 3,
            reverseOrder,
            ...(nextToken ? { nextToken } : {}),
          },
        );
        expect(page.events.length).toBeLessThanOrEqual(3);
        out.push(...page.events.map((event) => event.id));
        nextToken = page.nextToken;
      } while (nextToken);
    }

    expect(forward).toEqual(all.map((event) => event.id));
    expect(backward).toEqual(all.map((event) => event.id).reverse());
    await awsError(call(h.sfn, 'GetExecutionHistory', { executionArn: arn, nextToken: 'x' }), 'InvalidToken');
    await awsError(
      call(h.sfn, 'GetExecutionHistory', { executionArn: arn, maxResults: 1001 }),
      'ValidationException',
    );
  });

  it('leaves out input and output when includeExecutionData is false', async () => {
    const arn = await start(h, 'shapes', { items: [], fail: false });
    await finished(h, arn);

    const out = await call<{ events: Record<string, any>[] }>(h.sfn, 'GetExecutionHistory', {
      executionArn: arn,
      includeExecutionData: false,
    });

    expect(out.events[0]!.executionStartedEventDetails.input).toBeUndefined();
    expect(out.events[1]!.stateEnteredEventDetails).toEqual({
      name: 'Greet',
      inputDetails: { truncated: false },
    });
  });

  it('emits Step Functions Execution Status Change events with the AWS detail shape', async () => {
    const arn = await start(h, 'shapes', { items: [], fail: true }, 'evented');
    await finished(h, arn);

    await waitFor(() => h.events.length >= 2 || undefined);

    expect(h.events.map((event) => event.detail.status)).toEqual(['RUNNING', 'FAILED']);
    const failed = h.events[1]!;
    expect(failed).toMatchObject({
      source: 'aws.states',
      'detail-type': 'Step Functions Execution Status Change',
      resources: [arn],
    });
    expect(Object.keys(failed.detail)).toEqual([
      'executionArn',
      'stateMachineArn',
      'name',
      'status',
      'startDate',
      'stopDate',
      'input',
      'output',
      'inputDetails',
      'outputDetails',
      'error',
      'cause',
      'stateMachineVersionArn',
      'stateMachineAliasArn',
      'redriveCount',
      'redriveDate',
      'redriveStatus',
      'redriveStatusReason',
    ]);
    expect(failed.detail).toMatchObject({
      executionArn: arn,
      name: 'evented',
      error: 'hello-local',
      cause: 'fixture-local-echo',
      output: null,
      redriveStatus: 'REDRIVABLE',
    });
    expect(typeof failed.detail.startDate).toBe('number');
    expect(typeof failed.detail.stopDate).toBe('number');
  });

  it('aborts running executions without status events when the local cloud stops', async () => {
    const arn = await start(h, 'waits', { seconds: 0 });

    await h.sfn.close();

    const described = await call<Record<string, any>>(h.sfn, 'DescribeExecution', { executionArn: arn });
    expect(described).toMatchObject({ status: 'ABORTED', error: 'LocalCloudStopped' });
    expect(h.events.map((event) => event.detail.status)).toEqual(['RUNNING']);
  });

  it('starts child executions through arn:aws:states:::states:startExecution', async () => {
    const created = await call<{ stateMachineArn: string }>(h.sfn, 'CreateStateMachine', {
      name: 'parent',
      roleArn: ROLE,
      definition: JSON.stringify({
        StartAt: 'Child',
        States: {
          Child: {
            Type: 'Task',
            Resource: 'arn:aws:states:::states:startExecution',
            Parameters: {
              StateMachineArn: h.machineArn('shapes'),
              Name: 'child-1',
              Input: { items: [], fail: false },
            },
            End: true,
          },
        },
      }),
    });
    const parent = await call<{ executionArn: string }>(h.sfn, 'StartExecution', {
      stateMachineArn: created.stateMachineArn,
    });

    const described = await finished(h, parent.executionArn);

    expect(JSON.parse(described.output).ExecutionArn).toBe(
      `arn:aws:states:${REGION}:${ACCOUNT}:execution:fixture-local-shapes:child-1`,
    );
    const child = await finished(h, JSON.parse(described.output).ExecutionArn);
    expect(child.status).toBe('SUCCEEDED');
  });
});
