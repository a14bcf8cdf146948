import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FaultInjector } from '../../../local/faults.js';
import {
  call,
  fakeAwsEndpoint,
  finished,
  history,
  type SfnHarness,
  sfnHarness,
  start,
  types,
  waitFor,
} from './sfn-helpers.js';

let h: SfnHarness;

afterEach(async () => {
  await h.sfn.close();
});

describe('Lambda tasks', () => {
  beforeEach(() => {
    h = sfnHarness();
  });

  it('retries a failing Lambda by its error name, then catches another by name with Lambda’s error payload as Cause', async () => {
    const arn = await start(h, 'retry-catch', { order: 1 }, 'retry-1');

    const described = await finished(h, arn);

    expect(described.status).toBe('SUCCEEDED');
    const output = JSON.parse(described.output);
    expect(output.flaky).toEqual({ attempts: 3 });
    expect(output.error.Error).toBe('BoomError');
    const cause = JSON.parse(output.error.Cause);
    expect(Object.keys(cause)).toEqual(['errorType', 'errorMessage', 'trace']);
    expect(cause).toMatchObject({ errorType: 'BoomError', errorMessage: 'no luck' });
    expect(cause.trace[0]).toContain('no luck');
  });

  it('records AWS history events for direct Lambda ARNs and lambda:invoke', async () => {
    const arn = await start(h, 'retry-catch', {}, 'retry-history');
    await finished(h, arn);

    const events = await history(h, arn);

    expect(types(events)).toEqual([
      'ExecutionStarted',
      'TaskStateEntered',
      'LambdaFunctionScheduled',
      'LambdaFunctionStarted',
      'LambdaFunctionFailed',
      'LambdaFunctionScheduled',
      'LambdaFunctionStarted',
      'LambdaFunctionFailed',
      'LambdaFunctionScheduled',
      'LambdaFunctionStarted',
      'LambdaFunctionSucceeded',
      'TaskStateExited',
      'TaskStateEntered',
      'TaskScheduled',
      'TaskStarted',
      'TaskFailed',
      'TaskStateExited',
      'PassStateEntered',
      'PassStateExited',
      'ExecutionSucceeded',
    ]);
    expect(events.map((event) => event.id)).toEqual(events.map((_, index) => index + 1));
    expect(events.map((event) => event.previousEventId)).toEqual(events.map((_, index) => index));
    const scheduled = events[2] as Record<string, any>;
    expect(scheduled.lambdaFunctionScheduledEventDetails.resource).toBe(
      'arn:aws:lambda:us-east-1:000000000000:function:fixture-local-flaky',
    );
    expect(JSON.parse(scheduled.lambdaFunctionScheduledEventDetails.input)).toEqual({
      key: 'retry-history',
      failures: 2,
    });
    const failed = events[4] as Record<string, any>;
    expect(failed.lambdaFunctionFailedEventDetails.error).toBe('FlakyError');
    const taskScheduled = events[13] as Record<string, any>;
    expect(taskScheduled.taskScheduledEventDetails).toMatchObject({
      resourceType: 'lambda',
      resource: 'invoke',
      region: 'us-east-1',
    });
    expect(JSON.parse(taskScheduled.taskScheduledEventDetails.parameters).FunctionName).toContain(
      ':function:fixture-local-fail',
    );
    expect((events[15] as Record<string, any>).taskFailedEventDetails).toMatchObject({
      resourceType: 'lambda',
      resource: 'invoke',
      error: 'BoomError',
    });
  });

  it('fails a Task that exceeds TimeoutSeconds with States.Timeout, which States.TaskFailed does not catch', async () => {
    const arn = await start(h, 'timeouts', { ms: 400 });

    const described = await finished(h, arn);
    const events = await history(h, arn);

    expect(described.status).toBe('SUCCEEDED');
    expect(JSON.parse(described.output).error.Error).toBe('States.Timeout');
    expect(types(events)).toContain('LambdaFunctionTimedOut');
    expect(types(events)).toContain('PassStateEntered');
  });

  it('reports a Lambda that outlives its own timeout as Sandbox.Timedout', async () => {
    const h2 = sfnHarness({ timeScale: 1 });
    try {
      const arn = await call<{ executionArn: string }>(h2.sfn, 'StartExecution', {
        stateMachineArn: h2.machineArn('timeouts'),
        input: JSON.stringify({ ms: 1500 }),
      });

      const described = await finished(h2, arn.executionArn);

      expect(described.status).toBe('FAILED');
      expect(described.error).toBe('WrongCatch');
      const events = await history(h2, arn.executionArn);
      const failed = events.find((event) => event.type === 'LambdaFunctionFailed') as Record<string, any>;
      expect(failed.lambdaFunctionFailedEventDetails.error).toBe('Sandbox.Timedout');
      expect(JSON.parse(failed.lambdaFunctionFailedEventDetails.cause).errorMessage).toMatch(
        /Task timed out after 1\.00 seconds/,
      );
    } finally {
      await h2.sfn.close();
    }
  });

  it('runs Map and Parallel states and records their events; Fail states take ErrorPath/CausePath', async () => {
    const ok = await start(h, 'shapes', { items: [1, 2, 3], fail: false });
    const bad = await start(h, 'shapes', { items: [], fail: true });

    const succeeded = await finished(h, ok);
    const failed = await finished(h, bad);

    expect(JSON.parse(succeeded.output)).toMatchObject({
      greeting: 'hello-local',
      echo: 'fixture-local-echo',
      doubled: [{ value: 2 }, { value: 4 }, { value: 6 }],
      sides: ['left', 'right'],
    });
    const events = types(await history(h, ok));
    expect(events).toEqual(
      expect.arrayContaining([
        'MapStateEntered',
        'MapStateStarted',
        'MapIterationStarted',
        'MapIterationSucceeded',
        'MapStateSucceeded',
        'MapStateExited',
        'ParallelStateEntered',
        'ParallelStateStarted',
        'ParallelStateSucceeded',
        'ParallelStateExited',
        'ChoiceStateEntered',
        'SucceedStateEntered',
      ]),
    );
    const mapStarted = (await history(h, ok)).find((event) => event.type === 'MapStateStarted') as Record<
      string,
      any
    >;
    expect(mapStarted.mapStateStartedEventDetails).toEqual({ length: 3 });
    expect(failed).toMatchObject({ status: 'FAILED', error: 'hello-local', cause: 'fixture-local-echo' });
    expect(types(await history(h, bad)).slice(-2)).toEqual(['FailStateEntered', 'ExecutionFailed']);
  });
});

