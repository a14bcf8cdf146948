/**
 * The local cloud's router: protocol routing on one port, AWS-shaped errors for malformed
 * requests (never a crash), fault injection applied before dispatch, the admin API, a faults file
 * and state kept across restarts in the data dir.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DescribeInstancesCommand, RunInstancesCommand } from '@aws-sdk/client-ec2';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { DescribeDocumentCommand, GetParameterCommand, PutParameterCommand } from '@aws-sdk/client-ssm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalCloud } from '../../local/cloud.js';
import { localClients } from '../support/local-clients.js';
import { type RawRequest, rawRequest } from '../support/signed-fetch.js';
import {
  CONFIG_YAML,
  errorOf,
  launchInstance,
  startTestCloud,
  type TestCloud,
  waitFor,
} from './local-cloud-helpers.js';

let t: TestCloud;

beforeAll(async () => {
  t = await startTestCloud();
}, 30_000);

afterAll(async () => {
  await t?.stop();
});

/** A raw request, signed for `service` with the local administrator's credentials (unsigned without). */
function raw(init: RawRequest) {
  return rawRequest(t.cloud.endpoint, init);
}

describe('malformed requests get AWS-shaped errors', () => {
  it('answers a JSON body that does not parse with SerializationException', async () => {
    const res = await raw({
      headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'AmazonSSM.GetParameter' },
      body: '{"Name": ',
      service: 'ssm',
    });

    expect(res.status).toBe(400);
    expect(JSON.parse(res.text)).toMatchObject({ __type: 'SerializationException' });
    expect(res.headers.get('x-amzn-errortype')).toBe('SerializationException');
    expect(res.headers.get('content-type')).toBe('application/x-amz-json-1.1');
  });

  it('answers unknown targets and operations with UnknownOperationException', async () => {
    const service = await raw({
      headers: {
        'content-type': 'application/x-amz-json-1.0',
        // A service the local cloud does not run (DynamoDB, an earlier example, now runs).
        'x-amz-target': 'Kinesis_20131202.ListStreams',
      },
      body: '{}',
      service: 'kinesis',
    });
    const operation = await raw({
      headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'AmazonSSM.NoSuchThing' },
      body: '{}',
      service: 'ssm',
    });

    expect(JSON.parse(service.text).__type).toBe('UnknownOperationException');
    expect(JSON.parse(operation.text).__type).toBe('UnknownOperationException');
    expect(operation.status).toBe(400);
  });

  it('answers missing required members with ValidationException (SDK) and ParameterNotFound surfaces in the CLI', async () => {
    const missing = await raw({
      headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'AmazonSSM.GetParameter' },
      body: '{}',
      service: 'ssm',
    });
    const cli = await t.aws(['ssm', 'get-parameter', '--name', '/does/not/exist']);

    expect(JSON.parse(missing.text).__type).toBe('ValidationException');
    expect(cli.code).not.toBe(0);
    expect(cli.stderr).toContain(
      'An error occurred (ParameterNotFound) when calling the GetParameter operation',
    );
  });

  it('answers unknown and missing query actions in the service error shape (EC2 and STS)', async () => {
    const form = { 'content-type': 'application/x-www-form-urlencoded' };

    const unknownEc2 = await raw({
      headers: form,
      body: 'Action=LaunchRockets&Version=2016-11-15',
      service: 'ec2',
    });
    const unknownSts = await raw({
      headers: form,
      body: 'Action=AssumeEverything&Version=2011-06-15',
      service: 'sts',
    });
    const missing = await raw({ headers: form, body: 'Version=2016-11-15', service: 'ec2' });
    const byActionName = await raw({
      headers: form,
      body: 'Action=GetCallerIdentity&Version=2011-06-15',
      service: 'sts',
    });

    expect(unknownEc2.status).toBe(400);
    expect(unknownEc2.text).toContain('<Response><Errors><Error><Code>InvalidAction</Code>');
    expect(unknownSts.text).toContain(
      '<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>InvalidAction</Code>',
    );
    expect(missing.text).toContain('<Code>MissingAction</Code>');
    expect(byActionName.text).toContain('<GetCallerIdentityResult><UserId>');
  });

  it('routes everything else to S3 (S3 error XML for a missing bucket)', async () => {
    const res = await raw({ method: 'GET', path: '/no-such-bucket-anywhere/key', service: 's3' });

    expect(res.status).toBe(404);
    expect(res.text).toContain('<Code>NoSuchBucket</Code>');
  });
});

