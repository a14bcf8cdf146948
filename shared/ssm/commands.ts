/**
 * Run Command for transfer instances: agent readiness, sending the project's document, reading an
 * invocation, and turning its status into our errors. SSM is the only way in: transfer instances
 * have no public IP and no SSH.
 */

import type { EC2Client } from '@aws-sdk/client-ec2';
import {
  CancelCommandCommand,
  type Command,
  DescribeInstanceInformationCommand,
  GetCommandInvocationCommand,
  type GetCommandInvocationCommandOutput,
  ListCommandsCommand,
  SendCommandCommand,
  type SSMClient,
} from '@aws-sdk/client-ssm';
import { rethrowTransient } from '../aws/transient.js';
import { describeInstance } from '../ec2/instances.js';
import {
  awsErrorName,
  CommandFailedError,
  CommandTimedOutError,
  InstanceNotReadyError,
  InvalidRequestError,
  NotReadyYetError,
} from '../errors.js';
import {
  documentParameterProblems,
  TRANSFER_DOCUMENT_STEPS,
  type TransferCommandParameters,
} from './document.js';

export interface AgentStatus {
  instanceId: string;
  pingStatus: string;
  platformName?: string;
  agentVersion?: string;
}

/**
 * The instance's SSM agent status (`PingStatus` Online, ConnectionLost, Inactive), or `NotRegistered`
 * while the agent has not registered yet after boot.
 */
export async function agentStatus(ssm: SSMClient, instanceId: string): Promise<AgentStatus> {
  try {
    const out = await ssm.send(
      new DescribeInstanceInformationCommand({ Filters: [{ Key: 'InstanceIds', Values: [instanceId] }] }),
    );
    const info = out.InstanceInformationList?.find((item) => item.InstanceId === instanceId);
    if (!info) return { instanceId, pingStatus: 'NotRegistered' };
    return {
      instanceId,
      pingStatus: String(info.PingStatus ?? 'Unknown'),
      ...(info.PlatformName ? { platformName: info.PlatformName } : {}),
      ...(info.AgentVersion ? { agentVersion: info.AgentVersion } : {}),
    };
  } catch (error) {
    rethrowTransient(error, `reading the SSM agent status of ${instanceId}`);
  }
}

/**
 * Whether the transfer instance can take commands now.
 * @returns the agent status once it is Online.
 * @throws NotReadyYetError while the agent is not online and the deadline has not passed (the state
 *   machine retries with back-off); InstanceNotReadyError when the instance is gone or the deadline
 *   passed.
 */
export async function checkAgentReady(
  deps: { ssm: SSMClient; ec2: EC2Client; now?: () => Date },
  input: { instanceId: string; agentDeadline: string },
): Promise<AgentStatus> {
  const { instanceId } = input;
  const instance = await describeInstance(deps.ec2, instanceId);
  if (['shutting-down', 'terminated', 'stopping', 'stopped', 'not-found'].includes(instance.state)) {
    throw new InstanceNotReadyError(
      `Transfer instance ${instanceId} is ${instance.state}${instance.stateReason ? ` (${instance.stateReason})` : ''} before its SSM agent came online`,
      { details: { instanceId, state: instance.state } },
    );
  }
  const status = instance.state === 'running' ? await agentStatus(deps.ssm, instanceId) : undefined;
  if (status?.pingStatus === 'Online') return status;
  const seen = status ? `agent ${status.pingStatus}` : `instance ${instance.state}`;
  const now = deps.now?.() ?? new Date();
  if (now.getTime() >= Date.parse(input.agentDeadline)) {
    throw new InstanceNotReadyError(
      `The SSM agent of transfer instance ${instanceId} did not come online by ${input.agentDeadline} (${seen}). Check that the instance profile has AmazonSSMManagedInstanceCore and that the subnet reaches SSM (VPC endpoints ssm, ssmmessages, ec2messages, or a NAT gateway).`,
      { details: { instanceId, state: instance.state, pingStatus: status?.pingStatus } },
    );
  }
  throw new NotReadyYetError(`Transfer instance ${instanceId} is not ready yet (${seen})`, {
    details: { instanceId },
  });
}

