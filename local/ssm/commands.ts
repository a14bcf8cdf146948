/**
 * Run Command's records and what reads them: commands and their per-instance invocations (with a
 * plugin per document step), the status rules (an invocation's status, and the command's status
 * derived from its invocations, each change emitted as an `EC2 Command (Invocation) Status-change
 * Notification`), and ListCommands, ListCommandInvocations and GetCommandInvocation. Sending and
 * running commands is run-command.ts.
 */
import { pageAt } from '../kit/next-token.js';
import { LocalAwsError } from '../types.js';
import { maxResults, requireString, ssmTokens, validation } from './input.js';
import type { SsmEmulatorDeps } from './service.js';

export type InvocationStatus =
  | 'Pending'
  | 'InProgress'
  | 'Delayed'
  | 'Success'
  | 'Cancelled'
  | 'TimedOut'
  | 'Failed'
  | 'Cancelling';
export type PluginStatus = 'Pending' | 'InProgress' | 'Success' | 'TimedOut' | 'Cancelled' | 'Failed';
export const TERMINAL = new Set<InvocationStatus>(['Success', 'Cancelled', 'TimedOut', 'Failed']);

export interface PluginRecord {
  name: string;
  action: string;
  status: PluginStatus;
  statusDetails: string;
  responseCode: number;
  startedAt?: string;
  finishedAt?: string;
  stdout: string;
  stderr: string;
}

export interface InvocationRecord {
  commandId: string;
  instanceId: string;
  status: InvocationStatus;
  statusDetails: string;
  plugins: PluginRecord[];
  startedAt?: string;
  finishedAt?: string;
}

export interface CommandRecord {
  commandId: string;
  documentName: string;
  documentVersion: string;
  /** The document version actually run (a number). */
  resolvedVersion: string;
  comment?: string;
  parameters: Record<string, string[]>;
  /** Parameters as given by the caller (what AWS echoes back). */
  givenParameters: Record<string, string[]>;
  instanceIds: string[];
  targets: unknown[];
  requestedDateTime: string;
  expiresAfter: string;
  timeoutSeconds: number;
  status: InvocationStatus;
  statusDetails: string;
  cancelRequested: boolean;
  maxConcurrency: string;
  maxErrors: string;
  serviceRoleArn?: string;
  notificationConfig?: unknown;
  cloudWatchOutputConfig: { CloudWatchLogGroupName: string; CloudWatchOutputEnabled: boolean };
  outputS3BucketName?: string;
  outputS3KeyPrefix?: string;
  outputS3Region?: string;
}

/** The key of an invocation: its command and instance. */
export function invocationKey(commandId: string, instanceId: string): string {
  return `${commandId}/${instanceId}`;
}

function elapsed(start?: string, end?: string): string {
  if (!start) return '';
  const ms = (end ? Date.parse(end) : Date.now()) - Date.parse(start);
  return `PT${(ms / 1000).toFixed(3)}S`;
}

/** Sets a status and its details; false when they were already so (nothing to announce). */
function changeStatus(
  record: { status: InvocationStatus; statusDetails: string },
  status: InvocationStatus,
  details: string,
): boolean {
  if (record.status === status && record.statusDetails === details) return false;
  record.status = status;
  record.statusDetails = details;
  return true;
}

/** The service role, notifications and CloudWatch output of a command, as Command and CommandInvocation show them. */
function deliverySettings(command: CommandRecord) {
  return {
    ServiceRole: command.serviceRoleArn ?? '',
    NotificationConfig: command.notificationConfig ?? {
      NotificationArn: '',
      NotificationEvents: [],
      NotificationType: '',
    },
    CloudWatchOutputConfig: command.cloudWatchOutputConfig,
  };
}

/** Ends a plugin (a document step) with a status, a response code and status details. */
export function finishPlugin(
  plugin: PluginRecord,
  status: PluginStatus,
  code: number,
  details: string = status,
): void {
  plugin.status = status;
  plugin.statusDetails = details;
  plugin.responseCode = code;
  plugin.finishedAt = new Date().toISOString();
}

/** A request's `CommandId` (36 characters). @throws ValidationException; undefined when optional and absent. */
export function commandIdOf(input: Record<string, unknown>, required: boolean): string | undefined {
  const value = input.CommandId;
  if (value === undefined && !required) return undefined;
  if (typeof value !== 'string' || value.length !== 36) {
    throw validation(
      `1 validation error detected: Value '${String(value)}' at 'commandId' failed to satisfy constraint: Member must have length 36`,
    );
  }
  return value;
}

