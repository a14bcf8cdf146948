/**
 * SSM agents of instances: an instance's agent registers `agentRegisterMs` after the instance is
 * running (unless an `agent-never-online` fault matches it), is Online while the instance runs,
 * ConnectionLost while it stops, and gone once it terminates; DescribeInstanceInformation lists
 * them (filters, paging). Run Command delivers only to instances whose agent is online.
 */
import type { InstanceRecord } from '../ec2/service.js';
import { pageAt } from '../kit/next-token.js';
import { LocalAwsError } from '../types.js';
import { maxResults, ssmTokens, validation } from './input.js';
import type { SsmEmulatorDeps, SsmTimings } from './service.js';

export interface AgentRecord {
  instanceId: string;
  registrationDate: string;
  lastPingDateTime: string;
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

/** What fault rules about an instance match on (`InstanceId`, `tag:<key>`, ...), plus `extra`. */
export function faultAttributesFor(
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

export class Agents {
  readonly records = new Map<string, AgentRecord>();
  private readonly timers = new Map<string, NodeJS.Timeout>();

  constructor(
    private readonly deps: SsmEmulatorDeps,
    private readonly timings: SsmTimings,
    private readonly persist: () => void,
  ) {}

  /** Registers an instance's agent now (long-lived Lustre clients declared in the config). */
  registerNow(instanceId: string): void {
    const now = this.deps.clock.now().toISOString();
    this.records.set(instanceId, { instanceId, registrationDate: now, lastPingDateTime: now });
    this.persist();
  }

  isOnline(instanceId: string): boolean {
    const instance = this.deps.ec2.getInstance(instanceId);
    return Boolean(instance && instance.state === 'running' && this.records.has(instanceId));
  }

  /** The instance ids whose agent is online. */
  onlineIds(): string[] {
    return [...this.records.keys()].filter((id) => this.isOnline(id));
  }

  /**
   * Follows an instance's state: a running instance's agent registers after `agentRegisterMs`; an
   * instance that stops or terminates cancels a pending registration; a terminated one loses its agent.
   */
  onInstanceState(instance: InstanceRecord): void {
    const id = instance.instanceId;
    if (instance.state === 'running' && !this.records.has(id) && !this.timers.has(id)) {
      if (this.deps.faults.behavior('agent-never-online', faultAttributesFor(instance))) return;
      this.scheduleRegistration(id);
      return;
    }
    if (
      instance.state === 'shutting-down' ||
      instance.state === 'stopping' ||
      instance.state === 'terminated'
    ) {
      this.deps.clock.clearTimer(this.timers.get(id));
      this.timers.delete(id);
    }
    if (instance.state === 'terminated') this.records.delete(id);
  }

  /**
   * The agent registers (ssm:UpdateInstanceInformation with the instance's role) a while after
   * the instance runs; refused, it tries again after the same while, and the instance never shows
   * Online until its role allows it.
   */
  private scheduleRegistration(id: string): void {
    const timer = this.deps.clock.setTimer(() => {
      this.timers.delete(id);
      const instance = this.deps.ec2.getInstance(id);
      if (instance?.state !== 'running') return;
      const arn = `arn:aws:ec2:${this.deps.region}:${this.deps.accountId}:instance/${id}`;
      const check = {
        action: 'ssm:UpdateInstanceInformation',
        resource: arn,
        context: { 'ec2:SourceInstanceARN': arn },
      };
      if (!this.deps.iam || this.deps.iam.allows(instance, [check], 'ssm:UpdateInstanceInformation')) {
        this.registerNow(id);
      } else {
        this.scheduleRegistration(id);
      }
    }, this.timings.agentRegisterMs);
    this.timers.set(id, timer);
  }

  /** Schedules agent registration for restored running instances without an agent. */
  resume(): void {
    for (const instance of this.deps.ec2.listInstances()) {
      if (instance.state === 'running' && !this.records.has(instance.instanceId))
        this.onInstanceState(instance);
    }
  }

  close(): void {
    for (const timer of this.timers.values()) this.deps.clock.clearTimer(timer);
    this.timers.clear();
  }

  describeInstanceInformation(input: Record<string, unknown>) {
    const limit = maxResults(input, 5, 50, 50);
    const offset = ssmTokens.decode(input.NextToken);
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
    const rows = [...this.records.values()]
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
    const { items: page, nextToken } = pageAt(rows, offset, limit, ssmTokens);
    return {
      InstanceInformationList: page,
      NextToken: nextToken,
    };
  }
}
