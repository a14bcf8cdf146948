/**
 * The DRA branch of statemachines/transfer.asl.json in the ASL interpreter: which states run, what
 * each gets, where results land, and how errors end. Task states are replaced by fakes that record
 * their input (the real step functions have their own tests).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import {
  CommandFailedError,
  DataRepositoryTaskFailedError,
  DraMisconfiguredError,
  InsufficientCapacityError,
  InvalidRequestError,
  NotReadyYetError,
  TransientAwsError,
  VerificationFailedError,
} from '../../../shared/errors.js';
import type { TransferPlan } from '../../../shared/plan/schema.js';
import { projectStateMachines, transferMachine } from '../../support/asl.js';
import { buildPlan, CLIENT_ID } from './builders.js';

type Handler = (input: Record<string, any>) => Promise<unknown>;
interface Outcome {
  output?: any;
  error?: string;
  cause?: string;
  visited: string[];
  inputs: Record<string, any[]>;
}

const DRA_STATES = [
  'EnsureAssociation',
  'WaitForAssociation',
  'StartImportTask',
  'WaitForImportTask',
  'StartExportTask',
  'WaitForExportTask',
  'StartFileListing',
  'WaitForFileListing',
  'VerifyDraTransfer',
  'StartPreload',
  'WaitForPreload',
  'StartReleaseTask',
  'WaitForReleaseTask',
  // The transfer instance's states, which preload without a Lustre client shares with the EC2 branch.
  'LaunchInstance',
  'WaitForAgent',
  'SendPreloadCommand',
  'WaitForPreloadCommand',
  // checksum mode without a Lustre client: the checksums on a launched transfer instance.
  'SendChecksumsCommand',
  'WaitForChecksumsCommand',
  'VerifyDraContent',
  'TerminateInstance',
  'TerminateAfterFailure',
  'TerminateAfterLaunchFailure',
];

let run: (plan: TransferPlan, handlers: Partial<Record<string, Handler>>) => Promise<Outcome>;

const association = { associationId: 'dra-1', lifecycle: 'AVAILABLE', created: true, notes: [] };
const result = {
  files: 2,
  bytes: 6,
  verified: true,
  verification: { mode: 'size', files: 2, contentChecked: 0, sizeOnly: 2 },
  details: { associationId: 'dra-1' },
};
/** Fakes for a run where everything works. */
function happy(): Record<string, Handler> {
  return {
    EnsureAssociation: async () => ({ ...association, lifecycle: 'CREATING' }),
    WaitForAssociation: async () => association,
    StartImportTask: async (i) => ({ type: i.type, ran: true, reason: 'new', taskId: 'task-1' }),
    WaitForImportTask: async (i) => ({ ...i.task, lifecycle: 'SUCCEEDED', succeeded: 2, failed: 0 }),
    StartExportTask: async (i) => ({ type: i.type, ran: true, reason: 'always', taskId: 'task-2' }),
    WaitForExportTask: async (i) => ({ ...i.task, lifecycle: 'SUCCEEDED' }),
    StartFileListing: async () => ({ purpose: 'list', sent: false, reason: 'no client' }),
    WaitForFileListing: async (i) => i.command,
    VerifyDraTransfer: async () => result,
    StartPreload: async () => ({
      purpose: 'preload',
      sent: true,
      reason: 'x',
      commandId: 'c-1',
      instanceId: 'i-1',
    }),
    WaitForPreload: async (i) => ({ ...i.command, status: 'Success' }),
    StartReleaseTask: async (i) => ({ type: i.type, ran: true, reason: 'release', taskId: 'task-3' }),
    WaitForReleaseTask: async (i) => ({ ...i.task, lifecycle: 'SUCCEEDED' }),
    LaunchInstance: async () => PRELOAD_INSTANCE,
    WaitForAgent: async () => ({ pingStatus: 'Online' }),
    SendPreloadCommand: async (i) => ({
      purpose: 'preload',
      sent: true,
      reason: 'x',
      commandId: 'c-2',
      instanceId: i.instance.instanceId,
      launched: true,
    }),
    WaitForPreloadCommand: async (i) => ({ ...i.command, status: 'Success' }),
    SendChecksumsCommand: async (i) => ({
      purpose: 'list',
      sent: true,
      reason: 'checksums and listing',
      commandId: 'c-3',
      instanceId: i.instance.instanceId,
      launched: true,
      checksumsUri: 's3://b/.fsx-transfer/checksums/t/i.checksums',
    }),
    WaitForChecksumsCommand: async (i) => ({ ...i.command, status: 'Success', output: 'FSXT-LISTING v1' }),
    VerifyDraContent: async () => contentResult,
    TerminateInstance: async (i) => ({ terminated: [{ instanceId: i.instanceId }] }),
    TerminateAfterFailure: async () => ({ terminated: [{ instanceId: PRELOAD_INSTANCE.instanceId }] }),
    TerminateAfterLaunchFailure: async () => ({ terminated: [] }),
  };
}

