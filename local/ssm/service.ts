/**
 * SSM emulator (JSON 1.1, `X-Amz-Target: AmazonSSM.<Operation>`).
 *
 * - Parameter Store (parameters.ts): Get/Put/DeleteParameter(s), GetParametersByPath, public AMI
 *   parameters.
 * - Agents (agents.ts): an instance's SSM agent registers a scaled while after the instance is
 *   running (`agentRegisterMs`) unless an `agent-never-online` fault matches; DescribeInstanceInformation
 *   shows it Online while the instance runs, ConnectionLost once it stops, and drops it when
 *   terminated.
 * - Documents (documents.ts, with the format in command-document.ts):
 *   Create/Describe/Get/Update/Delete/ListDocuments for Command documents (2.2), plus the managed
 *   AWS-RunShellScript.
 * - Run Command (run-command.ts, commands.ts): SendCommand validates parameters against the
 *   document and the instances against the agents, then really runs each `aws:runShellScript` step
 *   with bash on this machine (shell-step.ts and instance-fs.ts for the environment and the path
 *   mapping), with Pending -> InProgress -> Success/Failed/TimedOut/Cancelled, CancelCommand,
 *   ListCommands, ListCommandInvocations, GetCommandInvocation, and `EC2 Command Status-change
 *   Notification` / `EC2 Command Invocation Status-change Notification` events (source aws.ssm).
 *
 * This file composes the parts and keeps their state in one snapshot (`state/ssm.json`).
 */
import type { ScaledClock } from '../clock.js';
import type { Ec2Emulator, InstanceRecord } from '../ec2/service.js';
import type { FaultInjector } from '../faults.js';
import { dispatch, type OperationTable, unknownOperation } from '../kit/dispatch.js';
import type { StateStore } from '../kit/persistence.js';
import type { JsonService, LocalEvent, RequestContext } from '../types.js';
import { type AgentRecord, Agents } from './agents.js';
import type { DocumentRecord } from './command-document.js';
import { type CommandRecord, Commands, type InvocationRecord } from './commands.js';
import { Documents } from './documents.js';
import type { InstanceFilesystems } from './instance-fs.js';
import { type ParameterRecord, ParameterStore } from './parameters.js';
import { RunCommand } from './run-command.js';

export interface SsmTimings {
  /** Simulated ms from `running` until the agent is Online. */
  agentRegisterMs: number;
  /** Simulated ms from SendCommand until an invocation starts (Pending -> InProgress). */
  deliveryMs: number;
  /** Simulated ms between delivery attempts while an instance is unreachable (Delayed). */
  retryMs: number;
}

export const DEFAULT_SSM_TIMINGS: SsmTimings = { agentRegisterMs: 20_000, deliveryMs: 1_000, retryMs: 5_000 };

export interface SsmEmulatorDeps {
  accountId: string;
  region: string;
  clock: ScaledClock;
  faults: FaultInjector;
  emit: (event: LocalEvent) => void;
  ec2: Ec2Emulator;
  instances: InstanceFilesystems;
  dataDir: string;
  /** Directory of the PATH shims (mount, lfs, ...). */
  shimDir: string;
  /** The router endpoint scripts use (`AWS_ENDPOINT_URL`). */
  endpoint: () => string;
  /** Absolute paths mapped into each instance's root (configured mount points, `/fsx`). */
  mountPoints: string[];
  store?: StateStore;
  timings?: Partial<SsmTimings>;
  /** What each instance's role lets its agent and its commands do (local/iam); everything when absent. */
  iam?: InstanceIam;
  /**
   * Paces each instance's commands at its type's network baseline times this factor
   * (local/ssm/instance-network.ts); unlimited when absent.
   */
  instanceNetworkScale?: number;
  /** Called after each step of a command (the `corrupt-file` fault: local/fsx/corrupt.ts). */
  afterStep?: () => Promise<void>;
}

/**
 * The IAM of an instance: its agent calls SSM, Run Command delivery and CloudWatch Logs with the
 * instance profile's role, and the commands it runs get that role's credentials (as from IMDS).
 * Instances without one of the project's instance profiles (a configured Lustre client, instances
 * launched by hand) run as the local administrator.
 */
export interface InstanceIam {
  /** Whether the instance's role allows every check (a refusal is logged as a denial). */
  allows(
    instance: InstanceRecord,
    checks: { action: string; resource: string; context?: Record<string, string> }[],
    request: string,
  ): boolean;
  /** The variables the instance's commands sign with (undefined: the local administrator's). */
  credentials(instance: InstanceRecord): Record<string, string> | undefined;
}

interface SsmState {
  parameters: ParameterRecord[];
  documents: DocumentRecord[];
  commands: CommandRecord[];
  invocations: InvocationRecord[];
  agents: AgentRecord[];
}

type Input = Record<string, unknown>;

export class SsmEmulator implements JsonService {
  readonly targetPrefix = 'AmazonSSM';
  readonly jsonVersion = '1.1' as const;
  private readonly parameters: ParameterStore;
  private readonly documents: Documents;
  private readonly agents: Agents;
  private readonly commands: Commands;
  private readonly runCommand: RunCommand;
  private readonly operations: OperationTable<Input>;

