import { DescribeInstancesCommand, EC2Client, RunInstancesCommand } from '@aws-sdk/client-ec2';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  buildUserData,
  clientTokenFor,
  launchCandidates,
  launchTransferInstance,
  minutesUntil,
} from '../../../shared/ec2/launch.js';
import { InstanceLaunchError, InsufficientCapacityError, TransientAwsError } from '../../../shared/errors.js';
import { awsError, buildPlan, EXECUTION_ARN, INSTANCE_ID, NOW, SUBNET_A, SUBNET_B } from './builders.js';

const ec2Mock = mockClient(EC2Client);
const ssmMock = mockClient(SSMClient);
const deps = () => ({ ec2: new EC2Client({}), ssm: new SSMClient({}), now: () => NOW });

beforeEach(() => {
  ec2Mock.reset();
  ssmMock.reset();
  ssmMock.on(GetParameterCommand).resolves({ Parameter: { Value: 'ami-0123456789abcdef0' } });
  ec2Mock.on(DescribeInstancesCommand).resolves({ Reservations: [] });
  ec2Mock.on(RunInstancesCommand).callsFake((input) => ({
    Instances: [
      {
        InstanceId: INSTANCE_ID,
        InstanceType: input.InstanceType,
        SubnetId: input.NetworkInterfaces[0].SubnetId,
      },
    ],
  }));
});

function runInputs() {
  return ec2Mock.commandCalls(RunInstancesCommand).map((call) => call.args[0].input);
}

