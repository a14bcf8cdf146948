/**
 * The local IAM evaluator, case by case against AWS's documented evaluation logic
 * (reference_policies_evaluation-logic, reference_policies_elements_condition_operators,
 * reference_policies_elements_resource).
 */
import { describe, expect, it } from 'vitest';
import {
  type AuthorizationCheck,
  actionMatches,
  evaluateCheck,
  type PolicyStatement,
  resourceMatches,
  validateStatement,
} from '../../../local/iam/policy.js';

function decide(statements: PolicyStatement[], check: AuthorizationCheck) {
  return evaluateCheck(statements, (s) => s, check);
}

const allow = (fields: Partial<PolicyStatement>): PolicyStatement => ({ Effect: 'Allow', ...fields });
const INSTANCE = 'arn:aws:ec2:us-east-1:000000000000:instance/i-0123456789abcdef0';

describe('IAM evaluation: allow and deny', () => {
  it('denies implicitly when no statement allows the action', () => {
    const result = decide([allow({ Action: 'ec2:DescribeInstances', Resource: '*' })], {
      action: 'ec2:TerminateInstances',
      resource: INSTANCE,
    });

    expect(result.decision).toBe('implicit-deny');
  });

  it('allows with a matching Allow statement and names every statement that allows', () => {
    const first = allow({ Action: 'ec2:TerminateInstances', Resource: '*' });
    const second = allow({ Action: ['ec2:Terminate*'], Resource: INSTANCE });

    const result = decide([first, second], { action: 'ec2:TerminateInstances', resource: INSTANCE });

    expect(result.decision).toBe('allow');
    expect(result.allowedBy).toEqual([first, second]);
  });

  it('lets an explicit Deny win over any Allow', () => {
    const deny: PolicyStatement = { Effect: 'Deny', Action: 'ec2:*', Resource: '*' };

    const result = decide([allow({ Action: '*', Resource: '*' }), deny], {
      action: 'ec2:RunInstances',
      resource: INSTANCE,
    });

    expect(result.decision).toBe('explicit-deny');
    expect(result.deniedBy).toBe(deny);
  });

  it('matches NotAction and NotResource as everything except what they list', () => {
    const statements = [
      allow({ NotAction: 'iam:*', Resource: '*' }),
      { Effect: 'Deny' as const, Action: 's3:DeleteObject', NotResource: 'arn:aws:s3:::scratch/*' },
    ];

    expect(decide(statements, { action: 'iam:PassRole', resource: '*' }).decision).toBe('implicit-deny');
    expect(decide(statements, { action: 's3:GetObject', resource: 'arn:aws:s3:::data/a' }).decision).toBe(
      'allow',
    );
    expect(decide(statements, { action: 's3:DeleteObject', resource: 'arn:aws:s3:::data/a' }).decision).toBe(
      'explicit-deny',
    );
    expect(
      decide(statements, { action: 's3:DeleteObject', resource: 'arn:aws:s3:::scratch/a' }).decision,
    ).toBe('allow');
  });

  it('reports the statements for the action that failed on resource or condition', () => {
    const wrongResource = allow({ Action: 's3:GetObject', Resource: 'arn:aws:s3:::other/*' });
    const otherAction = allow({ Action: 's3:PutObject', Resource: '*' });

    const result = decide([wrongResource, otherAction], {
      action: 's3:GetObject',
      resource: 'arn:aws:s3:::demo/a',
    });

    expect(result.nearMisses).toEqual([{ statement: wrongResource, mismatch: { part: 'resource' } }]);
  });
});

