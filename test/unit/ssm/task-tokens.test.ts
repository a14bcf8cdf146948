import {
  SendTaskFailureCommand,
  SendTaskHeartbeatCommand,
  SendTaskSuccessCommand,
  SFNClient,
} from '@aws-sdk/client-sfn';
import {
  DeleteParameterCommand,
  GetCommandInvocationCommand,
  GetParameterCommand,
  PutParameterCommand,
  SSMClient,
} from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  readTaskToken,
  reportCommandToTask,
  storeTaskToken,
  type TaskTokenRecord,
  tokenParameterName,
} from '../../../shared/ssm/task-tokens.js';
import { awsError, INSTANCE_ID } from '../ec2/builders.js';

const ssmMock = mockClient(SSMClient);
const sfnMock = mockClient(SFNClient);
const COMMAND_ID = '11111111-2222-3333-4444-555555555555';
const RECORD: TaskTokenRecord = {
  taskToken: 'token-abc',
  commandId: COMMAND_ID,
  instanceId: INSTANCE_ID,
  listingUri: 's3://bucket/.fsx-transfer/listings/t/i.list',
};
const deps = () => ({ ssm: new SSMClient({}), sfn: new SFNClient({}) });

beforeEach(() => {
  ssmMock.reset();
  sfnMock.reset();
  ssmMock.on(GetParameterCommand).resolves({ Parameter: { Value: JSON.stringify(RECORD) } });
});

describe('task token storage', () => {
  it('stores the token as a SecureString under the stage and command id', async () => {
    await storeTaskToken(new SSMClient({}), 'dev', RECORD);

    expect(ssmMock.commandCalls(PutParameterCommand)[0]?.args[0].input).toMatchObject({
      Name: `/fsx-transfer/dev/tokens/${COMMAND_ID}`,
      Type: 'SecureString',
      Overwrite: true,
      Value: JSON.stringify(RECORD),
    });
    expect(tokenParameterName('dev', COMMAND_ID)).toBe(`/fsx-transfer/dev/tokens/${COMMAND_ID}`);
  });

  it('reads nothing for a command that is not ours', async () => {
    ssmMock.on(GetParameterCommand).rejects(awsError('ParameterNotFound'));

    expect(await readTaskToken(new SSMClient({}), 'dev', COMMAND_ID)).toBeUndefined();
  });
});

describe('reportCommandToTask', () => {
  it('sends the command result to the waiting state and forgets the token', async () => {
    ssmMock
      .on(GetCommandInvocationCommand)
      .resolves({ Status: 'Success', ResponseCode: 0, StandardOutputContent: 'ok' });

    const outcome = await reportCommandToTask(deps(), { stage: 'dev', commandId: COMMAND_ID });

    expect(outcome).toBe('succeeded');
    const input = sfnMock.commandCalls(SendTaskSuccessCommand)[0]?.args[0].input;
    expect(input?.taskToken).toBe('token-abc');
    expect(JSON.parse(input?.output ?? '{}')).toMatchObject({
      commandId: COMMAND_ID,
      instanceId: INSTANCE_ID,
      status: 'Success',
      listingUri: RECORD.listingUri,
    });
    expect(ssmMock.commandCalls(DeleteParameterCommand)[0]?.args[0].input.Name).toBe(
      `/fsx-transfer/dev/tokens/${COMMAND_ID}`,
    );
  });

  it('fails the waiting state with CommandFailedError and the last errors', async () => {
    ssmMock.on(GetCommandInvocationCommand).resolves({
      Status: 'Failed',
      StatusDetails: 'Failed',
      ResponseCode: 1,
      StandardErrorContent: 'fatal error: NoSuchBucket',
    });

    expect(await reportCommandToTask(deps(), { stage: 'dev', commandId: COMMAND_ID })).toBe('failed');

    const input = sfnMock.commandCalls(SendTaskFailureCommand)[0]?.args[0].input;
    expect(input?.error).toBe('CommandFailedError');
    expect(input?.cause).toContain('NoSuchBucket');
  });

  it('fails the waiting state with CommandTimedOutError when SSM timed the command out', async () => {
    ssmMock
      .on(GetCommandInvocationCommand)
      .resolves({ Status: 'TimedOut', StatusDetails: 'Execution Timed Out' });

    await reportCommandToTask(deps(), { stage: 'dev', commandId: COMMAND_ID });

    expect(sfnMock.commandCalls(SendTaskFailureCommand)[0]?.args[0].input.error).toBe('CommandTimedOutError');
  });

  it('sends a heartbeat for a running command when asked, and keeps the token', async () => {
    ssmMock.on(GetCommandInvocationCommand).resolves({ Status: 'InProgress' });

    expect(await reportCommandToTask(deps(), { stage: 'dev', commandId: COMMAND_ID, heartbeat: true })).toBe(
      'heartbeat',
    );
    expect(sfnMock.commandCalls(SendTaskHeartbeatCommand)).toHaveLength(1);
    expect(ssmMock.commandCalls(DeleteParameterCommand)).toHaveLength(0);
  });

  it('leaves a running command alone without heartbeat', async () => {
    ssmMock.on(GetCommandInvocationCommand).resolves({ Status: 'InProgress' });

    expect(await reportCommandToTask(deps(), { stage: 'dev', commandId: COMMAND_ID })).toBe('running');
    expect(sfnMock.calls()).toHaveLength(0);
  });

  it('ignores commands without a stored token', async () => {
    ssmMock.on(GetParameterCommand).rejects(awsError('ParameterNotFound'));

    expect(await reportCommandToTask(deps(), { stage: 'dev', commandId: COMMAND_ID })).toBe('no-token');
    expect(sfnMock.calls()).toHaveLength(0);
  });

  it('forgets the token when the execution no longer waits for it', async () => {
    ssmMock.on(GetCommandInvocationCommand).resolves({ Status: 'Success', ResponseCode: 0 });
    sfnMock.on(SendTaskSuccessCommand).rejects(awsError('TaskTimedOut'));

    expect(await reportCommandToTask(deps(), { stage: 'dev', commandId: COMMAND_ID })).toBe('task-gone');
    expect(ssmMock.commandCalls(DeleteParameterCommand)).toHaveLength(1);
  });
});