export class Commands {
  readonly commands = new Map<string, CommandRecord>();
  readonly invocations = new Map<string, InvocationRecord>();

  constructor(
    private readonly deps: SsmEmulatorDeps,
    private readonly persist: () => void,
  ) {}

  /** A command's invocations, in the order of its instances. */
  invocationsOf(command: CommandRecord): InvocationRecord[] {
    return command.instanceIds.map((id) => this.invocations.get(invocationKey(command.commandId, id))!);
  }

  /** Counts of commands by status (admin summary). */
  countByStatus(): Record<string, number> {
    const byStatus: Record<string, number> = {};
    for (const command of this.commands.values())
      byStatus[command.status] = (byStatus[command.status] ?? 0) + 1;
    return byStatus;
  }

  /** Raw command and invocation records (admin API). */
  debugCommands(): unknown[] {
    return [...this.commands.values()].map((command) => ({
      ...command,
      invocations: command.instanceIds.map((id) =>
        this.invocations.get(invocationKey(command.commandId, id)),
      ),
    }));
  }

  /** Loads saved records: commands and invocations still going when the cloud stopped are Failed. */
  restore(commands: CommandRecord[], invocations: InvocationRecord[]): void {
    for (const c of commands) this.commands.set(c.commandId, c);
    for (const i of invocations) {
      // Processes do not survive a restart: what was still going is reported as failed.
      if (!TERMINAL.has(i.status)) {
        i.status = 'Failed';
        i.statusDetails = 'Failed';
        for (const p of i.plugins) {
          if (p.status === 'Pending' || p.status === 'InProgress') {
            p.status = 'Failed';
            p.statusDetails = 'Failed';
            p.stderr += 'The local cloud restarted while this command was running.\n';
          }
        }
      }
      this.invocations.set(invocationKey(i.commandId, i.instanceId), i);
    }
    for (const c of this.commands.values()) {
      if (!TERMINAL.has(c.status)) {
        c.status = 'Failed';
        c.statusDetails = 'Failed';
      }
    }
  }

  finishCancelled(command: CommandRecord, invocation: InvocationRecord): void {
    for (const plugin of invocation.plugins) {
      if (plugin.status === 'Pending' || plugin.status === 'InProgress')
        finishPlugin(plugin, 'Cancelled', -1);
    }
    invocation.finishedAt = new Date().toISOString();
    this.setInvocationStatus(command, invocation, 'Cancelled', 'Cancelled');
  }

  setInvocationStatus(
    command: CommandRecord,
    invocation: InvocationRecord,
    status: InvocationStatus,
    details: string,
  ): void {
    if (!changeStatus(invocation, status, details)) return;
    this.deps.emit({
      source: 'aws.ssm',
      'detail-type': 'EC2 Command Invocation Status-change Notification',
      resources: [`arn:aws:ec2:${this.deps.region}:${this.deps.accountId}:instance/${invocation.instanceId}`],
      detail: {
        'command-id': command.commandId,
        'document-name': command.documentName,
        'instance-id': invocation.instanceId,
        'requested-date-time': command.requestedDateTime,
        status,
      },
    });
    this.updateCommandStatus(command);
    this.persist();
  }

  updateCommandStatus(command: CommandRecord): void {
    const invocations = this.invocationsOf(command);
    let status: InvocationStatus;
    let details: string;
    const all = (s: InvocationStatus) => invocations.every((i) => i.status === s);
    const some = (s: InvocationStatus) => invocations.some((i) => i.status === s);
    if (invocations.length === 0) [status, details] = ['Success', 'Success'];
    else if (!invocations.every((i) => TERMINAL.has(i.status))) {
      if (command.cancelRequested) [status, details] = ['Cancelling', 'Cancelling'];
      else if (all('Pending')) [status, details] = ['Pending', 'Pending'];
      else if (invocations.every((i) => i.status === 'Delayed' || i.status === 'Pending'))
        [status, details] = ['InProgress', 'Delayed'];
      else [status, details] = ['InProgress', 'InProgress'];
    } else if (all('Success')) [status, details] = ['Success', 'Success'];
    else if (some('Cancelled')) [status, details] = ['Cancelled', 'Cancelled'];
    else if (invocations.every((i) => i.statusDetails === 'DeliveryTimedOut'))
      [status, details] = ['TimedOut', 'DeliveryTimedOut'];
    else if (some('TimedOut') && !some('Failed')) [status, details] = ['TimedOut', 'ExecutionTimedOut'];
    else [status, details] = ['Failed', 'Failed'];
    if (!changeStatus(command, status, details)) return;
    this.deps.emit({
      source: 'aws.ssm',
      'detail-type': 'EC2 Command Status-change Notification',
      resources: command.instanceIds.map(
        (id) => `arn:aws:ec2:${this.deps.region}:${this.deps.accountId}:instance/${id}`,
      ),
      detail: {
        'command-id': command.commandId,
        'document-name': command.documentName,
        'expire-after': command.expiresAfter,
        parameters: command.givenParameters,
        'requested-date-time': command.requestedDateTime,
        status,
      },
    });
  }