describe('IAM evaluation: actions and resources', () => {
  it('matches actions case-insensitively with * and ? wildcards', () => {
    expect(actionMatches('ec2:describe*', 'ec2:DescribeInstances')).toBe(true);
    expect(actionMatches('s3:Get?bject', 's3:GetObject')).toBe(true);
    expect(actionMatches('ssm:GetParameter', 'ssm:GetParameters')).toBe(false);
    expect(actionMatches('*', 'fsx:CreateDataRepositoryTask')).toBe(true);
  });

  it('matches resources case-sensitively', () => {
    expect(resourceMatches('arn:aws:s3:::demo/ExtData/*', 'arn:aws:s3:::demo/extdata/a')).toBe(false);
    expect(resourceMatches('arn:aws:s3:::demo/ExtData/*', 'arn:aws:s3:::demo/ExtData/a/b.nc')).toBe(true);
  });

  it('lets * in the resource part cross / and : but never the colons of the other parts', () => {
    const logs = 'arn:aws:logs:us-east-1:000000000000:log-group:/aws/lambda/f:*:*';

    expect(
      resourceMatches(logs, 'arn:aws:logs:us-east-1:000000000000:log-group:/aws/lambda/f:log-stream:2026/x'),
    ).toBe(true);
    expect(resourceMatches(logs, 'arn:aws:logs:us-east-1:000000000000:log-group:/aws/lambda/f')).toBe(false);
    expect(resourceMatches('arn:aws:ec2:*:*:instance/*', INSTANCE)).toBe(true);
    expect(resourceMatches('arn:aws:ec2:us-*:instance/*', INSTANCE)).toBe(false);
  });

  it('matches an empty ARN part (no account) only with an empty or wildcard part', () => {
    const parameter = 'arn:aws:ssm:us-east-1::parameter/aws/service/ami';

    expect(resourceMatches('arn:aws:ssm:us-east-1::parameter/aws/service/*', parameter)).toBe(true);
    expect(resourceMatches('arn:aws:ssm:us-east-1:000000000000:parameter/aws/service/*', parameter)).toBe(
      false,
    );
  });
});