/** What a transfer command run looks like to the rest of the state machine. */
export interface CommandResult {
  commandId: string;
  instanceId: string;
  status: string;
  statusDetails?: string;
  responseCode: number;
  /** Last lines of standard output (the full output is in CloudWatch Logs). */
  outputTail: string;
  listingUri?: string;
}

export type InvocationOutcome = 'running' | 'success' | 'failed' | 'timed-out' | 'cancelled';

export interface InvocationSummary {
  commandId: string;
  instanceId: string;
  status: string;
  statusDetails: string;
  responseCode: number;
  stdout: string;
  stderr: string;
}

/** Maps GetCommandInvocation's Status (and StatusDetails) to what the state machine does next. */
export function invocationOutcome(
  invocation: Pick<InvocationSummary, 'status' | 'statusDetails'>,
): InvocationOutcome {
  switch (invocation.status) {
    case 'Success':
      return 'success';
    case 'TimedOut':
      return 'timed-out';
    case 'Cancelled':
      return 'cancelled';
    case 'Failed':
      // "Execution Timed Out" / "Delivery Timed Out" arrive as TimedOut, but older agents report
      // them as Failed with these details.
      return /timed out/i.test(invocation.statusDetails) ? 'timed-out' : 'failed';
    default:
      // Pending, InProgress, Delayed, Cancelling (a cancel is not final until Cancelled).
      return 'running';
  }
}

/** The last `maxChars` characters of `text`, starting at a line boundary when possible. */
export function tail(text: string, maxChars = 2000): string {
  if (text.length <= maxChars) return text.trimEnd();
  const cut = text.slice(-maxChars);
  const newline = cut.indexOf('\n');
  return `…${newline >= 0 && newline < cut.length - 1 ? cut.slice(newline + 1) : cut}`.trimEnd();
}

/** The error a finished, unsuccessful invocation stands for (stderr's last lines in the message). */
export function invocationError(invocation: InvocationSummary): CommandFailedError | CommandTimedOutError {
  const outcome = invocationOutcome(invocation);
  const where = `command ${invocation.commandId} on ${invocation.instanceId}`;
  const stderr = tail(invocation.stderr, 1500);
  const details = {
    commandId: invocation.commandId,
    instanceId: invocation.instanceId,
    status: invocation.status,
    statusDetails: invocation.statusDetails,
    responseCode: invocation.responseCode,
  };
  if (outcome === 'timed-out') {
    return new CommandTimedOutError(
      `The transfer ${where} timed out (${invocation.statusDetails || invocation.status}) before it finished (at the run's deadline, or after 48 h, the longest one SSM command may run); raise defaults.timeouts.transferMinutes, or transfer a smaller subPath or on more instances (scale-out): aws s3 sync skips what is already copied, so a new run continues.${stderr ? ` Last errors: ${stderr}` : ''}`,
      { details },
    );
  }
  const what =
    outcome === 'cancelled'
      ? 'was cancelled'
      : `failed with exit code ${invocation.responseCode} (${invocation.statusDetails || invocation.status})`;
  return new CommandFailedError(
    `The transfer ${where} ${what}.${stderr ? ` Last errors: ${stderr}` : ''} Full output: CloudWatch Logs.`,
    { details },
  );
}

/** One step's invocation (`PluginName` for a document of several steps). */
async function getStepInvocation(
  ssm: SSMClient,
  commandId: string,
  instanceId: string,
  pluginName?: string,
): Promise<InvocationSummary> {
  let out: GetCommandInvocationCommandOutput;
  try {
    out = await ssm.send(
      new GetCommandInvocationCommand({
        CommandId: commandId,
        InstanceId: instanceId,
        ...(pluginName ? { PluginName: pluginName } : {}),
      }),
    );
  } catch (error) {
    if (awsErrorName(error) === 'InvocationDoesNotExist') {
      return {
        commandId,
        instanceId,
        status: 'Pending',
        statusDetails: 'Pending',
        responseCode: -1,
        stdout: '',
        stderr: '',
      };
    }
    rethrowTransient(error, `reading command ${commandId} on ${instanceId}`);
  }
  return {
    commandId,
    instanceId,
    status: String(out.Status ?? 'Pending'),
    statusDetails: out.StatusDetails ?? '',
    responseCode: out.ResponseCode ?? -1,
    stdout: out.StandardOutputContent ?? '',
    stderr: out.StandardErrorContent ?? '',
  };
}

