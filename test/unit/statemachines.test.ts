/**
 * Static checks of every statemachines/*.asl.json (what packaging and the local cloud rely on),
 * plus behaviour of the transfer state machine's first states in the ASL interpreter.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import aslValidator from 'asl-validator';
import { beforeAll, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import {
  functionKeyOf,
  functionPlaceholder,
  invokedFunctions,
  placeholdersOf,
} from '../../scripts/sls/asl.js';
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

interface ChoiceRule {
  Variable?: string;
  StringEquals?: string;
  StringMatches?: string;
  Next?: string;
  And?: ChoiceRule[];
  Or?: ChoiceRule[];
  Not?: ChoiceRule;
}

interface State {
  Type: string;
  Resource?: string;
  Next?: string;
  Parameters?: Record<string, unknown>;
  Retry?: Array<{ ErrorEquals: string[] }>;
  Catch?: Array<{ ErrorEquals: string[]; Next: string }>;
  Choices?: ChoiceRule[];
  Default?: string;
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

/** Every comparison of an error name (`$.error.Error`, `$.<x>.Error`) in a Choice rule, nested ones included. */
function errorComparisons(rule: ChoiceRule): ChoiceRule[] {
  const nested = [...(rule.And ?? []), ...(rule.Or ?? []), ...(rule.Not ? [rule.Not] : [])];
  const own = rule.Variable?.endsWith('.Error') ? [rule] : [];
  return [...own, ...nested.flatMap(errorComparisons)];
}

/** The README section a failed execution's error name leads to. */
function troubleshootingSection(): string {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const start = readme.indexOf('## Troubleshooting by error name');
  const end = readme.indexOf('\n## ', start + 1);
  return readme.slice(start, end === -1 ? undefined : end);
}

/** `arn:aws:states:::aws-sdk:ec2:terminateInstances` -> `Ec2.` (the prefix of that integration's errors). */
function sdkErrorPrefix(resource: string | undefined): string | undefined {
  const service = /^arn:aws:states:::aws-sdk:([a-z0-9]+):/.exec(resource ?? '')?.[1];
  return service ? `${service.charAt(0).toUpperCase()}${service.slice(1)}.` : undefined;
}

it('finds the state machines', () => {
  expect(Object.keys(machines)).toContain('transfer');
});