  constructor(private readonly deps: SsmEmulatorDeps) {
    const timings = { ...DEFAULT_SSM_TIMINGS, ...deps.timings };
    const persist = () => this.persist();
    this.parameters = new ParameterStore(deps.accountId, deps.region, () => deps.clock.now());
    this.documents = new Documents(deps, persist);
    this.agents = new Agents(deps, timings, persist);
    this.commands = new Commands(deps, persist);
    this.runCommand = new RunCommand(
      deps,
      timings,
      this.documents,
      this.agents,
      this.commands,
      this.parameters,
      persist,
    );
    const saved = deps.store?.load<SsmState>('ssm');
    if (saved) this.restore(saved);
    deps.ec2.onStateChange((instance) => this.onInstanceState(instance));

    const { parameters, documents, agents, commands, runCommand } = this;
    this.operations = {
      GetParameter: (input) => parameters.get(input),
      GetParameters: (input) => parameters.getMany(input),
      GetParametersByPath: (input) => parameters.getByPath(input),
      PutParameter: (input) => this.persisted(parameters.put(input)),
      DeleteParameter: (input) => this.persisted(parameters.delete(input)),
      DeleteParameters: (input) => this.persisted(parameters.deleteMany(input)),
      DescribeInstanceInformation: (input) => agents.describeInstanceInformation(input),
      CreateDocument: (input) => documents.createDocument(input),
      UpdateDocument: (input) => documents.updateDocument(input),
      DescribeDocument: (input) => ({ Document: documents.describeDocument(input) }),
      GetDocument: (input) => documents.getDocument(input),
      DeleteDocument: (input) => documents.deleteDocument(input),
      ListDocuments: (input) => documents.listDocuments(input),
      SendCommand: (input) => runCommand.sendCommand(input),
      ListCommands: (input) => commands.listCommands(input),
      ListCommandInvocations: (input) => commands.listCommandInvocations(input),
      GetCommandInvocation: (input) => commands.getCommandInvocation(input),
      CancelCommand: (input) => runCommand.cancelCommand(input),
    };
  }

  async handle(operation: string, input: Input, ctx: RequestContext): Promise<unknown> {
    return dispatch(this.operations, operation, input, ctx, unknownOperation('SSM'));
  }

  // ------------------------------------------------------------------ public helpers

  /** Creates or updates a Command document (used at startup for the project's document). */
  registerDocument(
    name: string,
    content: string,
    format: 'YAML' | 'JSON' = 'YAML',
  ): { name: string; version: string } {
    return this.documents.registerDocument(name, content, format);
  }

  /** Registers an instance's agent now (long-lived Lustre clients declared in the config). */
  registerAgentNow(instanceId: string): void {
    this.agents.registerNow(instanceId);
  }

  isOnline(instanceId: string): boolean {
    return this.agents.isOnline(instanceId);
  }

  summary(): Record<string, unknown> {
    return {
      agentsOnline: this.agents.onlineIds().length,
      commands: this.commands.countByStatus(),
      documents: [...this.documents.records.keys()],
      parameters: this.parameters.parameters.size,
    };
  }

  /** Raw command and invocation records (admin API). */
  debugCommands(): unknown[] {
    return this.commands.debugCommands();
  }

  /** An instance stopped or terminated: its agent and its invocations follow. */
  private onInstanceState(instance: InstanceRecord): void {
    this.agents.onInstanceState(instance);
    const { state, instanceId } = instance;
    if (state === 'shutting-down' || state === 'stopping' || state === 'terminated') {
      this.runCommand.instanceLost(instanceId);
    }
    if (state === 'terminated') {
      this.deps.instances.remove(instanceId);
      this.persist();
    }
  }

  // ------------------------------------------------------------------ persistence

  private persist(): void {
    this.deps.store?.save('ssm', () => this.snapshot());
  }

  /** Saves the state after a change and passes the change's result through. */
  private persisted<T>(result: T): T {
    this.persist();
    return result;
  }

  snapshot(): SsmState {
    return {
      parameters: [...this.parameters.parameters.values()],
      documents: [...this.documents.records.values()].filter((d) => d.owner !== 'Amazon'),
      commands: [...this.commands.commands.values()],
      invocations: [...this.commands.invocations.values()],
      agents: [...this.agents.records.values()],
    };
  }

  private restore(state: SsmState): void {
    for (const p of state.parameters ?? []) this.parameters.parameters.set(p.name, p);
    for (const d of state.documents ?? []) this.documents.records.set(d.name, d);
    for (const a of state.agents ?? []) this.agents.records.set(a.instanceId, a);
    this.commands.restore(state.commands ?? [], state.invocations ?? []);
  }

  /** Schedules agent registration for restored running instances without an agent. */
  resume(): void {
    this.agents.resume();
  }

  /** Kills running command processes. */
  close(): void {
    this.runCommand.close();
    this.agents.close();
  }
}