describe('fault injection', () => {
  it('throttles and fails JSON operations with AWS codes and statuses the SDK recognises', async () => {
    await t.admin('POST', '/faults', [
      { service: 'ssm', operation: 'GetParameter', code: 'ThrottlingException', count: 1 },
      { service: 'ssm', operation: 'GetParameter', code: 'InternalServerError', count: 1 },
    ]);
    const name = '/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64';

    const throttled = await errorOf(t.ssm.send(new GetParameterCommand({ Name: name })));
    const internal = await errorOf(t.ssm.send(new GetParameterCommand({ Name: name })));
    const ok = await t.ssm.send(new GetParameterCommand({ Name: name }));

    expect(throttled.name).toBe('ThrottlingException');
    expect(throttled.$metadata?.httpStatusCode).toBe(400);
    expect(internal.name).toBe('InternalServerError');
    expect(internal.$metadata?.httpStatusCode).toBe(500);
    expect(ok.Parameter?.Value).toMatch(/^ami-/);
  });

  it('delays a call by delayMs (scaled) and never fires a rule with probability 0', async () => {
    await t.admin('DELETE', '/faults');
    await t.admin('POST', '/faults', [
      { service: 'sts', operation: 'GetCallerIdentity', code: 'Throttling', probability: 0 },
      { service: 'ssm', operation: 'GetParameter', delayMs: 30_000, count: 1 },
    ]);
    const started = Date.now();

    await t.ssm.send(
      new GetParameterCommand({
        Name: '/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64',
      }),
    );
    const delayed = Date.now() - started;
    const identity = await t.aws(['sts', 'get-caller-identity']);

    // 30 simulated seconds at time scale 0.01 is 300 ms.
    expect(delayed).toBeGreaterThanOrEqual(280);
    expect(identity.code).toBe(0);
    await t.admin('DELETE', '/faults');
  });

  it('refuses an invalid rule with a message naming the field', async () => {
    const res = await t.admin('POST', '/faults', { service: 'ec2', code: 'Throttling', count: -1 });

    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({
      code: 'ValidationException',
      message: expect.stringContaining('count'),
    });
  });
});

describe('admin API', () => {
  it('reports health, the route list, the state summary and 404 for unknown routes', async () => {
    const health = await t.admin('GET', '/health');
    const routes = await t.admin('GET', '/');
    const state = await t.admin('GET', '/state');
    const unknown = await t.admin('GET', '/nothing-here');

    expect(health.body).toMatchObject({ status: 'ok', accountId: '000000000000', region: 'us-east-1' });
    expect(routes.body.routes.map((r: { path: string }) => r.path)).toEqual(
      expect.arrayContaining([
        '/_local/health',
        '/_local/faults',
        '/_local/clock',
        '/_local/ssm/commands',
        '/_local/fsx/file-systems',
      ]),
    );
    expect(state.body).toMatchObject({
      s3: { buckets: expect.arrayContaining(['conformance']) },
      fsx: { fileSystems: ['fs-00000000000000001'] },
    });
    expect(unknown.status).toBe(404);
  });

  it('changes the time scale at run time', async () => {
    const before = await t.admin('GET', '/clock');
    const changed = await t.admin('POST', '/clock', { timeScale: 0.02 });
    const invalid = await t.admin('POST', '/clock', { timeScale: -1 });
    await t.admin('POST', '/clock', { timeScale: 0.01 });

    expect(before.body.timeScale).toBe(0.01);
    expect(changed.body.timeScale).toBe(0.02);
    expect(invalid.status).toBe(400);
  });
});

