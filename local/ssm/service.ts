/**
 * SSM emulator (JSON 1.1, `X-Amz-Target: AmazonSSM.<Operation>`).
 *
 * - Parameter Store: Get/Put/DeleteParameter(s), GetParametersByPath, public AMI parameters.
 * - Agents: an instance's SSM agent registers a scaled while after the instance is running
 *   (`agentRegisterMs`) unless an `agent-never-online` fault matches; DescribeInstanceInformation
 *   shows it Online while the instance runs, ConnectionLost once it stops, and drops it when
 *   terminated.
 * - Documents: Create/Describe/Get/Update/Delete/ListDocuments for Command documents (2.2),
 *   plus the managed AWS-RunShellScript.
 * - Run Command: SendCommand validates parameters against the document and the instances against
 *   the agents, then really runs each `aws:runShellScript` step with bash on this machine (see
 *   run-command.ts and instance-fs.ts for the environment and the path mapping), with Pending ->
 *   InProgress -> Success/Failed/TimedOut/Cancelled, CancelCommand, ListCommands,
 *   ListCommandInvocations, GetCommandInvocation, and `EC2 Command Status-change Notification` /
 *   `EC2 Command Invocation Status-change Notification` events (source aws.ssm).
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { parse as parseYaml, stringify as toYaml } from 'yaml';
import type { ScaledClock } from '../clock.js';
import type { Ec2Emulator, InstanceRecord } from '../ec2/service.js';
import type { FaultInjector } from '../faults.js';
import type { StateStore } from '../kit/persistence.js';
import { type JsonService, LocalAwsError, type LocalEvent, type RequestContext } from '../types.js';
import {
  AWS_RUN_SHELL_SCRIPT,
  type CommandStep,
  type DocumentRecord,
  documentHash,
  type ParsedDocument,
  parseCommandDocument,
  resolveParameters,
  substitute,
} from './documents.js';
import type { InstanceFilesystems } from './instance-fs.js';
import { decodeOffset, encodeOffset, type ParameterRecord, ParameterStore } from './parameters.js';
import { type RunningStep, runShellStep, STDERR_LIMIT, STDOUT_LIMIT } from './run-command.js';

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
}

type InvocationStatus =
  | 'Pending'
  | 'InProgress'
  | 'Delayed'
  | 'Success'
  | 'Cancelled'
  | 'TimedOut'
  | 'Failed'
  | 'Cancelling';
type PluginStatus = 'Pending' | 'InProgress' | 'Success' | 'TimedOut' | 'Cancelled' | 'Failed';
const TERMINAL = new Set<InvocationStatus>(['Success', 'Cancelled', 'TimedOut', 'Failed']);

interface PluginRecord {
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

interface InvocationRecord {
  commandId: string;
  instanceId: string;
  status: InvocationStatus;
  statusDetails: string;
  plugins: PluginRecord[];
  startedAt?: string;
  finishedAt?: string;
}

interface CommandRecord {
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

interface AgentRecord {
  instanceId: string;
  registrationDate: string;
  lastPingDateTime: string;
}

interface SsmState {
  parameters: ParameterRecord[];
  documents: DocumentRecord[];
  commands: CommandRecord[];
  invocations: InvocationRecord[];
  agents: AgentRecord[];
}

const OPERATIONS = new Set([
  'GetParameter',
  'GetParameters',
  'GetParametersByPath',
  'PutParameter',
  'DeleteParameter',
  'DeleteParameters',
  'DescribeInstanceInformation',
  'CreateDocument',
  'UpdateDocument',
  'DescribeDocument',
  'GetDocument',
  'DeleteDocument',
  'ListDocuments',
  'SendCommand',
  'ListCommands',
  'ListCommandInvocations',
  'GetCommandInvocation',
  'CancelCommand',
]);

const validation = (message: string) => new LocalAwsError('ValidationException', message);

function requireString(input: Record<string, unknown>, name: string): string {
  const value = input[name];
  if (typeof value !== 'string' || value.length === 0) {
    throw validation(
      `1 validation error detected: Value null at '${name[0]!.toLowerCase()}${name.slice(1)}' failed to satisfy constraint: Member must not be null`,
    );
  }
  return value;
}

function maxResults(input: Record<string, unknown>, min: number, max: number, fallback: number): number {
  if (input.MaxResults === undefined) return fallback;
  const n = Number(input.MaxResults);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw validation(
      `1 validation error detected: Value '${String(input.MaxResults)}' at 'maxResults' failed to satisfy constraint: Member must have value between ${min} and ${max}`,
    );
  }
  return n;
}

function elapsed(start?: string, end?: string): string {
  if (!start) return '';
  const ms = (end ? Date.parse(end) : Date.now()) - Date.parse(start);
  return `PT${(ms / 1000).toFixed(3)}S`;
}

/** Filter keys DescribeInstanceInformation accepts (in InstanceInformationFilterList and Filters). */
const INSTANCE_INFORMATION_FILTER_KEYS = [
  'InstanceIds',
  'AgentVersion',
  'PingStatus',
  'PlatformTypes',
  'ActivationIds',
  'IamRole',
  'ResourceType',
  'AssociationStatus',
];

