// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ASL placeholders and Serverless variables are literal ${...} strings
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  expandRetriers,
  functionKeyOf,
  functionPlaceholder,
  invokedFunctions,
  lambdaLogicalId,
  placeholdersOf,
  RETRIERS,
  readStateMachines,
  substitute,
} from '../../../scripts/sls/asl.js';

describe('ASL placeholders', () => {
  it('map a function placeholder to the kebab folder name and back', () => {
    expect(functionKeyOf('LaunchInstanceFunctionArn')).toBe('launch-instance');
    expect(functionKeyOf('ValidateFunctionArn')).toBe('validate');
    expect(functionKeyOf('Ec2CleanupFunctionArn')).toBe('ec2-cleanup');
    expect(functionKeyOf('TransferDocumentName')).toBeUndefined();
    expect(functionPlaceholder('wait-for-data-repository-task')).toBe('WaitForDataRepositoryTaskFunctionArn');
  });

  it('name the CloudFormation logical id osls gives a function', () => {
    expect(lambdaLogicalId('launch-instance')).toBe('LaunchDashinstanceLambdaFunction');
    expect(lambdaLogicalId('validate')).toBe('ValidateLambdaFunction');
  });

  it('lists the placeholders and the invoked functions of a definition', () => {
    const definition = {
      States: {
        A: { Resource: '${ValidateFunctionArn}' },
        B: { Parameters: { 'DocumentName.$': '$.x', Name: '${TransferDocumentName}' } },
      },
    };

    expect(placeholdersOf(definition)).toEqual(['TransferDocumentName', 'ValidateFunctionArn']);
    expect(invokedFunctions(definition)).toEqual(['validate']);
  });
});

describe('substitute', () => {
  it('replaces a whole-string placeholder by any value, keeping JSONPath strings', () => {
    const result = substitute({ Resource: '${ValidateFunctionArn}', 'Path.$': '$.plan' }, () => ({
      'Fn::GetAtt': ['ValidateLambdaFunction', 'Arn'],
    }));

    expect(result).toEqual({
      Resource: { 'Fn::GetAtt': ['ValidateLambdaFunction', 'Arn'] },
      'Path.$': '$.plan',
    });
  });

  it('splices string values into longer strings and wraps CloudFormation values in Fn::Sub', () => {
    const lookup = (name: string) => (name === 'Stage' ? 'dev' : { Ref: 'TransferDocument' });

    expect(substitute({ a: '/fsx-transfer/${Stage}/tokens' }, lookup)).toEqual({
      a: '/fsx-transfer/dev/tokens',
    });
    expect(substitute({ a: 'doc:${Doc}' }, lookup)).toEqual({
      a: { 'Fn::Sub': ['doc:${Doc}', { Doc: { Ref: 'TransferDocument' } }] },
    });
  });

  it('names every placeholder without a substitution', () => {
    const act = () => substitute({ a: '${MissingFunctionArn}', b: ['x ${Other} y'] }, () => undefined);

    expect(act).toThrow('No substitution for ${MissingFunctionArn}, ${Other}');
  });
});

describe('shared Retry blocks', () => {
  const polling = { ErrorEquals: ['NotReadyYetError'], IntervalSeconds: 5, MaxAttempts: 3 };

  it('expands "${Retry<Name>}" elements in every state, nested ones included, keeping the others', () => {
    const definition = {
      StartAt: 'A',
      States: {
        A: { Type: 'Task', Retry: [polling, '${RetryTransientErrors}'], Next: 'P' },
        P: {
          Type: 'Parallel',
          Branches: [
            { StartAt: 'B', States: { B: { Type: 'Task', Retry: ['${RetryTransientErrorsPatiently}'] } } },
          ],
          Next: 'M',
        },
        M: {
          Type: 'Map',
          ItemProcessor: {
            StartAt: 'C',
            States: { C: { Type: 'Task', Retry: ['${RetryTransientErrors}'] } },
          },
          End: true,
        },
      },
    };

    const expanded = expandRetriers(definition);

    expect(expanded.States.A.Retry).toEqual([polling, RETRIERS.RetryTransientErrors]);
    expect(expanded.States.P.Branches[0]!.States.B.Retry).toEqual([RETRIERS.RetryTransientErrorsPatiently]);
    expect(expanded.States.M.ItemProcessor.States.C.Retry).toEqual([RETRIERS.RetryTransientErrors]);
    expect(definition.States.A.Retry[1]).toBe('${RetryTransientErrors}');
  });

  it('refuses an unknown block, naming the state', () => {
    const act = () => expandRetriers({ States: { Launch: { Type: 'Task', Retry: ['${RetryForever}'] } } });

    expect(act).toThrow(/State Launch: Retry element "\$\{RetryForever\}" is not a shared Retry block/);
  });

  it('are expanded by readStateMachines, which names the file of an error', () => {
    const dir = mkdtempSync(join(tmpdir(), 'asl-'));
    try {
      const machine = {
        StartAt: 'T',
        States: { T: { Type: 'Task', Retry: ['${RetryTransientErrors}'], End: true } },
      };
      writeFileSync(join(dir, 'good.asl.json'), JSON.stringify(machine));

      expect(readStateMachines(dir).good).toMatchObject({
        States: { T: { Retry: [RETRIERS.RetryTransientErrors] } },
      });

      writeFileSync(join(dir, 'bad.asl.json'), '{ "StartAt": ');
      expect(() => readStateMachines(dir)).toThrow(/^bad\.asl\.json: /);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
