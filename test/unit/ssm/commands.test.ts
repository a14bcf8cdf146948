import { DescribeInstancesCommand, EC2Client } from '@aws-sdk/client-ec2';
import {
  CancelCommandCommand,
  DescribeInstanceInformationCommand,
  GetCommandInvocationCommand,
  ListCommandsCommand,
  SendCommandCommand,
  SSMClient,
} from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  CommandFailedError,
  CommandTimedOutError,
  InstanceNotReadyError,
  InvalidRequestError,
  NotReadyYetError,
} from '../../../shared/errors.js';
import {
  checkAgentReady,
  invocationError,
  invocationOutcome,
  pollTransferCommand,
  sendTransferCommand,
} from '../../../shared/ssm/commands.js';
import { buildCommandParameters } from '../../../shared/ssm/document.js';
import { awsError, buildPlan, INSTANCE_ID, NOW } from '../ec2/builders.js';

const ssmMock = mockClient(SSMClient);
const ec2Mock = mockClient(EC2Client);
const COMMAND_ID = '11111111-2222-3333-4444-555555555555';
const DOCUMENT = 'fsx-transfer-dev-transfer';
const COMMENT = 'fsx-transfer extdata-stage-in-1 sync';
const later = (minutes: number) => new Date(NOW.getTime() + minutes * 60_000).toISOString();

beforeEach(() => {
  ssmMock.reset();
  ec2Mock.reset();
  ec2Mock.on(DescribeInstancesCommand).resolves({
    Reservations: [{ Instances: [{ InstanceId: INSTANCE_ID, State: { Name: 'running' } }] }],
  });
  ssmMock.on(ListCommandsCommand).resolves({ Commands: [] });
  ssmMock.on(SendCommandCommand).resolves({ Command: { CommandId: COMMAND_ID } });
});

describe('checkAgentReady', () => {
  const deps = () => ({ ssm: new SSMClient({}), ec2: new EC2Client({}), now: () => NOW });

  it('returns once the agent is Online', async () => {
    ssmMock.on(DescribeInstanceInformationCommand).resolves({
      InstanceInformationList: [
        { InstanceId: INSTANCE_ID, PingStatus: 'Online', PlatformName: 'Amazon Linux' },
      ],
    });

    const status = await checkAgentReady(deps(), { instanceId: INSTANCE_ID, agentDeadline: later(10) });

    expect(status).toMatchObject({ instanceId: INSTANCE_ID, pingStatus: 'Online' });
    expect(ssmMock.commandCalls(DescribeInstanceInformationCommand)[0]?.args[0].input.Filters).toEqual([
      { Key: 'InstanceIds', Values: [INSTANCE_ID] },
    ]);
  });

  it('asks to be retried while the agent has not registered and time is left', async () => {
    ssmMock.on(DescribeInstanceInformationCommand).resolves({ InstanceInformationList: [] });

    await expect(
      checkAgentReady(deps(), { instanceId: INSTANCE_ID, agentDeadline: later(10) }),
    ).rejects.toBeInstanceOf(NotReadyYetError);
  });

  it('fails with InstanceNotReadyError once the agent deadline has passed', async () => {
    ssmMock.on(DescribeInstanceInformationCommand).resolves({
      InstanceInformationList: [{ InstanceId: INSTANCE_ID, PingStatus: 'ConnectionLost' }],
    });

    const error = await checkAgentReady(deps(), { instanceId: INSTANCE_ID, agentDeadline: later(-1) }).catch(
      (e) => e,
    );

    expect(error).toBeInstanceOf(InstanceNotReadyError);
    expect(error.message).toContain('ConnectionLost');
  });

  it('fails at once when the instance is already terminated', async () => {
    ec2Mock.on(DescribeInstancesCommand).resolves({
      Reservations: [
        {
          Instances: [
            {
              InstanceId: INSTANCE_ID,
              State: { Name: 'terminated' },
              StateReason: { Message: 'Client.InstanceInitiatedShutdown' },
            },
          ],
        },
      ],
    });

    const error = await checkAgentReady(deps(), { instanceId: INSTANCE_ID, agentDeadline: later(10) }).catch(
      (e) => e,
    );

    expect(error).toBeInstanceOf(InstanceNotReadyError);
    expect(error.message).toContain('terminated (Client.InstanceInitiatedShutdown)');
  });
});

