/**
 * IAM on the local cloud: every request's SigV4 signature is verified, every principal of the
 * project signs with its own role's credentials, and a call its role does not allow is refused as
 * AWS refuses it, in each protocol, logged with the statement that would allow it. Removing a
 * statement from a role makes a run fail with an access-denied error (a sample of statements).
 * These clouds cause denials on purpose: they write no IAM report (npm run test:iam).
 */

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import {
  DescribeInstancesCommand,
  RunInstancesCommand,
  TerminateInstancesCommand,
} from '@aws-sdk/client-ec2';
import { ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { GetParameterCommand } from '@aws-sdk/client-ssm';
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalPrincipal } from '../../local/credentials.js';
import { LOCAL_AL2023_AMI } from '../../local/ssm/parameters.js';
import { getS3 } from '../../shared/aws/clients.js';
import { localClients } from '../support/local-clients.js';
import { rawRequest } from '../support/signed-fetch.js';
import { BUCKET, runTransfer, startWorld, type World } from './ec2-helpers.js';

const QUIET = { iamReport: false } as const;
const FUNCTION = 'fsx-transfer-local-check-agent';

/** SDK clients that sign as `principal`, without retries. */
function clientsOf(world: World, principal: LocalPrincipal) {
  const { accessKeyId, secretAccessKey, sessionToken } = principal;
  return localClients(world.cloud.endpoint, {
    credentials: { accessKeyId, secretAccessKey, sessionToken },
    maxAttempts: 1,
  });
}

async function failure(promise: Promise<unknown>) {
  return promise.then(
    () => undefined,
    (error: Error & { $metadata?: { httpStatusCode?: number } }) => ({
      name: error.name,
      status: error.$metadata?.httpStatusCode,
      message: error.message,
    }),
  );
}