/** A DescribeInstanceInformation filter's values (at least one). */
function filterValues(key: string, values: unknown): string[] {
  if (!Array.isArray(values) || values.length === 0) {
    throw new LocalAwsError(
      'InvalidInstanceInformationFilterValue',
      `The filter ${key} needs at least one value`,
    );
  }
  return values.map(String);
}

export class SsmEmulator implements JsonService {
  readonly targetPrefix = 'AmazonSSM';
  readonly jsonVersion = '1.1' as const;
  private readonly parameters: ParameterStore;
  private readonly documents = new Map<string, DocumentRecord>();
  private readonly parsed = new Map<string, ParsedDocument>();
  private readonly commands = new Map<string, CommandRecord>();
  private readonly invocations = new Map<string, InvocationRecord>();
  private readonly agents = new Map<string, AgentRecord>();
  private readonly agentTimers = new Map<string, NodeJS.Timeout>();
  private readonly running = new Map<string, RunningStep>();
  private readonly timings: SsmTimings;

  constructor(private readonly deps: SsmEmulatorDeps) {
    this.timings = { ...DEFAULT_SSM_TIMINGS, ...deps.timings };
    this.parameters = new ParameterStore(deps.accountId, deps.region, () => deps.clock.now());
    this.installManagedDocuments();
    const saved = deps.store?.load<SsmState>('ssm');
    if (saved) this.restore(saved);
    deps.ec2.onStateChange((instance, previous) => this.onInstanceState(instance, previous));
  }

  // ------------------------------------------------------------------ public helpers

  /** Creates or updates a Command document (used at startup for the project's document). */
  registerDocument(
    name: string,
    content: string,
    format: 'YAML' | 'JSON' = 'YAML',
  ): { name: string; version: string } {
    const parsed = parseCommandDocument(content, format);
    const hash = documentHash(content);
    const existing = this.documents.get(name);
    const now = this.deps.clock.now().toISOString();
    if (!existing) {
      this.documents.set(name, {
        name,
        documentType: 'Command',
        owner: this.deps.accountId,
        createdDate: now,
        tags: [],
        versions: [{ version: '1', content, format, createdDate: now, hash }],
        defaultVersion: '1',
      });
      this.parsed.set(`${name}:1`, parsed);
      this.persist();
      return { name, version: '1' };
    }
    const latest = existing.versions[existing.versions.length - 1]!;
    if (latest.hash === hash) {
      existing.defaultVersion = latest.version;
      return { name, version: latest.version };
    }
    const version = String(existing.versions.length + 1);
    existing.versions.push({ version, content, format, createdDate: now, hash });
    existing.defaultVersion = version;
    this.parsed.set(`${name}:${version}`, parsed);
    this.persist();
    return { name, version };
  }

  /** Registers an instance's agent now (long-lived Lustre clients declared in the config). */
  registerAgentNow(instanceId: string): void {
    const now = this.deps.clock.now().toISOString();
    this.agents.set(instanceId, { instanceId, registrationDate: now, lastPingDateTime: now });
    this.persist();
  }

  isOnline(instanceId: string): boolean {
    const instance = this.deps.ec2.getInstance(instanceId);
    return Boolean(instance && instance.state === 'running' && this.agents.has(instanceId));
  }

  summary(): Record<string, unknown> {
    const byStatus: Record<string, number> = {};
    for (const command of this.commands.values())
      byStatus[command.status] = (byStatus[command.status] ?? 0) + 1;
    return {
      agentsOnline: [...this.agents.keys()].filter((id) => this.isOnline(id)).length,
      commands: byStatus,
      documents: [...this.documents.keys()],
      parameters: this.parameters.parameters.size,
    };
  }

  /** Raw command and invocation records (admin API). */
  debugCommands(): unknown[] {
    return [...this.commands.values()].map((command) => ({
      ...command,
      invocations: command.instanceIds.map((id) => this.invocations.get(`${command.commandId}/${id}`)),
    }));
  }

  // ------------------------------------------------------------------ dispatch

