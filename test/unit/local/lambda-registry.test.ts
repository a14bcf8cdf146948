import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FaultInjector } from '../../../local/faults.js';
import { LambdaFunctionError, LambdaRegistry, LambdaServiceError } from '../../../local/lambda.js';
import { evaluateCfn, loadServerlessProject, parseCfnYaml } from '../../../local/serverless-config.js';
import { FIXTURE } from './sfn-helpers.js';

/** `${name}` (a CloudFormation/ASL placeholder, not a template). */
const placeholder = (name: string) => ['$', '{', name, '}'].join('');
const ARN = 'arn:aws:lambda:us-east-1:000000000000:function:fixture-local-echo';

describe('LambdaRegistry', () => {
  it('reads functions from serverless.yml with their deployed names', () => {
    const lambdas = new LambdaRegistry({ rootDir: FIXTURE });

    const list = lambdas.list();

    expect(list.map((fn) => fn.key)).toEqual([
      'echo',
      'fail',
      'flaky',
      'record-token',
      'slow',
      'sqs-worker',
      'api-echo',
      'api-plain',
      'api-fail',
      'context',
    ]);
    expect(list[0]).toEqual({ key: 'echo', name: 'fixture-local-echo', arn: ARN, timeout: 10 });
    expect(list.find((fn) => fn.key === 'slow')?.timeout).toBe(1);
  });

  it('invokes a handler by key, name, ARN or qualified ARN with a JSON copy of the event', async () => {
    const lambdas = new LambdaRegistry({ rootDir: FIXTURE });
    const event = { when: new Date(0), nested: { n: 1 } };

    const results = await Promise.all(
      ['echo', 'fixture-local-echo', ARN, `${ARN}:$LATEST`, '000000000000:function:fixture-local-echo'].map(
        (id) => lambdas.invoke(id, event),
      ),
    );

    for (const result of results)
      expect(result).toEqual({ when: '1970-01-01T00:00:00.000Z', nested: { n: 1 } });
    expect(lambdas.invocations).toHaveLength(5);
  });

  it('answers an unknown function with ResourceNotFoundException', async () => {
    const lambdas = new LambdaRegistry({ rootDir: FIXTURE });

    const error = await lambdas.invoke('nope', {}).catch((err: unknown) => err);

    expect(error).toBeInstanceOf(LambdaServiceError);
    expect(error).toMatchObject({
      code: 'ResourceNotFoundException',
      message: 'Function not found: arn:aws:lambda:us-east-1:000000000000:function:nope',
    });
  });

  it('reports a thrown error as Lambda does: errorType = the error name, with the stack as trace', async () => {
    const lambdas = new LambdaRegistry({ rootDir: FIXTURE });

    const error = (await lambdas
      .invoke('fail', { errorName: 'DraFailedError', message: 'bad' })
      .catch((e) => e)) as LambdaFunctionError;

    expect(error).toBeInstanceOf(LambdaFunctionError);
    expect(error.toPayload()).toMatchObject({ errorType: 'DraFailedError', errorMessage: 'bad' });
    expect(error.trace[0]).toBe('DraFailedError: bad');
    expect(lambdas.invocations.at(-1)?.error).toEqual({ errorType: 'DraFailedError', errorMessage: 'bad' });
  });

  it('fails an invocation that outlives the function timeout with Sandbox.Timedout', async () => {
    const lambdas = new LambdaRegistry({ rootDir: FIXTURE });

    const error = (await lambdas.invoke('slow', { ms: 1200 }).catch((e) => e)) as LambdaFunctionError;

    expect(error.errorType).toBe('Sandbox.Timedout');
    expect(error.errorMessage).toMatch(/Task timed out after 1\.00 seconds$/);
  });

  it('gives handlers a realistic context and the environment of serverless.yml, with CloudFormation values evaluated locally', async () => {
    const lambdas = new LambdaRegistry({
      rootDir: FIXTURE,
      environment: { FIXTURE_OVERRIDDEN: 'local-value' },
    });

    const seen = (await lambdas.invoke('context', {})) as Record<string, any>;

    expect(seen).toMatchObject({
      functionName: 'fixture-local-context',
      invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:fixture-local-context',
      memoryLimitInMB: '128',
    });
    expect(seen.awsRequestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(seen.remaining).toBeGreaterThan(29_000);
    expect(seen.remaining).toBeLessThanOrEqual(30_000);
    expect(seen.env).toMatchObject({
      FIXTURE_STAGE: 'local',
      FIXTURE_PLAIN: 'plain-value',
      FIXTURE_FROM_ENV: 'default-from-env',
      FIXTURE_FUNCTION_ARN: ARN,
      FIXTURE_MACHINE_ARN: 'arn:aws:states:us-east-1:000000000000:stateMachine:fixture-local-callback',
      FIXTURE_SUB: 'arn:aws:s3:::bucket-000000000000-us-east-1',
      FIXTURE_OVERRIDDEN: 'local-value',
    });
  });

  it('leaves out variables whose CloudFormation value cannot be known locally', async () => {
    delete process.env.FIXTURE_UNKNOWN;
    const lambdas = new LambdaRegistry({ rootDir: FIXTURE });

    const seen = (await lambdas.invoke('context', {})) as Record<string, any>;

    expect(seen.env.FIXTURE_UNKNOWN).toBeUndefined();
  });

  it('applies lambda Invoke fault rules: service errors as the Lambda service, other codes as the function throwing', async () => {
    const faults = new FaultInjector();
    faults.add([
      {
        service: 'lambda',
        operation: 'Invoke',
        code: 'TooManyRequestsException',
        count: 1,
        match: { function: 'echo' },
      },
      {
        service: 'lambda',
        operation: 'Invoke',
        code: 'TransientAwsError',
        message: 'throttled',
        count: 1,
        match: { FunctionName: '*-flaky' },
      },
    ]);
    const lambdas = new LambdaRegistry({ rootDir: FIXTURE, faults });

    const throttled = await lambdas.invoke('echo', {}).catch((error: unknown) => error);
    const thrown = (await lambdas
      .invoke('flaky', { key: 'f', failures: 0 })
      .catch((error: unknown) => error)) as LambdaFunctionError;

    expect(throttled).toBeInstanceOf(LambdaServiceError);
    expect(throttled).toMatchObject({ code: 'TooManyRequestsException' });
    expect(thrown.toPayload()).toMatchObject({ errorType: 'TransientAwsError', errorMessage: 'throttled' });
    expect(await lambdas.invoke('echo', { again: true })).toEqual({ again: true });
  });

  it('runs functions registered from code', async () => {
    const lambdas = new LambdaRegistry({ rootDir: FIXTURE });
    const arn = lambdas.register('inline', async (event: { n: number }) => ({ doubled: event.n * 2 }));

    expect(await lambdas.invoke(arn, { n: 21 })).toEqual({ doubled: 42 });
  });
});

describe('without serverless.yml', () => {
  let dir: string;

  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('discovers functions/<name>/handler.ts and names them fsx-transfer-<stage>-<name>', async () => {
    dir = mkdtempSync(join(tmpdir(), 'lambda-'));
    mkdirSync(join(dir, 'functions', 'hello'), { recursive: true });
    writeFileSync(
      join(dir, 'functions', 'hello', 'handler.ts'),
      'export const handler = async () => ({ hi: true });\n',
    );
    const lambdas = new LambdaRegistry({ rootDir: dir, stage: 'dev' });

    const result = await lambdas.invoke('fsx-transfer-dev-hello', {});

    expect(lambdas.list().map((fn) => fn.name)).toEqual(['fsx-transfer-dev-hello']);
    expect(result).toEqual({ hi: true });
  });
});

describe('serverless.yml reading', () => {
  it('parses CloudFormation short-form tags into intrinsic objects', () => {
    const parsed = parseCfnYaml(
      `a: !Ref X\nb: !GetAtt Y.Arn\nc: !Sub "x-${placeholder('AWS::Region')}"\nd: !Join [":", [a, !Ref Z]]\n`,
    );

    expect(parsed).toEqual({
      a: { Ref: 'X' },
      b: { 'Fn::GetAtt': ['Y', 'Arn'] },
      c: { 'Fn::Sub': `x-${placeholder('AWS::Region')}` },
      d: { 'Fn::Join': [':', ['a', { Ref: 'Z' }]] },
    });
  });

  it('resolves Serverless variables and reads rules, state machines and resources', () => {
    const project = loadServerlessProject({ rootDir: FIXTURE, stage: 'test' });

    expect(project.service).toBe('fixture');
    expect(project.stateMachines).toEqual([
      expect.objectContaining({
        key: 'callback',
        name: 'fixture-test-callback',
        logicalId: 'CallbackStateMachine',
      }),
    ]);
    expect(project.functions.get('echo')?.environment.FIXTURE_STAGE).toBe('test');
    expect(evaluateCfn(project, { 'Fn::Join': ['/', ['a', { Ref: 'AWS::Region' }]] })).toBe('a/us-east-1');
    expect(evaluateCfn(project, { Ref: 'EchoLambdaFunction' })).toBe('fixture-test-echo');
    expect(evaluateCfn(project, { 'Fn::GetAtt': ['Missing', 'Arn'] })).toBeUndefined();
  });
});