const contentResult = {
  ...result,
  verification: { mode: 'checksum', files: 2, contentChecked: 2, sizeOnly: 0, checkedBy: { CRC32: 2 } },
};

const EXECUTION_ARN = 'arn:aws:states:us-east-1:000000000000:execution:fsx-transfer-dev-transfer:exec-1';
const PRELOAD_INSTANCE = {
  instanceId: 'i-0fedcba9876543210',
  deadline: '2999-01-01T00:00:00.000Z',
  agentDeadline: '2999-01-01T00:00:00.000Z',
};
/** A stage-in with preload and no configured Lustre client (the launched-instance mode). */
const launchedPreloadPlan = () => buildPlan({ options: { preload: true } });

beforeAll(async () => {
  const machine = await transferMachine();
  run = async (plan, handlers) => {
    const visited: string[] = [];
    const inputs: Record<string, any[]> = {};
    const local: Record<string, (input: any) => Promise<any>> = {
      Validate: async () => plan,
      // The gate grants the turn at once; its result is the run's deadline.
      WaitForTurn: async () => plan.deadline,
    };
    for (const state of DRA_STATES) {
      local[state] = async (input) => {
        visited.push(state);
        inputs[state] = [...(inputs[state] ?? []), input];
        const handler = handlers[state];
        if (!handler) throw new Error(`unexpected state ${state}`);
        // A lambda:invoke(.waitForTaskToken) state: the fake gets the function's Payload and
        // answers as its callback (SendTaskSuccess/SendTaskFailure) would.
        return handler(input.FunctionName ? input.Payload : input);
      };
    }
    const execution = machine.run(
      { mapping: plan.mapping, direction: plan.direction },
      {
        context: {
          Execution: { Id: EXECUTION_ARN, Name: 'exec-1', StartTime: '2026-01-01T00:00:00.000Z' },
          // WaitForTurn passes a task token (the interpreter has none of its own).
          Task: { Token: 'task-token-1' },
        } as never,
        overrides: {
          taskResourceLocalHandlers: local,
          retryIntervalOverrides: Object.fromEntries(DRA_STATES.map((s) => [s, 0])),
        },
      },
    );
    try {
      return { output: await execution.result, visited, inputs };
    } catch {
      for await (const event of execution.eventLogs) {
        const e = event as { type: string; Error?: string; Cause?: string };
        if (e.type === 'ExecutionFailed') return { error: e.Error, cause: e.Cause, visited, inputs };
      }
      throw new Error('execution failed without an ExecutionFailed event');
    }
  };
});

