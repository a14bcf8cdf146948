/**
 * Run Command: SendCommand validates parameters against the document and the instances against
 * their agents, then each invocation is delivered (`deliveryMs`; Delayed while the instance is
 * unreachable, DeliveryTimedOut after TimeoutSeconds) and really runs each `aws:runShellScript`
 * step with bash on this machine (shell-step.ts), with the document's parameters substituted and
 * the instance's paths mapped (instance-fs.ts); CancelCommand, and failing the invocations of an
 * instance that stops or terminates.
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { LocalAwsError } from '../types.js';
import { type Agents, faultAttributesFor } from './agents.js';
import { type CommandStep, type ParsedDocument, resolveParameters, substitute } from './command-document.js';
import {
  type CommandRecord,
  type Commands,
  commandIdOf,
  finishPlugin,
  type InvocationRecord,
  invocationKey,
  type PluginRecord,
  type PluginStatus,
  TERMINAL,
} from './commands.js';
import type { Documents } from './documents.js';
import { validation } from './input.js';
import { instanceBytesPerSecond, startInstanceLink } from './instance-network.js';
import type { ParameterStore } from './parameters.js';
import type { SsmEmulatorDeps, SsmTimings } from './service.js';
import { type RunningStep, runShellStep, STDERR_LIMIT, STDOUT_LIMIT } from './shell-step.js';

export class RunCommand {
  private readonly running = new Map<string, RunningStep>();

  constructor(
    private readonly deps: SsmEmulatorDeps,
    private readonly timings: SsmTimings,
    private readonly documents: Documents,
    private readonly agents: Agents,
    private readonly records: Commands,
    private readonly parameters: ParameterStore,
    private readonly persist: () => void,
  ) {}

  /** SendCommand: validates, records the command and starts one invocation per target instance. */
  sendCommand(input: Record<string, unknown>) {
    const name = this.documents.documentName(input, 'DocumentName');
    const doc = this.documents.document(name);
    const version = this.documents.version(doc, input.DocumentVersion);
    const parsed = this.documents.parsedDocument(doc, version.version);
    if (input.DocumentHash !== undefined && input.DocumentHash !== version.hash) {
      throw new LocalAwsError('InvalidDocument', 'The document hash does not match the document.');
    }
    const timeoutSeconds = input.TimeoutSeconds === undefined ? 3600 : Number(input.TimeoutSeconds);
    if (!Number.isInteger(timeoutSeconds) || timeoutSeconds < 30 || timeoutSeconds > 2_592_000) {
      throw validation(
        `1 validation error detected: Value '${String(input.TimeoutSeconds)}' at 'timeoutSeconds' failed to satisfy constraint: Member must have value between 30 and 2592000`,
      );
    }
    if (typeof input.Comment === 'string' && input.Comment.length > 100) {
      throw validation(
        "1 validation error detected: Value at 'comment' failed to satisfy constraint: Member must have length less than or equal to 100",
      );
    }
    const given = (input.Parameters ?? {}) as Record<string, string[]>;
    if (typeof given !== 'object' || Array.isArray(given))
      throw new LocalAwsError('InvalidParameters', 'Parameters must be a map of name to list of values.');
    const parameters = resolveParameters(parsed, given);

    const instanceIds = Array.isArray(input.InstanceIds) ? input.InstanceIds.map(String) : [];
    const targets = Array.isArray(input.Targets)
      ? (input.Targets as { Key?: string; Values?: string[] }[])
      : [];
    if (instanceIds.length > 0 && targets.length > 0) {
      throw validation('InstanceIds and Targets cannot be specified in the same request.');
    }
    if (instanceIds.length === 0 && targets.length === 0) {
      throw validation('Either InstanceIds or Targets must be specified.');
    }
    if (instanceIds.length > 50) {
      throw validation(
        "1 validation error detected: Value at 'instanceIds' failed to satisfy constraint: Member must have length less than or equal to 50",
      );
    }
    if (new Set(instanceIds).size !== instanceIds.length)
      throw new LocalAwsError(
        'DuplicateInstanceId',
        'You cannot specify an instance ID in more than one association.',
      );
    const invalid = instanceIds.filter((id) => !this.agents.isOnline(id));
    if (invalid.length > 0) {
      throw new LocalAwsError(
        'InvalidInstanceId',
        `Instances [[${invalid.join(', ')}]] not in a valid state for account ${this.deps.accountId}`,
      );
    }
    let targetIds = instanceIds;
    if (targets.length > 0) {
      targetIds = [...this.agents.records.keys()].filter((id) => {
        if (!this.agents.isOnline(id)) return false;
        const instance = this.deps.ec2.getInstance(id)!;
        return targets.every((t) => {
          const values = (t.Values ?? []).map(String);
          if (t.Key === 'InstanceIds') return values.includes(id);
          if (t.Key?.startsWith('tag:'))
            return instance.tags.some((tag) => tag.key === t.Key!.slice(4) && values.includes(tag.value));
          if (t.Key === 'tag-key') return instance.tags.some((tag) => values.includes(tag.key));
          throw validation(
            `Target key ${String(t.Key)} is not supported by the local cloud (InstanceIds, tag:<key>, tag-key)`,
          );
        });
      });
    }

    const cloudWatch = (input.CloudWatchOutputConfig ?? {}) as {
      CloudWatchLogGroupName?: string;
      CloudWatchOutputEnabled?: boolean;
    };
    const now = this.deps.clock.now();
    const command: CommandRecord = {
      commandId: randomUUID(),
      documentName: name,
      documentVersion: input.DocumentVersion === undefined ? '$DEFAULT' : String(input.DocumentVersion),
      resolvedVersion: version.version,
      comment: input.Comment === undefined ? undefined : String(input.Comment),
      parameters,
      givenParameters: given,
      instanceIds: targetIds,
      targets,
      requestedDateTime: now.toISOString(),
      expiresAfter: new Date(now.getTime() + (timeoutSeconds + 3600) * 1000).toISOString(),
      timeoutSeconds,
      status: 'Pending',
      statusDetails: 'Pending',
      cancelRequested: false,
      maxConcurrency: String(input.MaxConcurrency ?? '50'),
      maxErrors: String(input.MaxErrors ?? '0'),
      serviceRoleArn: input.ServiceRoleArn === undefined ? undefined : String(input.ServiceRoleArn),
      notificationConfig: input.NotificationConfig,
      cloudWatchOutputConfig: {
        CloudWatchLogGroupName:
          cloudWatch.CloudWatchLogGroupName ?? (cloudWatch.CloudWatchOutputEnabled ? `/aws/ssm/${name}` : ''),
        CloudWatchOutputEnabled: cloudWatch.CloudWatchOutputEnabled === true,
      },
      outputS3BucketName:
        input.OutputS3BucketName === undefined ? undefined : String(input.OutputS3BucketName),
      outputS3KeyPrefix: input.OutputS3KeyPrefix === undefined ? undefined : String(input.OutputS3KeyPrefix),
      outputS3Region: input.OutputS3Region === undefined ? undefined : String(input.OutputS3Region),
    };
    this.records.commands.set(command.commandId, command);
    for (const instanceId of targetIds) {
      const invocation: InvocationRecord = {
        commandId: command.commandId,
        instanceId,
        status: 'Pending',
        statusDetails: 'Pending',
        plugins: parsed.mainSteps.map((step) => ({
          name: step.name,
          action: step.action,
          status: 'Pending',
          statusDetails: 'Pending',
          responseCode: -1,
          stdout: '',
          stderr: '',
        })),
      };
      this.records.invocations.set(invocationKey(command.commandId, instanceId), invocation);
      this.runInvocation(command, invocation, parsed).catch((error) => {
        invocation.plugins[0]!.stderr += `local cloud error: ${(error as Error).message}`;
        this.records.setInvocationStatus(command, invocation, 'Failed', 'Failed');
      });
    }
    this.records.updateCommandStatus(command);
    this.persist();
    return { Command: this.records.commandOutput(command) };
  }

  private async runInvocation(
    command: CommandRecord,
    invocation: InvocationRecord,
    doc: ParsedDocument,
  ): Promise<void> {
    await this.deps.clock.sleep(this.timings.deliveryMs);
    const deliveryDeadline =
      Date.parse(command.requestedDateTime) + this.deps.clock.scale(command.timeoutSeconds * 1000);
    while (!this.agents.isOnline(invocation.instanceId)) {
      if (TERMINAL.has(invocation.status) || invocation.status === 'Cancelling') return;
      const instance = this.deps.ec2.getInstance(invocation.instanceId);
      if (!instance || instance.state === 'terminated') return this.loseInstance(invocation);
      if (Date.now() >= deliveryDeadline) {
        for (const plugin of invocation.plugins) {
          plugin.status = 'TimedOut';
          plugin.statusDetails = 'DeliveryTimedOut';
        }
        return this.records.setInvocationStatus(command, invocation, 'TimedOut', 'DeliveryTimedOut');
      }
      if (invocation.status !== 'Delayed')
        this.records.setInvocationStatus(command, invocation, 'Delayed', 'Delayed');
      await this.deps.clock.sleep(this.timings.retryMs);
    }
    if (TERMINAL.has(invocation.status) || invocation.status === 'Cancelling' || command.cancelRequested) {
      if (!TERMINAL.has(invocation.status)) this.records.finishCancelled(command, invocation);
      return;
    }
    if (!(await this.receive(command, invocation, deliveryDeadline))) return;
    invocation.startedAt = new Date().toISOString();
    this.records.setInvocationStatus(command, invocation, 'InProgress', 'InProgress');

    const instance = this.deps.ec2.getInstance(invocation.instanceId)!;
    const attrs = faultAttributesFor(instance, {
      DocumentName: command.documentName,
      CommandId: command.commandId,
      Comment: command.comment ?? '',
    });
    const slow = this.deps.faults.behavior('command-slow', attrs);
    if (slow?.delayMs) await this.deps.clock.sleep(slow.delayMs);
    if (invocation.status !== 'InProgress') return;
    const forcedExit = this.deps.faults.behavior('command-exit', attrs);

    let aborted = false;
    for (const [index, step] of doc.mainSteps.entries()) {
      const plugin = invocation.plugins[index]!;
      if (invocation.status !== 'InProgress') break;
      if (aborted && !step.finallyStep) {
        plugin.status = 'Cancelled';
        plugin.statusDetails = 'Skipped';
        continue;
      }
      plugin.startedAt = new Date().toISOString();
      plugin.status = 'InProgress';
      plugin.statusDetails = 'InProgress';
      if (forcedExit) {
        const code = forcedExit.exitCode ?? 1;
        plugin.stderr = `failed to run commands: exit status ${code} (injected fault)\n`;
        finishPlugin(plugin, code === 0 ? 'Success' : 'Failed', code);
      } else {
        await this.runStep(command, invocation, step, plugin);
      }
      await this.deps.afterStep?.();
      if (invocation.status !== 'InProgress') break;
      const outcome = plugin.status as PluginStatus;
      if (outcome === 'Failed' || outcome === 'TimedOut') {
        if (step.onFailure === 'exit' || step.onFailure === 'Abort') aborted = true;
        if (step.onFailure === 'successAndExit') {
          plugin.status = 'Success';
          aborted = true;
        }
      }
      if (step.isEnd) aborted = true;
    }
    if (invocation.status !== 'InProgress') return;
    invocation.finishedAt = new Date().toISOString();
    const statuses = invocation.plugins.map((p) => p.status);
    if (statuses.includes('TimedOut'))
      this.records.setInvocationStatus(command, invocation, 'TimedOut', 'ExecutionTimedOut');
    else if (statuses.includes('Failed'))
      this.records.setInvocationStatus(command, invocation, 'Failed', 'Failed');
    else this.records.setInvocationStatus(command, invocation, 'Success', 'Success');
  }

  /**
   * The agent receives the command with its instance's role: through the Message Gateway Service
   * (ssmmessages, agent 3.3.40.0 and later), else through the Message Delivery Service
   * (ec2messages). With neither allowed the command stays undelivered until DeliveryTimedOut.
   * @returns false when the invocation ended undelivered.
   */
  private async receive(
    command: CommandRecord,
    invocation: InvocationRecord,
    deadline: number,
  ): Promise<boolean> {
    const iam = this.deps.iam;
    const instance = this.deps.ec2.getInstance(invocation.instanceId);
    if (!iam || !instance) return true;
    const arn = `arn:aws:ec2:${this.deps.region}:${this.deps.accountId}:instance/${instance.instanceId}`;
    const context = { 'ec2:SourceInstanceARN': arn };
    const channel = (actions: string[]) => actions.map((action) => ({ action, resource: '*', context }));
    for (;;) {
      if (
        iam.allows(
          instance,
          channel(['ssmmessages:CreateControlChannel', 'ssmmessages:OpenControlChannel']),
          'Run Command delivery (ssmmessages)',
        )
      )
        return true;
      if (
        iam.allows(
          instance,
          channel(['ec2messages:GetMessages', 'ec2messages:AcknowledgeMessage', 'ec2messages:SendReply']),
          'Run Command delivery (ec2messages)',
        )
      )
        return true;
      if (TERMINAL.has(invocation.status) || invocation.status === 'Cancelling') return false;
      if (Date.now() >= deadline) {
        for (const plugin of invocation.plugins) {
          plugin.status = 'TimedOut';
          plugin.statusDetails = 'DeliveryTimedOut';
        }
        this.records.setInvocationStatus(command, invocation, 'TimedOut', 'DeliveryTimedOut');
        return false;
      }
      await this.deps.clock.sleep(this.timings.retryMs);
    }
  }

  /**
   * The agent sends a step's output to CloudWatch Logs with the instance's role when the command
   * asks for it; refused, the output is only in GetCommandInvocation (the command's result stands).
   */
  private publishOutput(command: CommandRecord, invocation: InvocationRecord, step: string): void {
    const group = command.cloudWatchOutputConfig.CloudWatchLogGroupName;
    const instance = this.deps.ec2.getInstance(invocation.instanceId);
    if (!command.cloudWatchOutputConfig.CloudWatchOutputEnabled || !group || !instance || !this.deps.iam)
      return;
    const logs = `arn:aws:logs:${this.deps.region}:${this.deps.accountId}:log-group:${group}`;
    const stream = `${logs}:log-stream:${command.commandId}/${invocation.instanceId}/${step}/stdout`;
    this.deps.iam.allows(
      instance,
      [
        { action: 'logs:DescribeLogGroups', resource: '*' },
        // CloudWatch Logs evaluates log-group actions against the group's ARN with `:*`.
        { action: 'logs:DescribeLogStreams', resource: `${logs}:*` },
        { action: 'logs:CreateLogStream', resource: stream },
        { action: 'logs:PutLogEvents', resource: stream },
      ],
      'Run Command output to CloudWatch Logs',
    );
  }

  private preconditionHolds(step: CommandStep): boolean {
    const equals = step.precondition?.StringEquals;
    if (!Array.isArray(equals) || equals.length !== 2) return true;
    const [left, right] = equals.map(String);
    if (left === 'platformType') return right === 'Linux';
    if (right === 'platformType') return left === 'Linux';
    return left === right;
  }

  private async runStep(
    command: CommandRecord,
    invocation: InvocationRecord,
    step: CommandStep,
    plugin: PluginRecord,
  ): Promise<void> {
    if (!this.preconditionHolds(step)) {
      plugin.stdout = 'Step execution skipped due to unsatisfied preconditions.\n';
      finishPlugin(plugin, 'Success', 0, 'Skipped');
      return;
    }
    if (step.action !== 'aws:runShellScript') {
      plugin.stderr = `The local cloud runs aws:runShellScript steps only; ${step.action} is not emulated.\n`;
      finishPlugin(plugin, 'Failed', 1);
      return;
    }
    const rawInputs = { ...step.inputs };
    if (typeof rawInputs.runCommand === 'string') rawInputs.runCommand = [rawInputs.runCommand];
    const inputs = substitute(rawInputs, command.parameters, (n) => this.parameters.value(n)) as Record<
      string,
      unknown
    >;
    const lines = (Array.isArray(inputs.runCommand) ? inputs.runCommand : [inputs.runCommand]).map((l) =>
      String(l ?? ''),
    );
    const instanceId = invocation.instanceId;
    const prefixes = [
      ...this.deps.mountPoints,
      '/fsx',
      '/proc/mounts',
      ...Object.entries(command.parameters)
        .filter(([pname]) => /mount/i.test(pname))
        .flatMap(([, values]) => values.filter((v) => v.startsWith('/'))),
    ];
    const fsView = this.deps.instances;
    const script = fsView.rewrite(instanceId, `${lines.join('\n')}\n`, prefixes);
    // Where the agent keeps a step's script and output: inside the instance's root, so relative
    // paths in outputs map back to instance paths.
    const instanceRoot = fsView.root(instanceId);
    fsView.refresh(instanceId);
    const orchestrationDir = join(
      instanceRoot,
      'var/lib/amazon/ssm',
      instanceId,
      'document/orchestration',
      command.commandId,
      step.name,
    );
    const workingDirectory =
      typeof inputs.workingDirectory === 'string' && inputs.workingDirectory.trim()
        ? inputs.workingDirectory.trim()
        : undefined;
    const cwd = workingDirectory
      ? fsView.localPath(instanceId, fsView.rewrite(instanceId, workingDirectory, prefixes))
      : orchestrationDir;
    const timeoutSeconds = Number(inputs.timeoutSeconds ?? 3600);
    const timeoutMs = this.deps.clock.scale(
      (Number.isFinite(timeoutSeconds) && timeoutSeconds > 0 ? timeoutSeconds : 3600) * 1000,
    );
    const endpoint = this.deps.endpoint();
    const instance = this.deps.ec2.getInstance(instanceId);
    const rate =
      instance && this.deps.instanceNetworkScale
        ? instanceBytesPerSecond(instance.instanceType, this.deps.instanceNetworkScale)
        : undefined;
    const link = rate ? await startInstanceLink(endpoint, rate) : undefined;
    const env: NodeJS.ProcessEnv = {};
    for (const [key, value] of Object.entries(process.env)) {
      if (
        key.startsWith('AWS_') ||
        key.startsWith('NODE_') ||
        key.startsWith('VITEST') ||
        key === 'FSX_TRANSFER_CONFIG'
      )
        continue;
      env[key] = value;
    }
    Object.assign(env, {
      PATH: `${this.deps.shimDir}:${process.env.PATH ?? '/usr/bin:/bin'}`,
      HOME: fsView.home(instanceId),
      // The instance's own network (paced at its type's baseline when the cloud models it).
      AWS_ENDPOINT_URL: link?.url ?? endpoint,
      // The instance profile role's credentials (what the CLI gets from IMDS on the instance).
      ...((instance && this.deps.iam?.credentials(instance)) ?? {
        AWS_ACCESS_KEY_ID: 'test',
        AWS_SECRET_ACCESS_KEY: 'test',
      }),
      AWS_REGION: this.deps.region,
      AWS_DEFAULT_REGION: this.deps.region,
      AWS_SSM_INSTANCE_ID: instanceId,
      AWS_SSM_REGION_NAME: this.deps.region,
      AWS_PAGER: '',
      LOCAL_CLOUD_ADMIN: `${endpoint}/_local`,
      LOCAL_CLOUD_INSTANCE_ID: instanceId,
      LOCAL_CLOUD_INSTANCE_ROOT: fsView.root(instanceId),
    });
    const step$ = runShellStep({ script, cwd, env, orchestrationDir, timeoutMs });
    this.running.set(invocationKey(invocation.commandId, invocation.instanceId), step$);
    const result = await step$.result.finally(() => link?.close());
    this.running.delete(invocationKey(invocation.commandId, invocation.instanceId));
    this.publishOutput(command, invocation, step.name);
    const unmap = (text: string) => text.split(instanceRoot).join('');
    plugin.stdout = unmap(result.stdout).slice(0, STDOUT_LIMIT);
    plugin.stderr = unmap(result.stderr).slice(0, STDERR_LIMIT);
    if (result.outcome === 'timed-out') finishPlugin(plugin, 'TimedOut', -1, 'ExecutionTimedOut');
    else if (result.outcome === 'cancelled') finishPlugin(plugin, 'Cancelled', -1);
    else finishPlugin(plugin, result.exitCode === 0 ? 'Success' : 'Failed', result.exitCode);
  }

  /** The instance went away while the invocation was pending or running. */
  loseInstance(invocation: InvocationRecord): void {
    const command = this.records.commands.get(invocation.commandId);
    if (!command || TERMINAL.has(invocation.status)) return;
    const running = this.running.get(invocationKey(invocation.commandId, invocation.instanceId));
    for (const plugin of invocation.plugins) {
      if (plugin.status === 'Pending' || plugin.status === 'InProgress') {
        plugin.stderr += 'The instance stopped or terminated while the command was pending or running.\n';
        finishPlugin(plugin, 'Failed', -1, 'Undeliverable');
      }
    }
    invocation.finishedAt = new Date().toISOString();
    this.records.setInvocationStatus(command, invocation, 'Failed', 'Undeliverable');
    running?.cancel();
  }

  /** CancelCommand: running steps get SIGTERM (then SIGKILL), pending invocations end Cancelled. */
  cancelCommand(input: Record<string, unknown>) {
    const commandId = commandIdOf(input, true)!;
    const command = this.records.commands.get(commandId);
    if (!command) throw new LocalAwsError('InvalidCommandId', `Command ${commandId} does not exist.`);
    const only = Array.isArray(input.InstanceIds) ? input.InstanceIds.map(String) : undefined;
    for (const id of only ?? []) {
      if (!command.instanceIds.includes(id))
        throw new LocalAwsError(
          'InvalidInstanceId',
          `Instance ${id} is not a target of command ${commandId}.`,
        );
    }
    const targets = command.instanceIds.filter((id) => !only || only.includes(id));
    if (!only) command.cancelRequested = true;
    for (const id of targets) {
      const invocation = this.records.invocations.get(invocationKey(commandId, id))!;
      if (TERMINAL.has(invocation.status)) continue;
      const running = this.running.get(invocationKey(invocation.commandId, invocation.instanceId));
      if (running) {
        this.records.setInvocationStatus(command, invocation, 'Cancelling', 'Cancelling');
        running.result.then(() => this.records.finishCancelled(command, invocation));
        running.cancel();
      } else {
        this.records.finishCancelled(command, invocation);
      }
    }
    this.records.updateCommandStatus(command);
    this.persist();
    return {};
  }

  /** Fails the pending and running invocations of an instance that stops or terminates. */
  instanceLost(instanceId: string): void {
    for (const invocation of this.records.invocations.values()) {
      if (invocation.instanceId === instanceId && !TERMINAL.has(invocation.status))
        this.loseInstance(invocation);
    }
  }

  /** Kills running command processes. */
  close(): void {
    for (const step of this.running.values()) step.cancel();
  }
}
