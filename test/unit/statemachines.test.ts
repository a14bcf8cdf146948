/**
 * Static checks of every statemachines/*.asl.json (what packaging and the local cloud rely on),
 * plus behaviour of the transfer state machine's first states in the ASL interpreter.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import aslValidator from 'asl-validator';
import { beforeAll, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { functionKeyOf, invokedFunctions, placeholdersOf } from '../../scripts/sls/asl.js';
import { ERROR_CLASSES, FileSystemNotFoundError, InvalidRequestError } from '../../shared/errors.js';
import { projectStateMachines, transferMachine, withDummyValues } from '../support/asl.js';

const ROOT = join(import.meta.dirname, '..', '..');
const machines = projectStateMachines();
const serverless = YAML.parse(readFileSync(join(ROOT, 'serverless.yml'), 'utf8'), {
  logLevel: 'silent',
  customTags: ['!Ref', '!GetAtt', '!Sub', '!Join', '!If', '!Select', '!Split', '!ImportValue'].flatMap(
    (tag) => [
      { tag, resolve: (value: string) => ({ [tag]: value }) },
      { tag, collection: 'seq' as const, resolve: (value: unknown) => ({ [tag]: value }) },
      { tag, collection: 'map' as const, resolve: (value: unknown) => ({ [tag]: value }) },
    ],
  ) as never,
}) as { functions?: Record<string, unknown>; custom?: { aslSubstitutions?: Record<string, unknown> } };
const functionKeys = Object.keys(serverless.functions ?? {});
const substitutionNames = Object.keys(serverless.custom?.aslSubstitutions ?? {});

/** The definition with every placeholder replaced by a dummy ARN, as packaging would. */

interface State {
  Type: string;
  Resource?: string;
  Retry?: Array<{ ErrorEquals: string[] }>;
  Catch?: Array<{ ErrorEquals: string[]; Next: string }>;
  Error?: string;
  ErrorPath?: string;
  Cause?: string;
  CausePath?: string;
  Branches?: Array<{ States: Record<string, State> }>;
  Iterator?: { States: Record<string, State> };
  ItemProcessor?: { States: Record<string, State> };
}

/** Every state of a definition, including states inside Parallel branches and Map processors. */
function allStates(definition: { States: Record<string, State> }): Array<[string, State]> {
  return Object.entries(definition.States).flatMap(([name, state]) => [
    [name, state] as [string, State],
    ...(state.Branches ?? []).flatMap(allStates),
    ...(state.Iterator ? allStates(state.Iterator) : []),
    ...(state.ItemProcessor ? allStates(state.ItemProcessor) : []),
  ]);
}

/** `arn:aws:states:::aws-sdk:ec2:terminateInstances` -> `Ec2.` (the prefix of that integration's errors). */
function sdkErrorPrefix(resource: string | undefined): string | undefined {
  const service = /^arn:aws:states:::aws-sdk:([a-z0-9]+):/.exec(resource ?? '')?.[1];
  return service ? `${service.charAt(0).toUpperCase()}${service.slice(1)}.` : undefined;
}

it('finds the state machines', () => {
  expect(Object.keys(machines)).toContain('transfer');
});