  async handle(operation: string, input: Record<string, unknown>, _ctx: RequestContext): Promise<unknown> {
    if (!OPERATIONS.has(operation)) {
      throw new LocalAwsError(
        'UnknownOperationException',
        `Operation ${operation} is not supported by the local SSM emulator`,
      );
    }
    switch (operation) {
      case 'GetParameter':
        return this.parameters.get(input);
      case 'GetParameters':
        return this.parameters.getMany(input);
      case 'GetParametersByPath':
        return this.parameters.getByPath(input);
      case 'PutParameter':
        return this.persisted(this.parameters.put(input));
      case 'DeleteParameter':
        return this.persisted(this.parameters.delete(input));
      case 'DeleteParameters':
        return this.persisted(this.parameters.deleteMany(input));
      case 'DescribeInstanceInformation':
        return this.describeInstanceInformation(input);
      case 'CreateDocument':
        return this.createDocument(input);
      case 'UpdateDocument':
        return this.updateDocument(input);
      case 'DescribeDocument':
        return { Document: this.describeDocument(input) };
      case 'GetDocument':
        return this.getDocument(input);
      case 'DeleteDocument':
        return this.deleteDocument(input);
      case 'ListDocuments':
        return this.listDocuments(input);
      case 'SendCommand':
        return this.sendCommand(input);
      case 'ListCommands':
        return this.listCommands(input);
      case 'ListCommandInvocations':
        return this.listCommandInvocations(input);
      case 'GetCommandInvocation':
        return this.getCommandInvocation(input);
      case 'CancelCommand':
        return this.cancelCommand(input);
      default:
        throw new LocalAwsError('UnknownOperationException', `Unknown operation ${operation}`);
    }
  }

  // ------------------------------------------------------------------ agents

  private faultAttributesFor(
    instance: InstanceRecord,
    extra: Record<string, unknown> = {},
  ): Record<string, unknown> {
    const attrs: Record<string, unknown> = {
      InstanceId: instance.instanceId,
      InstanceType: instance.instanceType,
      SubnetId: instance.subnetId,
      ImageId: instance.imageId,
      ...extra,
    };
    for (const tag of instance.tags) attrs[`tag:${tag.key}`] = tag.value;
    return attrs;
  }

  private onInstanceState(instance: InstanceRecord, _previous: string | undefined): void {
    const id = instance.instanceId;
    if (instance.state === 'running' && !this.agents.has(id) && !this.agentTimers.has(id)) {
      if (this.deps.faults.behavior('agent-never-online', this.faultAttributesFor(instance))) return;
      const timer = this.deps.clock.setTimer(() => {
        this.agentTimers.delete(id);
        if (this.deps.ec2.getInstance(id)?.state === 'running') this.registerAgentNow(id);
      }, this.timings.agentRegisterMs);
      this.agentTimers.set(id, timer);
      return;
    }
    if (
      instance.state === 'shutting-down' ||
      instance.state === 'stopping' ||
      instance.state === 'terminated'
    ) {
      this.deps.clock.clearTimer(this.agentTimers.get(id));
      this.agentTimers.delete(id);
      for (const invocation of this.invocations.values()) {
        if (invocation.instanceId === id && !TERMINAL.has(invocation.status)) this.loseInstance(invocation);
      }
    }
    if (instance.state === 'terminated') {
      this.agents.delete(id);
      this.deps.instances.remove(id);
      this.persist();
    }
  }

