/**
 * SSM on the local cloud (JSON 1.1): Parameter Store, agent registration, Command documents and
 * Run Command that really runs the document's script with bash (mount and lfs shimmed, the real
 * AWS CLI against the local S3), driven with the SDK v3 client and the AWS CLI: statuses, exit
 * codes, timeouts, cancellation, truncated output, listing and pagination, events and faults.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TerminateInstancesCommand } from '@aws-sdk/client-ec2';
import {
  CreateDataRepositoryAssociationCommand,
  DescribeDataRepositoryAssociationsCommand,
  DescribeFileSystemsCommand,
  type FSxClient,
} from '@aws-sdk/client-fsx';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import {
  CancelCommandCommand,
  CreateDocumentCommand,
  DeleteParameterCommand,
  DescribeDocumentCommand,
  DescribeInstanceInformationCommand,
  GetCommandInvocationCommand,
  type GetCommandInvocationCommandOutput,
  GetDocumentCommand,
  GetParameterCommand,
  GetParametersByPathCommand,
  ListCommandInvocationsCommand,
  ListCommandsCommand,
  PutParameterCommand,
  SendCommandCommand,
  UpdateDocumentCommand,
} from '@aws-sdk/client-ssm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseListing } from '../../shared/verify/listing.js';
import { localClients } from '../support/local-clients.js';
import {
  errorOf,
  FS_ID,
  launchInstance,
  startTestCloud,
  type TestCloud,
  waitFor,
} from './local-cloud-helpers.js';

let t: TestCloud;
let fsx: FSxClient;
let fileSystem: { dns: string; mountName: string };
/** An instance with its agent online, shared by the Run Command tests (tagged Name=runner). */
let instance: string;

beforeAll(async () => {
  t = await startTestCloud();
  fsx = localClients(t.cloud.endpoint).fsx();
  const described = await fsx.send(new DescribeFileSystemsCommand({ FileSystemIds: [FS_ID] }));
  const fs = described.FileSystems![0]!;
  fileSystem = { dns: fs.DNSName!, mountName: fs.LustreConfiguration!.MountName! };
  instance = await onlineInstance({ Name: 'runner' });
}, 30_000);

afterAll(async () => {
  fsx?.destroy();
  await t?.stop();
});

const TERMINAL = ['Success', 'Failed', 'TimedOut', 'Cancelled'];

async function onlineInstance(tags: Record<string, string> = {}): Promise<string> {
  const out = await launchInstance(t.ec2, {
    TagSpecifications: Object.keys(tags).length
      ? [{ ResourceType: 'instance', Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })) }]
      : undefined,
  });
  const id = out.Instances![0]!.InstanceId!;
  await waitFor(async () => {
    const info = await t.ssm.send(
      new DescribeInstanceInformationCommand({ Filters: [{ Key: 'InstanceIds', Values: [id] }] }),
    );
    return info.InstanceInformationList?.[0]?.PingStatus === 'Online';
  });
  return id;
}

async function finished(
  commandId: string,
  instanceId: string,
  pluginName?: string,
): Promise<GetCommandInvocationCommandOutput> {
  return waitFor(async () => {
    const out = await t.ssm.send(
      new GetCommandInvocationCommand({
        CommandId: commandId,
        InstanceId: instanceId,
        PluginName: pluginName,
      }),
    );
    return TERMINAL.includes(out.Status!) ? out : undefined;
  }, 20_000);
}

function shell(instanceId: string, commands: string[], extra: Record<string, string[]> = {}) {
  return t.ssm.send(
    new SendCommandCommand({
      InstanceIds: [instanceId],
      DocumentName: 'AWS-RunShellScript',
      Parameters: { commands, ...extra },
    }),
  );
}

