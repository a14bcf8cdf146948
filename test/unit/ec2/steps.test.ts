import {
  DescribeInstancesCommand,
  EC2Client,
  RunInstancesCommand,
  TerminateInstancesCommand,
} from '@aws-sdk/client-ec2';
import { SendTaskSuccessCommand, SFNClient } from '@aws-sdk/client-sfn';
import {
  GetCommandInvocationCommand,
  GetParameterCommand,
  ListCommandsCommand,
  SendCommandCommand,
  SSMClient,
} from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { cleanupExecution, sweepOverdueInstances } from '../../../shared/ec2/cleanup.js';
import { ec2Settings, launchInstanceStep, sendCommandStep } from '../../../shared/ec2/steps.js';
import { InvalidRequestError } from '../../../shared/errors.js';
import { handleCommandCallback } from '../../../shared/ssm/callback.js';
import {
  deleteTaskToken,
  listTaskTokens,
  readTaskToken,
  storeTaskToken,
} from '../../../shared/ssm/task-tokens.js';
import { startTestTable, type TestTable } from '../../support/transfers-table.js';
import { buildPlan, EXECUTION_ARN, INSTANCE_ID, NOW } from './builders.js';

const ec2Mock = mockClient(EC2Client);
const ssmMock = mockClient(SSMClient);
const sfnMock = mockClient(SFNClient);
const SETTINGS = ec2Settings({ FSX_TRANSFER_STAGE: 'dev' });
const COMMAND_ID = '11111111-2222-3333-4444-555555555555';
let table: TestTable;
/** SSM and Step Functions (mocked) and the transfers table (dynalite) that holds task tokens. */
const deps = () => ({ ssm: new SSMClient({}), sfn: new SFNClient({}), db: table.db, table: table.table });

beforeAll(async () => {
  table = await startTestTable();
});

afterAll(async () => {
  await table.stop();
});

beforeEach(async () => {
  for (const record of await listTaskTokens(deps())) await deleteTaskToken(deps(), record.commandId);
  ec2Mock.reset();
  ssmMock.reset();
  sfnMock.reset();
  ec2Mock.on(DescribeInstancesCommand).resolves({ Reservations: [] });
  ec2Mock.on(RunInstancesCommand).resolves({ Instances: [{ InstanceId: INSTANCE_ID }] });
  ec2Mock.on(TerminateInstancesCommand).resolves({ TerminatingInstances: [] });
  ssmMock.on(GetParameterCommand).resolves({ Parameter: { Value: 'ami-0123456789abcdef0' } });
});

describe('launchInstanceStep', () => {
  it('refuses a plan the transfer document would refuse before launching anything', async () => {
    const plan = buildPlan({ scope: { prefix: 'ExtData/$(reboot)' } });

    const error = await launchInstanceStep(
      { ec2: new EC2Client({}), ssm: new SSMClient({}), now: () => NOW },
      { plan, executionArn: EXECUTION_ARN },
      SETTINGS,
    ).catch((e) => e);

    expect(error).toBeInstanceOf(InvalidRequestError);
    expect(error.message).toContain('S3Prefix');
    expect(ec2Mock.commandCalls(RunInstancesCommand)).toHaveLength(0);
  });

  it('launches with the deployment instance profile', async () => {
    await launchInstanceStep(
      { ec2: new EC2Client({}), ssm: new SSMClient({}), now: () => NOW },
      { plan: buildPlan(), executionArn: EXECUTION_ARN },
      SETTINGS,
    );

    expect(ec2Mock.commandCalls(RunInstancesCommand)[0]?.args[0].input.IamInstanceProfile).toEqual({
      Name: 'fsx-transfer-dev-transfer-instance',
    });
  });
});

describe('sendCommandStep', () => {
  it('stores the token, then reports a command that already finished', async () => {
    ssmMock.on(ListCommandsCommand).resolves({ Commands: [] });
    ssmMock.on(SendCommandCommand).resolves({ Command: { CommandId: COMMAND_ID } });
    ssmMock.on(GetCommandInvocationCommand).resolves({ Status: 'Success', ResponseCode: 0 });

    const result = await sendCommandStep(
      { ...deps(), now: () => NOW },
      {
        plan: buildPlan(),
        instance: { instanceId: INSTANCE_ID, deadline: buildPlan().deadline },
        taskToken: 'token-1',
        executionArn: EXECUTION_ARN,
      },
      SETTINGS,
    );

    expect(result).toEqual({ commandId: COMMAND_ID, sent: true, reported: 'succeeded' });
    expect(ssmMock.commandCalls(SendCommandCommand)[0]?.args[0].input).toMatchObject({
      DocumentName: 'fsx-transfer-dev-transfer',
      Comment: 'fsx-transfer extdata-stage-in-1 sync',
      CloudWatchOutputConfig: { CloudWatchLogGroupName: '/fsx-transfer/dev/transfer-commands' },
    });
    // Reported at once, so the stored token is gone again.
    expect(await readTaskToken(deps(), COMMAND_ID)).toBeUndefined();
    expect(sfnMock.commandCalls(SendTaskSuccessCommand)[0]?.args[0].input.taskToken).toBe('token-1');
  });
});

