/**
 * The local cloud's Step Functions, Lambda and event bus through the real `@aws-sdk/client-sfn`:
 * state machines loaded from statemachines/, executions of inline functions and of the project's
 * handlers, callbacks over the wire, aws-sdk tasks against the other emulators, history pagination
 * and AWS error codes.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateStateMachineCommand,
  DescribeExecutionCommand,
  type DescribeExecutionCommandOutput,
  DescribeStateMachineCommand,
  ExecutionAlreadyExists,
  ExecutionDoesNotExist,
  GetExecutionHistoryCommand,
  type HistoryEvent,
  InvalidArn,
  InvalidName,
  InvalidToken,
  ListExecutionsCommand,
  ListStateMachinesCommand,
  paginateGetExecutionHistory,
  SendTaskSuccessCommand,
  type SFNClient,
  StartExecutionCommand,
  StateMachineDoesNotExist,
  StopExecutionCommand,
  TaskDoesNotExist,
} from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalCloud, startLocalCloud } from '../../local/cloud.js';
import { localClients } from '../support/local-clients.js';

const ROLE = 'arn:aws:iam::000000000000:role/e2e';
let cloud: LocalCloud;
let dir: string;
let sfn: SFNClient;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'fsx-transfer-e2e-sfn-'));
  const configPath = join(dir, 'fsx-transfer.config.yaml');
  writeFileSync(
    configPath,
    `version: 1
region: us-east-1
accountId: '000000000000'
fileSystems:
  - id: fs-00000000000000001
    mountPoint: /fsx
    subnetIds: [subnet-00000000000000001]
    securityGroupIds: [sg-00000000000000001]
mappings:
  - name: output
    fileSystemId: fs-00000000000000001
    fsxPath: /output
    s3Uri: s3://demo/output
    directions: [export]
    method: ec2
`,
  );
  cloud = await startLocalCloud({
    port: 0,
    dataDir: join(dir, 'cloud'),
    configPath,
    timeScale: 0.01,
    quiet: true,
  });
  sfn = localClients(cloud.endpoint, { region: cloud.region, maxAttempts: 1 }).sfn();
  // A function that completes its task over the wire, as the project's command callback does.
  cloud.lambdas.register('e2e-callback', async (event: { token: string; value: number }) => {
    await sfn.send(
      new SendTaskSuccessCommand({
        taskToken: event.token,
        output: JSON.stringify({ doubled: event.value * 2 }),
      }),
    );
    return { sent: true };
  });
}, 60_000);

afterAll(async () => {
  sfn?.destroy();
  await cloud?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function createMachine(name: string, definition: unknown): Promise<string> {
  const out = await sfn.send(
    new CreateStateMachineCommand({ name, roleArn: ROLE, definition: JSON.stringify(definition) }),
  );
  return out.stateMachineArn!;
}

async function run(
  stateMachineArn: string,
  input: unknown = {},
  name?: string,
): Promise<DescribeExecutionCommandOutput> {
  const started = await sfn.send(
    new StartExecutionCommand({ stateMachineArn, input: JSON.stringify(input), name }),
  );
  for (;;) {
    const described = await sfn.send(new DescribeExecutionCommand({ executionArn: started.executionArn }));
    if (described.status !== 'RUNNING') return described;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function allEvents(executionArn: string): Promise<HistoryEvent[]> {
  const events: HistoryEvent[] = [];
  for await (const page of paginateGetExecutionHistory({ client: sfn, pageSize: 4 }, { executionArn })) {
    expect(page.events!.length).toBeLessThanOrEqual(4);
    events.push(...page.events!);
  }
  return events;
}

describe('Step Functions on the local cloud', () => {
  it('lists and describes the project state machine under its deployed name', async () => {
    const machines = await sfn.send(new ListStateMachinesCommand({}));
    const transfer = machines.stateMachines!.find(
      (machine) => machine.name === 'fsx-transfer-local-transfer',
    );

    const described = await sfn.send(
      new DescribeStateMachineCommand({ stateMachineArn: transfer!.stateMachineArn }),
    );

    expect(transfer).toMatchObject({
      type: 'STANDARD',
      stateMachineArn: 'arn:aws:states:us-east-1:000000000000:stateMachine:fsx-transfer-local-transfer',
    });
    expect(transfer!.creationDate).toBeInstanceOf(Date);
    expect(JSON.parse(described.definition!).States.Validate.Resource).toBe(
      'arn:aws:lambda:us-east-1:000000000000:function:fsx-transfer-local-validate',
    );
  });

  it('runs the project’s Validate handler and ends a bad request in a named Fail state', async () => {
    const arn = 'arn:aws:states:us-east-1:000000000000:stateMachine:fsx-transfer-local-transfer';

    const described = await run(arn, { mapping: 'no-such-mapping', direction: 'export' }, 'bad-mapping');

    expect(described.status).toBe('FAILED');
    const events = await allEvents(described.executionArn!);
    const failed = events.find((event) => event.type === 'LambdaFunctionFailed');
    expect(failed?.lambdaFunctionFailedEventDetails?.error).toBe('MappingNotFoundError');
    expect(events.at(-2)?.type).toBe('FailStateEntered');
    expect(events.at(-1)).toMatchObject({
      type: 'ExecutionFailed',
      executionFailedEventDetails: { error: described.error },
    });
    expect(
      cloud.eventLog.some(
        (event) =>
          event['detail-type'] === 'Step Functions Execution Status Change' &&
          event.detail.executionArn === described.executionArn &&
          event.detail.status === 'FAILED',
      ),
    ).toBe(true);
  });

  it('completes a waitForTaskToken task when the function calls SendTaskSuccess over the wire', async () => {
    const machine = await createMachine('e2e-callback', {
      StartAt: 'Callback',
      States: {
        Callback: {
          Type: 'Task',
          Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken',
          Parameters: {
            FunctionName: 'fsx-transfer-local-e2e-callback',
            Payload: { 'token.$': '$$.Task.Token', 'value.$': '$.value' },
          },
          TimeoutSeconds: 60,
          End: true,
        },
      },
    });

    const described = await run(machine, { value: 21 });

    expect(described.status).toBe('SUCCEEDED');
    expect(JSON.parse(described.output!)).toEqual({ doubled: 42 });
  });

  it('runs aws-sdk tasks against the other emulators, with AWS error names', async () => {
    const machine = await createMachine('e2e-sdk', {
      StartAt: 'Identity',
      States: {
        Identity: {
          Type: 'Task',
          Resource: 'arn:aws:states:::aws-sdk:sts:getCallerIdentity',
          ResultSelector: { 'account.$': '$.Account' },
          ResultPath: '$.identity',
          Next: 'FileSystem',
        },
        FileSystem: {
          Type: 'Task',
          Resource: 'arn:aws:states:::aws-sdk:fsx:describeFileSystems',
          Parameters: { FileSystemIds: ['fs-0123456789abcdef9'] },
          Catch: [
            { ErrorEquals: ['Fsx.FileSystemNotFoundException'], ResultPath: '$.fsxError', Next: 'Instance' },
          ],
          Next: 'Instance',
        },
        Instance: {
          Type: 'Task',
          Resource: 'arn:aws:states:::aws-sdk:ec2:terminateInstances',
          Parameters: { InstanceIds: ['i-0123456789abcdef0'] },
          Catch: [{ ErrorEquals: ['Ec2.Ec2Exception'], ResultPath: '$.ec2Error', Next: 'Done' }],
          Next: 'Done',
        },
        Done: { Type: 'Succeed' },
      },
    });

    const described = await run(machine);

    expect(described.status).toBe('SUCCEEDED');
    const output = JSON.parse(described.output!);
    expect(output.identity).toEqual({ account: '000000000000' });
    expect(output.fsxError.Error).toBe('Fsx.FileSystemNotFoundException');
    expect(output.fsxError.Cause).toMatch(/\(Service: Fsx, Status Code: 400, Request ID: /);
    expect(output.ec2Error.Error).toBe('Ec2.Ec2Exception');
    expect(output.ec2Error.Cause).toMatch(
      /i-0123456789abcdef0.* \(Service: Ec2, Status Code: 400, Request ID: /,
    );
  });

  it('pages GetExecutionHistory forwards and backwards', async () => {
    const machine = await createMachine('e2e-history', {
      StartAt: 'A',
      States: {
        A: { Type: 'Pass', Next: 'B' },
        B: { Type: 'Wait', Seconds: 1, Next: 'C' },
        C: { Type: 'Pass', End: true },
      },
    });
    const described = await run(machine);

    const forward = await allEvents(described.executionArn!);
    const first = await sfn.send(
      new GetExecutionHistoryCommand({
        executionArn: described.executionArn,
        reverseOrder: true,
        maxResults: 3,
      }),
    );
    const second = await sfn.send(
      new GetExecutionHistoryCommand({
        executionArn: described.executionArn,
        reverseOrder: true,
        maxResults: 3,
        nextToken: first.nextToken,
      }),
    );

    expect(forward.map((event) => event.type)).toEqual([
      'ExecutionStarted',
      'PassStateEntered',
      'PassStateExited',
      'WaitStateEntered',
      'WaitStateExited',
      'PassStateEntered',
      'PassStateExited',
      'ExecutionSucceeded',
    ]);
    expect(forward.every((event) => event.timestamp instanceof Date)).toBe(true);
    expect([...first.events!, ...second.events!].map((event) => event.id)).toEqual([8, 7, 6, 5, 4, 3]);
    await expect(
      sfn.send(
        new GetExecutionHistoryCommand({ executionArn: described.executionArn, nextToken: 'not-a-token' }),
      ),
    ).rejects.toBeInstanceOf(InvalidToken);
  });

  it('stops executions and lists them by status', async () => {
    const machine = await createMachine('e2e-stop', {
      StartAt: 'Forever',
      States: { Forever: { Type: 'Wait', Seconds: 86400, End: true } },
    });
    const started = await sfn.send(new StartExecutionCommand({ stateMachineArn: machine, name: 'to-stop' }));

    await sfn.send(
      new StopExecutionCommand({ executionArn: started.executionArn, error: 'Cancelled', cause: 'e2e' }),
    );
    const aborted = await sfn.send(
      new ListExecutionsCommand({ stateMachineArn: machine, statusFilter: 'ABORTED' }),
    );
    const described = await sfn.send(new DescribeExecutionCommand({ executionArn: started.executionArn }));

    expect(aborted.executions!.map((execution) => execution.name)).toEqual(['to-stop']);
    expect(described).toMatchObject({ status: 'ABORTED', error: 'Cancelled', cause: 'e2e' });
    expect(described.stopDate).toBeInstanceOf(Date);
  });

  it('answers with the AWS error codes the SDK knows', async () => {
    const machine = await createMachine('e2e-errors', {
      StartAt: 'P',
      States: { P: { Type: 'Pass', End: true } },
    });
    const missing = machine.replace('e2e-errors', 'e2e-missing');
    await sfn.send(new StartExecutionCommand({ stateMachineArn: machine, name: 'once', input: '{"a":1}' }));

    await expect(
      sfn.send(new StartExecutionCommand({ stateMachineArn: machine, name: 'once', input: '{"a":2}' })),
    ).rejects.toBeInstanceOf(ExecutionAlreadyExists);
    await expect(sfn.send(new StartExecutionCommand({ stateMachineArn: missing }))).rejects.toBeInstanceOf(
      StateMachineDoesNotExist,
    );
    await expect(
      sfn.send(new StartExecutionCommand({ stateMachineArn: machine, name: 'has space' })),
    ).rejects.toBeInstanceOf(InvalidName);
    await expect(sfn.send(new DescribeExecutionCommand({ executionArn: 'arn:nope' }))).rejects.toBeInstanceOf(
      InvalidArn,
    );
    await expect(
      sfn.send(
        new DescribeExecutionCommand({
          executionArn: `${machine.replace(':stateMachine:', ':execution:')}:never`,
        }),
      ),
    ).rejects.toBeInstanceOf(ExecutionDoesNotExist);
    await expect(
      sfn.send(
        new SendTaskSuccessCommand({
          taskToken: `AQ${Buffer.from(JSON.stringify({ e: 'x', s: 'y', n: 'z' })).toString('base64url')}`,
          output: '{}',
        }),
      ),
    ).rejects.toBeInstanceOf(TaskDoesNotExist);
  });
});