  private describeInstanceInformation(input: Record<string, unknown>) {
    const limit = maxResults(input, 5, 50, 50);
    const offset = decodeOffset(input.NextToken);
    const filters: { key: string; values: string[] }[] = [];
    for (const f of (input.InstanceInformationFilterList as
      | { key?: string; valueSet?: string[] }[]
      | undefined) ?? []) {
      const key = String(f.key ?? '');
      if (!INSTANCE_INFORMATION_FILTER_KEYS.includes(key)) {
        throw validation(
          `1 validation error detected: Value '${key}' at 'instanceInformationFilterList.1.member.key' failed to satisfy constraint: Member must satisfy enum value set`,
        );
      }
      filters.push({ key, values: filterValues(key, f.valueSet) });
    }
    for (const f of (input.Filters as { Key?: string; Values?: string[] }[] | undefined) ?? []) {
      const key = String(f.Key ?? '');
      if (!key.startsWith('tag:') && key !== 'tag-key' && !INSTANCE_INFORMATION_FILTER_KEYS.includes(key)) {
        throw new LocalAwsError('InvalidFilterKey', `The filter key ${key} is not valid`);
      }
      filters.push({ key, values: filterValues(key, f.Values) });
    }
    const rows = [...this.agents.values()]
      .map((agent) => ({ agent, instance: this.deps.ec2.getInstance(agent.instanceId) }))
      .filter(
        (row): row is { agent: AgentRecord; instance: InstanceRecord } =>
          Boolean(row.instance) && row.instance!.state !== 'terminated',
      )
      .map(({ agent, instance }) => {
        const online = instance.state === 'running';
        return {
          instance,
          info: {
            InstanceId: instance.instanceId,
            PingStatus: online ? 'Online' : 'ConnectionLost',
            LastPingDateTime: online ? this.deps.clock.now() : new Date(agent.lastPingDateTime),
            AgentVersion: '3.3.1611.0',
            IsLatestVersion: true,
            PlatformType: 'Linux',
            PlatformName: 'Amazon Linux',
            PlatformVersion: '2023',
            ResourceType: 'EC2Instance',
            IPAddress: instance.privateIpAddress,
            ComputerName: `ip-${instance.privateIpAddress.replace(/\./g, '-')}.ec2.internal`,
            RegistrationDate: new Date(agent.registrationDate),
            IamRole: instance.iamInstanceProfile?.arn.split('/').pop(),
            SourceId: instance.instanceId,
            SourceType: 'AWS::EC2::Instance',
          },
        };
      })
      .filter(({ instance, info }) =>
        filters.every((f) => {
          const value = (() => {
            switch (f.key) {
              case 'InstanceIds':
                return [info.InstanceId];
              case 'PingStatus':
                return [info.PingStatus];
              case 'PlatformTypes':
                return [info.PlatformType];
              case 'ResourceType':
                return [info.ResourceType];
              case 'AgentVersion':
                return [info.AgentVersion];
              case 'IamRole':
                return info.IamRole ? [info.IamRole] : [];
              case 'tag-key':
                return instance.tags.map((t) => t.key);
              default:
                if (f.key.startsWith('tag:'))
                  return instance.tags.filter((t) => t.key === f.key.slice(4)).map((t) => t.value);
                return [];
            }
          })();
          return value.some((v) => f.values.includes(v));
        }),
      )
      .map(({ info }) => info);
    const page = rows.slice(offset, offset + limit);
    return {
      InstanceInformationList: page,
      NextToken: offset + page.length < rows.length ? encodeOffset(offset + page.length) : undefined,
    };
  }

  // ------------------------------------------------------------------ documents

  private installManagedDocuments(): void {
    const now = new Date('2024-01-01T00:00:00Z').toISOString();
    this.documents.set('AWS-RunShellScript', {
      name: 'AWS-RunShellScript',
      documentType: 'Command',
      owner: 'Amazon',
      createdDate: now,
      tags: [],
      versions: [
        {
          version: '1',
          content: AWS_RUN_SHELL_SCRIPT,
          format: 'JSON',
          createdDate: now,
          hash: documentHash(AWS_RUN_SHELL_SCRIPT),
        },
      ],
      defaultVersion: '1',
    });
  }

  private documentName(input: Record<string, unknown>, field = 'Name'): string {
    const raw = requireString(input, field);
    const arn = /^arn:aws[a-z-]*:ssm:[^:]*:[^:]*:document\/(.+)$/.exec(raw);
    return arn ? arn[1]! : raw;
  }

  private document(name: string): DocumentRecord {
    const doc = this.documents.get(name);
    if (!doc) throw new LocalAwsError('InvalidDocument', `Document with name ${name} does not exist.`);
    return doc;
  }

  private version(doc: DocumentRecord, requested: unknown) {
    const wanted =
      requested === undefined || requested === '$DEFAULT'
        ? doc.defaultVersion
        : requested === '$LATEST'
          ? String(doc.versions.length)
          : String(requested);
    const version = doc.versions.find((v) => v.version === wanted);
    if (!version)
      throw new LocalAwsError(
        'InvalidDocumentVersion',
        `The document version ${String(requested)} is not valid or does not exist.`,
      );
    return version;
  }

  private parsedDocument(doc: DocumentRecord, version: string): ParsedDocument {
    const key = `${doc.name}:${version}`;
    let parsed = this.parsed.get(key);
    if (!parsed) {
      const v = doc.versions.find((x) => x.version === version)!;
      parsed = parseCommandDocument(v.content, v.format);
      this.parsed.set(key, parsed);
    }
    return parsed;
  }