describe('Parameter Store', () => {
  it('puts, gets, overwrites and deletes parameters with AWS error codes', async () => {
    const name = '/fsx-transfer/local/tokens/11111111-2222-3333-4444-555555555555';

    const put = await t.ssm.send(new PutParameterCommand({ Name: name, Value: 'token-1', Type: 'String' }));
    const exists = await errorOf(
      t.ssm.send(new PutParameterCommand({ Name: name, Value: 'token-2', Type: 'String' })),
    );
    const overwritten = await t.ssm.send(
      new PutParameterCommand({ Name: name, Value: 'token-2', Overwrite: true }),
    );
    const got = await t.ssm.send(new GetParameterCommand({ Name: name }));
    await t.ssm.send(new DeleteParameterCommand({ Name: name }));
    const gone = await errorOf(t.ssm.send(new GetParameterCommand({ Name: name })));
    const goneDelete = await errorOf(t.ssm.send(new DeleteParameterCommand({ Name: name })));
    const reserved = await errorOf(
      t.ssm.send(new PutParameterCommand({ Name: '/aws/mine', Value: 'x', Type: 'String' })),
    );

    expect(put.Version).toBe(1);
    expect(exists.name).toBe('ParameterAlreadyExists');
    expect(overwritten.Version).toBe(2);
    expect(got.Parameter).toMatchObject({
      Name: name,
      Value: 'token-2',
      Version: 2,
      Type: 'String',
      ARN: `arn:aws:ssm:us-east-1:000000000000:parameter${name}`,
    });
    expect(got.Parameter?.LastModifiedDate).toBeInstanceOf(Date);
    expect(gone.name).toBe('ParameterNotFound');
    expect(goneDelete.name).toBe('ParameterNotFound');
    expect(reserved.name).toBe('ValidationException');
  });

  it('serves the public Amazon Linux 2023 AMI parameter (SDK and CLI)', async () => {
    const name = '/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64';

    const sdk = await t.ssm.send(new GetParameterCommand({ Name: name }));
    const cli = await t.aws([
      'ssm',
      'get-parameter',
      '--name',
      name,
      '--query',
      'Parameter.Value',
      '--output',
      'text',
    ]);

    expect(sdk.Parameter?.Value).toMatch(/^ami-[0-9a-f]{17}$/);
    expect(sdk.Parameter?.DataType).toBe('aws:ec2:image');
    expect(cli.stdout.trim()).toBe(sdk.Parameter?.Value);
  });

  it('pages GetParametersByPath', async () => {
    for (let i = 0; i < 5; i += 1) {
      await t.ssm.send(new PutParameterCommand({ Name: `/paged/p${i}`, Value: `v${i}`, Type: 'String' }));
    }
    await t.ssm.send(new PutParameterCommand({ Name: '/paged/deeper/x', Value: 'x', Type: 'String' }));

    const names: string[] = [];
    let token: string | undefined;
    do {
      const page = await t.ssm.send(
        new GetParametersByPathCommand({ Path: '/paged', MaxResults: 2, NextToken: token }),
      );
      names.push(...(page.Parameters ?? []).map((p) => p.Name!));
      token = page.NextToken;
    } while (token);
    const recursive = await t.ssm.send(new GetParametersByPathCommand({ Path: '/paged', Recursive: true }));

    expect(names).toEqual(['/paged/p0', '/paged/p1', '/paged/p2', '/paged/p3', '/paged/p4']);
    expect(recursive.Parameters).toHaveLength(6);
  });
});