describe('Wait states and stopping', () => {
  beforeEach(() => {
    h = sfnHarness();
  });

  it('scales SecondsPath waits with the clock', async () => {
    const arn = await start(h, 'waits', { seconds: 200 });
    const startedAt = Date.now();

    await waitFor(
      async () => types(await history(h, arn)).includes('WaitStateExited') || undefined,
      3000,
      'first wait',
    );

    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(150);
    expect(Date.now() - startedAt).toBeLessThan(2000);
  });

  it('StopExecution aborts a running execution with the given error and cause', async () => {
    const arn = await start(h, 'waits', { seconds: 0 });
    await waitFor(
      async () =>
        (await history(h, arn)).filter((e) => e.type === 'WaitStateEntered').length === 2 || undefined,
    );

    const stopped = await call<{ stopDate: Date }>(h.sfn, 'StopExecution', {
      executionArn: arn,
      error: 'Cancelled',
      cause: 'user asked',
    });
    const described = await call<Record<string, any>>(h.sfn, 'DescribeExecution', { executionArn: arn });
    const events = await history(h, arn);

    expect(stopped.stopDate).toBeInstanceOf(Date);
    expect(described).toMatchObject({ status: 'ABORTED', error: 'Cancelled', cause: 'user asked' });
    expect(types(events).slice(-2)).toEqual(['WaitStateAborted', 'ExecutionAborted']);
    expect((events.at(-1) as Record<string, any>).executionAbortedEventDetails).toEqual({
      error: 'Cancelled',
      cause: 'user asked',
    });
    const last = h.events.at(-1)!;
    expect(last.detail).toMatchObject({ status: 'ABORTED', error: 'Cancelled', cause: 'user asked' });
  });

  it('ends an execution TIMED_OUT after its TimeoutSeconds', async () => {
    const arn = await start(h, 'execution-timeout');

    const described = await finished(h, arn);

    expect(described).toMatchObject({ status: 'TIMED_OUT', error: 'States.Timeout' });
    expect(types(await history(h, arn)).slice(-2)).toEqual(['WaitStateAborted', 'ExecutionTimedOut']);
  });

  it('times out a matching execution early with an execution-timeout fault (and leaves others alone)', async () => {
    const faults = new FaultInjector();
    faults.add({
      service: 'states',
      behavior: 'execution-timeout',
      delayMs: 2000,
      match: { name: 'slow-*' },
    });
    h = sfnHarness({ faults });

    const timedOut = await start(h, 'waits', { seconds: 1 }, 'slow-1');
    const other = await start(h, 'waits', { seconds: 1 }, 'other-1');

    expect(await finished(h, timedOut)).toMatchObject({
      status: 'TIMED_OUT',
      error: 'States.Timeout',
      cause: 'The execution exceeded its TimeoutSeconds of 2 seconds',
    });
    expect(await call(h.sfn, 'DescribeExecution', { executionArn: other })).toMatchObject({
      status: 'RUNNING',
    });
    expect(h.events.map((e) => (e.detail as { status?: string }).status)).toContain('TIMED_OUT');
  });
});