  private contentFormat(input: Record<string, unknown>, content: string): 'YAML' | 'JSON' {
    const format = input.DocumentFormat === undefined ? undefined : String(input.DocumentFormat);
    if (format !== undefined && format !== 'YAML' && format !== 'JSON') {
      throw validation(
        `1 validation error detected: Value '${format}' at 'documentFormat' failed to satisfy constraint: Member must satisfy enum value set: [JSON, YAML]`,
      );
    }
    return (format as 'YAML' | 'JSON' | undefined) ?? (content.trim().startsWith('{') ? 'JSON' : 'YAML');
  }

  private createDocument(input: Record<string, unknown>) {
    const name = requireString(input, 'Name');
    const content = requireString(input, 'Content');
    if (!/^[a-zA-Z0-9_\-.]{3,128}$/.test(name)) {
      throw validation(
        `1 validation error detected: Value '${name}' at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[a-zA-Z0-9_\\-.]{3,128}$`,
      );
    }
    if (/^(aws|amazon|amzn)/i.test(name))
      throw validation(`Document name prefixes "aws", "amazon" and "amzn" are reserved: ${name}`);
    const type = String(input.DocumentType ?? 'Command');
    if (type !== 'Command')
      throw validation(`The local cloud supports Command documents only (DocumentType ${type})`);
    if (Buffer.byteLength(content) > 64 * 1024)
      throw new LocalAwsError('MaxDocumentSizeExceeded', 'The size limit of a document is 64 KB.');
    if (this.documents.has(name))
      throw new LocalAwsError('DocumentAlreadyExists', 'The specified document already exists.');
    const format = this.contentFormat(input, content);
    this.registerDocument(name, content, format);
    const doc = this.documents.get(name)!;
    doc.tags = ((input.Tags as { Key: string; Value: string }[] | undefined) ?? []).map((t) => ({
      Key: t.Key,
      Value: t.Value,
    }));
    doc.targetType = input.TargetType === undefined ? undefined : String(input.TargetType);
    const versionName = input.VersionName === undefined ? undefined : String(input.VersionName);
    if (versionName) doc.versions[0]!.versionName = versionName;
    this.persist();
    return { DocumentDescription: this.describeDocument({ Name: name }) };
  }

  private updateDocument(input: Record<string, unknown>) {
    const name = this.documentName(input);
    const content = requireString(input, 'Content');
    const doc = this.document(name);
    if (doc.owner !== this.deps.accountId)
      throw new LocalAwsError('InvalidDocumentOperation', `You can't update the managed document ${name}.`);
    if (
      input.DocumentVersion !== undefined &&
      input.DocumentVersion !== '$LATEST' &&
      input.DocumentVersion !== String(doc.versions.length)
    ) {
      throw new LocalAwsError('InvalidDocumentVersion', 'Updates must be based on the $LATEST version.');
    }
    if (doc.versions.some((v) => v.hash === documentHash(content))) {
      throw new LocalAwsError(
        'DuplicateDocumentContent',
        'The content of the association document matches another document.',
      );
    }
    const format = this.contentFormat(input, content);
    const parsed = parseCommandDocument(content, format);
    const now = this.deps.clock.now().toISOString();
    const version = String(doc.versions.length + 1);
    doc.versions.push({ version, content, format, createdDate: now, hash: documentHash(content) });
    this.parsed.set(`${name}:${version}`, parsed);
    this.persist();
    return { DocumentDescription: this.describeDocument({ Name: name, DocumentVersion: version }) };
  }

  private describeDocument(input: Record<string, unknown>) {
    const name = this.documentName(input);
    const doc = this.document(name);
    const version = this.version(doc, input.DocumentVersion);
    const parsed = this.parsedDocument(doc, version.version);
    return {
      Hash: version.hash,
      HashType: 'Sha256',
      Name: doc.name,
      VersionName: version.versionName,
      Owner: doc.owner,
      CreatedDate: new Date(version.createdDate),
      Status: 'Active',
      DocumentVersion: version.version,
      Description: parsed.description,
      Parameters: Object.entries(parsed.parameters).map(([pname, def]) => ({
        Name: pname,
        Type: def.type,
        Description: def.description,
        DefaultValue:
          def.default === undefined
            ? undefined
            : typeof def.default === 'string'
              ? def.default
              : JSON.stringify(def.default),
      })),
      PlatformTypes: ['Linux', 'MacOS'],
      DocumentType: 'Command',
      SchemaVersion: parsed.schemaVersion,
      LatestVersion: String(doc.versions.length),
      DefaultVersion: doc.defaultVersion,
      DocumentFormat: version.format,
      TargetType: doc.targetType,
      Tags: doc.tags,
    };
  }

