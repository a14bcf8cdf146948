import { DescribeInstancesCommand, EC2Client, TerminateInstancesCommand } from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  describeInstance,
  findInstancesByExecution,
  findOverdueInstances,
  terminateExecutionInstances,
  terminateInstances,
} from '../../../shared/ec2/instances.js';
import { TransientAwsError } from '../../../shared/errors.js';
import { awsError, EXECUTION_ARN, INSTANCE_ID, NOW } from './builders.js';

const ec2Mock = mockClient(EC2Client);
const ec2 = () => new EC2Client({});

function instance(id: string, tags: Record<string, string> = {}, state = 'running') {
  return {
    InstanceId: id,
    State: { Name: state as 'running' },
    Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })),
  };
}

beforeEach(() => {
  ec2Mock.reset();
  ec2Mock.on(TerminateInstancesCommand).callsFake((input) => ({
    TerminatingInstances: input.InstanceIds.map((id: string) => ({
      InstanceId: id,
      PreviousState: { Name: 'running' },
      CurrentState: { Name: 'shutting-down' },
    })),
  }));
});

describe('terminateInstances', () => {
  it('terminates the instances and reports their state change', async () => {
    const result = await terminateInstances(ec2(), [INSTANCE_ID, INSTANCE_ID]);

    expect(result).toEqual([
      { instanceId: INSTANCE_ID, previousState: 'running', currentState: 'shutting-down' },
    ]);
    expect(ec2Mock.commandCalls(TerminateInstancesCommand)[0]?.args[0].input.InstanceIds).toEqual([
      INSTANCE_ID,
    ]);
  });

  it('counts an instance EC2 no longer knows as terminated', async () => {
    ec2Mock.on(TerminateInstancesCommand).rejects(awsError('InvalidInstanceID.NotFound'));

    const result = await terminateInstances(ec2(), [INSTANCE_ID]);

    expect(result).toEqual([
      { instanceId: INSTANCE_ID, previousState: 'not-found', currentState: 'terminated' },
    ]);
  });

  it('still terminates the known instances when one id is unknown', async () => {
    ec2Mock.on(TerminateInstancesCommand).callsFake((input) => {
      if (input.InstanceIds.includes('i-0gone00000000000')) throw awsError('InvalidInstanceID.NotFound');
      return {
        TerminatingInstances: [{ InstanceId: input.InstanceIds[0], CurrentState: { Name: 'shutting-down' } }],
      };
    });

    const result = await terminateInstances(ec2(), [INSTANCE_ID, 'i-0gone00000000000']);

    expect(result.map((r) => `${r.instanceId}:${r.currentState}`)).toEqual([
      `${INSTANCE_ID}:shutting-down`,
      'i-0gone00000000000:terminated',
    ]);
  });

  it('hands throttling to the state machine as TransientAwsError', async () => {
    ec2Mock.on(TerminateInstancesCommand).rejects(awsError('RequestLimitExceeded', 503));

    await expect(terminateInstances(ec2(), [INSTANCE_ID])).rejects.toBeInstanceOf(TransientAwsError);
  });

  it('does nothing for an empty list', async () => {
    expect(await terminateInstances(ec2(), [])).toEqual([]);
    expect(ec2Mock.commandCalls(TerminateInstancesCommand)).toHaveLength(0);
  });
});

describe('finding transfer instances', () => {
  it('finds the live instances of an execution by its tag', async () => {
    ec2Mock.on(DescribeInstancesCommand).resolves({
      Reservations: [{ Instances: [instance(INSTANCE_ID, { 'fsx-transfer:execution': EXECUTION_ARN })] }],
    });

    const found = await findInstancesByExecution(ec2(), EXECUTION_ARN);

    expect(found).toEqual([{ instanceId: INSTANCE_ID, state: 'running', executionArn: EXECUTION_ARN }]);
    const filters = ec2Mock.commandCalls(DescribeInstancesCommand)[0]?.args[0].input.Filters;
    expect(filters).toContainEqual({ Name: 'tag:fsx-transfer:execution', Values: [EXECUTION_ARN] });
    expect(filters).toContainEqual({
      Name: 'instance-state-name',
      Values: ['pending', 'running', 'stopping', 'stopped'],
    });
  });

  it('treats instances past their deadline, or without one, as overdue', async () => {
    ec2Mock.on(DescribeInstancesCommand).resolves({
      Reservations: [
        {
          Instances: [
            instance('i-0late0000000000001', { 'fsx-transfer:deadline': '2025-12-31T23:00:00.000Z' }),
            instance('i-0ontime00000000002', { 'fsx-transfer:deadline': '2026-01-01T01:00:00.000Z' }),
            instance('i-0nodeadline000003'),
          ],
        },
      ],
    });

    const overdue = await findOverdueInstances(ec2(), NOW, { stage: 'dev' });

    expect(overdue.map((i) => i.instanceId)).toEqual(['i-0late0000000000001', 'i-0nodeadline000003']);
    expect(ec2Mock.commandCalls(DescribeInstancesCommand)[0]?.args[0].input.Filters).toContainEqual({
      Name: 'tag:fsx-transfer:stage',
      Values: ['dev'],
    });
  });

  it('leaves instances inside the grace period alone', async () => {
    ec2Mock.on(DescribeInstancesCommand).resolves({
      Reservations: [
        {
          Instances: [
            instance('i-0late0000000000001', { 'fsx-transfer:deadline': '2025-12-31T23:59:00.000Z' }),
          ],
        },
      ],
    });

    expect(await findOverdueInstances(ec2(), NOW, { stage: 'dev', graceMs: 5 * 60_000 })).toEqual([]);
  });

  it('terminates the given instance and every instance tagged with the execution', async () => {
    ec2Mock.on(DescribeInstancesCommand).resolves({
      Reservations: [
        { Instances: [instance('i-0tagged0000000001', { 'fsx-transfer:execution': EXECUTION_ARN })] },
      ],
    });

    await terminateExecutionInstances(ec2(), EXECUTION_ARN, INSTANCE_ID);

    expect(ec2Mock.commandCalls(TerminateInstancesCommand)[0]?.args[0].input.InstanceIds).toEqual([
      INSTANCE_ID,
      'i-0tagged0000000001',
    ]);
  });

  it('describes an instance EC2 no longer knows as not-found', async () => {
    ec2Mock.on(DescribeInstancesCommand).rejects(awsError('InvalidInstanceID.NotFound'));

    expect(await describeInstance(ec2(), INSTANCE_ID)).toEqual({
      instanceId: INSTANCE_ID,
      state: 'not-found',
    });
  });
});
