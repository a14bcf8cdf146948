/**
 * The EC2 branch of the transfer state machine in the ASL interpreter, with each Lambda task
 * replaced by a stub: the happy path, and every failure ending in termination then a Fail state
 * named after the original error.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import {
  CommandFailedError,
  InstanceNotReadyError,
  InsufficientCapacityError,
  InvalidRequestError,
  NotReadyYetError,
  TransientAwsError,
  VerificationFailedError,
} from '../../../shared/errors.js';
import { transferMachine } from '../../support/asl.js';
import { buildPlan, EXECUTION_ARN, INSTANCE_ID } from '../ec2/builders.js';

type Handler = (input: any) => Promise<unknown>;
interface RunResult {
  output?: any;
  error?: string;
  cause?: string;
  calls: { state: string; input: any }[];
}

const INSTANCE = {
  instanceId: INSTANCE_ID,
  deadline: '2999-01-01T00:00:00.000Z',
  agentDeadline: '2999-01-01T00:00:00.000Z',
};
const COMMAND = {
  commandId: 'c-1',
  instanceId: INSTANCE_ID,
  status: 'Success',
  responseCode: 0,
  listingUri: 's3://b/l',
};
const HAPPY: Record<string, Handler> = {
  Validate: async () => buildPlan(),
  // The gate grants the turn at once; its result is the run's deadline.
  WaitForTurn: async () => buildPlan().deadline,
  // One instance: the single-instance states (scale-out has its own tests).
  PlanShards: async () => ({
    count: 1,
    items: [{ index: 0, count: 1, files: 0, bytes: 0 }],
    reason: 'small',
  }),
  LaunchInstance: async () => INSTANCE,
  WaitForAgent: async () => ({ pingStatus: 'Online' }),
  RunTransferCommand: async () => COMMAND,
  PollTransferCommand: async () => COMMAND,
  VerifyEc2Transfer: async () => ({
    files: 3,
    bytes: 42,
    verified: true,
    verification: { mode: 'checksum', files: 3, contentChecked: 3, sizeOnly: 0 },
    details: { instanceId: INSTANCE_ID },
  }),
  TerminateInstance: async () => ({ terminated: [] }),
  TerminateAfterFailure: async () => ({ terminated: [] }),
  TerminateAfterLaunchFailure: async () => ({ terminated: [] }),
};

let run: (overrides?: Record<string, Handler>) => Promise<RunResult>;

beforeAll(async () => {
  const machine = await transferMachine();
  run = async (overrides = {}) => {
    const calls: RunResult['calls'] = [];
    const handlers = Object.fromEntries(
      Object.entries({ ...HAPPY, ...overrides }).map(([state, handler]) => [
        state,
        async (input: unknown) => {
          calls.push({ state, input });
          return handler(input);
        },
      ]),
    );
    const execution = machine.run(
      { mapping: 'extdata', direction: 'stage-in', method: 'ec2' },
      {
        context: {
          Execution: { Id: EXECUTION_ARN, Name: 'extdata-stage-in-1', StartTime: '2026-01-01T00:00:00.000Z' },
          // The interpreter has no task tokens of its own (the local cloud's emulator does).
          Task: { Token: 'task-token-1' },
        } as never,
        overrides: {
          taskResourceLocalHandlers: handlers as never,
          retryIntervalOverrides: Object.fromEntries(Object.keys(HAPPY).map((state) => [state, 0])),
        },
      },
    );
    try {
      return { output: await execution.result, calls };
    } catch {
      for await (const event of execution.eventLogs) {
        const e = event as { type: string; Error?: string; Cause?: string };
        if (e.type === 'ExecutionFailed') return { error: e.Error, cause: e.Cause, calls };
      }
      throw new Error('execution failed without an ExecutionFailed event');
    }
  };
});

const states = (result: RunResult) => result.calls.map((call) => call.state);
const failWith = (error: Error) => async () => {
  throw error;
};

describe('transfer state machine: EC2 branch', () => {
  it('launches, waits, transfers, verifies, terminates and summarizes', async () => {
    const result = await run();

    expect(states(result)).toEqual([
      'Validate',
      'WaitForTurn',
      'PlanShards',
      'LaunchInstance',
      'WaitForAgent',
      'RunTransferCommand',
      'VerifyEc2Transfer',
      'TerminateInstance',
    ]);
    expect(result.output).toMatchObject({
      method: 'ec2',
      status: 'SUCCEEDED',
      files: 3,
      bytes: 42,
      verified: true,
      verification: { mode: 'checksum', files: 3, contentChecked: 3, sizeOnly: 0 },
    });
    const input = (state: string) => result.calls.find((call) => call.state === state)?.input;
    expect(input('LaunchInstance')).toEqual({ plan: buildPlan(), executionArn: EXECUTION_ARN });
    expect(input('RunTransferCommand')).toEqual({
      FunctionName: 'arn:aws:lambda:us-east-1:000000000000:function:fsx-transfer-dev-send-command',
      Payload: {
        plan: buildPlan(),
        instance: INSTANCE,
        executionArn: EXECUTION_ARN,
        taskToken: 'task-token-1',
      },
    });
    expect(input('VerifyEc2Transfer')).toMatchObject({ instance: INSTANCE, command: COMMAND });
    expect(input('TerminateInstance')).toEqual({ executionArn: EXECUTION_ARN, instanceId: INSTANCE_ID });
  });

  it('terminates by tag and fails InsufficientCapacity when no type or subnet has capacity', async () => {
    const result = await run({
      LaunchInstance: failWith(new InsufficientCapacityError('tried c6i.large ...')),
    });

    expect(states(result)).toEqual([
      'Validate',
      'WaitForTurn',
      'PlanShards',
      'LaunchInstance',
      'TerminateAfterLaunchFailure',
    ]);
    expect(result.calls.at(-1)?.input).toEqual({ executionArn: EXECUTION_ARN });
    expect(result.error).toBe('InsufficientCapacityError');
    expect(result.cause).toContain('tried c6i.large');
  });

  it('refuses a plan the transfer document would refuse as InvalidRequestError, with nothing to terminate', async () => {
    const result = await run({
      LaunchInstance: failWith(new InvalidRequestError('S3Prefix: does not match')),
    });

    expect(states(result)).toEqual(['Validate', 'WaitForTurn', 'PlanShards', 'LaunchInstance']);
    expect(result.error).toBe('InvalidRequestError');
  });

  it('reports an agent that never came online as InstanceNotReadyError, after terminating', async () => {
    const result = await run({ WaitForAgent: failWith(new NotReadyYetError('agent ConnectionLost')) });

    expect(states(result).filter((s) => s === 'WaitForAgent')).toHaveLength(41);
    expect(states(result).slice(-1)).toEqual(['TerminateAfterFailure']);
    expect(result.calls.at(-1)?.input).toEqual({ executionArn: EXECUTION_ARN, instanceId: INSTANCE_ID });
    expect(result.error).toBe('InstanceNotReadyError');
    expect(result.cause).toContain('agent ConnectionLost');
  });

  it('passes on InstanceNotReadyError from the agent check after terminating', async () => {
    const result = await run({
      WaitForAgent: failWith(new InstanceNotReadyError('not online by the deadline')),
    });

    expect(states(result).slice(-2)).toEqual(['WaitForAgent', 'TerminateAfterFailure']);
    expect(result.error).toBe('InstanceNotReadyError');
  });

  it('fails CommandFailedError with the command cause after terminating', async () => {
    const result = await run({
      RunTransferCommand: failWith(new CommandFailedError('exit code 1: NoSuchBucket')),
    });

    expect(states(result).slice(-2)).toEqual(['RunTransferCommand', 'TerminateAfterFailure']);
    expect(result.error).toBe('CommandFailedError');
    expect(result.cause).toContain('NoSuchBucket');
  });

  it('polls the command when the callback never comes, then verifies', async () => {
    const timeout = Object.assign(new Error('no heartbeat'), { name: 'States.HeartbeatTimeout' });

    const result = await run({ RunTransferCommand: failWith(timeout) });

    expect(states(result).slice(-4)).toEqual([
      'RunTransferCommand',
      'PollTransferCommand',
      'VerifyEc2Transfer',
      'TerminateInstance',
    ]);
    expect(result.output).toMatchObject({ status: 'SUCCEEDED' });
  });

  it('reports a command still running when polling gives up as CommandTimedOutError', async () => {
    const timeout = Object.assign(new Error('timed out'), { name: 'States.Timeout' });

    const result = await run({
      RunTransferCommand: failWith(timeout),
      PollTransferCommand: failWith(new NotReadyYetError('InProgress')),
    });

    expect(states(result).at(-1)).toBe('TerminateAfterFailure');
    expect(result.error).toBe('CommandTimedOutError');
  }, 20_000);

  it('fails VerificationFailedError listing the differences after terminating', async () => {
    const result = await run({ VerifyEc2Transfer: failWith(new VerificationFailedError('missing: a/b.nc')) });

    expect(states(result).slice(-2)).toEqual(['VerifyEc2Transfer', 'TerminateAfterFailure']);
    expect(result.error).toBe('VerificationFailedError');
    expect(result.cause).toContain('missing: a/b.nc');
  });

  it('keeps the name of an unexpected Lambda error, after terminating', async () => {
    const result = await run({
      VerifyEc2Transfer: failWith(new TypeError('cannot read properties of undefined')),
    });

    expect(states(result).at(-1)).toBe('TerminateAfterFailure');
    expect(result.error).toBe('TypeError');
  });

  it('reports a function that crashed or timed out as FunctionFailedError, after terminating', async () => {
    const crash = Object.assign(new Error('Runtime exited with error: signal: killed'), {
      name: 'Lambda.Unknown',
    });
    const timedOut = Object.assign(new Error('Task timed out after 300.00 seconds'), {
      name: 'Sandbox.Timedout',
    });

    const crashed = await run({ VerifyEc2Transfer: failWith(crash) });
    const slow = await run({ WaitForAgent: failWith(timedOut) });

    expect(states(crashed).at(-1)).toBe('TerminateAfterFailure');
    expect(crashed.error).toBe('FunctionFailedError');
    expect(crashed.cause).toContain('Lambda.Unknown: ');
    expect(crashed.cause).toContain('signal: killed');
    expect(states(slow).at(-1)).toBe('TerminateAfterFailure');
    expect(slow.error).toBe('FunctionFailedError');
    expect(slow.cause).toContain('Sandbox.Timedout: ');
  });

  it('reports a termination function that crashed after a verified transfer as FunctionFailedError', async () => {
    const crash = Object.assign(new Error('Runtime exited without providing a reason'), {
      name: 'Runtime.ExitError',
    });

    const result = await run({ TerminateInstance: failWith(crash) });

    expect(states(result).at(-1)).toBe('TerminateInstance');
    expect(result.error).toBe('FunctionFailedError');
    expect(result.cause).toContain('Runtime.ExitError');
  });

  it('keeps the name of another termination error (TerminationFailed)', async () => {
    const result = await run({ TerminateInstance: failWith(new TypeError('terminate broke')) });

    expect(result.error).toBe('TypeError');
  });

  it('retries a throttled termination until it is done', async () => {
    let attempts = 0;
    const result = await run({
      TerminateInstance: async () => {
        attempts++;
        if (attempts < 6) throw new TransientAwsError('RequestLimitExceeded');
        return { terminated: [] };
      },
    });

    expect(attempts).toBe(6);
    expect(result.output).toMatchObject({ status: 'SUCCEEDED' });
  });

  it('still fails with the original error when terminating after a failure fails too', async () => {
    const result = await run({
      VerifyEc2Transfer: failWith(new VerificationFailedError('missing: x')),
      TerminateAfterFailure: failWith(new TypeError('terminate broke')),
    });

    expect(result.error).toBe('VerificationFailedError');
  });
});