describe('invocation status', () => {
  it.each([
    ['Pending', '', 'running'],
    ['InProgress', '', 'running'],
    ['Delayed', '', 'running'],
    ['Cancelling', '', 'running'],
    ['Success', '', 'success'],
    ['Failed', 'Failed', 'failed'],
    ['Failed', 'Execution Timed Out', 'timed-out'],
    ['TimedOut', 'Delivery Timed Out', 'timed-out'],
    ['Cancelled', '', 'cancelled'],
  ])('maps %s (%s) to %s', (status, statusDetails, outcome) => {
    expect(invocationOutcome({ status, statusDetails })).toBe(outcome);
  });

  it('turns a failed invocation into CommandFailedError with its exit code and last errors', () => {
    const error = invocationError({
      commandId: COMMAND_ID,
      instanceId: INSTANCE_ID,
      status: 'Failed',
      statusDetails: 'Failed',
      responseCode: 1,
      stdout: '',
      stderr: 'fatal error: An error occurred (NoSuchBucket) when calling the ListObjectsV2 operation\n',
    });

    expect(error).toBeInstanceOf(CommandFailedError);
    expect(error.message).toContain('exit code 1');
    expect(error.message).toContain('NoSuchBucket');
  });

  it('turns a timed-out invocation into CommandTimedOutError', () => {
    const error = invocationError({
      commandId: COMMAND_ID,
      instanceId: INSTANCE_ID,
      status: 'TimedOut',
      statusDetails: 'Execution Timed Out',
      responseCode: -1,
      stdout: '',
      stderr: '',
    });

    expect(error).toBeInstanceOf(CommandTimedOutError);
  });
});

describe('sendTransferCommand', () => {
  const parameters = () =>
    buildCommandParameters(buildPlan(), {
      mode: 'sync',
      listingUri: 's3://dzhang-imi-gchp-test/.fsx-transfer/listings/x/i-1.list',
      executionTimeoutSeconds: 3600,
    });

  it('sends the document with every parameter, output to CloudWatch Logs', async () => {
    const sent = await sendTransferCommand(new SSMClient({}), {
      instanceId: INSTANCE_ID,
      documentName: DOCUMENT,
      parameters: parameters(),
      comment: COMMENT,
      logGroupName: '/fsx-transfer/dev/transfer-commands',
    });

    expect(sent).toEqual({ commandId: COMMAND_ID, sent: true });
    const input = ssmMock.commandCalls(SendCommandCommand)[0]?.args[0].input;
    expect(input).toMatchObject({
      DocumentName: DOCUMENT,
      InstanceIds: [INSTANCE_ID],
      Comment: COMMENT,
      CloudWatchOutputConfig: {
        CloudWatchOutputEnabled: true,
        CloudWatchLogGroupName: '/fsx-transfer/dev/transfer-commands',
      },
    });
    expect(input?.Parameters).toMatchObject({
      Direction: ['stage-in'],
      FsxPath: ['/ExtData'],
      S3Bucket: ['dzhang-imi-gchp-test'],
      S3Prefix: ['ExtData'],
      Delete: ['false'],
      ExecutionTimeout: ['3600'],
    });
  });

  it.each([
    ['S3Bucket', 'bucket;rm -rf /'],
    ['S3Prefix', 'ExtData/$(reboot)'],
    ['S3Prefix', 'ExtData/`id`'],
    ['FsxPath', "/ExtData/it's"],
    ['FsxPath', '/ExtData/a"b'],
    ['FsxPath', '/ExtData\nreboot'],
    ['FsxPath', '/ExtData/../../etc'],
    ['MountPoint', '/'],
    ['Include', '*.nc;id'],
    ['Delete', 'yes'],
  ])('refuses %s=%j before anything is sent', async (name, value) => {
    const error = await sendTransferCommand(new SSMClient({}), {
      instanceId: INSTANCE_ID,
      documentName: DOCUMENT,
      parameters: { ...parameters(), [name]: value },
      comment: COMMENT,
    }).catch((e) => e);

    expect(error).toBeInstanceOf(InvalidRequestError);
    expect(error.message).toContain(`${name}:`);
    expect(ssmMock.commandCalls(SendCommandCommand)).toHaveLength(0);
  });

  it('reuses the command a previous attempt of the step sent', async () => {
    ssmMock.on(ListCommandsCommand).resolves({
      Commands: [
        { CommandId: 'older', Comment: COMMENT, RequestedDateTime: new Date('2026-01-01T00:00:00Z') },
        { CommandId: 'newest', Comment: COMMENT, RequestedDateTime: new Date('2026-01-01T00:01:00Z') },
        {
          CommandId: 'other-run',
          Comment: 'fsx-transfer other sync',
          RequestedDateTime: new Date('2026-01-01T00:02:00Z'),
        },
      ],
    });

    const sent = await sendTransferCommand(new SSMClient({}), {
      instanceId: INSTANCE_ID,
      documentName: DOCUMENT,
      parameters: parameters(),
      comment: COMMENT,
    });

    expect(sent).toEqual({ commandId: 'newest', sent: false });
    expect(ssmMock.commandCalls(SendCommandCommand)).toHaveLength(0);
  });

  it('reports an instance SSM cannot reach as CommandFailedError', async () => {
    ssmMock.on(SendCommandCommand).rejects(awsError('InvalidInstanceId'));

    await expect(
      sendTransferCommand(new SSMClient({}), {
        instanceId: INSTANCE_ID,
        documentName: DOCUMENT,
        parameters: parameters(),
        comment: COMMENT,
      }),
    ).rejects.toBeInstanceOf(CommandFailedError);
  });
});