describe.each(Object.entries(machines))('statemachines/%s.asl.json', (name, definition) => {
  const states = allStates(definition as { States: Record<string, State> });

  it('declares JSONPath at the top (the local interpreter ignores JSONata)', () => {
    expect(definition.QueryLanguage).toBe('JSONPath');
  });

  it('passes asl-validator after substituting placeholders', () => {
    const result = aslValidator(structuredClone(withDummyValues(definition)) as never);

    expect(result.errors ?? []).toEqual([]);
    expect(result.isValid).toBe(true);
  });

  it('names only States.*, Lambda.*, SDK integration errors or classes from shared/errors.ts in ErrorEquals', () => {
    const unknown = states.flatMap(([stateName, state]) =>
      [...(state.Retry ?? []), ...(state.Catch ?? [])]
        .flatMap((rule) => rule.ErrorEquals)
        .filter((error) => {
          if (error.startsWith('States.') || error.startsWith('Lambda.')) return false;
          if (error in ERROR_CLASSES) return false;
          const prefix = sdkErrorPrefix(state.Resource);
          return !(prefix && error.startsWith(prefix));
        })
        .map((error) => `${stateName}: ${error}`),
    );

    expect(unknown).toEqual([]);
  });

  it('gives every Fail state an error and a cause', () => {
    const incomplete = states
      .filter(([, state]) => state.Type === 'Fail')
      .filter(([, state]) => !(state.Error ?? state.ErrorPath) || !(state.Cause ?? state.CausePath))
      .map(([stateName]) => stateName);

    expect(incomplete).toEqual([]);
  });

  it('gives every Task a Retry and a Catch', () => {
    const unguarded = states
      .filter(([, state]) => state.Type === 'Task')
      .filter(([, state]) => !state.Retry?.length || !state.Catch?.length)
      .map(([stateName]) => stateName);

    expect(unguarded).toEqual([]);
  });

  it('catches States.ALL only after the named errors of the same Catch list', () => {
    const misplaced = states.flatMap(([stateName, state]) =>
      (state.Catch ?? [])
        .map((rule, index, rules) => ({ rule, last: index === rules.length - 1 }))
        .filter(({ rule, last }) => rule.ErrorEquals.includes('States.ALL') && !last)
        .map(() => stateName),
    );

    expect(misplaced).toEqual([]);
  });

  it('has a substitution for every placeholder', () => {
    const missing = placeholdersOf(definition).filter((placeholder) => {
      const key = functionKeyOf(placeholder);
      return key ? !functionKeys.includes(key) : !substitutionNames.includes(placeholder);
    });

    expect(missing).toEqual([]);
  });

  it('invokes only functions declared in serverless.yml with a functions/<name>/handler.ts', () => {
    const missing = invokedFunctions(definition).filter(
      (key) => !functionKeys.includes(key) || !existsSync(join(ROOT, 'functions', key, 'handler.ts')),
    );

    expect(missing).toEqual([]);
  });

  it('uses placeholders, never hand-written ARNs, for Lambda and other resources', () => {
    const handWritten = states
      .filter(([, state]) => state.Type === 'Task')
      .filter(([, state]) => /^arn:aws:(lambda|ec2|fsx|ssm|iam|s3):/.test(state.Resource ?? ''))
      .map(([stateName]) => stateName);

    expect(handWritten).toEqual([]);
  });

  it(`is referenced from serverless.yml (${name})`, () => {
    const text = readFileSync(join(ROOT, 'serverless.yml'), 'utf8');

    expect(text).toContain(`state-machines.cjs):${name}.definition}`);
  });
});

