/**
 * EC2 and STS on the local cloud (query protocol): the SDK v3 clients and the AWS CLI against
 * RunInstances / DescribeInstances / TerminateInstances / CreateTags / DescribeSubnets /
 * DescribeSecurityGroups / DescribeVpcs and GetCallerIdentity, with lifecycles on the scaled clock,
 * ClientToken idempotency, filters, pagination, AWS error codes, capacity and throttling faults and
 * the user-data shutdown watchdog.
 */
import {
  CreateTagsCommand,
  DescribeInstancesCommand,
  DescribeSecurityGroupsCommand,
  DescribeSubnetsCommand,
  DescribeVpcsCommand,
  type Instance,
  type RunInstancesCommandInput,
  TerminateInstancesCommand,
} from '@aws-sdk/client-ec2';
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localClients } from '../support/local-clients.js';
import { rawRequest } from '../support/signed-fetch.js';
import {
  AMI,
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

function launch(overrides: Partial<RunInstancesCommandInput> = {}) {
  return launchInstance(t.ec2, overrides);
}

async function describe1(instanceId: string): Promise<Instance> {
  const out = await t.ec2.send(new DescribeInstancesCommand({ InstanceIds: [instanceId] }));
  return out.Reservations![0]!.Instances![0]!;
}

async function stateOf(instanceId: string): Promise<string | undefined> {
  return (await describe1(instanceId)).State?.Name;
}

describe('STS', () => {
  it('answers GetCallerIdentity with the local account and the caller ARN (SDK and CLI)', async () => {
    const sdk = await t.sts.send(new GetCallerIdentityCommand({}));
    t.cloud.credentials.add({ accessKeyId: 'alice', secretAccessKey: 'x' });
    const other = localClients(t.cloud.endpoint, {
      credentials: { accessKeyId: 'alice', secretAccessKey: 'x' },
    }).sts();
    const alice = await other.send(new GetCallerIdentityCommand({}));
    other.destroy();
    const cli = await t.aws(['sts', 'get-caller-identity']);

    expect(sdk).toMatchObject({ Account: '000000000000', Arn: 'arn:aws:iam::000000000000:user/test' });
    expect(alice.Arn).toBe('arn:aws:iam::000000000000:user/alice');
    expect(JSON.parse(cli.stdout)).toMatchObject({
      Account: '000000000000',
      Arn: 'arn:aws:iam::000000000000:user/test',
    });
  });
});

describe('EC2 instances', () => {
  it('launches with every option the orchestrator sends and reports them back', async () => {
    const userData = Buffer.from('#!/bin/bash\ndnf install -y lustre-client\n').toString('base64');

    const out = await launch({
      ClientToken: 'full-options',
      UserData: userData,
      InstanceInitiatedShutdownBehavior: 'terminate',
      MetadataOptions: { HttpTokens: 'required', HttpEndpoint: 'enabled', HttpPutResponseHopLimit: 2 },
      IamInstanceProfile: { Name: 'fsx-transfer-instance' },
      BlockDeviceMappings: [
        {
          DeviceName: '/dev/xvda',
          Ebs: { VolumeSize: 20, VolumeType: 'gp3', Encrypted: true, DeleteOnTermination: true },
        },
      ],
      NetworkInterfaces: [
        {
          DeviceIndex: 0,
          SubnetId: 'subnet-00000000000000002',
          Groups: ['sg-00000000000000001'],
          AssociatePublicIpAddress: false,
        },
      ],
      TagSpecifications: [
        {
          ResourceType: 'instance',
          Tags: [
            { Key: 'fsx-transfer:execution', Value: 'exec-1' },
            { Key: 'Name', Value: 'full' },
          ],
        },
      ],
    });

    const instance = out.Instances![0]!;
    expect(out.ReservationId).toMatch(/^r-[0-9a-f]{17}$/);
    expect(out.OwnerId).toBe('000000000000');
    expect(instance).toMatchObject({
      ImageId: AMI,
      InstanceType: 'c6i.large',
      State: { Code: 0, Name: 'pending' },
      SubnetId: 'subnet-00000000000000002',
      VpcId: 'vpc-00000000000000001',
      ClientToken: 'full-options',
      MetadataOptions: { HttpTokens: 'required', HttpPutResponseHopLimit: 2, State: 'applied' },
      IamInstanceProfile: { Arn: 'arn:aws:iam::000000000000:instance-profile/fsx-transfer-instance' },
      SecurityGroups: [{ GroupId: 'sg-00000000000000001' }],
      Tags: expect.arrayContaining([{ Key: 'fsx-transfer:execution', Value: 'exec-1' }]),
      Placement: { AvailabilityZone: 'us-east-1b' },
    });
    expect(instance.PublicIpAddress).toBeUndefined();
    expect(instance.BlockDeviceMappings?.[0]?.Ebs?.VolumeId).toMatch(/^vol-/);
    const record = (await t.admin('GET', '/ec2/instances')).body.instances.find(
      (i: { instanceId: string }) => i.instanceId === instance.InstanceId,
    );
    expect(record).toMatchObject({
      shutdownBehavior: 'terminate',
      userData,
      blockDeviceMappings: [{ encrypted: true, volumeSize: 20 }],
    });
  });

  it('moves pending -> running on the scaled clock and emits EC2 Instance State-change Notifications', async () => {
    const id = (await launch()).Instances![0]!.InstanceId!;

    await waitFor(async () => (await stateOf(id)) === 'running');

    const states = t.cloud.eventLog
      .filter(
        (e) =>
          e['detail-type'] === 'EC2 Instance State-change Notification' && e.detail['instance-id'] === id,
      )
      .map((e) => e.detail.state);
    expect(states).toEqual(['pending', 'running']);
    const event = t.cloud.eventLog.find((e) => e.detail['instance-id'] === id)!;
    expect(event).toMatchObject({
      source: 'aws.ec2',
      resources: [`arn:aws:ec2:us-east-1:000000000000:instance/${id}`],
    });
  });

  it('terminates: shutting-down then terminated, with previous and current states in the response', async () => {
    const id = (await launch()).Instances![0]!.InstanceId!;
    await waitFor(async () => (await stateOf(id)) === 'running');

    const out = await t.ec2.send(new TerminateInstancesCommand({ InstanceIds: [id] }));
    await waitFor(async () => (await stateOf(id)) === 'terminated');
    const again = await t.ec2.send(new TerminateInstancesCommand({ InstanceIds: [id] }));

    expect(out.TerminatingInstances).toEqual([
      {
        InstanceId: id,
        PreviousState: { Code: 16, Name: 'running' },
        CurrentState: { Code: 32, Name: 'shutting-down' },
      },
    ]);
    expect(again.TerminatingInstances?.[0]).toMatchObject({
      PreviousState: { Name: 'terminated' },
      CurrentState: { Name: 'terminated' },
    });
    expect((await describe1(id)).StateReason?.Code).toBe('Client.UserInitiatedShutdown');
    const states = t.cloud.eventLog.filter((e) => e.detail['instance-id'] === id).map((e) => e.detail.state);
    expect(states).toEqual(['pending', 'running', 'shutting-down', 'terminated']);
  });

  it('returns the original reservation for a repeated ClientToken and refuses changed parameters', async () => {
    const first = await launch({ ClientToken: 'idempotent-launch-1' });
    const second = await launch({ ClientToken: 'idempotent-launch-1' });
    const mismatch = await errorOf(launch({ ClientToken: 'idempotent-launch-1', InstanceType: 'm6i.large' }));

    const byToken = await t.ec2.send(
      new DescribeInstancesCommand({ Filters: [{ Name: 'client-token', Values: ['idempotent-launch-1'] }] }),
    );
    expect(second.ReservationId).toBe(first.ReservationId);
    expect(second.Instances![0]!.InstanceId).toBe(first.Instances![0]!.InstanceId);
    expect(byToken.Reservations?.flatMap((r) => r.Instances ?? [])).toHaveLength(1);
    expect(mismatch.name).toBe('IdempotentParameterMismatch');
  });

  it('filters by tag, state and id and paginates with MaxResults/NextToken', async () => {
    const tag = { Key: 'batch', Value: 'pagination' };
    const out = await launch({
      MinCount: 7,
      MaxCount: 7,
      TagSpecifications: [{ ResourceType: 'instance', Tags: [tag] }],
    });
    const ids = out.Instances!.map((i) => i.InstanceId!);
    await waitFor(async () => {
      const running = await t.ec2.send(
        new DescribeInstancesCommand({
          Filters: [
            { Name: 'tag:batch', Values: ['pagination'] },
            { Name: 'instance-state-name', Values: ['running'] },
          ],
        }),
      );
      return running.Reservations?.flatMap((r) => r.Instances ?? []).length === 7;
    });

    const pages: string[][] = [];
    let token: string | undefined;
    do {
      const page = await t.ec2.send(
        new DescribeInstancesCommand({
          Filters: [{ Name: 'tag:batch', Values: ['pagin*'] }],
          MaxResults: 5,
          NextToken: token,
        }),
      );
      pages.push((page.Reservations ?? []).flatMap((r) => r.Instances ?? []).map((i) => i.InstanceId!));
      token = page.NextToken;
    } while (token);
    const byId = await t.ec2.send(
      new DescribeInstancesCommand({ Filters: [{ Name: 'instance-id', Values: [ids[3]!] }] }),
    );
    const none = await t.ec2.send(
      new DescribeInstancesCommand({ Filters: [{ Name: 'tag:batch', Values: ['other'] }] }),
    );

    expect(pages.map((p) => p.length)).toEqual([5, 2]);
    expect(pages.flat().sort()).toEqual([...ids].sort());
    expect(byId.Reservations?.[0]?.Instances?.map((i) => i.InstanceId)).toEqual([ids[3]]);
    expect(none.Reservations).toEqual([]);
    await t.ec2.send(new TerminateInstancesCommand({ InstanceIds: ids }));
  });

  it('answers bad requests with EC2 error codes', async () => {
    const cases = await Promise.all([
      errorOf(t.ec2.send(new DescribeInstancesCommand({ InstanceIds: ['i-0123456789abcdef0'] }))),
      errorOf(t.ec2.send(new DescribeInstancesCommand({ InstanceIds: ['not-an-instance'] }))),
      errorOf(
        t.ec2.send(new DescribeInstancesCommand({ InstanceIds: ['i-0123456789abcdef0'], MaxResults: 5 })),
      ),
      errorOf(t.ec2.send(new DescribeInstancesCommand({ MaxResults: 2 }))),
      errorOf(t.ec2.send(new DescribeInstancesCommand({ NextToken: 'garbage' }))),
      errorOf(
        t.ec2.send(new DescribeInstancesCommand({ Filters: [{ Name: 'no-such-filter', Values: ['x'] }] })),
      ),
      errorOf(t.ec2.send(new TerminateInstancesCommand({ InstanceIds: ['i-0123456789abcdef0'] }))),
      errorOf(launch({ SubnetId: 'subnet-0000000000000dead' })),
      errorOf(launch({ SecurityGroupIds: ['sg-0000000000000dead'] })),
      errorOf(
        launch({
          SubnetId: 'subnet-00000000000000001',
          NetworkInterfaces: [{ DeviceIndex: 0, SubnetId: 'subnet-00000000000000001' }],
        }),
      ),
      errorOf(launch({ ImageId: 'not-an-ami' })),
      errorOf(launch({ InstanceInitiatedShutdownBehavior: 'hibernate' as 'stop' })),
      errorOf(
        launch({
          TagSpecifications: [{ ResourceType: 'instance', Tags: [{ Key: 'aws:reserved', Value: 'x' }] }],
        }),
      ),
      errorOf(launch({ DryRun: true })),
    ]);

    expect(cases.map((e) => e.name)).toEqual([
      'InvalidInstanceID.NotFound',
      'InvalidInstanceID.Malformed',
      'InvalidParameterCombination',
      'InvalidParameterValue',
      'InvalidPaginationToken',
      'InvalidParameterValue',
      'InvalidInstanceID.NotFound',
      'InvalidSubnetID.NotFound',
      'InvalidGroup.NotFound',
      'InvalidParameterCombination',
      'InvalidAMIID.Malformed',
      'InvalidParameterValue',
      'InvalidParameterValue',
      'DryRunOperation',
    ]);
    expect(cases[0]!.message).toBe("The instance ID 'i-0123456789abcdef0' does not exist");
    expect(cases[13]!.$metadata?.httpStatusCode).toBe(412);
  });

  it('refuses a launch without MinCount with MissingParameter (raw query request)', async () => {
    const res = await rawRequest(t.cloud.endpoint, {
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `Action=RunInstances&Version=2016-11-15&ImageId=${AMI}&MaxCount=1`,
      service: 'ec2',
    });
    const xml = res.text;

    expect(res.status).toBe(400);
    expect(xml).toContain('<Response><Errors><Error><Code>MissingParameter</Code>');
    expect(xml).toMatch(/<RequestID>[0-9a-f-]{36}<\/RequestID><\/Response>$/);
  });

  it('tags instances with CreateTags', async () => {
    const id = (await launch()).Instances![0]!.InstanceId!;

    await t.ec2.send(new CreateTagsCommand({ Resources: [id], Tags: [{ Key: 'added', Value: 'later' }] }));

    expect((await describe1(id)).Tags).toEqual([{ Key: 'added', Value: 'later' }]);
    await t.ec2.send(new TerminateInstancesCommand({ InstanceIds: [id] }));
  });

  it('describes the VPC, subnets and security groups of the config', async () => {
    const subnets = await t.ec2.send(
      new DescribeSubnetsCommand({ Filters: [{ Name: 'vpc-id', Values: ['vpc-00000000000000001'] }] }),
    );
    const groups = await t.ec2.send(
      new DescribeSecurityGroupsCommand({ GroupIds: ['sg-00000000000000001'] }),
    );
    const vpcs = await t.ec2.send(new DescribeVpcsCommand({}));
    const missing = await errorOf(
      t.ec2.send(new DescribeSubnetsCommand({ SubnetIds: ['subnet-0000000000000dead'] })),
    );

    expect(subnets.Subnets?.map((s) => [s.SubnetId, s.AvailabilityZone])).toEqual([
      ['subnet-00000000000000001', 'us-east-1a'],
      ['subnet-00000000000000002', 'us-east-1b'],
    ]);
    expect(groups.SecurityGroups?.[0]?.IpPermissions?.map((p) => [p.FromPort, p.ToPort])).toEqual([
      [988, 988],
      [1018, 1023],
    ]);
    expect(vpcs.Vpcs?.[0]?.VpcId).toBe('vpc-00000000000000001');
    expect(missing.name).toBe('InvalidSubnetID.NotFound');
  });
});

describe('EC2 faults and the watchdog', () => {
  it('fails launches with InsufficientInstanceCapacity for the matching instance type and subnet only', async () => {
    await t.admin('POST', '/faults', [
      {
        service: 'ec2',
        operation: 'RunInstances',
        code: 'InsufficientInstanceCapacity',
        match: { InstanceType: 'c6i.large' },
      },
      {
        service: 'ec2',
        operation: 'RunInstances',
        code: 'InsufficientInstanceCapacity',
        match: { InstanceType: 'm6i.large', SubnetId: 'subnet-00000000000000001' },
      },
    ]);

    const c6i = await errorOf(launch({ ClientToken: 'ice-1' }));
    const m6iFirstSubnet = await errorOf(
      launch({
        InstanceType: 'm6i.large',
        NetworkInterfaces: [{ DeviceIndex: 0, SubnetId: 'subnet-00000000000000001' }],
      }),
    );
    const m6iSecondSubnet = await launch({ InstanceType: 'm6i.large', SubnetId: 'subnet-00000000000000002' });
    const c6a = await launch({ InstanceType: 'c6a.large', ClientToken: 'ice-1-fallback' });
    await t.admin('DELETE', '/faults');
    const retried = await launch({ ClientToken: 'ice-1' });

    expect(c6i.name).toBe('InsufficientInstanceCapacity');
    expect(c6i.$metadata?.httpStatusCode).toBe(500);
    expect(m6iFirstSubnet.name).toBe('InsufficientInstanceCapacity');
    expect(m6iSecondSubnet.Instances?.[0]?.SubnetId).toBe('subnet-00000000000000002');
    expect(c6a.Instances?.[0]?.InstanceType).toBe('c6a.large');
    expect(retried.Instances).toHaveLength(1);
    await t.ec2.send(
      new TerminateInstancesCommand({
        InstanceIds: [m6iSecondSubnet, c6a, retried].map((o) => o.Instances![0]!.InstanceId!),
      }),
    );
  });

  it('throttles with RequestLimitExceeded and lets the SDK retry through it', async () => {
    await t.admin('POST', '/faults', {
      service: 'ec2',
      operation: 'TerminateInstances',
      code: 'RequestLimitExceeded',
      count: 2,
    });
    const retrying = localClients(t.cloud.endpoint, { maxAttempts: 3 }).ec2();
    const id = (await launch()).Instances![0]!.InstanceId!;

    const out = await retrying.send(new TerminateInstancesCommand({ InstanceIds: [id] }));

    retrying.destroy();
    expect(out.$metadata.attempts).toBe(3);
    expect(out.TerminatingInstances?.[0]?.CurrentState?.Name).toBe('shutting-down');
    expect((await t.admin('GET', '/faults')).body.rules[0].fired).toBe(2);
    await t.admin('DELETE', '/faults');
  });

  it('terminates an instance at its user-data `shutdown -P +N` watchdog when shutdown behaviour is terminate', async () => {
    const userData = Buffer.from('#!/bin/bash\nshutdown -P +1\n').toString('base64');
    const terminate = (await launch({ UserData: userData, InstanceInitiatedShutdownBehavior: 'terminate' }))
      .Instances![0]!.InstanceId!;
    const stop = (await launch({ UserData: userData, InstanceInitiatedShutdownBehavior: 'stop' }))
      .Instances![0]!.InstanceId!;
    const started = Date.now();

    await waitFor(async () => (await stateOf(terminate)) === 'terminated', 10_000);
    await waitFor(async () => (await stateOf(stop)) === 'stopped', 10_000);

    // One simulated minute at time scale 0.01 is 600 ms of real time.
    expect(Date.now() - started).toBeGreaterThanOrEqual(500);
    expect((await describe1(terminate)).StateReason?.Code).toBe('Client.InstanceInitiatedShutdown');
    await t.ec2.send(new TerminateInstancesCommand({ InstanceIds: [stop] }));
  });
});

describe('EC2 through the AWS CLI', () => {
  it('runs, describes with filters and terminates instances; errors surface with their codes', async () => {
    const run = await t.aws([
      'ec2',
      'run-instances',
      '--image-id',
      AMI,
      '--instance-type',
      'c6i.large',
      '--count',
      '1',
      '--subnet-id',
      'subnet-00000000000000001',
      '--security-group-ids',
      'sg-00000000000000001',
      '--metadata-options',
      'HttpTokens=required',
      '--tag-specifications',
      'ResourceType=instance,Tags=[{Key=Name,Value=cli-instance}]',
      '--client-token',
      'cli-token-1',
    ]);
    const id = JSON.parse(run.stdout).Instances[0].InstanceId as string;
    const described = await t.aws([
      'ec2',
      'describe-instances',
      '--filters',
      'Name=tag:Name,Values=cli-instance',
      '--query',
      'Reservations[].Instances[].[InstanceId,MetadataOptions.HttpTokens]',
      '--output',
      'text',
    ]);
    const terminated = await t.aws(['ec2', 'terminate-instances', '--instance-ids', id]);
    const missing = await t.aws(['ec2', 'describe-instances', '--instance-ids', 'i-0123456789abcdef0']);

    expect(run.code, run.stderr).toBe(0);
    expect(described.stdout.trim()).toBe(`${id}\trequired`);
    expect(JSON.parse(terminated.stdout).TerminatingInstances[0].CurrentState.Name).toBe('shutting-down');
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toContain('(InvalidInstanceID.NotFound)');
  }, 30_000);
});