describe('pollTransferCommand', () => {
  const input = (deadlineMinutes: number) => ({
    instanceId: INSTANCE_ID,
    documentName: DOCUMENT,
    comment: COMMENT,
    deadline: later(deadlineMinutes),
    listingUri: 's3://b/l',
  });
  const deps = () => ({ ssm: new SSMClient({}), now: () => NOW });

  beforeEach(() => {
    ssmMock.on(ListCommandsCommand).resolves({ Commands: [{ CommandId: COMMAND_ID, Comment: COMMENT }] });
  });

  it('returns the result of a successful command', async () => {
    ssmMock
      .on(GetCommandInvocationCommand)
      .resolves({ Status: 'Success', ResponseCode: 0, StandardOutputContent: 'done\n' });

    const result = await pollTransferCommand(deps(), input(10));

    expect(result).toMatchObject({
      commandId: COMMAND_ID,
      status: 'Success',
      responseCode: 0,
      listingUri: 's3://b/l',
    });
  });

  it('asks to be polled again while the command runs', async () => {
    ssmMock.on(GetCommandInvocationCommand).resolves({ Status: 'InProgress', ResponseCode: -1 });

    await expect(pollTransferCommand(deps(), input(10))).rejects.toBeInstanceOf(NotReadyYetError);
    expect(ssmMock.commandCalls(CancelCommandCommand)).toHaveLength(0);
  });

  it('cancels a command still running at the deadline and fails with CommandTimedOutError', async () => {
    ssmMock.on(GetCommandInvocationCommand).resolves({ Status: 'InProgress', ResponseCode: -1 });

    await expect(pollTransferCommand(deps(), input(-1))).rejects.toBeInstanceOf(CommandTimedOutError);
    expect(ssmMock.commandCalls(CancelCommandCommand)[0]?.args[0].input).toEqual({
      CommandId: COMMAND_ID,
      InstanceIds: [INSTANCE_ID],
    });
  });

  it('treats an invocation SSM has not created yet as still pending', async () => {
    ssmMock.on(GetCommandInvocationCommand).rejects(awsError('InvocationDoesNotExist'));

    await expect(pollTransferCommand(deps(), input(10))).rejects.toBeInstanceOf(NotReadyYetError);
  });

  it('fails when no transfer command was ever sent', async () => {
    ssmMock.on(ListCommandsCommand).resolves({ Commands: [] });

    await expect(pollTransferCommand(deps(), input(10))).rejects.toBeInstanceOf(CommandFailedError);
  });
});