describe('transfer state machine: Validate and the shared states', () => {
  type Run = (
    handler: (input: unknown) => Promise<unknown>,
    options?: { request?: Record<string, unknown>; checkUploadsQuiet?: (input: unknown) => Promise<unknown> },
  ) => Promise<{
    output?: unknown;
    error?: string;
    cause?: string;
    validateInput?: unknown;
    turnInputs: unknown[];
    quietChecks: number;
  }>;
  let run: Run;

  beforeAll(async () => {
    const machine = await transferMachine();
    run = async (handler, options = {}) => {
      let validateInput: unknown;
      const turnInputs: unknown[] = [];
      let quietChecks = 0;
      const execution = machine.run(
        (options.request ?? { mapping: 'extdata', direction: 'stage-in' }) as never,
        {
          context: {
            Execution: {
              Name: 'exec-1',
              StartTime: '2026-01-01T00:00:00.000Z',
              Id: 'arn:aws:states:us-east-1:000000000000:execution:t:exec-1',
            },
            Task: { Token: 'task-token' },
          } as never,
          overrides: {
            taskResourceLocalHandlers: {
              Validate: async (input: unknown) => {
                validateInput = input;
                return handler(input) as never;
              },
              // The gate grants at once; its result is the run's new deadline.
              WaitForTurn: async (input: unknown) => {
                turnInputs.push(input);
                return '2026-01-01T04:00:00.000Z' as never;
              },
              CheckUploadsQuiet: async (input: unknown) => {
                quietChecks += 1;
                return (options.checkUploadsQuiet?.(input) ?? { quiet: true, waitSeconds: 0 }) as never;
              },
            },
            waitTimeOverrides: { WaitForQuietUploads: 0 },
          },
        },
      );
      try {
        return { output: await execution.result, validateInput, turnInputs, quietChecks };
      } catch {
        for await (const event of execution.eventLogs) {
          const e = event as { type: string; Error?: string; Cause?: string };
          if (e.type === 'ExecutionFailed')
            return { error: e.Error, cause: e.Cause, validateInput, turnInputs, quietChecks };
        }
        throw new Error('execution failed without an ExecutionFailed event');
      }
    };
  });

  it('passes the request, the execution name and the start time to Validate', async () => {
    const { validateInput } = await run(async () => {
      throw new InvalidRequestError('stop here');
    });

    expect(validateInput).toMatchObject({
      request: { mapping: 'extdata', direction: 'stage-in' },
      executionName: 'exec-1',
      startTime: expect.any(String),
    });
  });

  it('ends an invalid request in the InvalidRequest Fail state with the message as cause', async () => {
    const result = await run(async () => {
      throw new InvalidRequestError('subPath: must not contain .. segments');
    });

    expect(result.error).toBe('InvalidRequest');
    expect(result.cause).toContain('subPath: must not contain .. segments');
  });

  it('ends a missing file system in the FileSystemNotFound Fail state', async () => {
    const result = await run(async () => {
      throw new FileSystemNotFoundError('File system fs-0123456789abcdef0 does not exist in us-east-1');
    });

    expect(result.error).toBe('FileSystemNotFound');
  });

  it('ends an unexpected error in ValidateFailed rather than an unnamed failure', async () => {
    const result = await run(async () => {
      throw new TypeError('boom');
    });

    expect(result.error).toBe('ValidateFailed');
  });

  it('answers a dry run with a summary of the plan and transfers nothing', async () => {
    const plan = {
      transferId: 't-1',
      mapping: 'extdata',
      direction: 'stage-in',
      method: 'dra',
      methodReasons: [{ code: 'SAME_REGION', ok: true, message: 'same region' }],
      scope: { fsxPath: '/ExtData', bucket: 'b', prefix: 'ExtData' },
      options: { dryRun: true },
    };

    const { output } = await run(async () => plan);

    expect(output).toEqual({
      transferId: 't-1',
      mapping: 'extdata',
      direction: 'stage-in',
      method: 'dra',
      status: 'SUCCEEDED',
      files: 0,
      bytes: 0,
      verified: false,
      methodReasons: plan.methodReasons,
      details: { dryRun: true, scope: plan.scope },
    });
  });

  it('takes its turn at the gate after Validate, passing the plan and the request', async () => {
    const plan = {
      transferId: 't-2',
      mapping: 'extdata',
      direction: 'stage-in',
      method: 'dra',
      methodReasons: [],
      scope: {},
      options: { dryRun: true },
    };

    const { turnInputs, quietChecks } = await run(async () => plan);

    expect(turnInputs).toEqual([
      expect.objectContaining({
        FunctionName: expect.stringContaining('wait-for-turn'),
        Payload: expect.objectContaining({ plan, request: expect.objectContaining({ mapping: 'extdata' }) }),
      }),
    ]);
    expect(quietChecks).toBe(0);
  });

  it('lets an S3-event run check until its upload is quiet before it takes its turn', async () => {
    const plan = {
      transferId: 't-3',
      mapping: 'extdata',
      direction: 'stage-in',
      method: 'dra',
      methodReasons: [],
      scope: {},
      options: { dryRun: true },
    };
    let checks = 0;

    const result = await run(async () => plan, {
      request: { mapping: 'extdata', direction: 'stage-in', trigger: 's3-event', transferId: 't-3' },
      checkUploadsQuiet: async () => {
        checks += 1;
        return { events: checks, checks, quiet: checks >= 3, waitSeconds: 1 };
      },
    });

    expect(result.quietChecks).toBe(3);
    expect(result.turnInputs).toHaveLength(1);
    expect(result.output).toMatchObject({ status: 'SUCCEEDED' });
  });
});