  commandOutput(command: CommandRecord) {
    const invocations = this.invocationsOf(command);
    return {
      CommandId: command.commandId,
      DocumentName: command.documentName,
      DocumentVersion: command.documentVersion,
      Comment: command.comment ?? '',
      ExpiresAfter: new Date(command.expiresAfter),
      Parameters: command.givenParameters,
      InstanceIds: command.targets.length > 0 ? [] : command.instanceIds,
      Targets: command.targets,
      RequestedDateTime: new Date(command.requestedDateTime),
      Status: command.status,
      StatusDetails: command.statusDetails,
      OutputS3Region: command.outputS3Region ?? this.deps.region,
      OutputS3BucketName: command.outputS3BucketName ?? '',
      OutputS3KeyPrefix: command.outputS3KeyPrefix ?? '',
      MaxConcurrency: command.maxConcurrency,
      MaxErrors: command.maxErrors,
      TargetCount: invocations.length,
      CompletedCount: invocations.filter((i) => TERMINAL.has(i.status)).length,
      ErrorCount: invocations.filter(
        (i) => i.status === 'Failed' || (i.status === 'TimedOut' && i.statusDetails === 'ExecutionTimedOut'),
      ).length,
      DeliveryTimedOutCount: invocations.filter((i) => i.statusDetails === 'DeliveryTimedOut').length,
      ...deliverySettings(command),
      TimeoutSeconds: command.timeoutSeconds,
      TriggeredAlarms: [],
    };
  }

  private commandFilters(input: Record<string, unknown>): ((c: CommandRecord) => boolean)[] {
    const filters = (input.Filters as { key?: string; value?: string }[] | undefined) ?? [];
    return filters.map((f) => {
      const key = String(f.key ?? '');
      const value = String(f.value ?? '');
      switch (key) {
        case 'InvokedAfter':
          return (c) => Date.parse(c.requestedDateTime) >= Date.parse(value);
        case 'InvokedBefore':
          return (c) => Date.parse(c.requestedDateTime) <= Date.parse(value);
        case 'Status':
          return (c) => c.status === value;
        case 'ExecutionStage':
          if (value !== 'Executing' && value !== 'Complete') {
            throw new LocalAwsError(
              'InvalidFilterValue',
              `ExecutionStage must be Executing or Complete, not ${value}`,
            );
          }
          return (c) => (value === 'Complete') === TERMINAL.has(c.status);
        case 'DocumentName':
          return (c) => c.documentName === value;
        default:
          throw new LocalAwsError('InvalidFilterKey', `The filter key ${key} is not valid`);
      }
    });
  }

  listCommands(input: Record<string, unknown>) {
    const commandId = commandIdOf(input, false);
    const limit = maxResults(input, 1, 50, 50);
    const offset = ssmTokens.decode(input.NextToken);
    const filters = this.commandFilters(input);
    if (commandId && !this.commands.has(commandId))
      throw new LocalAwsError('InvalidCommandId', `Command ${commandId} does not exist.`);
    const instanceId = input.InstanceId === undefined ? undefined : String(input.InstanceId);
    const all = [...this.commands.values()]
      .filter((c) => !commandId || c.commandId === commandId)
      .filter((c) => !instanceId || c.instanceIds.includes(instanceId))
      .filter((c) => filters.every((f) => f(c)))
      .sort((a, b) => b.requestedDateTime.localeCompare(a.requestedDateTime));
    const { items: page, nextToken } = pageAt(all, offset, limit, ssmTokens);
    return {
      Commands: page.map((c) => this.commandOutput(c)),
      NextToken: nextToken,
    };
  }

  private pluginOutput(plugin: PluginRecord) {
    const combined = plugin.stderr
      ? `${plugin.stdout}\n----------ERROR-------\n${plugin.stderr}`
      : plugin.stdout;
    return {
      Name: plugin.name,
      Status: plugin.status,
      StatusDetails: plugin.statusDetails,
      ResponseCode: plugin.responseCode,
      ResponseStartDateTime: plugin.startedAt ? new Date(plugin.startedAt) : undefined,
      ResponseFinishDateTime: plugin.finishedAt ? new Date(plugin.finishedAt) : undefined,
      Output: combined.slice(0, 2500),
      StandardOutputUrl: '',
      StandardErrorUrl: '',
      OutputS3Region: this.deps.region,
      OutputS3BucketName: '',
      OutputS3KeyPrefix: '',
    };
  }