describe('waitForTaskToken', () => {
  it('passes $$.Task.Token to the function and completes the task with SendTaskSuccess', async () => {
    h = sfnHarness({ timeScale: 0.01 });
    const arn = await start(h, 'callback', { label: 'one' });
    const event = await waitFor(
      () =>
        h.lambdas.invocations.find((record) => record.functionName.endsWith('record-token'))?.event as
          | Record<string, string>
          | undefined,
    );

    await call(h.sfn, 'SendTaskHeartbeat', { taskToken: event.token });
    await call(h.sfn, 'SendTaskSuccess', { taskToken: event.token, output: JSON.stringify({ exitCode: 0 }) });
    const described = await finished(h, arn);

    expect(event.execution).toBe(arn);
    expect(event.label).toBe('task one');
    expect(described.status).toBe('SUCCEEDED');
    expect(JSON.parse(described.output).callback).toEqual({ exitCode: 0 });
    const events = await history(h, arn);
    expect(types(events)).toEqual([
      'ExecutionStarted',
      'TaskStateEntered',
      'TaskScheduled',
      'TaskStarted',
      'TaskSubmitted',
      'TaskSucceeded',
      'TaskStateExited',
      'ExecutionSucceeded',
    ]);
    expect((events[2] as Record<string, any>).taskScheduledEventDetails).toMatchObject({
      resource: 'invoke.waitForTaskToken',
      timeoutInSeconds: 600,
      heartbeatInSeconds: 60,
    });
    expect(JSON.parse((events[4] as Record<string, any>).taskSubmittedEventDetails.output)).toMatchObject({
      StatusCode: 200,
      Payload: { recorded: true },
    });
  });

  it('fails the task with the error and cause of SendTaskFailure, and later calls get TaskTimedOut', async () => {
    h = sfnHarness({ timeScale: 0.01 });
    const arn = await start(h, 'callback', { label: 'two' });
    const event = await waitFor(
      () =>
        h.lambdas.invocations.find((record) => record.functionName.endsWith('record-token'))?.event as
          | Record<string, string>
          | undefined,
    );

    await call(h.sfn, 'SendTaskFailure', {
      taskToken: event.token,
      error: 'CommandFailed',
      cause: 'exit code 2',
    });
    const described = await finished(h, arn);

    expect(described).toMatchObject({ status: 'FAILED', error: 'CommandFailed', cause: 'exit code 2' });
    await expect(
      call(h.sfn, 'SendTaskSuccess', { taskToken: event.token, output: '{}' }),
    ).rejects.toMatchObject({ code: 'TaskTimedOut' });
  });

  it('times a task out with States.HeartbeatTimeout when heartbeats stop', async () => {
    h = sfnHarness({ timeScale: 0.001 });
    const arn = await start(h, 'callback', { label: 'three' });

    const described = await finished(h, arn);

    expect(described.error).toBe('HeartbeatLost');
    const timedOut = (await history(h, arn)).find((e) => e.type === 'TaskTimedOut') as Record<string, any>;
    expect(timedOut.taskTimedOutEventDetails.error).toBe('States.HeartbeatTimeout');
  });

  it('times a task out with States.Timeout at TimeoutSeconds even with heartbeats', async () => {
    h = sfnHarness({ timeScale: 0.001 });
    const created = await call<{ stateMachineArn: string }>(h.sfn, 'CreateStateMachine', {
      name: 'heartbeats-then-timeout',
      roleArn: 'arn:aws:iam::000000000000:role/test',
      definition: JSON.stringify({
        StartAt: 'Wait',
        States: {
          Wait: {
            Type: 'Task',
            Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken',
            Parameters: {
              FunctionName: 'fixture-local-record-token',
              Payload: { 'token.$': '$$.Task.Token' },
            },
            TimeoutSeconds: 600,
            HeartbeatSeconds: 300,
            End: true,
          },
        },
      }),
    });
    const started = await call<{ executionArn: string }>(h.sfn, 'StartExecution', {
      stateMachineArn: created.stateMachineArn,
    });
    const event = await waitFor(
      () => h.lambdas.invocations.at(-1)?.event as Record<string, string> | undefined,
    );
    const beat = setInterval(() => {
      call(h.sfn, 'SendTaskHeartbeat', { taskToken: event.token }).catch(() => {});
    }, 20);

    const described = await finished(h, started.executionArn).finally(() => clearInterval(beat));

    expect(described.error).toBe('States.Timeout');
    const timedOut = (await history(h, started.executionArn)).find(
      (e) => e.type === 'TaskTimedOut',
    ) as Record<string, any>;
    expect(timedOut.taskTimedOutEventDetails.error).toBe('States.Timeout');
  });

  it('rejects malformed, unknown and invalid-output callbacks with AWS error codes', async () => {
    h = sfnHarness({ timeScale: 0.01 });
    const arn = await start(h, 'callback', { label: 'five' });
    const event = await waitFor(
      () =>
        h.lambdas.invocations.find((record) => record.functionName.endsWith('record-token'))?.event as
          | Record<string, string>
          | undefined,
    );
    const unknown = `AQ${Buffer.from(JSON.stringify({ e: arn, s: 'X', n: 'ff' })).toString('base64url')}`;

    await expect(
      call(h.sfn, 'SendTaskSuccess', { taskToken: 'garbage', output: '{}' }),
    ).rejects.toMatchObject({ code: 'InvalidToken' });
    await expect(call(h.sfn, 'SendTaskHeartbeat', { taskToken: unknown })).rejects.toMatchObject({
      code: 'TaskDoesNotExist',
    });
    await expect(
      call(h.sfn, 'SendTaskSuccess', { taskToken: event.token, output: 'not json' }),
    ).rejects.toMatchObject({ code: 'InvalidOutput' });
    await call(h.sfn, 'StopExecution', { executionArn: arn });
    await expect(
      call(h.sfn, 'SendTaskSuccess', { taskToken: event.token, output: '{}' }),
    ).rejects.toMatchObject({ code: 'TaskTimedOut' });
  });
});