describe('IAM enforced by the local cloud', () => {
  let world: World;

  beforeAll(async () => {
    world = await startWorld({ iam: QUIET });
  }, 60_000);

  afterAll(async () => {
    await world?.stop();
  }, 60_000);

  it('verifies the signature of every protocol and answers failures as each service does', async () => {
    const endpoint = world.cloud.endpoint;
    const json = { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'AmazonSSM.GetParameter' };
    const form = { 'content-type': 'application/x-www-form-urlencoded' };
    const wrong = { accessKeyId: 'test', secretAccessKey: 'not-the-secret' };
    const unknown = { accessKeyId: 'AKIAUNKNOWN', secretAccessKey: 'x' };

    const unsignedJson = await rawRequest(endpoint, { headers: json, body: '{"Name":"/x"}' });
    const badJson = await rawRequest(endpoint, {
      headers: json,
      body: '{"Name":"/x"}',
      service: 'ssm',
      credentials: wrong,
    });
    const unknownDynamo = await rawRequest(endpoint, {
      headers: {
        'content-type': 'application/x-amz-json-1.0',
        'x-amz-target': 'DynamoDB_20120810.ListTables',
      },
      body: '{}',
      service: 'dynamodb',
      credentials: unknown,
    });
    const badEc2 = await rawRequest(endpoint, {
      headers: form,
      body: 'Action=DescribeInstances&Version=2016-11-15',
      service: 'ec2',
      credentials: wrong,
    });
    const unknownSts = await rawRequest(endpoint, {
      headers: form,
      body: 'Action=GetCallerIdentity&Version=2011-06-15',
      service: 'sts',
      credentials: unknown,
    });
    const unsignedS3 = await rawRequest(endpoint, { method: 'GET', path: `/${BUCKET}?list-type=2` });
    const badS3 = await rawRequest(endpoint, {
      method: 'GET',
      path: `/${BUCKET}?list-type=2`,
      service: 's3',
      credentials: wrong,
    });

    expect([unsignedJson.status, JSON.parse(unsignedJson.text).__type]).toEqual([
      403,
      'MissingAuthenticationTokenException',
    ]);
    expect([badJson.status, JSON.parse(badJson.text).__type]).toEqual([400, 'InvalidSignatureException']);
    expect([unknownDynamo.status, JSON.parse(unknownDynamo.text).__type]).toEqual([
      400,
      'UnrecognizedClientException',
    ]);
    expect([badEc2.status, badEc2.text]).toEqual([401, expect.stringContaining('<Code>AuthFailure</Code>')]);
    expect([unknownSts.status, unknownSts.text]).toEqual([
      403,
      expect.stringContaining('<Code>InvalidClientTokenId</Code>'),
    ]);
    expect([unsignedS3.status, unsignedS3.text]).toEqual([
      403,
      expect.stringContaining('<Code>AccessDenied</Code>'),
    ]);
    expect([badS3.status, badS3.text]).toEqual([
      403,
      expect.stringContaining('<Code>SignatureDoesNotMatch</Code>'),
    ]);
  });

  it("signs each function's calls as its role session and refuses what the role does not allow, in each protocol", async () => {
    const session = world.cloud.iam.functionSession('check-agent', FUNCTION)!;
    const clients = clientsOf(world, session);
    const role = 'fsx-transfer-local-check-agent-us-east-1-lambdaRole';
    const instance = `arn:aws:ec2:us-east-1:000000000000:instance/i-0123456789abcdef0`;

    const identity = await clients.sts().send(new GetCallerIdentityCommand({}));
    const described = await clients.ec2().send(new DescribeInstancesCommand({}));
    const ec2 = await failure(
      clients.ec2().send(new TerminateInstancesCommand({ InstanceIds: ['i-0123456789abcdef0'] })),
    );
    const ssm = await failure(clients.ssm().send(new GetParameterCommand({ Name: '/fsx-transfer/secret' })));
    const s3 = await failure(clients.s3().send(new ListObjectsV2Command({ Bucket: BUCKET })));
    const dynamodb = await failure(
      clients.dynamodb().send(
        new GetItemCommand({
          TableName: 'fsx-transfer-local-transfers',
          Key: { pk: { S: 'x' }, sk: { S: 'x' } },
        }),
      ),
    );
    const denials = (await (await fetch(`${world.cloud.endpoint}/_local/iam/denials`)).json()) as {
      denials: { action: string; resource: string; principal: string; hint: string }[];
    };

    expect(identity.Arn).toBe(`arn:aws:sts::000000000000:assumed-role/${role}/${FUNCTION}`);
    expect(described.$metadata.httpStatusCode).toBe(200);
    expect(ec2).toEqual({
      name: 'UnauthorizedOperation',
      status: 403,
      message: `You are not authorized to perform this operation. User: ${identity.Arn} is not authorized to perform: ec2:TerminateInstances on resource: ${instance} because no identity-based policy allows the ec2:TerminateInstances action`,
    });
    expect(ssm).toMatchObject({ name: 'AccessDeniedException', status: 400 });
    expect(ssm?.message).toContain(
      'ssm:GetParameter on resource: arn:aws:ssm:us-east-1:000000000000:parameter/fsx-transfer/secret',
    );
    expect(s3).toMatchObject({ name: 'AccessDenied', status: 403 });
    expect(s3?.message).toContain(`s3:ListBucket on resource: arn:aws:s3:::${BUCKET}`);
    expect(dynamodb).toMatchObject({ name: 'AccessDeniedException', status: 400 });
    expect(denials.denials.find((d) => d.action === 'ec2:TerminateInstances')).toMatchObject({
      principal: identity.Arn,
      resource: instance,
      hint: expect.stringContaining(
        `the missing statement: {"Effect":"Allow","Action":"ec2:TerminateInstances","Resource":"${instance}"} in serverless.yml functions.check-agent.iamRoleStatements`,
      ),
    });
  });

  it('names the statement that came closest when only a condition failed', async () => {
    const session = world.cloud.iam.functionSession('launch-instance', 'fsx-transfer-local-launch-instance')!;

    const refused = await failure(
      clientsOf(world, session)
        .ec2()
        .send(
          new RunInstancesCommand({
            ImageId: LOCAL_AL2023_AMI,
            MinCount: 1,
            MaxCount: 1,
            SubnetId: 'subnet-00000000000000001',
            TagSpecifications: [
              { ResourceType: 'instance', Tags: [{ Key: 'fsx-transfer:stage', Value: 'local' }] },
            ],
          }),
        ),
    );
    const denials = world.cloud.iam.denials().filter((d) => d.action === 'ec2:RunInstances');

    expect(refused?.name).toBe('UnauthorizedOperation');
    expect(denials.map((d) => d.resource)).toContain('arn:aws:ec2:us-east-1:000000000000:instance/*');
    expect(denials.find((d) => d.resource.endsWith(':instance/*'))?.hint).toMatch(
      /closest: functions\.launch-instance\.iamRoleStatements\[0\] condition StringEquals ec2:MetadataHttpTokens \["required"\] does not hold \(the request has "optional"\)/,
    );
  });
});