describe('transfer state machine: DRA branch', () => {
  it('stages in: association, import task, listing, verification, summary', async () => {
    const plan = buildPlan();

    const outcome = await run(plan, happy());

    expect(outcome.visited).toEqual([
      'EnsureAssociation',
      'WaitForAssociation',
      'StartImportTask',
      'WaitForImportTask',
      'StartFileListing',
      'VerifyDraTransfer',
    ]);
    expect(outcome.inputs.EnsureAssociation![0]).toEqual({ plan });
    expect(outcome.inputs.StartImportTask![0].Payload).toMatchObject({
      type: 'IMPORT_METADATA_FROM_REPOSITORY',
      association,
    });
    expect(outcome.inputs.VerifyDraTransfer![0]).toMatchObject({
      association,
      task: { taskId: 'task-1', lifecycle: 'SUCCEEDED' },
      listing: { sent: false },
    });
    expect(outcome.output).toMatchObject({
      status: 'SUCCEEDED',
      method: 'dra',
      files: 2,
      bytes: 6,
      verified: true,
      verification: { mode: 'size', files: 2, contentChecked: 0, sizeOnly: 2 },
    });
  });

  it('skips the task wait when auto-import covers the stage-in', async () => {
    const handlers = {
      ...happy(),
      StartImportTask: async () => ({
        type: 'IMPORT_METADATA_FROM_REPOSITORY',
        ran: false,
        reason: 'auto-import',
      }),
    };

    const outcome = await run(buildPlan(), handlers);

    expect(outcome.visited).not.toContain('WaitForImportTask');
    expect(outcome.inputs.VerifyDraTransfer![0].task).toMatchObject({ ran: false, reason: 'auto-import' });
  });

  it('exports, waits for the listing on the Lustre client, then releases', async () => {
    const handlers = {
      ...happy(),
      StartFileListing: async () => ({
        purpose: 'list',
        sent: true,
        reason: 'x',
        commandId: 'c',
        instanceId: 'i',
      }),
      WaitForFileListing: async (i: any) => ({ ...i.command, output: 'FSXT-LISTING v1' }),
    };

    const outcome = await run(buildPlan({ direction: 'export', options: { release: true } }), handlers);

    expect(outcome.visited).toEqual([
      'EnsureAssociation',
      'WaitForAssociation',
      'StartExportTask',
      'WaitForExportTask',
      'StartFileListing',
      'WaitForFileListing',
      'VerifyDraTransfer',
      'StartReleaseTask',
      'WaitForReleaseTask',
    ]);
    expect(outcome.inputs.VerifyDraTransfer![0].listing).toMatchObject({ output: 'FSXT-LISTING v1' });
    expect(outcome.output.details.release).toMatchObject({ taskId: 'task-3', lifecycle: 'SUCCEEDED' });
  });

  it('preloads on the configured Lustre client after a stage-in, reporting it in the summary', async () => {
    const plan = buildPlan({ options: { preload: true }, fileSystem: { lustreClientInstanceId: CLIENT_ID } });

    const outcome = await run(plan, happy());

    expect(outcome.visited.slice(-2)).toEqual(['StartPreload', 'WaitForPreload']);
    expect(outcome.visited).not.toContain('LaunchInstance');
    expect(outcome.output.details.preload).toMatchObject({ status: 'Success', commandId: 'c-1' });
  });

  it('starts a task in one state entry however long the file system stays busy (no retry by count)', async () => {
    // The function answers as the poller's callback would once the file system is free.
    const plan = buildPlan({ direction: 'export' });

    const outcome = await run(plan, happy());
    const state = projectStateMachines().transfer!.States as Record<string, Record<string, any>>;

    expect(outcome.output).toMatchObject({ status: 'SUCCEEDED' });
    expect(outcome.visited.filter((s) => s === 'WaitForAssociation')).toHaveLength(1);
    expect(outcome.visited.filter((s) => s === 'StartExportTask')).toHaveLength(1);
    expect(outcome.inputs.StartExportTask![0]).toEqual({
      FunctionName: expect.stringContaining('start-data-repository-task'),
      Payload: {
        taskToken: 'task-token-1',
        executionArn: EXECUTION_ARN,
        stateName: 'StartExportTask',
        plan,
        association,
        type: 'EXPORT_TO_REPOSITORY',
      },
    });
    for (const name of ['StartImportTask', 'StartExportTask', 'StartReleaseTask']) {
      // Bounded by the plan (the poller fails it at the deadline), never by a Retry on a busy file system.
      expect(state[name]!.Resource).toBe('arn:aws:states:::lambda:invoke.waitForTaskToken');
      expect(state[name]!.TimeoutSecondsPath).toBe('$.plan.timeouts.waitSeconds');
      expect(state[name]!.HeartbeatSeconds).toBe(3600);
      expect(JSON.stringify(state[name]!.Retry)).not.toContain('DataRepositoryTaskBusyError');
    }
  });

  it('gives each wait its task token, execution, own name and plan, and bounds it by the plan', async () => {
    const plan = buildPlan({ direction: 'export' });

    const outcome = await run(plan, happy());

    expect(outcome.inputs.WaitForExportTask![0]).toEqual({
      FunctionName: expect.stringContaining('wait-for-data-repository-task'),
      Payload: {
        taskToken: 'task-token-1',
        executionArn: EXECUTION_ARN,
        stateName: 'WaitForExportTask',
        plan,
        task: { type: 'EXPORT_TO_REPOSITORY', ran: true, reason: 'always', taskId: 'task-2' },
      },
    });
    expect(plan.timeouts.waitSeconds).toBeGreaterThan(plan.timeouts.transferMinutes * 60);
  });

  it('ends a wait whose heartbeats stopped (poller down, token lost) in WaitLostError', async () => {
    const handlers = {
      ...happy(),
      WaitForImportTask: async () => {
        throw Object.assign(new Error(''), { name: 'States.HeartbeatTimeout' });
      },
    };

    const outcome = await run(buildPlan(), handlers);

    expect(outcome.error).toBe('WaitLostError');
    expect(outcome.cause).toContain('poll-dra-waits');
    expect(outcome.visited).not.toContain('VerifyDraTransfer');
  });

  it("ends a wait past the plan's waitSeconds in TransferTimeoutError", async () => {
    const handlers = {
      ...happy(),
      WaitForAssociation: async () => {
        throw Object.assign(new Error(''), { name: 'States.Timeout' });
      },
    };

    const outcome = await run(buildPlan(), handlers);

    expect(outcome.error).toBe('TransferTimeoutError');
    expect(outcome.cause).toContain('waitSeconds');
  });

  it('ends a MISCONFIGURED association in DraMisconfiguredError with FSx failure details', async () => {
    const handlers = {
      ...happy(),
      WaitForAssociation: async () => {
        throw new DraMisconfiguredError('dra-1 is MISCONFIGURED: Access denied to the bucket');
      },
    };

    const outcome = await run(buildPlan(), handlers);

    expect(outcome.error).toBe('DraMisconfiguredError');
    expect(outcome.cause).toContain('Access denied to the bucket');
  });

  it('ends a failed export in DataRepositoryTaskFailedError naming the files', async () => {
    const handlers = {
      ...happy(),
      WaitForExportTask: async () => {
        throw new DataRepositoryTaskFailedError('1 file(s) failed: output/a.nc (S3AccessDenied)');
      },
    };

    const outcome = await run(buildPlan({ direction: 'export' }), handlers);

    expect(outcome.error).toBe('DataRepositoryTaskFailedError');
    expect(outcome.cause).toContain('output/a.nc (S3AccessDenied)');
    expect(outcome.visited).not.toContain('VerifyDraTransfer');
  });

  it('never polls by Retry: a wait that fails NotReadyYetError ends at once as TransferTimeoutError', async () => {
    let checks = 0;
    const handlers = {
      ...happy(),
      WaitForAssociation: async () => {
        checks += 1;
        throw new NotReadyYetError('dra-1 is still CREATING');
      },
    };

    const outcome = await run(buildPlan(), handlers);

    expect(checks).toBe(1);
    expect(outcome.error).toBe('TransferTimeoutError');
    expect(outcome.cause).toContain('still CREATING');
    expect(outcome.visited).not.toContain('StartImportTask');
  });

  it('ends an unexpected error in StepFailed under its own name', async () => {
    const handlers = {
      ...happy(),
      EnsureAssociation: async () => {
        throw new TypeError('boom');
      },
    };

    const outcome = await run(buildPlan(), handlers);

    expect(outcome.error).toBe('TypeError');
    expect(outcome.cause).toContain('boom');
  });
});