it('names each error class after its key in ERROR_CLASSES (the name Lambda reports and a Catch sees)', () => {
  const mismatched = Object.entries(ERROR_CLASSES)
    .map(([key, ErrorClass]) => [key, new ErrorClass('x').name])
    .filter(([key, name]) => key !== name || !key!.endsWith('Error'));

  expect(mismatched).toEqual([]);
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

  it('names each Fail state after the error class it reports, or passes the caught error on unchanged', () => {
    const misnamed = states
      .filter(([, state]) => state.Type === 'Fail')
      .filter(([stateName, state]) =>
        state.Error === undefined
          ? state.ErrorPath !== '$.error.Error' || state.CausePath !== '$.error.Cause'
          : state.Error !== stateName || !(state.Error in ERROR_CLASSES),
      )
      .map(([stateName, state]) => `${stateName}: ${state.Error ?? state.ErrorPath}`);

    expect(misnamed).toEqual([]);
  });

  it('compares error names in Choice states only with classes, each leading to its Fail state', () => {
    const byName = Object.fromEntries(states);
    /** True when `next` is a Pass that renames the error to a class and fails in that class's Fail state. */
    const renamesToClass = (next: string) => {
      const target = byName[next];
      const renamed = target?.Type === 'Pass' ? String(target.Parameters?.Error) : undefined;
      return (
        renamed !== undefined && renamed in ERROR_CLASSES && byName[target!.Next ?? '']?.Error === renamed
      );
    };
    /**
     * Lambda's own names for a function that crashed, timed out or could not be invoked, and Step
     * Functions' own (States.HeartbeatTimeout of a lost DRA wait, States.Timeout).
     */
    const lambdaFailure = /^(Lambda\.|Runtime\.|Sandbox\.|States\.)/;
    const wrong = states
      .filter(([, state]) => state.Type === 'Choice')
      .flatMap(([stateName, state]) =>
        (state.Choices ?? [])
          .flatMap((rule) =>
            errorComparisons(rule)
              .filter(() => rule.Next !== undefined)
              .map((comparison) => ({
                name: comparison.StringEquals ?? comparison.StringMatches,
                next: rule.Next!,
              })),
          )
          .map((c) => ({ ...c, stateName })),
      )
      .filter(({ name, next }) => {
        if (name === undefined) return true;
        // Lambda's and Step Functions' names are renamed to a class (FunctionFailedError, WaitLostError ...) before failing.
        if (lambdaFailure.test(name)) return !renamesToClass(next);
        if (!(name in ERROR_CLASSES)) return true;
        const target = byName[next];
        // A wait that ran out of retries is renamed by a Pass state, then fails under the new name.
        if (name === 'NotReadyYetError' && target?.Type === 'Pass') return !renamesToClass(next);
        return target?.Type !== 'Fail' || target.Error !== name;
      })
      .map(({ stateName, name, next }) => `${stateName}: ${name} -> ${next}`);

    expect(wrong).toEqual([]);
  });

  it('renames errors in Pass states only to error classes', () => {
    const renamed = states
      .filter(([, state]) => state.Type === 'Pass' && state.Parameters && 'Error' in state.Parameters)
      .map(([stateName, state]) => [stateName, String(state.Parameters!.Error)])
      .filter(([, error]) => !(error! in ERROR_CLASSES));

    expect(renamed).toEqual([]);
  });

  it('leads a Catch straight to a Fail state only for the error that Fail state reports', () => {
    const byName = Object.fromEntries(states);
    const wrong = states.flatMap(([stateName, state]) =>
      (state.Catch ?? [])
        .filter((rule) => byName[rule.Next]?.Type === 'Fail' && byName[rule.Next]?.Error !== undefined)
        .filter((rule) => rule.ErrorEquals.some((error) => error !== byName[rule.Next]!.Error))
        .map((rule) => `${stateName}: ${rule.ErrorEquals.join(', ')} -> ${rule.Next}`),
    );

    expect(wrong).toEqual([]);
  });

  it("documents every Fail state's error in README's troubleshooting table", () => {
    const section = troubleshootingSection();
    const undocumented = states
      .filter(([, state]) => state.Type === 'Fail' && state.Error !== undefined)
      .map(([, state]) => state.Error!)
      .filter((error) => !new RegExp(`^\\| [^|]*\`${error}\``, 'm').test(section));

    expect(undocumented).toEqual([]);
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

  it('names, in every Task, the one function it runs, whose handler names the state back', () => {
    const unlinked = states
      .filter(([, state]) => state.Type === 'Task')
      .filter(([stateName, state]) => {
        const named = invokedFunctions({
          Resource: state.Resource,
          FunctionName: state.Parameters?.FunctionName,
        });
        if (named.length !== 1) return true;
        const handler = join(ROOT, 'functions', named[0]!, 'handler.ts');
        return !existsSync(handler) || !readFileSync(handler, 'utf8').includes(`\`${stateName}\``);
      })
      .map(([stateName]) => stateName);

    expect(unlinked).toEqual([]);
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

describe('transfer state machine: termination of the transfer instance', () => {
  const transfer = machines.transfer as { States: Record<string, State> };
  const terminates = (state: State | undefined) =>
    state?.Type === 'Task' && state.Resource === `\${${functionPlaceholder('terminate-instance')}}`;

  /**
   * Walks every path from LaunchInstance (its refusal before launching, InvalidRequestError,
   * excepted) up to a terminate-instance Task and returns what would let an instance outlive the
   * run: a Fail or Succeed reached first, a Task that does not catch States.ALL, a Choice without
   * Default (States.NoChoiceMatched cannot be caught).
   */
  function leaks(
    machine: { States: Record<string, State> } = transfer,
    start = 'LaunchInstance',
    launched = true,
  ): string[] {
    const launch = machine.States[start]!;
    const found: string[] = [];
    const seen = new Set<string>();
    const queue = [
      ...(launched ? [] : [start]),
      launch.Next!,
      ...(launch.Catch ?? [])
        .filter((c) => !c.ErrorEquals.includes('InvalidRequestError'))
        .map((c) => c.Next),
    ];
    while (queue.length > 0) {
      const name = queue.shift()!;
      const state = machine.States[name];
      if (seen.has(name) || terminates(state)) continue;
      seen.add(name);
      if (!state || state.Type === 'Fail' || state.Type === 'Succeed')
        found.push(`${name} before termination`);
      else if (state.Type === 'Choice') {
        if (!state.Default) found.push(`${name} has no Default`);
        queue.push(
          ...(state.Choices ?? []).map((rule) => rule.Next!),
          ...(state.Default ? [state.Default] : []),
        );
      } else {
        if (
          (state.Type === 'Task' || state.Type === 'Map') &&
          !state.Catch?.some((c) => c.ErrorEquals.includes('States.ALL'))
        ) {
          found.push(`${name} does not catch States.ALL`);
        }
        queue.push(...(state.Next ? [state.Next] : []), ...(state.Catch ?? []).map((c) => c.Next));
      }
    }
    return found;
  }

  it('reaches termination from every state after LaunchInstance, on success and on every error', () => {
    expect(leaks()).toEqual([]);
  });

  it('reaches termination of every shard from the TransferShards Map, on success and on every error', () => {
    expect(leaks(transfer, 'TransferShards', false)).toEqual([]);
  });

  it("terminates each shard's own instance inside the Map after its launch, on success and on every error", () => {
    const processor = transfer.States.TransferShards!.ItemProcessor!;

    expect(leaks(processor, 'LaunchShardInstance')).toEqual([]);
  });

  it('runs TransferShards as a Distributed Map of standard child executions, fed inline by PlanShards', () => {
    const map = transfer.States.TransferShards as State & Record<string, unknown>;

    expect((map.ItemProcessor as Record<string, unknown>).ProcessorConfig).toEqual({
      Mode: 'DISTRIBUTED',
      ExecutionType: 'STANDARD',
    });
    expect(map.ItemsPath).toBe('$.shards.items');
    expect(map).not.toHaveProperty('ItemReader');
    expect(transfer.States.PlanShards!.Next).toBe('ChooseScaleOut');
  });

  it('still fails with the original error when a termination after a failure fails', () => {
    const afterFailure = Object.entries(transfer.States).filter(
      ([name, state]) => terminates(state) && name !== 'TerminateInstance' && name !== 'TerminateShards',
    );

    expect(afterFailure.map(([name]) => name).sort()).toEqual([
      'TerminateAfterFailure',
      'TerminateAfterLaunchFailure',
      'TerminateShardsAfterFailure',
    ]);
    for (const [, state] of afterFailure) {
      expect(state.Next).toBe('FailWithError');
      expect(state.Catch).toEqual([
        { ErrorEquals: ['States.ALL'], ResultPath: '$.ec2.terminationError', Next: 'FailWithError' },
      ]);
    }
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

  it('ends an invalid request in the InvalidRequestError Fail state with the message as cause', async () => {
    const result = await run(async () => {
      throw new InvalidRequestError('subPath: must not contain .. segments');
    });

    expect(result.error).toBe('InvalidRequestError');
    expect(result.cause).toContain('subPath: must not contain .. segments');
  });

  it('ends a missing file system in the FileSystemNotFoundError Fail state', async () => {
    const result = await run(async () => {
      throw new FileSystemNotFoundError('File system fs-0123456789abcdef0 does not exist in us-east-1');
    });

    expect(result.error).toBe('FileSystemNotFoundError');
  });

  it('ends an unexpected error in StepFailed under its own name rather than an unnamed failure', async () => {
    const result = await run(async () => {
      throw new TypeError('boom');
    });

    expect(result.error).toBe('TypeError');
    expect(result.cause).toContain('boom');
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
      verification: {
        mode: 'none',
        files: 0,
        contentChecked: 0,
        sizeOnly: 0,
        note: 'a dry run transfers and verifies nothing',
      },
      methodReasons: plan.methodReasons,
      details: { dryRun: true, scope: plan.scope },
    });
  });

  it('takes its turn at the gate after Validate, passing the plan and the request', async () => {
    // A method no branch knows stops the run right after the gate.
    const plan = {
      transferId: 't-2',
      mapping: 'extdata',
      direction: 'stage-in',
      method: 'none',
      options: { dryRun: false },
    };

    const { turnInputs, quietChecks, error } = await run(async () => plan);

    expect(error).toBe('UnknownMethodError');
    expect(turnInputs).toEqual([
      expect.objectContaining({
        FunctionName: expect.stringContaining('wait-for-turn'),
        Payload: expect.objectContaining({ plan, request: expect.objectContaining({ mapping: 'extdata' }) }),
      }),
    ]);
    expect(quietChecks).toBe(0);
  });

  it('never makes a dry run wait for a turn', async () => {
    const plan = {
      transferId: 't-4',
      mapping: 'extdata',
      direction: 'stage-in',
      method: 'dra',
      methodReasons: [],
      scope: {},
      options: { dryRun: true },
    };

    const { turnInputs, output } = await run(async () => plan);

    expect(turnInputs).toEqual([]);
    expect(output).toMatchObject({ status: 'SUCCEEDED', details: { dryRun: true } });
  });

  it('lets an S3-event run check until its upload is quiet before it takes its turn', async () => {
    const plan = {
      transferId: 't-3',
      mapping: 'extdata',
      direction: 'stage-in',
      method: 'none',
      methodReasons: [],
      scope: {},
      options: { dryRun: false },
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
    expect(result.error).toBe('UnknownMethodError');
  });
});