describe('launchTransferInstance', () => {
  it('launches a hardened, tagged instance that terminates itself at the deadline', async () => {
    const plan = buildPlan();

    const launched = await launchTransferInstance(deps(), {
      plan,
      executionArn: EXECUTION_ARN,
      instanceProfileName: 'fsx-transfer-dev-transfer-instance',
      stage: 'dev',
    });

    expect(launched).toMatchObject({ instanceId: INSTANCE_ID, instanceType: 'c6i.large', reused: false });
    const [input] = runInputs();
    expect(input).toMatchObject({
      ImageId: 'ami-0123456789abcdef0',
      InstanceType: 'c6i.large',
      MinCount: 1,
      MaxCount: 1,
      IamInstanceProfile: { Name: 'fsx-transfer-dev-transfer-instance' },
      MetadataOptions: { HttpTokens: 'required' },
      InstanceInitiatedShutdownBehavior: 'terminate',
      NetworkInterfaces: [
        {
          DeviceIndex: 0,
          SubnetId: SUBNET_A,
          Groups: plan.fileSystem.securityGroupIds,
          AssociatePublicIpAddress: false,
        },
      ],
      BlockDeviceMappings: [{ Ebs: { VolumeType: 'gp3', Encrypted: true, DeleteOnTermination: true } }],
    });
    expect(input?.SubnetId).toBeUndefined();
    const tags = Object.fromEntries(input?.TagSpecifications?.[0]?.Tags?.map((t) => [t.Key, t.Value]) ?? []);
    expect(tags).toEqual({
      Name: 'fsx-transfer-extdata-stage-in-1',
      'fsx-transfer:execution': EXECUTION_ARN,
      'fsx-transfer:transfer-id': 'extdata-stage-in-1',
      'fsx-transfer:mapping': 'extdata',
      'fsx-transfer:deadline': plan.deadline,
      'fsx-transfer:stage': 'dev',
    });
    const userData = Buffer.from(input?.UserData ?? '', 'base64').toString('utf8');
    expect(userData).toContain('\nshutdown -P +120\n');
    expect(userData).toContain('dnf install -y lustre-client');
    expect(userData.indexOf('shutdown -P')).toBeLessThan(userData.indexOf('dnf install'));
  });

  it('reads the AMI from the public SSM parameter of the plan', async () => {
    await launchTransferInstance(deps(), { plan: buildPlan(), executionArn: EXECUTION_ARN });

    expect(ssmMock.commandCalls(GetParameterCommand)[0]?.args[0].input.Name).toBe(
      '/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64',
    );
  });

  it('prefers the instance profile of the config over the deployment default', async () => {
    const plan = buildPlan({ instance: { instanceProfileName: 'from-config' } });

    await launchTransferInstance(deps(), {
      plan,
      executionArn: EXECUTION_ARN,
      instanceProfileName: 'from-env',
    });

    expect(runInputs()[0]?.IamInstanceProfile).toEqual({ Name: 'from-config' });
  });

  it('falls back to the next instance type, then the next subnet, on InsufficientInstanceCapacity', async () => {
    ec2Mock.on(RunInstancesCommand).callsFake((input) => {
      if (!(input.InstanceType === 'm6i.large' && input.NetworkInterfaces[0].SubnetId === SUBNET_B)) {
        throw awsError('InsufficientInstanceCapacity', 500);
      }
      return { Instances: [{ InstanceId: INSTANCE_ID, InstanceType: 'm6i.large', SubnetId: SUBNET_B }] };
    });

    const launched = await launchTransferInstance(deps(), { plan: buildPlan(), executionArn: EXECUTION_ARN });

    expect(runInputs().map((i) => `${i.InstanceType}@${i.NetworkInterfaces?.[0]?.SubnetId}`)).toEqual([
      `c6i.large@${SUBNET_A}`,
      `c6a.large@${SUBNET_A}`,
      `m6i.large@${SUBNET_A}`,
      `c6i.large@${SUBNET_B}`,
      `c6a.large@${SUBNET_B}`,
      `m6i.large@${SUBNET_B}`,
    ]);
    expect(launched).toMatchObject({ instanceType: 'm6i.large', subnetId: SUBNET_B });
    expect(launched.attempts).toHaveLength(5);
  });

  it('fails with InsufficientCapacityError naming every type and subnet tried', async () => {
    ec2Mock.on(RunInstancesCommand).rejects(awsError('InsufficientInstanceCapacity', 500));

    const error = await launchTransferInstance(deps(), {
      plan: buildPlan(),
      executionArn: EXECUTION_ARN,
    }).catch((e) => e);

    expect(error).toBeInstanceOf(InsufficientCapacityError);
    expect(error.message).toContain(`c6i.large in ${SUBNET_A} (InsufficientInstanceCapacity)`);
    expect(error.message).toContain(`m6i.large in ${SUBNET_B} (InsufficientInstanceCapacity)`);
    expect(runInputs()).toHaveLength(6);
  });

  it('sends the same client token when the step is retried, and another one per candidate', async () => {
    await launchTransferInstance(deps(), { plan: buildPlan(), executionArn: EXECUTION_ARN });
    await launchTransferInstance(deps(), { plan: buildPlan(), executionArn: EXECUTION_ARN });

    const [first, second] = runInputs();
    expect(first?.ClientToken).toBe(second?.ClientToken);
    expect(first?.ClientToken?.length).toBeLessThanOrEqual(64);
    expect(first?.ClientToken).toMatch(/^[\x21-\x7e]+$/);
    expect(clientTokenFor(EXECUTION_ARN, { instanceType: 'c6a.large', subnetId: SUBNET_A })).not.toBe(
      first?.ClientToken,
    );
    expect(clientTokenFor(`${EXECUTION_ARN}-2`, { instanceType: 'c6i.large', subnetId: SUBNET_A })).not.toBe(
      first?.ClientToken,
    );
  });

  it('returns the instance an earlier attempt launched instead of launching a second one', async () => {
    ec2Mock.on(DescribeInstancesCommand).resolves({
      Reservations: [{ Instances: [{ InstanceId: 'i-0earlier000000001', InstanceType: 'c6a.large' }] }],
    });

    const launched = await launchTransferInstance(deps(), { plan: buildPlan(), executionArn: EXECUTION_ARN });

    expect(launched).toMatchObject({ instanceId: 'i-0earlier000000001', reused: true });
    expect(runInputs()).toHaveLength(0);
    const filters = ec2Mock.commandCalls(DescribeInstancesCommand)[0]?.args[0].input.Filters;
    expect(filters?.find((f) => f.Name === 'client-token')?.Values).toEqual(
      launchCandidates(buildPlan()).map((c) => clientTokenFor(EXECUTION_ARN, c)),
    );
  });

  it('finds the earlier instance when EC2 reports IdempotentParameterMismatch for a used token', async () => {
    ec2Mock
      .on(DescribeInstancesCommand)
      .resolvesOnce({ Reservations: [] })
      .resolves({ Reservations: [{ Instances: [{ InstanceId: 'i-0earlier000000001' }] }] });
    ec2Mock.on(RunInstancesCommand).rejects(awsError('IdempotentParameterMismatch'));

    const launched = await launchTransferInstance(deps(), { plan: buildPlan(), executionArn: EXECUTION_ARN });

    expect(launched).toMatchObject({ instanceId: 'i-0earlier000000001', reused: true });
  });

  it('hands throttling to the state machine as TransientAwsError', async () => {
    ec2Mock.on(RunInstancesCommand).rejects(awsError('RequestLimitExceeded', 503));

    await expect(
      launchTransferInstance(deps(), { plan: buildPlan(), executionArn: EXECUTION_ARN }),
    ).rejects.toBeInstanceOf(TransientAwsError);
  });

  it('fails with InstanceLaunchError on a refusal no other candidate can fix', async () => {
    ec2Mock
      .on(RunInstancesCommand)
      .rejects(awsError('UnauthorizedOperation', 403, 'not allowed to pass role'));

    const error = await launchTransferInstance(deps(), {
      plan: buildPlan(),
      executionArn: EXECUTION_ARN,
    }).catch((e) => e);

    expect(error).toBeInstanceOf(InstanceLaunchError);
    expect(error.message).toContain('UnauthorizedOperation');
    expect(runInputs()).toHaveLength(1);
  });

  it('launches nothing once the deadline has passed', async () => {
    const plan = buildPlan({ deadline: new Date(NOW.getTime() - 1000).toISOString() });

    await expect(
      launchTransferInstance(deps(), { plan, executionArn: EXECUTION_ARN }),
    ).rejects.toBeInstanceOf(InstanceLaunchError);
    expect(runInputs()).toHaveLength(0);
  });

  it('fails with InstanceLaunchError when the AMI parameter holds no AMI', async () => {
    ssmMock.on(GetParameterCommand).rejects(awsError('ParameterNotFound'));

    await expect(
      launchTransferInstance(deps(), { plan: buildPlan(), executionArn: EXECUTION_ARN }),
    ).rejects.toBeInstanceOf(InstanceLaunchError);
    expect(runInputs()).toHaveLength(0);
  });

  it('gives the SSM agent at most agentOnlineMinutes, never past the deadline', async () => {
    const launched = await launchTransferInstance(deps(), { plan: buildPlan(), executionArn: EXECUTION_ARN });

    expect(launched.agentDeadline).toBe(new Date(NOW.getTime() + 15 * 60_000).toISOString());
  });
});

describe('watchdog', () => {
  it('rounds the minutes until the deadline up, and never arms less than one minute', () => {
    expect(minutesUntil(new Date(NOW.getTime() + 61_000), NOW)).toBe(2);
    expect(minutesUntil(new Date(NOW.getTime() - 5_000), NOW)).toBe(1);
  });

  it('writes the shutdown line in the form the EC2 emulator parses', () => {
    expect(buildUserData(42)).toMatch(/^shutdown -P \+42$/m);
    expect(() => buildUserData(0)).toThrow();
  });
});