describe('SSM agents', () => {
  it('registers an instance agent a while after it is running, and drops it when terminated', async () => {
    const out = await launchInstance(t.ec2);
    const id = out.Instances![0]!.InstanceId!;
    const right = await t.ssm.send(
      new DescribeInstanceInformationCommand({
        InstanceInformationFilterList: [{ key: 'InstanceIds', valueSet: [id] }],
      }),
    );

    const online = await waitFor(async () => {
      const info = await t.ssm.send(
        new DescribeInstanceInformationCommand({
          InstanceInformationFilterList: [{ key: 'InstanceIds', valueSet: [id] }],
        }),
      );
      return info.InstanceInformationList?.[0];
    });
    await t.ec2.send(new TerminateInstancesCommand({ InstanceIds: [id] }));
    await waitFor(async () => {
      const info = await t.ssm.send(
        new DescribeInstanceInformationCommand({ Filters: [{ Key: 'InstanceIds', Values: [id] }] }),
      );
      return info.InstanceInformationList?.length === 0;
    });

    expect(right.InstanceInformationList).toEqual([]);
    expect(online).toMatchObject({
      InstanceId: id,
      PingStatus: 'Online',
      PlatformType: 'Linux',
      ResourceType: 'EC2Instance',
    });
  });

  it('never brings an agent online when an agent-never-online fault matches the instance', async () => {
    await t.admin('POST', '/faults', {
      service: 'ssm',
      behavior: 'agent-never-online',
      match: { 'tag:Name': 'broken-agent' },
    });
    const out = await launchInstance(t.ec2, {
      TagSpecifications: [{ ResourceType: 'instance', Tags: [{ Key: 'Name', Value: 'broken-agent' }] }],
    });
    const id = out.Instances![0]!.InstanceId!;
    const healthy = await onlineInstance();

    const info = await t.ssm.send(
      new DescribeInstanceInformationCommand({ Filters: [{ Key: 'InstanceIds', Values: [id, healthy] }] }),
    );
    const refused = await errorOf(shell(id, ['echo never']));

    expect(info.InstanceInformationList?.map((i) => i.InstanceId)).toEqual([healthy]);
    expect(refused.name).toBe('InvalidInstanceId');
    await t.admin('DELETE', '/faults');
    await t.ec2.send(new TerminateInstancesCommand({ InstanceIds: [id, healthy] }));
  });
});