describe('aws-sdk tasks', () => {
  let endpoint: Awaited<ReturnType<typeof fakeAwsEndpoint>>;

  beforeEach(async () => {
    h = sfnHarness();
    endpoint = await fakeAwsEndpoint(h.sfn);
    h.sfn.setEndpoint(endpoint.url);
  });

  afterEach(async () => {
    await endpoint.close();
  });

  it('calls the service with PascalCase parameters and returns PascalCase results, also for camelCase APIs', async () => {
    const arn = await start(h, 'sdk', { parameter: '/fixture/present', machineArn: h.machineArn('waits') });

    const described = await finished(h, arn);

    expect(described.status).toBe('SUCCEEDED');
    const output = JSON.parse(described.output);
    expect(output.found).toEqual({ value: 'v1', version: 3 });
    expect(output.machine).toMatchObject({ name: 'fixture-local-waits', type: 'STANDARD' });
    expect(output.machine.created).toMatch(/^\d{4}-\d\d-\d\dT/);
    const scheduled = (await history(h, arn)).find((e) => e.type === 'TaskScheduled') as Record<string, any>;
    expect(scheduled.taskScheduledEventDetails).toMatchObject({
      resourceType: 'aws-sdk:ssm',
      resource: 'getParameter',
    });
  });

  it('names modeled errors <Service>.<Error>Exception with the SDK-style cause', async () => {
    const arn = await start(h, 'sdk', { parameter: '/fixture/missing', machineArn: h.machineArn('waits') });

    const described = await finished(h, arn);

    const error = JSON.parse(described.output).error;
    expect(error.Error).toBe('Ssm.ParameterNotFoundException');
    expect(error.Cause).toMatch(
      /^Parameter \/fixture\/missing not found\. \(Service: Ssm, Status Code: 400, Request ID: /,
    );
  });

  it('names errors the model does not declare <Service>.<Service>Exception (all of EC2)', async () => {
    const created = await call<{ stateMachineArn: string }>(h.sfn, 'CreateStateMachine', {
      name: 'ec2-errors',
      roleArn: 'arn:aws:iam::000000000000:role/test',
      definition: JSON.stringify({
        StartAt: 'Describe',
        States: {
          Describe: {
            Type: 'Task',
            Resource: 'arn:aws:states:::aws-sdk:ec2:describeInstances',
            Parameters: { InstanceIds: ['i-0'] },
            End: true,
          },
        },
      }),
    });
    const started = await call<{ executionArn: string }>(h.sfn, 'StartExecution', {
      stateMachineArn: created.stateMachineArn,
    });

    const described = await finished(h, started.executionArn);

    expect(described).toMatchObject({ status: 'FAILED', error: 'Ec2.Ec2Exception' });
    expect(described.cause).toContain('The instance ID i-0 does not exist (Service: Ec2, Status Code: 400');
  });

  it('rejects parameters the API does not have', async () => {
    const created = await call<{ stateMachineArn: string }>(h.sfn, 'CreateStateMachine', {
      name: 'bad-field',
      roleArn: 'arn:aws:iam::000000000000:role/test',
      definition: JSON.stringify({
        StartAt: 'Get',
        States: {
          Get: {
            Type: 'Task',
            Resource: 'arn:aws:states:::aws-sdk:ssm:getParameter',
            Parameters: { Nmae: 'x' },
            End: true,
          },
        },
      }),
    });
    const started = await call<{ executionArn: string }>(h.sfn, 'StartExecution', {
      stateMachineArn: created.stateMachineArn,
    });

    const described = await finished(h, started.executionArn);

    expect(described.status).toBe('FAILED');
    expect(described.cause).toContain('The field "Nmae" is not supported by Step Functions');
  });
});