/** Statuses of a step that end the invocation without success. */
const UNSUCCESSFUL = new Set(['Failed', 'TimedOut', 'Cancelled', 'Cancelling']);

/**
 * One invocation of a command on an instance; status `Pending` while SSM has not created the
 * invocation yet (`InvocationDoesNotExist` right after SendCommand). A document of several steps
 * (`steps`, in order) must be read step by step (GetCommandInvocation refuses it without
 * `PluginName`): the invocation is the first step that did not succeed, running while a step is
 * not done, and its output is the steps' outputs in order.
 */
export async function getInvocation(
  ssm: SSMClient,
  commandId: string,
  instanceId: string,
  steps: readonly string[] = [],
): Promise<InvocationSummary> {
  if (steps.length < 2) return getStepInvocation(ssm, commandId, instanceId, steps[0]);
  const each: InvocationSummary[] = [];
  for (const step of steps) each.push(await getStepInvocation(ssm, commandId, instanceId, step));
  const joined = (part: 'stdout' | 'stderr') =>
    each
      .map((step) => step[part])
      .filter(Boolean)
      .join('\n');
  const decisive =
    each.find((step) => UNSUCCESSFUL.has(step.status)) ??
    each.find((step) => step.status !== 'Success') ??
    (each.at(-1) as InvocationSummary);
  const status =
    UNSUCCESSFUL.has(decisive.status) || decisive.status === 'Success' || decisive === each[0]
      ? decisive.status
      : 'InProgress';
  return { ...decisive, status, stdout: joined('stdout'), stderr: joined('stderr') };
}

/** The result object of a successful invocation. */
export function commandResult(invocation: InvocationSummary, listingUri?: string): CommandResult {
  return {
    commandId: invocation.commandId,
    instanceId: invocation.instanceId,
    status: invocation.status,
    ...(invocation.statusDetails ? { statusDetails: invocation.statusDetails } : {}),
    responseCode: invocation.responseCode,
    outputTail: tail(invocation.stdout, 1500),
    ...(listingUri ? { listingUri } : {}),
  };
}

export interface SendTransferCommandInput {
  instanceId: string;
  documentName: string;
  parameters: TransferCommandParameters;
  /** Identifies the run and mode; also how a retried step finds the command it already sent. */
  comment: string;
  /** CloudWatch Logs group for the full output (none: output only in GetCommandInvocation, truncated). */
  logGroupName?: string;
  /** How long SSM may wait for the agent to pick the command up (SendCommand TimeoutSeconds). */
  deliveryTimeoutSeconds?: number;
}

/** Commands of `documentName` sent to `instanceId` with `comment`, newest first. */
export async function findSentCommands(
  ssm: SSMClient,
  input: { instanceId: string; documentName: string; comment: string },
): Promise<Command[]> {
  try {
    const out = await ssm.send(
      new ListCommandsCommand({
        InstanceId: input.instanceId,
        Filters: [{ key: 'DocumentName', value: input.documentName }],
      }),
    );
    return (out.Commands ?? [])
      .filter((command) => command.Comment === input.comment)
      .sort((a, b) => (b.RequestedDateTime?.getTime() ?? 0) - (a.RequestedDateTime?.getTime() ?? 0));
  } catch (error) {
    rethrowTransient(error, `listing commands sent to ${input.instanceId}`);
  }
}

/**
 * Sends the transfer document to the instance, unless this run already sent it (a retried step
 * reuses the command found by instance, document and comment instead of starting a second sync).
 * Every parameter is checked against the document's patterns first.
 * @returns the command id and whether it was sent now.
 * @throws InvalidRequestError naming each refused parameter (nothing is sent).
 */