describe('SSM documents', () => {
  const content = `schemaVersion: "2.2"
description: conformance document
parameters:
  Name:
    type: String
    allowedPattern: "^[a-z]+$"
  Greeting:
    type: String
    default: hello
mainSteps:
  - action: aws:runShellScript
    name: first
    inputs:
      runCommand:
        - echo "{{ Greeting }} {{ Name }}"
  - action: aws:runShellScript
    name: second
    inputs:
      runCommand:
        - echo second step
`;

  it('creates, describes, gets (with format conversion) and versions a Command document', async () => {
    const created = await t.ssm.send(
      new CreateDocumentCommand({
        Name: 'conformance-doc',
        Content: content,
        DocumentType: 'Command',
        DocumentFormat: 'YAML',
      }),
    );
    const described = await t.ssm.send(new DescribeDocumentCommand({ Name: 'conformance-doc' }));
    const asJson = await t.ssm.send(
      new GetDocumentCommand({ Name: 'conformance-doc', DocumentFormat: 'JSON' }),
    );
    const duplicate = await errorOf(
      t.ssm.send(
        new CreateDocumentCommand({ Name: 'conformance-doc', Content: content, DocumentFormat: 'YAML' }),
      ),
    );
    const invalid = await errorOf(
      t.ssm.send(
        new CreateDocumentCommand({
          Name: 'broken-doc',
          Content: 'schemaVersion: "2.2"\nmainSteps: []\n',
          DocumentFormat: 'YAML',
        }),
      ),
    );
    const missing = await errorOf(t.ssm.send(new DescribeDocumentCommand({ Name: 'no-such-doc' })));
    const updated = await t.ssm.send(
      new UpdateDocumentCommand({
        Name: 'conformance-doc',
        Content: content.replace('conformance document', 'v2'),
        DocumentVersion: '$LATEST',
        DocumentFormat: 'YAML',
      }),
    );

    expect(created.DocumentDescription).toMatchObject({
      Name: 'conformance-doc',
      Status: 'Active',
      DocumentVersion: '1',
      SchemaVersion: '2.2',
    });
    expect(described.Document?.Parameters).toEqual([
      { Name: 'Name', Type: 'String' },
      { Name: 'Greeting', Type: 'String', DefaultValue: 'hello' },
    ]);
    expect(JSON.parse(asJson.Content!).mainSteps).toHaveLength(2);
    expect(duplicate.name).toBe('DocumentAlreadyExists');
    expect(invalid.name).toBe('InvalidDocumentContent');
    expect(missing.name).toBe('InvalidDocument');
    expect(updated.DocumentDescription).toMatchObject({
      DocumentVersion: '2',
      LatestVersion: '2',
      DefaultVersion: '1',
    });
  });

  it('registers the project transfer document at start under its serverless.yml name', async () => {
    const described = await t.ssm.send(new DescribeDocumentCommand({ Name: 'fsx-transfer-local-transfer' }));

    expect(described.Document?.Parameters?.map((p) => p.Name)).toEqual(
      expect.arrayContaining(['Direction', 'FileSystemDnsName', 'MountPoint', 'S3Bucket']),
    );
  });

  it('validates SendCommand parameters and targets with InvalidParameters, InvalidInstanceId and InvalidDocument', async () => {
    const badPattern = await errorOf(
      t.ssm.send(
        new SendCommandCommand({
          InstanceIds: [instance],
          DocumentName: 'conformance-doc',
          Parameters: { Name: ['rm -rf /; echo'] },
        }),
      ),
    );
    const unknown = await errorOf(
      t.ssm.send(
        new SendCommandCommand({
          InstanceIds: [instance],
          DocumentName: 'conformance-doc',
          Parameters: { Name: ['ok'], Extra: ['x'] },
        }),
      ),
    );
    const missing = await errorOf(
      t.ssm.send(new SendCommandCommand({ InstanceIds: [instance], DocumentName: 'conformance-doc' })),
    );
    const noInstance = await errorOf(shell('i-0123456789abcdef0', ['true']));
    const noDocument = await errorOf(
      t.ssm.send(new SendCommandCommand({ InstanceIds: [instance], DocumentName: 'no-such-doc' })),
    );
    const badTimeout = await errorOf(
      t.ssm.send(
        new SendCommandCommand({
          InstanceIds: [instance],
          DocumentName: 'AWS-RunShellScript',
          Parameters: { commands: ['true'] },
          TimeoutSeconds: 5,
        }),
      ),
    );

    expect([badPattern, unknown, missing].map((e) => e.name)).toEqual([
      'InvalidParameters',
      'InvalidParameters',
      'InvalidParameters',
    ]);
    expect(noInstance.name).toBe('InvalidInstanceId');
    expect(noInstance.message).toBe(
      'Instances [[i-0123456789abcdef0]] not in a valid state for account 000000000000',
    );
    expect(noDocument.name).toBe('InvalidDocument');
    expect(badTimeout.name).toBe('ValidationException');
  });

  it('runs every step, needs PluginName for a multi-step document, and substitutes defaults', async () => {
    const sent = await t.ssm.send(
      new SendCommandCommand({
        InstanceIds: [instance],
        DocumentName: 'conformance-doc',
        Parameters: { Name: ['world'] },
      }),
    );
    const commandId = sent.Command!.CommandId!;

    const first = await finished(commandId, instance, 'first');
    const second = await finished(commandId, instance, 'second');
    const ambiguous = await errorOf(
      t.ssm.send(new GetCommandInvocationCommand({ CommandId: commandId, InstanceId: instance })),
    );

    expect(first).toMatchObject({
      Status: 'Success',
      ResponseCode: 0,
      StandardOutputContent: 'hello world\n',
      PluginName: 'first',
    });
    expect(second.StandardOutputContent).toBe('second step\n');
    expect(ambiguous.name).toBe('InvalidPluginName');
  });
});