  listCommandInvocations(input: Record<string, unknown>) {
    const commandId = commandIdOf(input, false);
    const limit = maxResults(input, 1, 50, 50);
    const offset = ssmTokens.decode(input.NextToken);
    const filters = this.commandFilters(input);
    const instanceId = input.InstanceId === undefined ? undefined : String(input.InstanceId);
    const details = input.Details === true;
    const rows = [...this.commands.values()]
      .filter((c) => !commandId || c.commandId === commandId)
      .filter((c) => filters.every((f) => f(c)))
      .sort((a, b) => b.requestedDateTime.localeCompare(a.requestedDateTime))
      .flatMap((c) =>
        c.instanceIds
          .filter((id) => !instanceId || id === instanceId)
          .map((id) => ({ command: c, invocation: this.invocations.get(invocationKey(c.commandId, id))! })),
      );
    const { items: page, nextToken } = pageAt(rows, offset, limit, ssmTokens);
    return {
      CommandInvocations: page.map(({ command, invocation }) => ({
        CommandId: command.commandId,
        InstanceId: invocation.instanceId,
        InstanceName:
          this.deps.ec2.getInstance(invocation.instanceId)?.tags.find((t) => t.key === 'Name')?.value ?? '',
        Comment: command.comment ?? '',
        DocumentName: command.documentName,
        DocumentVersion: command.documentVersion,
        RequestedDateTime: new Date(command.requestedDateTime),
        Status: invocation.status,
        StatusDetails: invocation.statusDetails,
        TraceOutput: '',
        StandardOutputUrl: '',
        StandardErrorUrl: '',
        CommandPlugins: details ? invocation.plugins.map((p) => this.pluginOutput(p)) : [],
        ...deliverySettings(command),
      })),
      NextToken: nextToken,
    };
  }

  getCommandInvocation(input: Record<string, unknown>) {
    const commandId = commandIdOf(input, true)!;
    const instanceId = requireString(input, 'InstanceId');
    if (!/^(i|mi)-[0-9a-f]{8,17}$/.test(instanceId)) {
      throw new LocalAwsError('InvalidInstanceId', `Instance Id ${instanceId} is not valid.`);
    }
    const command = this.commands.get(commandId);
    const invocation = this.invocations.get(invocationKey(commandId, instanceId));
    if (!command || !invocation) throw new LocalAwsError('InvocationDoesNotExist', '');
    let plugin: PluginRecord | undefined;
    if (input.PluginName !== undefined) {
      plugin = invocation.plugins.find((p) => p.name === input.PluginName);
      if (!plugin)
        throw new LocalAwsError(
          'InvalidPluginName',
          `The plugin name ${String(input.PluginName)} is not valid.`,
        );
    } else if (invocation.plugins.length === 1) {
      plugin = invocation.plugins[0]!;
    } else {
      throw new LocalAwsError(
        'InvalidPluginName',
        'The document has more than one step: specify PluginName (the step name) to get its details.',
      );
    }
    const status = input.PluginName === undefined ? invocation.status : plugin.status;
    const details = input.PluginName === undefined ? invocation.statusDetails : plugin.statusDetails;
    // Output is empty until the reported execution (the plugin when PluginName is given, else the
    // whole invocation) has finished: a finished step of a multi-step document shows its output
    // while later steps still run, as on AWS.
    const finished = TERMINAL.has(status);
    return {
      CommandId: commandId,
      InstanceId: instanceId,
      Comment: command.comment ?? '',
      DocumentName: command.documentName,
      DocumentVersion: command.documentVersion,
      PluginName: plugin.name,
      ResponseCode: plugin.responseCode,
      ExecutionStartDateTime: plugin.startedAt ?? '',
      ExecutionElapsedTime: elapsed(plugin.startedAt, plugin.finishedAt),
      ExecutionEndDateTime: plugin.finishedAt ?? '',
      Status: status,
      StatusDetails: details,
      StandardOutputContent: finished ? plugin.stdout : '',
      StandardOutputUrl: '',
      StandardErrorContent: finished ? plugin.stderr : '',
      StandardErrorUrl: '',
      CloudWatchOutputConfig: command.cloudWatchOutputConfig,
    };
  }
}