describe('IAM modes', () => {
  it('warn lets a refused call and a bad signature through, and lists what it would refuse', async () => {
    const world = await startWorld({ iam: { ...QUIET, iam: 'warn' } });
    try {
      const session = world.cloud.iam.functionSession('check-agent', FUNCTION)!;
      const wrongSecret = localClients(world.cloud.endpoint, {
        credentials: { accessKeyId: 'test', secretAccessKey: 'wrong' },
      }).s3();

      const listed = await clientsOf(world, session)
        .s3()
        .send(new ListObjectsV2Command({ Bucket: BUCKET }));
      const put = await wrongSecret.send(
        new PutObjectCommand({ Bucket: BUCKET, Key: 'warned.txt', Body: 'x' }),
      );

      expect(listed.$metadata.httpStatusCode).toBe(200);
      expect(put.$metadata.httpStatusCode).toBe(200);
      expect(world.cloud.iam.denials()).toEqual([
        expect.objectContaining({ action: 's3:ListBucket', enforced: false }),
      ]);
    } finally {
      await world.stop();
    }
  }, 60_000);

  it('off accepts any access key and allows everything', async () => {
    const world = await startWorld({ iam: { ...QUIET, iam: 'off' } });
    try {
      const anyone = localClients(world.cloud.endpoint, {
        credentials: { accessKeyId: 'anyone', secretAccessKey: 'anything' },
      });

      const identity = await anyone.sts().send(new GetCallerIdentityCommand({}));
      const listed = await anyone.s3().send(new ListObjectsV2Command({ Bucket: BUCKET }));

      expect(identity.Arn).toBe('arn:aws:iam::000000000000:user/anyone');
      expect(listed.$metadata.httpStatusCode).toBe(200);
      expect(world.cloud.iam.denials()).toEqual([]);
    } finally {
      await world.stop();
    }
  }, 60_000);
});

describe('removing a statement makes a run fail with an access-denied error', () => {
  const cases: { statements: string[]; request: Record<string, unknown>; action: string; error: RegExp }[] = [
    {
      statements: ['ValidateIamRoleLambdaExecution#1'],
      request: { mapping: 'blended-tropomi', direction: 'stage-in' },
      action: 'fsx:DescribeFileSystems',
      error: /AccessDeniedException/,
    },
    {
      statements: ['LaunchDashinstanceIamRoleLambdaExecution#1'],
      request: { mapping: 'blended-tropomi', direction: 'stage-in' },
      action: 'ec2:RunInstances',
      error: /UnauthorizedOperation/,
    },
    {
      statements: ['SendDashcommandIamRoleLambdaExecution#4'],
      request: { mapping: 'blended-tropomi', direction: 'stage-in' },
      action: 'dynamodb:PutItem',
      error: /AccessDeniedException/,
    },
    {
      statements: ['TransferInstanceRole#4'],
      request: { mapping: 'output', direction: 'export' },
      action: 's3:PutObject',
      error: /AccessDenied/,
    },
    {
      statements: ['TransferStateMachineRole#0', 'TransferStateMachineRole#5'],
      request: { mapping: 'blended-tropomi', direction: 'stage-in' },
      action: 'lambda:InvokeFunction',
      error: /Lambda\.AWSLambdaException|AccessDeniedException/,
    },
  ];

  it.each(cases)(
    'without $statements: $action is refused and the run fails',
    async (c) => {
      const world = await startWorld({ iam: { iamWithoutStatements: c.statements } });
      try {
        const removed = c.statements.map((id) =>
          world.cloud.iam.projectRoles.roles.flatMap((r) => r.statements).find((s) => s.id === id),
        );
        await getS3().send(
          new PutObjectCommand({ Bucket: BUCKET, Key: 'blended-tropomi/2019/a.nc', Body: 'a' }),
        );
        const root = world.cloud.fsx.fileSystemRoot('fs-00000000000000001');
        mkdirSync(join(root, 'output'), { recursive: true });
        writeFileSync(join(root, 'output', 'result.nc'), 'result');

        const run = await runTransfer(world, c.request);

        expect(removed.every((s) => s && [s.statement.Action].flat().includes(c.action))).toBe(true);
        expect(run.status).toBe('FAILED');
        expect(`${run.error} ${run.cause}`).toMatch(c.error);
        expect(`${run.error} ${run.cause}`).toContain(c.action);
        expect(world.cloud.iam.denials().some((d) => d.action === c.action)).toBe(true);
      } finally {
        await world.stop();
      }
    },
    120_000,
  );
});
