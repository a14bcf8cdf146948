/**
 * The DRA branch of statemachines/transfer.asl.json in the ASL interpreter: which states run, what
 * each gets, where results land, and how errors end. Task states are replaced by fakes that record
 * their input (the real step functions have their own tests).
 */
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { functionKeyOf, readStateMachines, substitute } from '../../../scripts/sls/asl.js';
import {
  DataRepositoryTaskBusyError,
  DataRepositoryTaskFailedError,
  DraMisconfiguredError,
  NotReadyYetError,
} from '../../../shared/errors.js';
import type { TransferPlan } from '../../../shared/plan/types.js';
import { buildPlan } from './builders.js';

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
];

let run: (plan: TransferPlan, handlers: Partial<Record<string, Handler>>) => Promise<Outcome>;

const association = { associationId: 'dra-1', lifecycle: 'AVAILABLE', created: true, notes: [] };
const result = { files: 2, bytes: 6, verified: true, details: { associationId: 'dra-1' } };
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
  };
}

beforeAll(async () => {
  const promise = Promise as unknown as { withResolvers?: () => unknown };
  promise.withResolvers ??= () => {
    let resolve: unknown;
    let reject: unknown;
    const p = new Promise((a, b) => {
      resolve = a;
      reject = b;
    });
    return { promise: p, resolve, reject };
  };
  const { StateMachine } = await import('aws-local-stepfunctions');
  const definition = substitute(
    readStateMachines(join(import.meta.dirname, '..', '..', '..', 'statemachines')).transfer!,
    (name) =>
      functionKeyOf(name)
        ? `arn:aws:lambda:us-east-1:000000000000:function:fsx-transfer-dev-${functionKeyOf(name)}`
        : `arn:aws:states:us-east-1:000000000000:placeholder:${name}`,
  );
  const machine = new StateMachine(definition as never);
  run = async (plan, handlers) => {
    const visited: string[] = [];
    const inputs: Record<string, any[]> = {};
    const local: Record<string, (input: any) => Promise<any>> = {
      Validate: async () => plan,
    };
    for (const state of DRA_STATES) {
      local[state] = async (input) => {
        visited.push(state);
        inputs[state] = [...(inputs[state] ?? []), input];
        const handler = handlers[state];
        if (!handler) throw new Error(`unexpected state ${state}`);
        return handler(input);
      };
    }
    const execution = machine.run(
      { mapping: plan.mapping, direction: plan.direction },
      {
        context: { Execution: { Name: 'exec-1', StartTime: '2026-01-01T00:00:00.000Z' } } as never,
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
    expect(outcome.inputs.StartImportTask![0]).toMatchObject({
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

  it('preloads after a stage-in when the mapping asks for it, reporting it in the summary', async () => {
    const outcome = await run(buildPlan({ options: { preload: true } }), happy());

    expect(outcome.visited.slice(-2)).toEqual(['StartPreload', 'WaitForPreload']);
    expect(outcome.output.details.preload).toMatchObject({ status: 'Success', commandId: 'c-1' });
  });

  it('waits with retries while the association is CREATING and while another task runs', async () => {
    let checks = 0;
    let starts = 0;
    const handlers = {
      ...happy(),
      WaitForAssociation: async () => {
        checks += 1;
        if (checks < 3) throw new NotReadyYetError('CREATING');
        return association;
      },
      StartExportTask: async (i: any) => {
        starts += 1;
        if (starts < 2) throw new DataRepositoryTaskBusyError('busy');
        return { type: i.type, ran: true, reason: 'always', taskId: 'task-2' };
      },
    };

    const outcome = await run(buildPlan({ direction: 'export' }), handlers);

    expect(outcome.output).toMatchObject({ status: 'SUCCEEDED' });
    expect(checks).toBe(3);
    expect(starts).toBe(2);
  });

  it('ends a MISCONFIGURED association in AssociationMisconfigured with FSx failure details', async () => {
    const handlers = {
      ...happy(),
      WaitForAssociation: async () => {
        throw new DraMisconfiguredError('dra-1 is MISCONFIGURED: Access denied to the bucket');
      },
    };

    const outcome = await run(buildPlan(), handlers);

    expect(outcome.error).toBe('AssociationMisconfigured');
    expect(outcome.cause).toContain('Access denied to the bucket');
  });

  it('ends a failed export in DataRepositoryTaskFailed naming the files', async () => {
    const handlers = {
      ...happy(),
      WaitForExportTask: async () => {
        throw new DataRepositoryTaskFailedError('1 file(s) failed: output/a.nc (S3AccessDenied)');
      },
    };

    const outcome = await run(buildPlan({ direction: 'export' }), handlers);

    expect(outcome.error).toBe('DataRepositoryTaskFailed');
    expect(outcome.cause).toContain('output/a.nc (S3AccessDenied)');
    expect(outcome.visited).not.toContain('VerifyDraTransfer');
  });

  it('ends an unexpected error in DraStepFailed', async () => {
    const handlers = {
      ...happy(),
      EnsureAssociation: async () => {
        throw new TypeError('boom');
      },
    };

    const outcome = await run(buildPlan(), handlers);

    expect(outcome.error).toBe('DraStepFailed');
  });
});