  private getDocument(input: Record<string, unknown>) {
    const name = this.documentName(input);
    const doc = this.document(name);
    const version = this.version(doc, input.DocumentVersion);
    const wanted = input.DocumentFormat === undefined ? version.format : String(input.DocumentFormat);
    let content = version.content;
    if (wanted !== version.format) {
      const value = version.format === 'JSON' ? JSON.parse(content) : parseYaml(content);
      content = wanted === 'JSON' ? JSON.stringify(value, null, 2) : toYaml(value);
    }
    return {
      Name: doc.name,
      CreatedDate: new Date(version.createdDate),
      VersionName: version.versionName,
      DocumentVersion: version.version,
      Status: 'Active',
      Content: content,
      DocumentType: 'Command',
      DocumentFormat: wanted,
    };
  }

  private deleteDocument(input: Record<string, unknown>) {
    const name = this.documentName(input);
    const doc = this.document(name);
    if (doc.owner !== this.deps.accountId)
      throw new LocalAwsError('InvalidDocumentOperation', `You can't delete the managed document ${name}.`);
    this.documents.delete(name);
    this.persist();
    return {};
  }

  private listDocuments(input: Record<string, unknown>) {
    const limit = maxResults(input, 1, 50, 50);
    const offset = decodeOffset(input.NextToken);
    const docs = [...this.documents.values()].sort((a, b) => a.name.localeCompare(b.name));
    const page = docs.slice(offset, offset + limit);
    return {
      DocumentIdentifiers: page.map((doc) => {
        const version = this.version(doc, undefined);
        return {
          Name: doc.name,
          CreatedDate: new Date(doc.createdDate),
          Owner: doc.owner,
          PlatformTypes: ['Linux', 'MacOS'],
          DocumentVersion: version.version,
          DocumentType: 'Command',
          SchemaVersion: this.parsedDocument(doc, version.version).schemaVersion,
          DocumentFormat: version.format,
          TargetType: doc.targetType,
          Tags: doc.tags,
        };
      }),
      NextToken: offset + page.length < docs.length ? encodeOffset(offset + page.length) : undefined,
    };
  }

  // ------------------------------------------------------------------ Run Command