describe('handleCommandCallback', () => {
  it('reports the command of a status-change event of the transfer document', async () => {
    await storeTaskToken(deps(), { taskToken: 't', commandId: COMMAND_ID, instanceId: INSTANCE_ID });
    ssmMock.on(GetCommandInvocationCommand).resolves({ Status: 'Success', ResponseCode: 0 });

    const result = await handleCommandCallback(
      deps(),
      {
        source: 'aws.ssm',
        'detail-type': 'EC2 Command Invocation Status-change Notification',
        detail: {
          'command-id': COMMAND_ID,
          'instance-id': INSTANCE_ID,
          'document-name': SETTINGS.documentName,
          status: 'Success',
        },
      },
      SETTINGS,
    );

    expect(result.reports).toEqual([{ commandId: COMMAND_ID, outcome: 'succeeded' }]);
  });

  it('ignores events of other documents', async () => {
    const result = await handleCommandCallback(
      deps(),
      {
        source: 'aws.ssm',
        'detail-type': 'EC2 Command Invocation Status-change Notification',
        detail: {
          'command-id': COMMAND_ID,
          'instance-id': INSTANCE_ID,
          'document-name': 'AWS-RunShellScript',
        },
      },
      SETTINGS,
    );

    expect(result.reports[0]?.outcome).toBe('no-token');
    expect(ssmMock.calls()).toHaveLength(0);
  });

  it('on schedule, reports every stored command and keeps going past one that fails', async () => {
    for (const id of ['broken', COMMAND_ID]) {
      await storeTaskToken(deps(), { taskToken: `t-${id}`, commandId: id, instanceId: INSTANCE_ID });
    }
    ssmMock
      .on(GetCommandInvocationCommand, { CommandId: 'broken' })
      .rejects(Object.assign(new Error('denied'), { name: 'AccessDeniedException' }))
      .on(GetCommandInvocationCommand, { CommandId: COMMAND_ID })
      .resolves({ Status: 'InProgress' });

    const result = await handleCommandCallback(
      deps(),
      { source: 'aws.events', 'detail-type': 'Scheduled Event' },
      SETTINGS,
    );

    expect(result.reports.map((r) => [r.commandId, r.outcome])).toEqual([
      [COMMAND_ID, 'heartbeat'],
      ['broken', 'error'],
    ]);
  });
});

describe('cleanup layers', () => {
  it('terminates the instances of an execution that ended FAILED, TIMED_OUT or ABORTED', async () => {
    ec2Mock.on(DescribeInstancesCommand).resolves({
      Reservations: [{ Instances: [{ InstanceId: INSTANCE_ID, State: { Name: 'running' } }] }],
    });
    const event = (status: string) => ({
      source: 'aws.states' as const,
      'detail-type': 'Step Functions Execution Status Change' as const,
      detail: { executionArn: EXECUTION_ARN, status },
    });

    await cleanupExecution(new EC2Client({}), event('ABORTED'));
    await cleanupExecution(new EC2Client({}), event('SUCCEEDED'));

    expect(ec2Mock.commandCalls(TerminateInstancesCommand)).toHaveLength(1);
    expect(ec2Mock.commandCalls(TerminateInstancesCommand)[0]?.args[0].input.InstanceIds).toEqual([
      INSTANCE_ID,
    ]);
  });

  it('sweeps instances of the stage past their deadline', async () => {
    ec2Mock.on(DescribeInstancesCommand).resolves({
      Reservations: [
        {
          Instances: [
            {
              InstanceId: INSTANCE_ID,
              State: { Name: 'running' },
              Tags: [{ Key: 'fsx-transfer:deadline', Value: '2025-01-01T00:00:00.000Z' }],
            },
          ],
        },
      ],
    });

    await sweepOverdueInstances(new EC2Client({}), { now: NOW, graceMs: 0, stage: 'dev' });

    expect(ec2Mock.commandCalls(TerminateInstancesCommand)[0]?.args[0].input.InstanceIds).toEqual([
      INSTANCE_ID,
    ]);
  });
});