describe('transfer state machine: preload on a launched transfer instance', () => {
  it('launches, waits for the agent, preloads, terminates, then summarizes', async () => {
    const plan = launchedPreloadPlan();

    const outcome = await run(plan, happy());

    expect(outcome.output, outcome.cause).toMatchObject({ status: 'SUCCEEDED', verified: true });
    expect(outcome.visited.slice(outcome.visited.indexOf('VerifyDraTransfer'))).toEqual([
      'VerifyDraTransfer',
      'LaunchInstance',
      'WaitForAgent',
      'SendPreloadCommand',
      'WaitForPreloadCommand',
      'TerminateInstance',
    ]);
    expect(outcome.inputs.LaunchInstance![0]).toEqual({
      plan,
      executionArn: EXECUTION_ARN,
    });
    expect(outcome.inputs.WaitForAgent![0]).toEqual({
      instanceId: PRELOAD_INSTANCE.instanceId,
      agentDeadline: PRELOAD_INSTANCE.agentDeadline,
    });
    expect(outcome.inputs.SendPreloadCommand![0]).toMatchObject({
      purpose: 'preload',
      instance: { instanceId: PRELOAD_INSTANCE.instanceId },
    });
    expect(outcome.inputs.TerminateInstance![0]).toMatchObject({
      instanceId: PRELOAD_INSTANCE.instanceId,
    });
    expect(outcome.output.details).toMatchObject({
      preload: { status: 'Success', launched: true, instanceId: PRELOAD_INSTANCE.instanceId },
      termination: { terminated: [{ instanceId: PRELOAD_INSTANCE.instanceId }] },
    });
  });

  it('terminates the instance and fails CommandFailedError when the preload command fails', async () => {
    const handlers = {
      ...happy(),
      WaitForPreloadCommand: async () => {
        throw new CommandFailedError('The preload command c-2 failed with exit code 4: mount failed');
      },
    };

    const outcome = await run(launchedPreloadPlan(), handlers);

    expect(outcome.error).toBe('CommandFailedError');
    expect(outcome.cause).toContain('mount failed');
    expect(outcome.visited.slice(-2)).toEqual(['WaitForPreloadCommand', 'TerminateAfterFailure']);
    expect(outcome.inputs.TerminateAfterFailure![0]).toMatchObject({
      instanceId: PRELOAD_INSTANCE.instanceId,
    });
  });

  it('terminates the instance and fails WaitLostError when the preload wait gets no heartbeat', async () => {
    const handlers = {
      ...happy(),
      WaitForPreloadCommand: async () => {
        throw Object.assign(new Error(''), { name: 'States.HeartbeatTimeout' });
      },
    };

    const outcome = await run(launchedPreloadPlan(), handlers);

    expect(outcome.error).toBe('WaitLostError');
    expect(outcome.visited.slice(-2)).toEqual(['WaitForPreloadCommand', 'TerminateAfterFailure']);
  });

  it('terminates by tag and fails InsufficientCapacityError when the launch finds no capacity', async () => {
    const handlers = {
      ...happy(),
      LaunchInstance: async () => {
        throw new InsufficientCapacityError('No capacity: tried c6i.large in subnet-1');
      },
    };

    const outcome = await run(launchedPreloadPlan(), handlers);

    expect(outcome.error).toBe('InsufficientCapacityError');
    expect(outcome.visited.slice(-2)).toEqual(['LaunchInstance', 'TerminateAfterLaunchFailure']);
    expect(outcome.inputs.TerminateAfterLaunchFailure![0]).toEqual({
      executionArn: EXECUTION_ARN,
    });
  });

  it('fails InvalidRequestError with nothing to terminate when the launch refuses the plan', async () => {
    const handlers = {
      ...happy(),
      LaunchInstance: async () => {
        throw new InvalidRequestError('FsxPath would be refused');
      },
    };

    const outcome = await run(launchedPreloadPlan(), handlers);

    expect(outcome.error).toBe('InvalidRequestError');
    expect(outcome.visited).not.toContain('TerminateAfterLaunchFailure');
  });

  it('reports an agent that never came online as InstanceNotReadyError, after terminating', async () => {
    const handlers = {
      ...happy(),
      WaitForAgent: async () => {
        throw new NotReadyYetError('ConnectionLost');
      },
    };

    const outcome = await run(launchedPreloadPlan(), handlers);

    expect(outcome.error).toBe('InstanceNotReadyError');
    expect(outcome.visited).not.toContain('SendPreloadCommand');
    expect(outcome.visited.at(-1)).toBe('TerminateAfterFailure');
  });

  it('keeps the name of an unexpected error in StepFailed, after terminating', async () => {
    const handlers = {
      ...happy(),
      SendPreloadCommand: async () => {
        throw new TypeError('boom');
      },
    };

    const outcome = await run(launchedPreloadPlan(), handlers);

    expect(outcome.error).toBe('TypeError');
    expect(outcome.visited.at(-1)).toBe('TerminateAfterFailure');
  });

  it('still fails with the original error when terminating after a failure fails too', async () => {
    const handlers = {
      ...happy(),
      WaitForPreloadCommand: async () => {
        throw new CommandFailedError('exit code 1');
      },
      TerminateAfterFailure: async () => {
        throw new TypeError('terminate broke');
      },
    };

    const outcome = await run(launchedPreloadPlan(), handlers);

    expect(outcome.error).toBe('CommandFailedError');
  });

  it('fails the run when the preload succeeded but termination keeps failing', async () => {
    let attempts = 0;
    const handlers = {
      ...happy(),
      TerminateInstance: async () => {
        attempts += 1;
        throw new TransientAwsError('RequestLimitExceeded');
      },
    };

    const outcome = await run(launchedPreloadPlan(), handlers);

    expect(outcome.error).toBe('TransientAwsError');
    expect(attempts).toBe(21);
  });
});