export async function sendTransferCommand(
  ssm: SSMClient,
  input: SendTransferCommandInput,
): Promise<{ commandId: string; sent: boolean }> {
  const problems = documentParameterProblems(input.parameters);
  if (problems.length > 0) {
    throw new InvalidRequestError(`Refusing to send the transfer command: ${problems.join('; ')}`, {
      details: { problems },
    });
  }
  const previous = await findSentCommands(ssm, input);
  if (previous[0]?.CommandId) return { commandId: previous[0].CommandId, sent: false };
  try {
    const out = await ssm.send(
      new SendCommandCommand({
        DocumentName: input.documentName,
        InstanceIds: [input.instanceId],
        Comment: input.comment.slice(0, 100),
        Parameters: Object.fromEntries(
          Object.entries(input.parameters).map(([key, value]) => [key, [value]]),
        ),
        TimeoutSeconds: input.deliveryTimeoutSeconds ?? 600,
        ...(input.logGroupName
          ? {
              CloudWatchOutputConfig: {
                CloudWatchOutputEnabled: true,
                CloudWatchLogGroupName: input.logGroupName,
              },
            }
          : {}),
      }),
    );
    const commandId = out.Command?.CommandId;
    if (!commandId) throw new CommandFailedError(`SendCommand to ${input.instanceId} returned no command id`);
    return { commandId, sent: true };
  } catch (error) {
    const name = awsErrorName(error);
    if (name === 'InvalidInstanceId') {
      throw new CommandFailedError(
        `SSM cannot run commands on ${input.instanceId} (InvalidInstanceId: the instance stopped, terminated or its agent went offline)`,
        { cause: error, details: { instanceId: input.instanceId } },
      );
    }
    if (name === 'InvalidParameters' || name === 'InvalidDocument') {
      throw new CommandFailedError(`SSM refused the transfer command: ${name}: ${(error as Error).message}`, {
        cause: error,
      });
    }
    rethrowTransient(error, `sending the transfer command to ${input.instanceId}`);
  }
}

/**
 * Cancels a command on the instance (best effort: a command that already ended is fine).
 * @throws TransientAwsError on throttling.
 */
export async function cancelCommand(ssm: SSMClient, commandId: string, instanceId: string): Promise<void> {
  try {
    await ssm.send(new CancelCommandCommand({ CommandId: commandId, InstanceIds: [instanceId] }));
  } catch (error) {
    const name = awsErrorName(error);
    if (name === 'InvalidCommandId' || name === 'InvalidInstanceId' || name === 'DuplicateInstanceId') return;
    rethrowTransient(error, `cancelling command ${commandId}`);
  }
}

/**
 * The fallback when no callback arrived: reads the transfer command of an instance directly.
 * @returns the result when the command succeeded.
 * @throws NotReadyYetError while it runs (the state machine polls again with back-off),
 *   CommandTimedOutError once the deadline has passed (the command is cancelled) or SSM timed it
 *   out, CommandFailedError when it failed or no transfer command was ever sent.
 */
export async function pollTransferCommand(
  deps: { ssm: SSMClient; now?: () => Date },
  input: { instanceId: string; documentName: string; comment: string; deadline: string; listingUri?: string },
): Promise<CommandResult> {
  const [command] = await findSentCommands(deps.ssm, input);
  if (!command?.CommandId) {
    throw new CommandFailedError(`No transfer command was sent to ${input.instanceId} (${input.comment})`);
  }
  const invocation = await getInvocation(
    deps.ssm,
    command.CommandId,
    input.instanceId,
    TRANSFER_DOCUMENT_STEPS,
  );
  const outcome = invocationOutcome(invocation);
  if (outcome === 'success') return commandResult(invocation, input.listingUri);
  if (outcome !== 'running') throw invocationError(invocation);
  const now = deps.now?.() ?? new Date();
  if (now.getTime() >= Date.parse(input.deadline)) {
    await cancelCommand(deps.ssm, command.CommandId, input.instanceId);
    throw new CommandTimedOutError(
      `The transfer command ${command.CommandId} on ${input.instanceId} was still ${invocation.status} at the run deadline ${input.deadline}; cancelled it.`,
      { details: { commandId: command.CommandId, instanceId: input.instanceId } },
    );
  }
  throw new NotReadyYetError(`Transfer command ${command.CommandId} is ${invocation.status}`, {
    details: { commandId: command.CommandId },
  });
}