describe('start options and restarts', () => {
  it('loads fault rules from a YAML file at start', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fsx-transfer-faults-'));
    const faultsFile = join(dir, 'faults.yaml');
    writeFileSync(
      faultsFile,
      'rules:\n  - service: ec2\n    operation: RunInstances\n    code: InsufficientInstanceCapacity\n    match: {InstanceType: c6i.large}\n',
    );
    const cloud = await startLocalCloud({
      dataDir: join(dir, 'data'),
      faultsFile,
      timeScale: 0.01,
      quiet: true,
      rootDir: dir,
    });
    const ec2 = localClients(cloud.endpoint, { maxAttempts: 1 }).ec2();

    const error = await errorOf(launchInstance(ec2));

    ec2.destroy();
    await cloud.stop();
    rmSync(dir, { recursive: true, force: true });
    expect(error.name).toBe('InsufficientInstanceCapacity');
  }, 30_000);

  it('keeps instances, parameters, documents, objects and bucket settings across a restart', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fsx-transfer-restart-'));
    const configPath = join(dir, 'config.yaml');
    writeFileSync(configPath, CONFIG_YAML);
    const options = { dataDir: join(dir, 'data'), configPath, timeScale: 0.01, quiet: true, rootDir: dir };
    const first = await startLocalCloud(options);
    const clients = (endpoint: string) => {
      const make = localClients(endpoint);
      return { ec2: make.ec2(), ssm: make.ssm(), s3: make.s3() };
    };
    const a = clients(first.endpoint);
    const launched = await a.ec2.send(
      new RunInstancesCommand({
        ImageId: 'ami-0a1b2c3d4e5f60718',
        MinCount: 1,
        MaxCount: 1,
        ClientToken: 'kept',
      }),
    );
    const id = launched.Instances![0]!.InstanceId!;
    await waitFor(async () => {
      const out = await a.ec2.send(new DescribeInstancesCommand({ InstanceIds: [id] }));
      return out.Reservations?.[0]?.Instances?.[0]?.State?.Name === 'running';
    });
    await a.ssm.send(new PutParameterCommand({ Name: '/kept/value', Value: 'still here', Type: 'String' }));
    await a.s3.send(new PutObjectCommand({ Bucket: 'conformance', Key: 'kept.txt', Body: 'object' }));
    await fetch(`${first.endpoint}/_local/ssm/documents`, {
      method: 'POST',
      body: JSON.stringify({
        name: 'kept-doc',
        content:
          'schemaVersion: "2.2"\nmainSteps:\n  - action: aws:runShellScript\n    name: s\n    inputs: {runCommand: [true]}\n',
      }),
    });
    await fetch(`${first.endpoint}/_local/s3/buckets/conformance`, {
      method: 'PUT',
      body: JSON.stringify({ region: 'eu-west-1' }),
    });
    for (const client of Object.values(a)) client.destroy();
    await first.stop();

    const second = await startLocalCloud(options);
    const b = clients(second.endpoint);
    const described = await b.ec2.send(new DescribeInstancesCommand({ InstanceIds: [id] }));
    const again = await b.ec2.send(
      new RunInstancesCommand({
        ImageId: 'ami-0a1b2c3d4e5f60718',
        MinCount: 1,
        MaxCount: 1,
        ClientToken: 'kept',
      }),
    );
    const parameter = await b.ssm.send(new GetParameterCommand({ Name: '/kept/value' }));
    const document = await b.ssm.send(new DescribeDocumentCommand({ Name: 'kept-doc' }));
    const object = await b.s3.send(new GetObjectCommand({ Bucket: 'conformance', Key: 'kept.txt' }));
    const text = await object.Body!.transformToString();
    const buckets = (await (await fetch(`${second.endpoint}/_local/s3/buckets`)).json()) as {
      buckets: unknown[];
    };
    for (const client of Object.values(b)) client.destroy();
    await second.stop();
    rmSync(dir, { recursive: true, force: true });

    expect(described.Reservations?.[0]?.Instances?.[0]?.State?.Name).toBe('running');
    expect(again.Instances?.[0]?.InstanceId).toBe(id);
    expect(parameter.Parameter?.Value).toBe('still here');
    expect(document.Document?.Name).toBe('kept-doc');
    expect(text).toBe('object');
    expect(buckets.buckets).toContainEqual(
      expect.objectContaining({ name: 'conformance', region: 'eu-west-1' }),
    );
  }, 60_000);
});