describe('Run Command', () => {
  it('reports Pending/InProgress/Success with output, and emits AWS-shaped status events', async () => {
    const sent = await shell(instance, ['echo "running on $AWS_SSM_INSTANCE_ID"', 'echo to-stderr >&2']);
    const commandId = sent.Command!.CommandId!;

    const result = await finished(commandId, instance);

    expect(sent.Command).toMatchObject({
      Status: 'Pending',
      DocumentName: 'AWS-RunShellScript',
      InstanceIds: [instance],
      TargetCount: 1,
    });
    expect(result).toMatchObject({
      Status: 'Success',
      StatusDetails: 'Success',
      ResponseCode: 0,
      StandardOutputContent: `running on ${instance}\n`,
      StandardErrorContent: 'to-stderr\n',
    });
    expect(result.ExecutionElapsedTime).toMatch(/^PT\d+\.\d{3}S$/);
    const invocationEvents = t.cloud.eventLog.filter(
      (e) =>
        e['detail-type'] === 'EC2 Command Invocation Status-change Notification' &&
        e.detail['command-id'] === commandId,
    );
    expect(invocationEvents.map((e) => e.detail.status)).toEqual(['InProgress', 'Success']);
    expect(invocationEvents[1]).toMatchObject({
      source: 'aws.ssm',
      resources: [`arn:aws:ec2:us-east-1:000000000000:instance/${instance}`],
      detail: {
        'command-id': commandId,
        'document-name': 'AWS-RunShellScript',
        'instance-id': instance,
        status: 'Success',
      },
    });
    expect(invocationEvents[1]!.detail['requested-date-time']).toMatch(/^\d{4}-\d{2}-\d{2}T/);
    const commandEvents = t.cloud.eventLog.filter(
      (e) =>
        e['detail-type'] === 'EC2 Command Status-change Notification' && e.detail['command-id'] === commandId,
    );
    expect(commandEvents.at(-1)?.detail).toMatchObject({
      status: 'Success',
      parameters: { commands: expect.any(Array) },
    });
  });

  it('propagates a non-zero exit code as Failed with its ResponseCode', async () => {
    const sent = await shell(instance, ['echo partial', 'exit 3']);

    const result = await finished(sent.Command!.CommandId!, instance);

    expect(result).toMatchObject({
      Status: 'Failed',
      StatusDetails: 'Failed',
      ResponseCode: 3,
      StandardOutputContent: 'partial\n',
    });
  });

  it('kills a step that runs past its execution timeout (TimedOut)', async () => {
    const sent = await shell(instance, ['echo started', 'sleep 60', 'echo never'], {
      executionTimeout: ['10'],
    });

    const result = await finished(sent.Command!.CommandId!, instance);

    // 10 simulated seconds at time scale 0.01: the step is killed after 100 ms.
    expect(result).toMatchObject({
      Status: 'TimedOut',
      StatusDetails: 'ExecutionTimedOut',
      ResponseCode: -1,
    });
    expect(result.StandardOutputContent).toBe('started\n');
  });

  it('cancels a running command: Cancelling, then Cancelled, and its processes are gone', async () => {
    const pidFile = join(t.dir, 'cancel.pid');
    const sent = await shell(instance, [`echo $$ > ${pidFile}`, 'sleep 300 & wait']);
    const commandId = sent.Command!.CommandId!;
    await waitFor(() => existsSync(pidFile) && readFileSync(pidFile, 'utf8').trim());
    const pid = Number(readFileSync(pidFile, 'utf8'));

    await t.ssm.send(new CancelCommandCommand({ CommandId: commandId }));
    const result = await finished(commandId, instance);
    const listed = await t.ssm.send(new ListCommandsCommand({ CommandId: commandId }));

    expect(result.Status).toBe('Cancelled');
    expect(listed.Commands?.[0]?.Status).toBe('Cancelled');
    expect(() => process.kill(pid, 0)).toThrow();
    const statuses = t.cloud.eventLog
      .filter(
        (e) =>
          e['detail-type'] === 'EC2 Command Invocation Status-change Notification' &&
          e.detail['command-id'] === commandId,
      )
      .map((e) => e.detail.status);
    expect(statuses).toEqual(['InProgress', 'Cancelling', 'Cancelled']);
  });

  it('truncates StandardOutputContent at 24,000 and StandardErrorContent at 8,000 characters', async () => {
    const sent = await shell(instance, [
      "head -c 30000 /dev/zero | tr '\\0' o",
      "head -c 9000 /dev/zero | tr '\\0' e >&2",
    ]);

    const result = await finished(sent.Command!.CommandId!, instance);

    expect(result.StandardOutputContent).toHaveLength(24_000);
    expect(result.StandardErrorContent).toHaveLength(8_000);
  });

  it('lists commands and invocations with filters, details and pagination', async () => {
    const ids: string[] = [];
    for (const word of ['one', 'two', 'three']) {
      const sent = await shell(instance, [`echo ${word}`]);
      ids.push(sent.Command!.CommandId!);
      await finished(sent.Command!.CommandId!, instance);
    }

    const pages: string[] = [];
    let token: string | undefined;
    for (let i = 0; i < 3; i += 1) {
      const page = await t.ssm.send(
        new ListCommandsCommand({ InstanceId: instance, MaxResults: 1, NextToken: token }),
      );
      pages.push(page.Commands![0]!.CommandId!);
      token = page.NextToken;
    }
    const invocations = await t.ssm.send(
      new ListCommandInvocationsCommand({ CommandId: ids[1], Details: true }),
    );
    const failed = await t.ssm.send(
      new ListCommandsCommand({ Filters: [{ key: 'Status', value: 'Failed' }] }),
    );
    const unknownCommand = await errorOf(
      t.ssm.send(new ListCommandsCommand({ CommandId: '00000000-0000-0000-0000-000000000000' })),
    );
    const noInvocation = await errorOf(
      t.ssm.send(
        new GetCommandInvocationCommand({
          CommandId: '00000000-0000-0000-0000-000000000000',
          InstanceId: instance,
        }),
      ),
    );
    const badId = await errorOf(
      t.ssm.send(new GetCommandInvocationCommand({ CommandId: 'short', InstanceId: instance })),
    );

    expect(pages).toEqual([ids[2], ids[1], ids[0]]);
    expect(token).toBeDefined();
    expect(invocations.CommandInvocations?.[0]).toMatchObject({
      CommandId: ids[1],
      InstanceId: instance,
      InstanceName: 'runner',
      Status: 'Success',
      CommandPlugins: [{ Name: 'runShellScript', Status: 'Success', ResponseCode: 0, Output: 'two\n' }],
    });
    expect(failed.Commands?.every((c) => c.Status === 'Failed')).toBe(true);
    expect(failed.Commands?.length).toBeGreaterThanOrEqual(1);
    expect(unknownCommand.name).toBe('InvalidCommandId');
    expect(noInvocation.name).toBe('InvocationDoesNotExist');
    expect(badId.name).toBe('ValidationException');
  });

  it('applies command-exit and command-slow faults to matching invocations', async () => {
    await t.admin('POST', '/faults', {
      service: 'ssm',
      behavior: 'command-exit',
      exitCode: 7,
      count: 1,
      match: { DocumentName: 'AWS-RunShellScript' },
    });

    const failing = await shell(instance, ['echo would succeed']);
    const failed = await finished(failing.Command!.CommandId!, instance);
    await t.admin('POST', '/faults', { service: 'ssm', behavior: 'command-slow', delayMs: 50_000, count: 1 });
    const started = Date.now();
    const slow = await shell(instance, ['echo slow']);
    const slowResult = await finished(slow.Command!.CommandId!, instance);

    expect(failed).toMatchObject({ Status: 'Failed', ResponseCode: 7, StandardOutputContent: '' });
    expect(slowResult.Status).toBe('Success');
    expect(Date.now() - started).toBeGreaterThanOrEqual(450);
    await t.admin('DELETE', '/faults');
  });

  it('copies S3 -> the file system and back with the project document (mount shimmed, real aws s3 sync)', async () => {
    const files: Record<string, string> = { 'a.txt': 'alpha', 'sub dir/b é.nc': 'beta', 'empty.dat': '' };
    for (const [key, value] of Object.entries(files)) {
      await t.s3.send(new PutObjectCommand({ Bucket: 'conformance', Key: `data/${key}`, Body: value }));
    }
    const common = {
      FileSystemDnsName: [fileSystem.dns],
      MountName: [fileSystem.mountName],
      FsxPath: ['/data'],
      S3Bucket: ['conformance'],
      Region: ['us-east-1'],
    };

    const stageIn = await t.ssm.send(
      new SendCommandCommand({
        InstanceIds: [instance],
        DocumentName: 'fsx-transfer-local-transfer',
        Parameters: { ...common, Direction: ['stage-in'], S3Prefix: ['data'] },
      }),
    );
    // The project document has two steps (transfer, checksums): its steps are read by name.
    const stageInResult = await finished(stageIn.Command!.CommandId!, instance, 'transfer');
    const root = t.cloud.fsx.fileSystemRoot(FS_ID);
    mkdirSync(join(root, 'data/results'), { recursive: true });
    writeFileSync(join(root, 'data/results/out.csv'), 'x,y\n1,2\n');
    const exported = await t.ssm.send(
      new SendCommandCommand({
        InstanceIds: [instance],
        DocumentName: 'fsx-transfer-local-transfer',
        Parameters: {
          ...common,
          Direction: ['export'],
          S3Prefix: ['exported'],
          ListingUri: ['s3://conformance/listings/export'],
        },
      }),
    );
    const exportResult = await finished(exported.Command!.CommandId!, instance, 'transfer');
    const listed = await t.s3.send(new ListObjectsV2Command({ Bucket: 'conformance', Prefix: 'exported/' }));
    const listing = await t.s3.send(new GetObjectCommand({ Bucket: 'conformance', Key: 'listings/export' }));

    expect(stageInResult.Status, stageInResult.StandardErrorContent).toBe('Success');
    expect(stageInResult.StandardOutputContent).toContain('mounted');
    expect(stageInResult.StandardOutputContent).toContain('aws s3 sync s3://conformance/data/ /fsx/data');
    for (const [key, value] of Object.entries(files))
      expect(readFileSync(join(root, 'data', key), 'utf8')).toBe(value);
    expect(exportResult.Status, exportResult.StandardErrorContent).toBe('Success');
    expect((listed.Contents ?? []).map((o) => o.Key).sort()).toEqual(
      ['exported/a.txt', 'exported/empty.dat', 'exported/results/out.csv', 'exported/sub dir/b é.nc'].sort(),
    );
    expect(parseListing(await listing.Body!.transformToString()).files).toEqual([
      { path: 'a.txt', size: 5 },
      { path: 'empty.dat', size: 0 },
      { path: 'results/out.csv', size: 8 },
      { path: 'sub dir/b é.nc', size: 4 },
    ]);
  }, 60_000);

  it('fails the project document with the mount error for an unknown file system DNS name', async () => {
    const sent = await t.ssm.send(
      new SendCommandCommand({
        InstanceIds: [await onlineInstance()],
        DocumentName: 'fsx-transfer-local-transfer',
        Parameters: {
          Direction: ['stage-in'],
          FileSystemDnsName: ['fs-0ffffffffffffffff.fsx.us-east-1.amazonaws.com'],
          MountName: ['abcdefgh'],
          FsxPath: ['/data'],
          S3Bucket: ['conformance'],
          Region: ['us-east-1'],
        },
      }),
    );

    const result = await finished(sent.Command!.CommandId!, sent.Command!.InstanceIds![0]!, 'transfer');

    expect(result).toMatchObject({ Status: 'Failed', ResponseCode: 4 });
    expect(result.StandardErrorContent).toContain(
      'mount.lustre: mount fs-0ffffffffffffffff.fsx.us-east-1.amazonaws.com@tcp:/abcdefgh at /fsx failed',
    );
  }, 30_000);

  it('restores lazily imported contents with lfs hsm_restore (relative path) through the FSx emulator', async () => {
    await t.s3.send(
      new PutObjectCommand({ Bucket: 'conformance', Key: 'lazy/model.nc', Body: 'lazy contents' }),
    );
    await fsx.send(
      new CreateDataRepositoryAssociationCommand({
        FileSystemId: FS_ID,
        FileSystemPath: '/lazy',
        DataRepositoryPath: 's3://conformance/lazy',
        BatchImportMetaDataOnCreate: true,
        S3: { AutoImportPolicy: { Events: ['NEW', 'CHANGED', 'DELETED'] } },
      }),
    );
    await waitFor(async () => {
      const out = await fsx.send(
        new DescribeDataRepositoryAssociationsCommand({
          Filters: [{ Name: 'file-system-id', Values: [FS_ID] }],
        }),
      );
      return out.Associations?.find((a) => a.FileSystemPath === '/lazy')?.Lifecycle === 'AVAILABLE';
    }, 20_000);
    await waitFor(() => existsSync(join(t.cloud.fsx.fileSystemRoot(FS_ID), 'lazy/model.nc')), 20_000);

    const sent = await shell(instance, [
      'mountpoint -q /fsx || { mkdir -p /fsx && mount -t lustre -o relatime,flock ' +
        `${fileSystem.dns}@tcp:/${fileSystem.mountName} /fsx; }`,
      'lfs hsm_state /fsx/lazy/model.nc',
      // A relative path resolves against the working directory inside the mount.
      '(cd /fsx/lazy && lfs hsm_restore ./model.nc)',
      'lfs hsm_state /fsx/lazy/model.nc',
      'cat /fsx/lazy/model.nc',
    ]);
    const result = await finished(sent.Command!.CommandId!, instance);

    expect(result.Status, result.StandardErrorContent).toBe('Success');
    const lines = result.StandardOutputContent!.trim().split('\n');
    expect(lines[0]).toMatch(/^\/fsx\/lazy\/model\.nc: .*released/);
    expect(lines[1]).not.toMatch(/released/);
    expect(lines[2]).toBe('lazy contents');
  }, 60_000);
});

describe('Run Command through the AWS CLI', () => {
  it('sends a command and reads its invocation', async () => {
    const sent = await t.aws([
      'ssm',
      'send-command',
      '--instance-ids',
      instance,
      '--document-name',
      'AWS-RunShellScript',
      '--parameters',
      'commands=["echo from the cli"]',
      '--query',
      'Command.CommandId',
      '--output',
      'text',
    ]);
    const commandId = sent.stdout.trim();
    await finished(commandId, instance);
    const got = await t.aws([
      'ssm',
      'get-command-invocation',
      '--command-id',
      commandId,
      '--instance-id',
      instance,
    ]);
    const missing = await t.aws([
      'ssm',
      'get-command-invocation',
      '--command-id',
      '00000000-0000-0000-0000-000000000000',
      '--instance-id',
      instance,
    ]);

    expect(sent.code, sent.stderr).toBe(0);
    expect(JSON.parse(got.stdout)).toMatchObject({
      Status: 'Success',
      StandardOutputContent: 'from the cli\n',
    });
    expect(missing.stderr).toContain('(InvocationDoesNotExist)');
  }, 30_000);
});