describe('transfer state machine: checksums on a launched transfer instance (DRA, no Lustre client)', () => {
  const checksumPlan = (overrides: Parameters<typeof buildPlan>[0] = {}) =>
    buildPlan({ ...overrides, options: { verify: 'checksum', ...overrides.options } });
  const LAUNCHED = ['LaunchInstance', 'WaitForAgent', 'SendChecksumsCommand', 'WaitForChecksumsCommand'];

  it('launches, checksums and verifies the scope there, terminates, then summarizes the content check', async () => {
    const outcome = await run(checksumPlan(), happy());

    expect(outcome.output, outcome.cause).toMatchObject({
      status: 'SUCCEEDED',
      verification: { mode: 'checksum', contentChecked: 2, sizeOnly: 0 },
    });
    expect(outcome.visited.slice(outcome.visited.indexOf('StartFileListing'))).toEqual([
      'StartFileListing',
      ...LAUNCHED,
      'VerifyDraContent',
      'TerminateInstance',
    ]);
    expect(outcome.visited).not.toContain('VerifyDraTransfer');
    expect(outcome.inputs.SendChecksumsCommand![0]).toMatchObject({
      purpose: 'list',
      instance: { instanceId: PRELOAD_INSTANCE.instanceId },
    });
    expect(outcome.inputs.VerifyDraContent![0]).toMatchObject({
      listing: { checksumsUri: 's3://b/.fsx-transfer/checksums/t/i.checksums', status: 'Success' },
      task: { taskId: 'task-1' },
    });
  });

  it('preloads on the same instance after verification when asked, then terminates it', async () => {
    const outcome = await run(checksumPlan({ options: { preload: true } }), happy());

    expect(outcome.output, outcome.cause).toMatchObject({ status: 'SUCCEEDED' });
    expect(outcome.visited.slice(outcome.visited.indexOf('VerifyDraContent'))).toEqual([
      'VerifyDraContent',
      'SendPreloadCommand',
      'WaitForPreloadCommand',
      'TerminateInstance',
    ]);
    expect(outcome.inputs.LaunchInstance).toHaveLength(1);
  });

  it('releases a verified export only after verification and termination', async () => {
    const plan = checksumPlan({ direction: 'export', options: { release: true } });

    const outcome = await run(plan, happy());

    expect(outcome.output, outcome.cause).toMatchObject({ status: 'SUCCEEDED' });
    expect(outcome.visited.slice(outcome.visited.indexOf('WaitForExportTask'))).toEqual([
      'WaitForExportTask',
      'StartFileListing',
      ...LAUNCHED,
      'VerifyDraContent',
      'TerminateInstance',
      'StartReleaseTask',
      'WaitForReleaseTask',
    ]);
  });

  it('terminates the instance and never releases when verification finds a content difference', async () => {
    const handlers = {
      ...happy(),
      VerifyDraContent: async () => {
        throw new VerificationFailedError('content differs: a.nc (CRC32: S3 AAAAAA==, FSx AAAAAQ==)');
      },
    };

    const outcome = await run(checksumPlan({ direction: 'export', options: { release: true } }), handlers);

    expect(outcome.error).toBe('VerificationFailedError');
    expect(outcome.cause).toContain('content differs: a.nc');
    expect(outcome.visited.slice(-2)).toEqual(['VerifyDraContent', 'TerminateAfterFailure']);
    expect(outcome.visited).not.toContain('StartReleaseTask');
    expect(outcome.inputs.TerminateAfterFailure![0]).toMatchObject({
      instanceId: PRELOAD_INSTANCE.instanceId,
    });
  });

  it.each([
    ['SendChecksumsCommand', new CommandFailedError('InvalidInstanceId'), 'CommandFailedError'],
    ['WaitForChecksumsCommand', new CommandFailedError('exit code 1: python3 failed'), 'CommandFailedError'],
    [
      'WaitForChecksumsCommand',
      Object.assign(new Error(''), { name: 'States.Timeout' }),
      'TransferTimeoutError',
    ],
  ])('terminates the instance when %s fails (%s)', async (state, error, expected) => {
    const handlers = {
      ...happy(),
      [state]: async () => {
        throw error;
      },
    };

    const outcome = await run(checksumPlan(), handlers);

    expect(outcome.error).toBe(expected);
    expect(outcome.visited.slice(-2)).toEqual([state, 'TerminateAfterFailure']);
    expect(outcome.visited).not.toContain('VerifyDraContent');
  });

  it('checksums on the configured Lustre client instead, launching nothing', async () => {
    const plan = checksumPlan({ fileSystem: { lustreClientInstanceId: CLIENT_ID } });
    const handlers = {
      ...happy(),
      StartFileListing: async () => ({
        purpose: 'list',
        sent: true,
        reason: 'checksums and listing',
        commandId: 'c-4',
        instanceId: CLIENT_ID,
        checksumsUri: 's3://b/.fsx-transfer/checksums/t/c.checksums',
      }),
      WaitForFileListing: async (i: Record<string, any>) => ({ ...i.command, status: 'Success' }),
      VerifyDraTransfer: async () => contentResult,
    };

    const outcome = await run(plan, handlers);

    expect(outcome.output, outcome.cause).toMatchObject({ verification: { contentChecked: 2 } });
    expect(outcome.visited).not.toContain('LaunchInstance');
    expect(outcome.inputs.VerifyDraTransfer![0]).toMatchObject({
      listing: { checksumsUri: 's3://b/.fsx-transfer/checksums/t/c.checksums' },
    });
  });
});