  private sendCommand(input: Record<string, unknown>) {
    const name = this.documentName(input, 'DocumentName');
    const doc = this.document(name);
    const version = this.version(doc, input.DocumentVersion);
    const parsed = this.parsedDocument(doc, version.version);
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
    const invalid = instanceIds.filter((id) => !this.isOnline(id));
    if (invalid.length > 0) {
      throw new LocalAwsError(
        'InvalidInstanceId',
        `Instances [[${invalid.join(', ')}]] not in a valid state for account ${this.deps.accountId}`,
      );
    }
    let targetIds = instanceIds;
    if (targets.length > 0) {
      targetIds = [...this.agents.keys()].filter((id) => {
        if (!this.isOnline(id)) return false;
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
    this.commands.set(command.commandId, command);
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
      this.invocations.set(`${command.commandId}/${instanceId}`, invocation);
      this.runInvocation(command, invocation, parsed).catch((error) => {
        invocation.plugins[0]!.stderr += `local cloud error: ${(error as Error).message}`;
        this.setInvocationStatus(command, invocation, 'Failed', 'Failed');
      });
    }
    this.updateCommandStatus(command);
    this.persist();
    return { Command: this.commandOutput(command) };
  }

  private invocationKey(invocation: InvocationRecord): string {
    return `${invocation.commandId}/${invocation.instanceId}`;
  }

  private async runInvocation(
    command: CommandRecord,
    invocation: InvocationRecord,
    doc: ParsedDocument,
  ): Promise<void> {
    await this.deps.clock.sleep(this.timings.deliveryMs);
    const deliveryDeadline =
      Date.parse(command.requestedDateTime) + this.deps.clock.scale(command.timeoutSeconds * 1000);
    while (!this.isOnline(invocation.instanceId)) {
      if (TERMINAL.has(invocation.status) || invocation.status === 'Cancelling') return;
      const instance = this.deps.ec2.getInstance(invocation.instanceId);
      if (!instance || instance.state === 'terminated') return this.loseInstance(invocation);
      if (Date.now() >= deliveryDeadline) {
        for (const plugin of invocation.plugins) {
          plugin.status = 'TimedOut';
          plugin.statusDetails = 'DeliveryTimedOut';
        }
        return this.setInvocationStatus(command, invocation, 'TimedOut', 'DeliveryTimedOut');
      }
      if (invocation.status !== 'Delayed')
        this.setInvocationStatus(command, invocation, 'Delayed', 'Delayed');
      await this.deps.clock.sleep(this.timings.retryMs);
    }
    if (TERMINAL.has(invocation.status) || invocation.status === 'Cancelling' || command.cancelRequested) {
      if (!TERMINAL.has(invocation.status)) this.finishCancelled(command, invocation);
      return;
    }
    invocation.startedAt = new Date().toISOString();
    this.setInvocationStatus(command, invocation, 'InProgress', 'InProgress');

    const instance = this.deps.ec2.getInstance(invocation.instanceId)!;
    const attrs = this.faultAttributesFor(instance, {
      DocumentName: command.documentName,
      CommandId: command.commandId,
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
        this.finishPlugin(plugin, code === 0 ? 'Success' : 'Failed', code);
      } else {
        await this.runStep(command, invocation, step, plugin);
      }
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
      this.setInvocationStatus(command, invocation, 'TimedOut', 'ExecutionTimedOut');
    else if (statuses.includes('Failed')) this.setInvocationStatus(command, invocation, 'Failed', 'Failed');
    else this.setInvocationStatus(command, invocation, 'Success', 'Success');
  }

  private finishPlugin(
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
      this.finishPlugin(plugin, 'Success', 0, 'Skipped');
      return;
    }
    if (step.action !== 'aws:runShellScript') {
      plugin.stderr = `The local cloud runs aws:runShellScript steps only; ${step.action} is not emulated.\n`;
      this.finishPlugin(plugin, 'Failed', 1);
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
      AWS_ENDPOINT_URL: endpoint,
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
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
    this.running.set(this.invocationKey(invocation), step$);
    const result = await step$.result;
    this.running.delete(this.invocationKey(invocation));
    const unmap = (text: string) => text.split(instanceRoot).join('');
    plugin.stdout = unmap(result.stdout).slice(0, STDOUT_LIMIT);
    plugin.stderr = unmap(result.stderr).slice(0, STDERR_LIMIT);
    if (result.outcome === 'timed-out') this.finishPlugin(plugin, 'TimedOut', -1, 'ExecutionTimedOut');
    else if (result.outcome === 'cancelled') this.finishPlugin(plugin, 'Cancelled', -1);
    else this.finishPlugin(plugin, result.exitCode === 0 ? 'Success' : 'Failed', result.exitCode);
  }

  /** The instance went away while the invocation was pending or running. */
  private loseInstance(invocation: InvocationRecord): void {
    const command = this.commands.get(invocation.commandId);
    if (!command || TERMINAL.has(invocation.status)) return;
    const running = this.running.get(this.invocationKey(invocation));
    for (const plugin of invocation.plugins) {
      if (plugin.status === 'Pending' || plugin.status === 'InProgress') {
        plugin.stderr += 'The instance stopped or terminated while the command was pending or running.\n';
        this.finishPlugin(plugin, 'Failed', -1, 'Undeliverable');
      }
    }
    invocation.finishedAt = new Date().toISOString();
    this.setInvocationStatus(command, invocation, 'Failed', 'Undeliverable');
    running?.cancel();
  }

  private finishCancelled(command: CommandRecord, invocation: InvocationRecord): void {
    for (const plugin of invocation.plugins) {
      if (plugin.status === 'Pending' || plugin.status === 'InProgress')
        this.finishPlugin(plugin, 'Cancelled', -1);
    }
    invocation.finishedAt = new Date().toISOString();
    this.setInvocationStatus(command, invocation, 'Cancelled', 'Cancelled');
  }

  private setInvocationStatus(
    command: CommandRecord,
    invocation: InvocationRecord,
    status: InvocationStatus,
    details: string,
  ): void {
    if (invocation.status === status && invocation.statusDetails === details) return;
    invocation.status = status;
    invocation.statusDetails = details;
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

  private updateCommandStatus(command: CommandRecord): void {
    const invocations = command.instanceIds.map((id) => this.invocations.get(`${command.commandId}/${id}`)!);
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
    if (command.status === status && command.statusDetails === details) return;
    command.status = status;
    command.statusDetails = details;
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

  private commandId(input: Record<string, unknown>, required: boolean): string | undefined {
    const value = input.CommandId;
    if (value === undefined && !required) return undefined;
    if (typeof value !== 'string' || value.length !== 36) {
      throw validation(
        `1 validation error detected: Value '${String(value)}' at 'commandId' failed to satisfy constraint: Member must have length 36`,
      );
    }
    return value;
  }

  private cancelCommand(input: Record<string, unknown>) {
    const commandId = this.commandId(input, true)!;
    const command = this.commands.get(commandId);
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
      const invocation = this.invocations.get(`${commandId}/${id}`)!;
      if (TERMINAL.has(invocation.status)) continue;
      const running = this.running.get(this.invocationKey(invocation));
      if (running) {
        this.setInvocationStatus(command, invocation, 'Cancelling', 'Cancelling');
        running.result.then(() => this.finishCancelled(command, invocation));
        running.cancel();
      } else {
        this.finishCancelled(command, invocation);
      }
    }
    this.updateCommandStatus(command);
    this.persist();
    return {};
  }

  private commandOutput(command: CommandRecord) {
    const invocations = command.instanceIds.map((id) => this.invocations.get(`${command.commandId}/${id}`)!);
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
      ServiceRole: command.serviceRoleArn ?? '',
      NotificationConfig: command.notificationConfig ?? {
        NotificationArn: '',
        NotificationEvents: [],
        NotificationType: '',
      },
      CloudWatchOutputConfig: command.cloudWatchOutputConfig,
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

  private listCommands(input: Record<string, unknown>) {
    const commandId = this.commandId(input, false);
    const limit = maxResults(input, 1, 50, 50);
    const offset = decodeOffset(input.NextToken);
    const filters = this.commandFilters(input);
    if (commandId && !this.commands.has(commandId))
      throw new LocalAwsError('InvalidCommandId', `Command ${commandId} does not exist.`);
    const instanceId = input.InstanceId === undefined ? undefined : String(input.InstanceId);
    const all = [...this.commands.values()]
      .filter((c) => !commandId || c.commandId === commandId)
      .filter((c) => !instanceId || c.instanceIds.includes(instanceId))
      .filter((c) => filters.every((f) => f(c)))
      .sort((a, b) => b.requestedDateTime.localeCompare(a.requestedDateTime));
    const page = all.slice(offset, offset + limit);
    return {
      Commands: page.map((c) => this.commandOutput(c)),
      NextToken: offset + page.length < all.length ? encodeOffset(offset + page.length) : undefined,
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

  private listCommandInvocations(input: Record<string, unknown>) {
    const commandId = this.commandId(input, false);
    const limit = maxResults(input, 1, 50, 50);
    const offset = decodeOffset(input.NextToken);
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
          .map((id) => ({ command: c, invocation: this.invocations.get(`${c.commandId}/${id}`)! })),
      );
    const page = rows.slice(offset, offset + limit);
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
        ServiceRole: command.serviceRoleArn ?? '',
        NotificationConfig: command.notificationConfig ?? {
          NotificationArn: '',
          NotificationEvents: [],
          NotificationType: '',
        },
        CloudWatchOutputConfig: command.cloudWatchOutputConfig,
      })),
      NextToken: offset + page.length < rows.length ? encodeOffset(offset + page.length) : undefined,
    };
  }

  private getCommandInvocation(input: Record<string, unknown>) {
    const commandId = this.commandId(input, true)!;
    const instanceId = requireString(input, 'InstanceId');
    if (!/^(i|mi)-[0-9a-f]{8,17}$/.test(instanceId)) {
      throw new LocalAwsError('InvalidInstanceId', `Instance Id ${instanceId} is not valid.`);
    }
    const command = this.commands.get(commandId);
    const invocation = this.invocations.get(`${commandId}/${instanceId}`);
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
      documents: [...this.documents.values()].filter((d) => d.owner !== 'Amazon'),
      commands: [...this.commands.values()],
      invocations: [...this.invocations.values()],
      agents: [...this.agents.values()],
    };
  }

  private restore(state: SsmState): void {
    for (const p of state.parameters ?? []) this.parameters.parameters.set(p.name, p);
    for (const d of state.documents ?? []) this.documents.set(d.name, d);
    for (const c of state.commands ?? []) this.commands.set(c.commandId, c);
    for (const a of state.agents ?? []) this.agents.set(a.instanceId, a);
    for (const i of state.invocations ?? []) {
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
      this.invocations.set(`${i.commandId}/${i.instanceId}`, i);
    }
    for (const c of this.commands.values()) {
      if (!TERMINAL.has(c.status)) {
        c.status = 'Failed';
        c.statusDetails = 'Failed';
      }
    }
  }

  /** Schedules agent registration for restored running instances without an agent. */
  resume(): void {
    for (const instance of this.deps.ec2.listInstances()) {
      if (instance.state === 'running' && !this.agents.has(instance.instanceId))
        this.onInstanceState(instance, undefined);
    }
  }

  /** Kills running command processes. */
  close(): void {
    for (const step of this.running.values()) step.cancel();
    for (const timer of this.agentTimers.values()) this.deps.clock.clearTimer(timer);
    this.agentTimers.clear();
  }
}
