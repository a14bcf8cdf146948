import {
  SendTaskFailureCommand,
  SendTaskHeartbeatCommand,
  SendTaskSuccessCommand,
  SFNClient,
} from '@aws-sdk/client-sfn';
import { GetCommandInvocationCommand, SSMClient } from '@aws-sdk/client-ssm';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  deleteTaskToken,
  listTaskTokens,
  readTaskToken,
  reportCommandToTask,
  storeTaskToken,
  type TaskTokenRecord,
} from '../../../shared/ssm/task-tokens.js';
import { tokenKey } from '../../../shared/transfers/table.js';
import { startTestTable, type TestTable } from '../../support/transfers-table.js';
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
const NOW = new Date('2026-11-30T10:00:00.000Z');
let table: TestTable;
const deps = () => ({
  ssm: new SSMClient({}),
  sfn: new SFNClient({}),
  db: table.db,
  table: table.table,
  now: () => NOW,
});
const stored = () => readTaskToken(deps(), COMMAND_ID);

beforeAll(async () => {
  table = await startTestTable();
});

afterAll(async () => {
  await table.stop();
});

beforeEach(async () => {
  ssmMock.reset();
  sfnMock.reset();
  for (const record of await listTaskTokens(deps())) await deleteTaskToken(deps(), record.commandId);
  await storeTaskToken(deps(), RECORD);
});

describe('task token storage', () => {
  it('keeps the token in the transfers table under the command id, expiring after 30 days', async () => {
    const item = await table.db.send(new GetCommand({ TableName: table.table, Key: tokenKey(COMMAND_ID) }));

    expect(item.Item).toEqual({
      pk: 'TOKENS',
      sk: `TOKEN#${COMMAND_ID}`,
      record: RECORD,
      expiresAt: Math.floor(NOW.getTime() / 1000) + 30 * 86_400,
    });
    expect(await stored()).toEqual(RECORD);
  });

  it('reads nothing for a command that is not ours, and lists every stored token', async () => {
    await storeTaskToken(deps(), { ...RECORD, commandId: 'other', taskToken: 'token-other' });

    expect(await readTaskToken(deps(), 'unknown')).toBeUndefined();
    expect((await listTaskTokens(deps())).map((r) => r.commandId).sort()).toEqual([COMMAND_ID, 'other']);
  });
});

describe('reportCommandToTask', () => {
  it('sends the command result to the waiting state and forgets the token', async () => {
    ssmMock
      .on(GetCommandInvocationCommand)
      .resolves({ Status: 'Success', ResponseCode: 0, StandardOutputContent: 'ok' });

    const outcome = await reportCommandToTask(deps(), { commandId: COMMAND_ID });

    expect(outcome).toBe('succeeded');
    const input = sfnMock.commandCalls(SendTaskSuccessCommand)[0]?.args[0].input;
    expect(input?.taskToken).toBe('token-abc');
    expect(JSON.parse(input?.output ?? '{}')).toMatchObject({
      commandId: COMMAND_ID,
      instanceId: INSTANCE_ID,
      status: 'Success',
      listingUri: RECORD.listingUri,
    });
    expect(await stored()).toBeUndefined();
  });

  it('fails the waiting state with CommandFailedError and the last errors', async () => {
    ssmMock.on(GetCommandInvocationCommand).resolves({
      Status: 'Failed',
      StatusDetails: 'Failed',
      ResponseCode: 1,
      StandardErrorContent: 'fatal error: NoSuchBucket',
    });

    expect(await reportCommandToTask(deps(), { commandId: COMMAND_ID })).toBe('failed');

    const input = sfnMock.commandCalls(SendTaskFailureCommand)[0]?.args[0].input;
    expect(input?.error).toBe('CommandFailedError');
    expect(input?.cause).toContain('NoSuchBucket');
  });

  it('fails the waiting state with CommandTimedOutError when SSM timed the command out', async () => {
    ssmMock
      .on(GetCommandInvocationCommand)
      .resolves({ Status: 'TimedOut', StatusDetails: 'Execution Timed Out' });

    await reportCommandToTask(deps(), { commandId: COMMAND_ID });

    expect(sfnMock.commandCalls(SendTaskFailureCommand)[0]?.args[0].input.error).toBe('CommandTimedOutError');
  });

  it('sends a heartbeat for a running command when asked, and keeps the token', async () => {
    ssmMock.on(GetCommandInvocationCommand).resolves({ Status: 'InProgress' });

    expect(await reportCommandToTask(deps(), { commandId: COMMAND_ID, heartbeat: true })).toBe('heartbeat');
    expect(sfnMock.commandCalls(SendTaskHeartbeatCommand)).toHaveLength(1);
    expect(await stored()).toEqual(RECORD);
  });

  it('leaves a running command alone without heartbeat', async () => {
    ssmMock.on(GetCommandInvocationCommand).resolves({ Status: 'InProgress' });

    expect(await reportCommandToTask(deps(), { commandId: COMMAND_ID })).toBe('running');
    expect(sfnMock.calls()).toHaveLength(0);
  });

  it('ignores commands without a stored token', async () => {
    await deleteTaskToken(deps(), COMMAND_ID);

    expect(await reportCommandToTask(deps(), { commandId: COMMAND_ID })).toBe('no-token');
    expect(sfnMock.calls()).toHaveLength(0);
  });

  it('forgets the token when the execution no longer waits for it', async () => {
    ssmMock.on(GetCommandInvocationCommand).resolves({ Status: 'Success', ResponseCode: 0 });
    sfnMock.on(SendTaskSuccessCommand).rejects(awsError('TaskTimedOut'));

    expect(await reportCommandToTask(deps(), { commandId: COMMAND_ID })).toBe('task-gone');
    expect(await stored()).toBeUndefined();
  });
});
