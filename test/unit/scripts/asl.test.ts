// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ASL placeholders and Serverless variables are literal ${...} strings
import { describe, expect, it } from 'vitest';
import {
  functionKeyOf,
  functionPlaceholder,
  invokedFunctions,
  lambdaLogicalId,
  placeholdersOf,
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