describe('IAM evaluation: conditions', () => {
  const terminate = (tags: Record<string, string>): AuthorizationCheck => ({
    action: 'ec2:TerminateInstances',
    resource: INSTANCE,
    context: Object.fromEntries(Object.entries(tags).map(([k, v]) => [`aws:ResourceTag/${k}`, v])),
  });
  const tagged = allow({
    Action: 'ec2:TerminateInstances',
    Resource: 'arn:aws:ec2:us-east-1:000000000000:instance/*',
    Condition: { StringEquals: { 'aws:ResourceTag/fsx-transfer:stage': 'dev' } },
  });

  it('StringEquals holds only for an equal value, and fails when the key is missing', () => {
    expect(decide([tagged], terminate({ 'fsx-transfer:stage': 'dev' })).decision).toBe('allow');
    expect(decide([tagged], terminate({ 'fsx-transfer:stage': 'prod' })).decision).toBe('implicit-deny');
    expect(decide([tagged], terminate({})).nearMisses[0]?.mismatch).toEqual({
      part: 'condition',
      operator: 'StringEquals',
      key: 'aws:ResourceTag/fsx-transfer:stage',
      expected: ['dev'],
      actual: undefined,
    });
  });

  it('compares condition keys case-insensitively', () => {
    const check = { ...terminate({}), context: { 'AWS:RESOURCETAG/fsx-transfer:stage': 'dev' } };

    expect(decide([tagged], check).decision).toBe('allow');
  });

  it('ORs the values of one key, ANDs keys and operators', () => {
    const statement = allow({
      Action: 'ec2:RunInstances',
      Resource: '*',
      Condition: {
        StringEquals: { 'ec2:InstanceType': ['c6i.large', 'm6i.large'], 'aws:RequestedRegion': 'us-east-1' },
        Bool: { 'ec2:Encrypted': 'true' },
      },
    });
    const run = (context: Record<string, string>) =>
      decide([statement], { action: 'ec2:RunInstances', resource: '*', context }).decision;

    expect(
      run({ 'ec2:InstanceType': 'm6i.large', 'aws:RequestedRegion': 'us-east-1', 'ec2:Encrypted': 'true' }),
    ).toBe('allow');
    expect(
      run({ 'ec2:InstanceType': 'm6i.large', 'aws:RequestedRegion': 'us-east-1', 'ec2:Encrypted': 'false' }),
    ).toBe('implicit-deny');
    expect(
      run({ 'ec2:InstanceType': 'm6i.large', 'aws:RequestedRegion': 'eu-west-1', 'ec2:Encrypted': 'true' }),
    ).toBe('implicit-deny');
  });

  it('holds negated operators when the key is missing, and ...IfExists conditions too', () => {
    const notProd = allow({
      Action: 's3:GetObject',
      Resource: '*',
      Condition: { StringNotEquals: { 'aws:ResourceTag/env': 'prod' } },
    });
    const ifExists = allow({
      Action: 's3:PutObject',
      Resource: '*',
      Condition: { StringEqualsIfExists: { 's3:x-amz-server-side-encryption': 'aws:kms' } },
    });

    expect(decide([notProd], { action: 's3:GetObject', resource: '*' }).decision).toBe('allow');
    expect(
      decide([notProd], { action: 's3:GetObject', resource: '*', context: { 'aws:ResourceTag/env': 'prod' } })
        .decision,
    ).toBe('implicit-deny');
    expect(decide([ifExists], { action: 's3:PutObject', resource: '*' }).decision).toBe('allow');
    expect(
      decide([ifExists], {
        action: 's3:PutObject',
        resource: '*',
        context: { 's3:x-amz-server-side-encryption': 'AES256' },
      }).decision,
    ).toBe('implicit-deny');
  });

  it('ArnEquals and ArnLike compare ARNs with wildcards', () => {
    const profile = 'arn:aws:iam::000000000000:instance-profile/fsx-transfer-dev-transfer-instance';
    const statement = allow({
      Action: 'ec2:RunInstances',
      Resource: '*',
      Condition: { ArnEquals: { 'ec2:InstanceProfile': profile } },
    });
    const like = allow({
      Action: 'ec2:RunInstances',
      Resource: '*',
      Condition: { ArnLike: { 'ec2:InstanceProfile': 'arn:aws:iam::*:instance-profile/fsx-transfer-*' } },
    });
    const run = (s: PolicyStatement, value: string) =>
      decide([s], { action: 'ec2:RunInstances', resource: '*', context: { 'ec2:InstanceProfile': value } })
        .decision;

    expect(run(statement, profile)).toBe('allow');
    expect(run(statement, `${profile}-admin`)).toBe('implicit-deny');
    expect(run(like, profile)).toBe('allow');
    expect(run(like, 'arn:aws:iam::000000000000:instance-profile/admin')).toBe('implicit-deny');
  });

  it('Bool compares true/false case-insensitively, Null tests presence', () => {
    const noPublicIp = allow({
      Action: 'ec2:RunInstances',
      Resource: '*',
      Condition: { Bool: { 'ec2:AssociatePublicIpAddress': 'false' } },
    });
    const tagRequired = allow({
      Action: 'ec2:CreateTags',
      Resource: '*',
      Condition: { Null: { 'aws:RequestTag/owner': 'false' } },
    });

    expect(
      decide([noPublicIp], {
        action: 'ec2:RunInstances',
        resource: '*',
        context: { 'ec2:AssociatePublicIpAddress': 'FALSE' },
      }).decision,
    ).toBe('allow');
    expect(decide([noPublicIp], { action: 'ec2:RunInstances', resource: '*' }).decision).toBe(
      'implicit-deny',
    );
    expect(
      decide([tagRequired], {
        action: 'ec2:CreateTags',
        resource: '*',
        context: { 'aws:RequestTag/owner': 'x' },
      }).decision,
    ).toBe('allow');
    expect(decide([tagRequired], { action: 'ec2:CreateTags', resource: '*' }).decision).toBe('implicit-deny');
  });

  it('ForAllValues holds when every request value is listed; ForAnyValue when one is', () => {
    const only = allow({
      Action: 'ec2:CreateTags',
      Resource: '*',
      Condition: { 'ForAllValues:StringEquals': { 'aws:TagKeys': ['Name', 'fsx-transfer:stage'] } },
    });
    const any = allow({
      Action: 'ec2:CreateTags',
      Resource: '*',
      Condition: { 'ForAnyValue:StringEquals': { 'aws:TagKeys': ['fsx-transfer:stage'] } },
    });
    const tags = (keys: string[]) => ({
      action: 'ec2:CreateTags',
      resource: '*',
      context: { 'aws:TagKeys': keys },
    });

    expect(decide([only], tags(['Name'])).decision).toBe('allow');
    expect(decide([only], tags(['Name', 'admin'])).decision).toBe('implicit-deny');
    expect(decide([any], tags(['Name', 'fsx-transfer:stage'])).decision).toBe('allow');
    expect(decide([any], tags(['Name'])).decision).toBe('implicit-deny');
  });

  it('refuses operators and policy variables it cannot evaluate exactly', () => {
    expect(() =>
      validateStatement(
        allow({
          Action: 's3:GetObject',
          Resource: '*',
          Condition: { DateGreaterThan: { 'aws:CurrentTime': 'x' } },
        }),
      ),
    ).toThrow(/DateGreaterThan is not supported/);
    expect(() =>
      // biome-ignore lint/suspicious/noTemplateCurlyInString: an IAM policy variable, not a JS template
      validateStatement(allow({ Action: 's3:GetObject', Resource: 'arn:aws:s3:::home/${aws:username}/*' })),
    ).toThrow(/policy variables/);
    expect(() => validateStatement({ Effect: 'Allow', Resource: '*' } as PolicyStatement)).toThrow(/Action/);
  });
});
