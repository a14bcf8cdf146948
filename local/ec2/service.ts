/**
 * EC2 emulator (query protocol, API version 2016-11-15): RunInstances, DescribeInstances,
 * TerminateInstances, CreateTags, DescribeSubnets, DescribeSecurityGroups, DescribeVpcs.
 *
 * Instances move pending -> running -> shutting-down -> terminated (or stopping -> stopped) on
 * the scaled clock and emit `EC2 Instance State-change Notification` events (source aws.ec2). A
 * `shutdown -P +<minutes>` line in the (base64) user data arms the instance's own watchdog: at that
 * time the instance shuts down and, with InstanceInitiatedShutdownBehavior=terminate, terminates.
 * RunInstances follows AWS's ClientToken rules: the same token with the same parameters returns
 * the original reservation (current states), with other parameters IdempotentParameterMismatch.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { ScaledClock } from '../clock.js';
import { type FaultInjector, globMatch } from '../faults.js';
import { ec2Response, type NestedParams, nestParams, type XmlObject } from '../protocols/query.js';
import type { FaultAttributeSource, LocalRequestContext } from '../server.js';
import type { StateStore } from '../kit/persistence.js';
import { LocalAwsError, type LocalEvent, type QueryService, type RequestContext } from '../types.js';
import type { Network, SecurityGroupRecord, SubnetRecord } from './network.js';

export type InstanceStateName =
  | 'pending'
  | 'running'
  | 'shutting-down'
  | 'terminated'
  | 'stopping'
  | 'stopped';

const STATE_CODES: Record<InstanceStateName, number> = {
  pending: 0,
  running: 16,
  'shutting-down': 32,
  terminated: 48,
  stopping: 64,
  stopped: 80,
};

export interface InstanceRecord {
  instanceId: string;
  reservationId: string;
  imageId: string;
  instanceType: string;
  subnetId: string;
  vpcId: string;
  availabilityZone: string;
  privateIpAddress: string;
  publicIpAddress?: string;
  securityGroups: { groupId: string; groupName: string }[];
  keyName?: string;
  state: InstanceStateName;
  stateTransitionReason: string;
  stateReason?: { code: string; message: string };
  launchTime: string;
  clientToken?: string;
  tags: { key: string; value: string }[];
  metadataOptions: {
    httpTokens: string;
    httpPutResponseHopLimit: number;
    httpEndpoint: string;
    httpProtocolIpv6: string;
    instanceMetadataTags: string;
  };
  shutdownBehavior: 'stop' | 'terminate';
  disableApiTermination: boolean;
  userData?: string;
  blockDeviceMappings: {
    deviceName: string;
    volumeId: string;
    deleteOnTermination: boolean;
    attachTime: string;
    encrypted: boolean;
    volumeSize?: number;
    volumeType?: string;
    kmsKeyId?: string;
  }[];
  networkInterfaceId: string;
  associatePublicIpAddress: boolean;
  iamInstanceProfile?: { arn: string; id: string };
  amiLaunchIndex: number;
  ebsOptimized: boolean;
  monitoring: 'disabled' | 'enabled';
  /** Real (wall-clock) times of scheduled transitions, so a restart can re-arm them. */
  nextTransitionAt?: string;
  watchdogAt?: string;
  terminatedAt?: string;
  /** The RunInstances parameters as received (for tests and the admin API). */
  request: Record<string, string>;
}

export interface Ec2Timings {
  /** Simulated ms from RunInstances to running. */
  bootMs: number;
  /** Simulated ms from shutting-down to terminated (and stopping to stopped). */
  shutdownMs: number;
  /**
   * Real (not scaled) ms a terminated instance stays visible in DescribeInstances: about an hour
   * on AWS, and not shortened by the time scale, so tests that count instances see them all.
   */
  terminatedVisibleMs: number;
}

export const DEFAULT_EC2_TIMINGS: Ec2Timings = {
  bootMs: 15_000,
  shutdownMs: 20_000,
  terminatedVisibleMs: 60 * 60_000,
};

export interface Ec2EmulatorDeps {
  accountId: string;
  region: string;
  clock: ScaledClock;
  faults: FaultInjector;
  emit: (event: LocalEvent) => void;
  store?: StateStore;
  network: Network;
  timings?: Partial<Ec2Timings>;
  /** Default AMI id (the public SSM parameter's value) used by the admin helpers. */
  defaultImageId?: string;
}

interface Ec2State {
  instances: InstanceRecord[];
  clientTokens: { token: string; fingerprint: string; reservationId: string }[];
  counter: number;
}

export type InstanceListener = (instance: InstanceRecord, previous: InstanceStateName | undefined) => void;

const hex = (bytes: number) => randomBytes(bytes).toString('hex');
const newId = (prefix: string) => `${prefix}-${hex(9).slice(0, 17)}`;

const ACTIONS = [
  'RunInstances',
  'DescribeInstances',
  'TerminateInstances',
  'CreateTags',
  'DescribeSubnets',
  'DescribeSecurityGroups',
  'DescribeVpcs',
] as const;

const INSTANCE_FILTERS = new Set([
  'instance-id',
  'instance-state-name',
  'instance-state-code',
  'instance-type',
  'image-id',
  'subnet-id',
  'vpc-id',
  'availability-zone',
  'reservation-id',
  'client-token',
  'tag-key',
  'tag-value',
  'private-ip-address',
  'iam-instance-profile.arn',
  'key-name',
]);

function asList(value: unknown): NestedParams[] {
  if (value === undefined) return [];
  return (Array.isArray(value) ? value : [value]).filter((v) => v !== undefined) as NestedParams[];
}

function asStrings(value: unknown): string[] {
  if (value === undefined) return [];
  return (Array.isArray(value) ? value : [value]).filter((v) => v !== undefined).map(String);
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

function bool(value: unknown, name: string): boolean | undefined {
  if (value === undefined) return undefined;
  if (value === 'true') return true;
  if (value === 'false') return false;
  throw new LocalAwsError(
    'InvalidParameterValue',
    `Value (${String(value)}) for parameter ${name} is invalid. Expected a boolean.`,
  );
}

function int(value: unknown, name: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n)) {
    throw new LocalAwsError(
      'InvalidParameterValue',
      `Value (${String(value)}) for parameter ${name} is invalid. Expected an integer.`,
    );
  }
  return n;
}

/** The `shutdown [-P|-h|-r] +<minutes>` watchdog armed by user data, in minutes. */
export function watchdogMinutes(userData: string | undefined): number | undefined {
  if (!userData) return undefined;
  let text: string;
  try {
    text = Buffer.from(userData, 'base64').toString('utf8');
  } catch {
    return undefined;
  }
  const match = /\bshutdown\s+(?:-[A-Za-z]+\s+)*\+(\d+)\b/.exec(text);
  return match ? Number(match[1]) : undefined;
}

export class Ec2Emulator implements QueryService, FaultAttributeSource {
  readonly signingName = 'ec2';
  readonly actions: ReadonlySet<string> = new Set(ACTIONS);
  private readonly instances = new Map<string, InstanceRecord>();
  private readonly clientTokens = new Map<string, { fingerprint: string; reservationId: string }>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly watchdogs = new Map<string, NodeJS.Timeout>();
  private readonly listeners = new Set<InstanceListener>();
  private readonly timings: Ec2Timings;
  private counter = 0;

  constructor(private readonly deps: Ec2EmulatorDeps) {
    this.timings = { ...DEFAULT_EC2_TIMINGS, ...deps.timings };
    const saved = deps.store?.load<Ec2State>('ec2');
    if (saved) this.restore(saved);
  }

  // ------------------------------------------------------------------ public helpers

  /** Subscribes to instance state changes (the SSM emulator registers agents from these). */
  onStateChange(listener: InstanceListener): void {
    this.listeners.add(listener);
  }

  getInstance(instanceId: string): InstanceRecord | undefined {
    return this.instances.get(instanceId);
  }

  listInstances(): InstanceRecord[] {
    return [...this.instances.values()];
  }

  /** A summary for the admin API: instance counts by state. */
  summary(): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const instance of this.instances.values())
      counts[instance.state] = (counts[instance.state] ?? 0) + 1;
    return counts;
  }

  faultAttributes(action: string, params: Record<string, unknown>): Record<string, unknown> {
    if (action !== 'RunInstances') return {};
    const p = params as Record<string, string>;
    const subnetId =
      p.SubnetId ?? p['NetworkInterface.1.SubnetId'] ?? this.deps.network.defaultSubnet().subnetId;
    return {
      InstanceType: p.InstanceType ?? 'm1.small',
      SubnetId: subnetId,
      AvailabilityZone: this.deps.network.subnets.get(subnetId)?.availabilityZone,
    };
  }

  /**
   * Creates a running instance with the given id (a long-lived Lustre client named in the config
   * as `lustreClientInstanceId`). No-op when it exists and is not terminated.
   */
  ensureInstance(
    instanceId: string,
    options: { subnetId?: string; tags?: Record<string, string> } = {},
  ): InstanceRecord {
    const existing = this.instances.get(instanceId);
    if (existing && existing.state !== 'terminated') return existing;
    const subnet =
      (options.subnetId && this.deps.network.subnets.get(options.subnetId)) ||
      this.deps.network.defaultSubnet();
    const record = this.newInstance({
      instanceId,
      reservationId: newId('r'),
      imageId: this.deps.defaultImageId ?? 'ami-0a0b0c0d0e0f00001',
      instanceType: 'c6i.large',
      subnet,
      groups: [this.deps.network.defaultSecurityGroup()],
      index: 0,
      tags: Object.entries(options.tags ?? { Name: 'lustre-client' }).map(([key, value]) => ({ key, value })),
      shutdownBehavior: 'stop',
      request: {},
    });
    record.state = 'running';
    this.instances.set(instanceId, record);
    this.persist();
    this.emitState(record, undefined);
    return record;
  }

  // ------------------------------------------------------------------ dispatch

  async handle(action: string, params: Record<string, string>, ctx: RequestContext): Promise<string> {
    const requestId = (ctx as LocalRequestContext).requestId ?? '';
    const nested = nestParams(params);
    switch (action) {
      case 'RunInstances':
        return ec2Response(action, requestId, this.runInstances(params, nested));
      case 'DescribeInstances':
        return ec2Response(action, requestId, this.describeInstances(nested));
      case 'TerminateInstances':
        return ec2Response(action, requestId, this.terminateInstances(nested));
      case 'CreateTags':
        return ec2Response(action, requestId, this.createTags(nested));
      case 'DescribeSubnets':
        return ec2Response(action, requestId, this.describeSubnets(nested));
      case 'DescribeSecurityGroups':
        return ec2Response(action, requestId, this.describeSecurityGroups(nested));
      case 'DescribeVpcs':
        return ec2Response(action, requestId, this.describeVpcs(nested));
      default:
        throw new LocalAwsError('InvalidAction', `The action ${action} is not valid for this web service.`);
    }
  }

  // ------------------------------------------------------------------ RunInstances

  private runInstances(flat: Record<string, string>, p: NestedParams): XmlObject {
    const dryRun = bool(p.DryRun, 'DryRun');
    const imageId = str(p.ImageId);
    if (p.MinCount === undefined)
      throw new LocalAwsError('MissingParameter', 'The request must contain the parameter MinCount');
    if (p.MaxCount === undefined)
      throw new LocalAwsError('MissingParameter', 'The request must contain the parameter MaxCount');
    const minCount = int(p.MinCount, 'MinCount')!;
    const maxCount = int(p.MaxCount, 'MaxCount')!;
    if (minCount < 1)
      throw new LocalAwsError(
        'InvalidParameterValue',
        `Value (${minCount}) for parameter minCount is invalid. Expected a positive integer.`,
      );
    if (maxCount < minCount) {
      throw new LocalAwsError(
        'InvalidParameterValue',
        `Value (${maxCount}) for parameter maxCount is invalid. Must be greater than or equal to minCount.`,
      );
    }
    if (!imageId)
      throw new LocalAwsError('MissingParameter', 'The request must contain the parameter ImageId');
    if (!/^ami-[0-9a-f]{8,17}$/.test(imageId))
      throw new LocalAwsError('InvalidAMIID.Malformed', `Invalid id: "${imageId}" (expecting "ami-...")`);
    const instanceType = str(p.InstanceType) ?? 'm1.small';
    if (!/^[a-z][a-z0-9-]*\.[a-z0-9]+$/.test(instanceType)) {
      throw new LocalAwsError('InvalidParameterValue', `Invalid value '${instanceType}' for InstanceType.`);
    }
    const clientToken = str(p.ClientToken);
    if (clientToken !== undefined && (clientToken.length > 64 || !/^[\x20-\x7e]*$/.test(clientToken))) {
      throw new LocalAwsError('InvalidParameterValue', 'ClientToken must be at most 64 ASCII characters');
    }

    // Idempotency first: a retried request must not be refused for capacity or anything else.
    const fingerprint = createHash('sha256')
      .update(
        JSON.stringify(
          Object.entries(flat)
            .filter(([k]) => !['Action', 'Version', 'ClientToken', 'DryRun'].includes(k))
            .sort(([a], [b]) => a.localeCompare(b)),
        ),
      )
      .digest('hex');
    if (clientToken) {
      const known = this.clientTokens.get(clientToken);
      if (known) {
        if (known.fingerprint !== fingerprint) {
          throw new LocalAwsError(
            'IdempotentParameterMismatch',
            `Arguments on this idempotent request are inconsistent with arguments used in previous request(s) with client token ${clientToken}.`,
          );
        }
        return this.reservationXml(known.reservationId);
      }
    }

    // Placement: instance-level SubnetId/SecurityGroupId or the primary network interface.
    const interfaces = asList(p.NetworkInterface);
    const instanceSubnet = str(p.SubnetId);
    const instanceGroups = asStrings(p.SecurityGroupId);
    if (interfaces.length > 0 && instanceSubnet) {
      throw new LocalAwsError(
        'InvalidParameterCombination',
        'Network interfaces and an instance-level subnet ID may not be specified on the same request',
      );
    }
    if (interfaces.length > 0 && (instanceGroups.length > 0 || p.SecurityGroup !== undefined)) {
      throw new LocalAwsError(
        'InvalidParameterCombination',
        'Network interfaces and an instance-level security groups may not be specified on the same request',
      );
    }
    if (interfaces.length > 1) {
      throw new LocalAwsError(
        'InvalidParameterValue',
        'The local cloud supports one network interface per instance',
      );
    }
    const primary = interfaces[0];
    if (primary && int(primary.DeviceIndex, 'NetworkInterface.1.DeviceIndex') !== 0) {
      throw new LocalAwsError(
        'InvalidParameterValue',
        'Each network interface requires a device index; the primary one must be 0',
      );
    }
    const subnetId = str(primary?.SubnetId) ?? instanceSubnet;
    const subnet = subnetId ? this.subnet(subnetId) : this.deps.network.defaultSubnet();
    const groupIds = primary ? asStrings(primary.SecurityGroupId) : instanceGroups;
    const groupNames = asStrings(p.SecurityGroup);
    const groups: SecurityGroupRecord[] = groupIds.map((id) => this.securityGroup(id));
    for (const name of groupNames) {
      const group = [...this.deps.network.securityGroups.values()].find((g) => g.groupName === name);
      if (!group)
        throw new LocalAwsError(
          'InvalidGroup.NotFound',
          `The security group '${name}' does not exist in default VPC '${subnet.vpcId}'`,
        );
      groups.push(group);
    }
    if (groups.length === 0) groups.push(this.deps.network.defaultSecurityGroup());
    for (const group of groups) {
      if (group.vpcId !== subnet.vpcId) {
        throw new LocalAwsError(
          'InvalidParameter',
          `Security group ${group.groupId} and subnet ${subnet.subnetId} belong to different networks.`,
        );
      }
    }
    const associatePublicIp = bool(primary?.AssociatePublicIpAddress, 'AssociatePublicIpAddress') ?? false;

    const shutdownBehavior = str(p.InstanceInitiatedShutdownBehavior) ?? 'stop';
    if (shutdownBehavior !== 'stop' && shutdownBehavior !== 'terminate') {
      throw new LocalAwsError(
        'InvalidParameterValue',
        `Value (${shutdownBehavior}) for parameter instanceInitiatedShutdownBehavior is invalid. Expected 'stop' or 'terminate'.`,
      );
    }
    const metadata = (p.MetadataOptions ?? {}) as NestedParams;
    const httpTokens = str(metadata.HttpTokens) ?? 'optional';
    if (!['optional', 'required'].includes(httpTokens)) {
      throw new LocalAwsError(
        'InvalidParameterValue',
        `Value (${httpTokens}) for parameter HttpTokens is invalid. Expected 'optional' or 'required'.`,
      );
    }
    const httpEndpoint = str(metadata.HttpEndpoint) ?? 'enabled';
    if (!['enabled', 'disabled'].includes(httpEndpoint)) {
      throw new LocalAwsError(
        'InvalidParameterValue',
        `Value (${httpEndpoint}) for parameter HttpEndpoint is invalid.`,
      );
    }
    const hopLimit = int(metadata.HttpPutResponseHopLimit, 'HttpPutResponseHopLimit') ?? 1;
    if (hopLimit < 1 || hopLimit > 64) {
      throw new LocalAwsError(
        'InvalidParameterValue',
        `Value (${hopLimit}) for parameter HttpPutResponseHopLimit is invalid. Expected 1-64.`,
      );
    }

    const userData = str(p.UserData);
    if (userData !== undefined) {
      if (!/^[A-Za-z0-9+/]*={0,2}$/.test(userData.replace(/\s/g, ''))) {
        throw new LocalAwsError('InvalidParameterValue', 'Invalid BASE64 encoding of user data.');
      }
      if (Buffer.from(userData, 'base64').length > 16 * 1024) {
        throw new LocalAwsError('InvalidParameterValue', 'User data is limited to 16384 bytes');
      }
    }

    const tags: { key: string; value: string }[] = [];
    const volumeTags: { key: string; value: string }[] = [];
    for (const spec of asList(p.TagSpecification)) {
      const resourceType = str(spec.ResourceType);
      if (!resourceType)
        throw new LocalAwsError(
          'MissingParameter',
          'The request must contain the parameter TagSpecification.N.ResourceType',
        );
      if (!['instance', 'volume', 'network-interface'].includes(resourceType)) {
        throw new LocalAwsError(
          'InvalidParameterValue',
          `'${resourceType}' is not a valid taggable resource type for this operation.`,
        );
      }
      const target = resourceType === 'instance' ? tags : volumeTags;
      for (const tag of asList(spec.Tag)) target.push(this.validTag(tag));
    }
    if (tags.length > 50)
      throw new LocalAwsError('TagLimitExceeded', 'The maximum number of tags per resource is 50');

    let iamInstanceProfile: InstanceRecord['iamInstanceProfile'];
    const profile = p.IamInstanceProfile as NestedParams | undefined;
    if (profile) {
      const arn = str(profile.Arn);
      const name = str(profile.Name);
      if (arn && !/^arn:aws[a-z-]*:iam::\d{12}:instance-profile\/.+$/.test(arn)) {
        throw new LocalAwsError(
          'InvalidParameterValue',
          `Value (${arn}) for parameter iamInstanceProfile.arn is invalid. Invalid IAM Instance Profile ARN`,
        );
      }
      if (!arn && !name)
        throw new LocalAwsError('InvalidParameterValue', 'iamInstanceProfile requires a Name or an Arn');
      const profileArn = arn ?? `arn:aws:iam::${this.deps.accountId}:instance-profile/${name}`;
      iamInstanceProfile = {
        arn: profileArn,
        id: `AIPA${createHash('sha256').update(profileArn).digest('hex').slice(0, 17).toUpperCase()}`,
      };
    }

    const mappings = asList(p.BlockDeviceMapping);
    const now = this.deps.clock.now().toISOString();
    const blockDevices: InstanceRecord['blockDeviceMappings'] = (
      mappings.length > 0 ? mappings : [{ DeviceName: '/dev/xvda' }]
    ).map((m) => {
      const ebs = (m.Ebs ?? {}) as NestedParams;
      const deviceName = str(m.DeviceName);
      if (!deviceName)
        throw new LocalAwsError(
          'MissingParameter',
          'The request must contain the parameter BlockDeviceMapping.N.DeviceName',
        );
      return {
        deviceName,
        volumeId: newId('vol'),
        deleteOnTermination: bool(ebs.DeleteOnTermination, 'DeleteOnTermination') ?? true,
        attachTime: now,
        encrypted: bool(ebs.Encrypted, 'Encrypted') ?? false,
        volumeSize: int(ebs.VolumeSize, 'VolumeSize') ?? 8,
        volumeType: str(ebs.VolumeType) ?? 'gp3',
        kmsKeyId: str(ebs.KmsKeyId),
      };
    });

    if (dryRun)
      throw new LocalAwsError(
        'DryRunOperation',
        'Request would have succeeded, but DryRun flag is set.',
        412,
      );

    const reservationId = newId('r');
    for (let index = 0; index < maxCount; index += 1) {
      const record = this.newInstance({
        instanceId: newId('i'),
        reservationId,
        imageId,
        instanceType,
        subnet,
        groups,
        index,
        tags,
        shutdownBehavior,
        request: flat,
      });
      record.clientToken = clientToken;
      record.keyName = str(p.KeyName);
      record.metadataOptions = {
        httpTokens,
        httpPutResponseHopLimit: hopLimit,
        httpEndpoint,
        httpProtocolIpv6: str(metadata.HttpProtocolIpv6) ?? 'disabled',
        instanceMetadataTags: str(metadata.InstanceMetadataTags) ?? 'disabled',
      };
      record.disableApiTermination = bool(p.DisableApiTermination, 'DisableApiTermination') ?? false;
      record.userData = userData;
      record.blockDeviceMappings = blockDevices.map((b) => ({
        ...b,
        volumeId: index === 0 ? b.volumeId : newId('vol'),
      }));
      record.associatePublicIpAddress = associatePublicIp;
      if (associatePublicIp) record.publicIpAddress = `203.0.113.${(this.counter % 250) + 1}`;
      record.iamInstanceProfile = iamInstanceProfile;
      record.ebsOptimized = bool(p.EbsOptimized, 'EbsOptimized') ?? false;
      record.monitoring = bool((p.Monitoring as NestedParams | undefined)?.Enabled, 'Monitoring.Enabled')
        ? 'enabled'
        : 'disabled';
      this.instances.set(record.instanceId, record);
      this.emitState(record, undefined);
      this.scheduleBoot(record);
    }
    if (clientToken) this.clientTokens.set(clientToken, { fingerprint, reservationId });
    this.persist();
    return this.reservationXml(reservationId);
  }

  private validTag(tag: NestedParams): { key: string; value: string } {
    const key = str(tag.Key);
    const value = str(tag.Value) ?? '';
    if (!key) throw new LocalAwsError('InvalidParameterValue', 'Tag keys must not be empty');
    if (key.length > 128)
      throw new LocalAwsError(
        'InvalidParameterValue',
        `Tag key exceeds the maximum length of 128 characters: ${key}`,
      );
    if (value.length > 256)
      throw new LocalAwsError(
        'InvalidParameterValue',
        `Tag value exceeds the maximum length of 256 characters for key ${key}`,
      );
    if (key.toLowerCase().startsWith('aws:')) {
      throw new LocalAwsError(
        'InvalidParameterValue',
        `Tag keys starting with 'aws:' are reserved for internal use: ${key}`,
      );
    }
    return { key, value };
  }

  private subnet(subnetId: string): SubnetRecord {
    if (!/^subnet-[0-9a-f]{8,17}$/.test(subnetId)) {
      throw new LocalAwsError(
        'InvalidSubnetID.Malformed',
        `Invalid id: "${subnetId}" (expecting "subnet-...")`,
      );
    }
    const subnet = this.deps.network.subnets.get(subnetId);
    if (!subnet)
      throw new LocalAwsError('InvalidSubnetID.NotFound', `The subnet ID '${subnetId}' does not exist`);
    return subnet;
  }

  private securityGroup(groupId: string): SecurityGroupRecord {
    if (!/^sg-[0-9a-f]{8,17}$/.test(groupId)) {
      throw new LocalAwsError('InvalidGroupId.Malformed', `Invalid id: "${groupId}" (expecting "sg-...")`);
    }
    const group = this.deps.network.securityGroups.get(groupId);
    if (!group)
      throw new LocalAwsError('InvalidGroup.NotFound', `The security group '${groupId}' does not exist`);
    return group;
  }

  private newInstance(args: {
    instanceId: string;
    reservationId: string;
    imageId: string;
    instanceType: string;
    subnet: SubnetRecord;
    groups: SecurityGroupRecord[];
    index: number;
    tags: { key: string; value: string }[];
    shutdownBehavior: 'stop' | 'terminate';
    request: Record<string, string>;
  }): InstanceRecord {
    this.counter += 1;
    const octet = (this.counter % 250) + 4;
    const now = this.deps.clock.now().toISOString();
    return {
      instanceId: args.instanceId,
      reservationId: args.reservationId,
      imageId: args.imageId,
      instanceType: args.instanceType,
      subnetId: args.subnet.subnetId,
      vpcId: args.subnet.vpcId,
      availabilityZone: args.subnet.availabilityZone,
      privateIpAddress: args.subnet.cidrBlock.replace(/\.0\/24$/, `.${octet}`),
      securityGroups: args.groups.map((g) => ({ groupId: g.groupId, groupName: g.groupName })),
      state: 'pending',
      stateTransitionReason: '',
      launchTime: now,
      tags: args.tags.map((t) => ({ ...t })),
      metadataOptions: {
        httpTokens: 'optional',
        httpPutResponseHopLimit: 1,
        httpEndpoint: 'enabled',
        httpProtocolIpv6: 'disabled',
        instanceMetadataTags: 'disabled',
      },
      shutdownBehavior: args.shutdownBehavior,
      disableApiTermination: false,
      blockDeviceMappings: [
        {
          deviceName: '/dev/xvda',
          volumeId: newId('vol'),
          deleteOnTermination: true,
          attachTime: now,
          encrypted: false,
        },
      ],
      networkInterfaceId: newId('eni'),
      associatePublicIpAddress: false,
      amiLaunchIndex: args.index,
      ebsOptimized: false,
      monitoring: 'disabled',
      request: args.request,
    };
  }

  // ------------------------------------------------------------------ lifecycle

  private schedule(record: InstanceRecord, delayMs: number, next: () => void): void {
    this.deps.clock.clearTimer(this.timers.get(record.instanceId));
    record.nextTransitionAt = new Date(Date.now() + this.deps.clock.scale(delayMs)).toISOString();
    const timer = this.deps.clock.setTimer(() => {
      this.timers.delete(record.instanceId);
      record.nextTransitionAt = undefined;
      next();
    }, delayMs);
    this.timers.set(record.instanceId, timer);
  }

  private scheduleBoot(record: InstanceRecord, delayMs = this.timings.bootMs): void {
    this.schedule(record, delayMs, () => {
      if (record.state !== 'pending') return;
      this.setState(record, 'running');
      this.armWatchdog(record);
    });
  }

  private armWatchdog(record: InstanceRecord): void {
    if (!record.watchdogAt) {
      const minutes = watchdogMinutes(record.userData);
      if (minutes === undefined) return;
      const launched = Date.parse(record.launchTime);
      record.watchdogAt = new Date(launched + this.deps.clock.scale(minutes * 60_000)).toISOString();
      this.persist();
    }
    const remainingReal = Math.max(0, Date.parse(record.watchdogAt) - Date.now());
    const timer = this.deps.clock.setTimer(() => {
      this.watchdogs.delete(record.instanceId);
      if (record.state !== 'running' && record.state !== 'pending') return;
      this.shutDown(record, 'instance');
    }, remainingReal / this.deps.clock.timeScale);
    this.watchdogs.set(record.instanceId, timer);
  }

  /** Starts shutting an instance down: `user` (TerminateInstances) or `instance` (its own shutdown). */
  private shutDown(record: InstanceRecord, initiator: 'user' | 'instance'): void {
    const stamp = `${new Date().toISOString().replace('T', ' ').slice(0, 19)} GMT`;
    if (initiator === 'instance' && record.shutdownBehavior === 'stop') {
      record.stateTransitionReason = `Client.InstanceInitiatedShutdown (${stamp})`;
      record.stateReason = {
        code: 'Client.InstanceInitiatedShutdown',
        message: 'Client.InstanceInitiatedShutdown: Instance initiated shutdown',
      };
      this.setState(record, 'stopping');
      this.schedule(record, this.timings.shutdownMs, () => this.setState(record, 'stopped'));
      return;
    }
    record.stateTransitionReason =
      initiator === 'user' ? `User initiated (${stamp})` : `Client.InstanceInitiatedShutdown (${stamp})`;
    record.stateReason =
      initiator === 'user'
        ? {
            code: 'Client.UserInitiatedShutdown',
            message: 'Client.UserInitiatedShutdown: User initiated shutdown',
          }
        : {
            code: 'Client.InstanceInitiatedShutdown',
            message: 'Client.InstanceInitiatedShutdown: Instance initiated shutdown',
          };
    this.deps.clock.clearTimer(this.watchdogs.get(record.instanceId));
    this.watchdogs.delete(record.instanceId);
    this.setState(record, 'shutting-down');
    this.schedule(record, this.timings.shutdownMs, () => {
      record.terminatedAt = new Date().toISOString();
      this.setState(record, 'terminated');
    });
  }

  private setState(record: InstanceRecord, state: InstanceStateName): void {
    const previous = record.state;
    if (previous === state) return;
    record.state = state;
    this.persist();
    this.emitState(record, previous);
  }

  private emitState(record: InstanceRecord, previous: InstanceStateName | undefined): void {
    this.deps.emit({
      source: 'aws.ec2',
      'detail-type': 'EC2 Instance State-change Notification',
      resources: [`arn:aws:ec2:${this.deps.region}:${this.deps.accountId}:instance/${record.instanceId}`],
      detail: { 'instance-id': record.instanceId, state: record.state },
    });
    for (const listener of this.listeners) {
      try {
        listener(record, previous);
      } catch {
        // A listener's failure must not break the instance lifecycle.
      }
    }
  }

  private visible(record: InstanceRecord): boolean {
    if (record.state !== 'terminated' || !record.terminatedAt) return true;
    return Date.now() - Date.parse(record.terminatedAt) < this.timings.terminatedVisibleMs;
  }

  // ------------------------------------------------------------------ Describe/Terminate

  private instanceIds(p: NestedParams, allowMissing: boolean): string[] {
    const ids = asStrings(p.InstanceId);
    if (ids.length === 0 && !allowMissing)
      throw new LocalAwsError('MissingParameter', 'The request must contain the parameter InstanceId');
    for (const id of ids) {
      if (!/^i-[0-9a-f]{8,17}$/.test(id))
        throw new LocalAwsError('InvalidInstanceID.Malformed', `Invalid id: "${id}"`);
    }
    const missing = ids.filter((id) => {
      const record = this.instances.get(id);
      return !record || !this.visible(record);
    });
    if (missing.length === 1)
      throw new LocalAwsError('InvalidInstanceID.NotFound', `The instance ID '${missing[0]}' does not exist`);
    if (missing.length > 1)
      throw new LocalAwsError(
        'InvalidInstanceID.NotFound',
        `The instance IDs '${missing.join(', ')}' do not exist`,
      );
    return ids;
  }

  private filters(p: NestedParams, allowed: Set<string>): { name: string; values: string[] }[] {
    return asList(p.Filter).map((f) => {
      const name = str(f.Name);
      if (!name) throw new LocalAwsError('InvalidParameterValue', 'The filter name must not be empty');
      if (!allowed.has(name) && !name.startsWith('tag:')) {
        throw new LocalAwsError('InvalidParameterValue', `The filter '${name}' is invalid`);
      }
      return { name, values: asStrings(f.Value) };
    });
  }

  private instanceMatches(record: InstanceRecord, filter: { name: string; values: string[] }): boolean {
    const any = (candidates: (string | undefined)[]) =>
      candidates.some((c) => c !== undefined && filter.values.some((v) => globMatch(v, c)));
    if (filter.name.startsWith('tag:')) {
      const key = filter.name.slice(4);
      return any(record.tags.filter((t) => t.key === key).map((t) => t.value));
    }
    switch (filter.name) {
      case 'instance-id':
        return any([record.instanceId]);
      case 'instance-state-name':
        return any([record.state]);
      case 'instance-state-code':
        return any([String(STATE_CODES[record.state])]);
      case 'instance-type':
        return any([record.instanceType]);
      case 'image-id':
        return any([record.imageId]);
      case 'subnet-id':
        return any([record.subnetId]);
      case 'vpc-id':
        return any([record.vpcId]);
      case 'availability-zone':
        return any([record.availabilityZone]);
      case 'reservation-id':
        return any([record.reservationId]);
      case 'client-token':
        return any([record.clientToken]);
      case 'tag-key':
        return any(record.tags.map((t) => t.key));
      case 'tag-value':
        return any(record.tags.map((t) => t.value));
      case 'private-ip-address':
        return any([record.privateIpAddress]);
      case 'iam-instance-profile.arn':
        return any([record.iamInstanceProfile?.arn]);
      case 'key-name':
        return any([record.keyName]);
      default:
        return false;
    }
  }

  private describeInstances(p: NestedParams): XmlObject {
    const maxResults = int(p.MaxResults, 'MaxResults');
    if (maxResults !== undefined && asStrings(p.InstanceId).length > 0) {
      throw new LocalAwsError(
        'InvalidParameterCombination',
        'The parameter instancesSet cannot be used with the parameter maxResults',
      );
    }
    if (maxResults !== undefined && (maxResults < 5 || maxResults > 1000)) {
      throw new LocalAwsError(
        'InvalidParameterValue',
        `Value ( ${maxResults} ) for parameter maxResults is invalid. Expecting a value greater than 5.`,
      );
    }
    const ids = this.instanceIds(p, true);
    const filters = this.filters(p, INSTANCE_FILTERS);
    let offset = 0;
    const token = str(p.NextToken);
    if (token) offset = decodeToken(token);
    const matching = [...this.instances.values()]
      .filter((r) => this.visible(r))
      .filter((r) => ids.length === 0 || ids.includes(r.instanceId))
      .filter((r) => filters.every((f) => this.instanceMatches(r, f)));
    const page =
      maxResults === undefined ? matching.slice(offset) : matching.slice(offset, offset + maxResults);
    const nextOffset = offset + page.length;
    const reservations = new Map<string, InstanceRecord[]>();
    for (const record of page) {
      const list = reservations.get(record.reservationId) ?? [];
      list.push(record);
      reservations.set(record.reservationId, list);
    }
    return {
      reservationSet: [...reservations.entries()].map(([reservationId, records]) =>
        this.reservationObject(reservationId, records),
      ),
      nextToken:
        maxResults !== undefined && nextOffset < matching.length ? encodeToken(nextOffset) : undefined,
    };
  }

  private terminateInstances(p: NestedParams): XmlObject {
    const ids = this.instanceIds(p, false);
    const dryRun = bool(p.DryRun, 'DryRun');
    for (const id of ids) {
      const record = this.instances.get(id)!;
      if (record.disableApiTermination && record.state !== 'terminated') {
        throw new LocalAwsError(
          'OperationNotPermitted',
          `The instance '${id}' may not be terminated. Modify its 'disableApiTermination' instance attribute and try again.`,
        );
      }
    }
    if (dryRun)
      throw new LocalAwsError(
        'DryRunOperation',
        'Request would have succeeded, but DryRun flag is set.',
        412,
      );
    const changes = ids.map((id) => {
      const record = this.instances.get(id)!;
      const previous = record.state;
      if (previous !== 'terminated' && previous !== 'shutting-down') this.shutDown(record, 'user');
      return {
        instanceId: id,
        currentState: { code: STATE_CODES[record.state], name: record.state },
        previousState: { code: STATE_CODES[previous], name: previous },
      };
    });
    return { instancesSet: changes };
  }

  private createTags(p: NestedParams): XmlObject {
    const resources = asStrings(p.ResourceId);
    if (resources.length === 0)
      throw new LocalAwsError('MissingParameter', 'The request must contain the parameter ResourceId');
    const tags = asList(p.Tag).map((t) => this.validTag(t));
    for (const id of resources) {
      if (!id.startsWith('i-')) continue;
      const record = this.instances.get(id);
      if (!record)
        throw new LocalAwsError('InvalidInstanceID.NotFound', `The instance ID '${id}' does not exist`);
    }
    if (bool(p.DryRun, 'DryRun'))
      throw new LocalAwsError(
        'DryRunOperation',
        'Request would have succeeded, but DryRun flag is set.',
        412,
      );
    for (const id of resources) {
      const record = this.instances.get(id);
      if (!record) continue;
      for (const tag of tags) {
        const existing = record.tags.find((t) => t.key === tag.key);
        if (existing) existing.value = tag.value;
        else record.tags.push(tag);
      }
      if (record.tags.length > 50)
        throw new LocalAwsError('TagLimitExceeded', 'The maximum number of tags per resource is 50');
    }
    this.persist();
    return { return: true };
  }

  private describeSubnets(p: NestedParams): XmlObject {
    const ids = asStrings(p.SubnetId);
    const missing = ids.filter((id) => !this.deps.network.subnets.has(id));
    if (missing.length > 0)
      throw new LocalAwsError(
        'InvalidSubnetID.NotFound',
        `The subnet ID '${missing.join(', ')}' does not exist`,
      );
    const filters = this.filters(p, new Set(['subnet-id', 'vpc-id', 'availability-zone', 'state']));
    const subnets = [...this.deps.network.subnets.values()]
      .filter((s) => ids.length === 0 || ids.includes(s.subnetId))
      .filter((s) =>
        filters.every((f) => {
          const value =
            f.name === 'subnet-id'
              ? s.subnetId
              : f.name === 'vpc-id'
                ? s.vpcId
                : f.name === 'state'
                  ? 'available'
                  : s.availabilityZone;
          return f.values.some((v) => globMatch(v, value));
        }),
      );
    return {
      subnetSet: subnets.map((s) => ({
        subnetId: s.subnetId,
        subnetArn: `arn:aws:ec2:${this.deps.region}:${this.deps.accountId}:subnet/${s.subnetId}`,
        state: 'available',
        vpcId: s.vpcId,
        cidrBlock: s.cidrBlock,
        availableIpAddressCount: 250,
        availabilityZone: s.availabilityZone,
        availabilityZoneId: `use1-az${'abc'.indexOf(s.availabilityZone.slice(-1)) + 1}`,
        defaultForAz: false,
        mapPublicIpOnLaunch: false,
        assignIpv6AddressOnCreation: false,
        ownerId: this.deps.accountId,
      })),
    };
  }

  private describeSecurityGroups(p: NestedParams): XmlObject {
    const ids = asStrings(p.GroupId);
    const missing = ids.filter((id) => !this.deps.network.securityGroups.has(id));
    if (missing.length > 0)
      throw new LocalAwsError(
        'InvalidGroup.NotFound',
        `The security group '${missing.join(', ')}' does not exist`,
      );
    const filters = this.filters(p, new Set(['group-id', 'group-name', 'vpc-id']));
    const groups = [...this.deps.network.securityGroups.values()]
      .filter((g) => ids.length === 0 || ids.includes(g.groupId))
      .filter((g) =>
        filters.every((f) => {
          const value = f.name === 'group-id' ? g.groupId : f.name === 'group-name' ? g.groupName : g.vpcId;
          return f.values.some((v) => globMatch(v, value));
        }),
      );
    const lustreRule = (fromPort: number, toPort: number, groupId: string) => ({
      ipProtocol: 'tcp',
      fromPort,
      toPort,
      groups: [{ groupId, userId: this.deps.accountId }],
      ipRanges: [],
      ipv6Ranges: [],
      prefixListIds: [],
    });
    return {
      securityGroupInfo: groups.map((g) => ({
        ownerId: this.deps.accountId,
        groupId: g.groupId,
        groupName: g.groupName,
        groupDescription: g.description,
        vpcId: g.vpcId,
        ipPermissions: [lustreRule(988, 988, g.groupId), lustreRule(1018, 1023, g.groupId)],
        ipPermissionsEgress: [
          {
            ipProtocol: '-1',
            groups: [],
            ipRanges: [{ cidrIp: '0.0.0.0/0' }],
            ipv6Ranges: [],
            prefixListIds: [],
          },
        ],
      })),
    };
  }

  private describeVpcs(p: NestedParams): XmlObject {
    const ids = asStrings(p.VpcId);
    const missing = ids.filter((id) => id !== this.deps.network.vpcId);
    if (missing.length > 0)
      throw new LocalAwsError('InvalidVpcID.NotFound', `The vpc ID '${missing.join(', ')}' does not exist`);
    return {
      vpcSet: [
        {
          vpcId: this.deps.network.vpcId,
          ownerId: this.deps.accountId,
          state: 'available',
          cidrBlock: '10.0.0.0/16',
          dhcpOptionsId: 'dopt-00000000000000001',
          instanceTenancy: 'default',
          isDefault: false,
        },
      ],
    };
  }

  // ------------------------------------------------------------------ XML shapes

  private reservationXml(reservationId: string): XmlObject {
    const records = [...this.instances.values()].filter((r) => r.reservationId === reservationId);
    return this.reservationObject(reservationId, records) as XmlObject;
  }

  private reservationObject(reservationId: string, records: InstanceRecord[]): XmlObject {
    return {
      reservationId,
      ownerId: this.deps.accountId,
      groupSet: [],
      instancesSet: records.map((r) => this.instanceObject(r)),
    };
  }

  private instanceObject(r: InstanceRecord): XmlObject {
    const privateDnsName = `ip-${r.privateIpAddress.replace(/\./g, '-')}.ec2.internal`;
    const groupSet = r.securityGroups.map((g) => ({ groupId: g.groupId, groupName: g.groupName }));
    return {
      instanceId: r.instanceId,
      imageId: r.imageId,
      instanceState: { code: STATE_CODES[r.state], name: r.state },
      privateDnsName: r.state === 'terminated' ? '' : privateDnsName,
      dnsName: '',
      reason: r.stateTransitionReason,
      keyName: r.keyName,
      amiLaunchIndex: r.amiLaunchIndex,
      productCodes: [],
      instanceType: r.instanceType,
      launchTime: r.launchTime,
      placement: { availabilityZone: r.availabilityZone, groupName: '', tenancy: 'default' },
      monitoring: { state: r.monitoring },
      subnetId: r.state === 'terminated' ? undefined : r.subnetId,
      vpcId: r.state === 'terminated' ? undefined : r.vpcId,
      privateIpAddress: r.state === 'terminated' ? undefined : r.privateIpAddress,
      ipAddress: r.state === 'running' ? r.publicIpAddress : undefined,
      sourceDestCheck: true,
      groupSet,
      stateReason: r.stateReason,
      architecture: 'x86_64',
      rootDeviceType: 'ebs',
      rootDeviceName: '/dev/xvda',
      blockDeviceMapping:
        r.state === 'terminated'
          ? []
          : r.blockDeviceMappings.map((b) => ({
              deviceName: b.deviceName,
              ebs: {
                volumeId: b.volumeId,
                status: 'attached',
                attachTime: b.attachTime,
                deleteOnTermination: b.deleteOnTermination,
              },
            })),
      virtualizationType: 'hvm',
      clientToken: r.clientToken ?? '',
      tagSet: r.tags.length > 0 ? r.tags.map((t) => ({ key: t.key, value: t.value })) : undefined,
      hypervisor: 'xen',
      networkInterfaceSet:
        r.state === 'terminated'
          ? []
          : [
              {
                networkInterfaceId: r.networkInterfaceId,
                subnetId: r.subnetId,
                vpcId: r.vpcId,
                description: '',
                ownerId: this.deps.accountId,
                status: 'in-use',
                macAddress: '02:00:00:00:00:01',
                privateIpAddress: r.privateIpAddress,
                privateDnsName,
                sourceDestCheck: true,
                groupSet,
                attachment: {
                  attachmentId: `eni-attach-${r.networkInterfaceId.slice(4)}`,
                  deviceIndex: 0,
                  status: 'attached',
                  attachTime: r.launchTime,
                  deleteOnTermination: true,
                  networkCardIndex: 0,
                },
                association: r.publicIpAddress
                  ? { publicIp: r.publicIpAddress, publicDnsName: '', ipOwnerId: 'amazon' }
                  : undefined,
                privateIpAddressesSet: [
                  { privateIpAddress: r.privateIpAddress, privateDnsName, primary: true },
                ],
                interfaceType: 'interface',
              },
            ],
      iamInstanceProfile: r.iamInstanceProfile,
      ebsOptimized: r.ebsOptimized,
      enaSupport: true,
      metadataOptions: { state: 'applied', ...r.metadataOptions },
      platformDetails: 'Linux/UNIX',
      usageOperation: 'RunInstances',
      bootMode: 'uefi-preferred',
      currentInstanceBootMode: 'uefi',
    };
  }

  // ------------------------------------------------------------------ persistence

  private persist(): void {
    this.deps.store?.save('ec2', () => this.snapshot());
  }

  snapshot(): Ec2State {
    return {
      instances: [...this.instances.values()],
      clientTokens: [...this.clientTokens.entries()].map(([token, v]) => ({ token, ...v })),
      counter: this.counter,
    };
  }

  /** Loads saved state and re-arms pending transitions and watchdogs. */
  private restore(state: Ec2State): void {
    this.counter = state.counter ?? 0;
    for (const entry of state.clientTokens ?? []) {
      this.clientTokens.set(entry.token, {
        fingerprint: entry.fingerprint,
        reservationId: entry.reservationId,
      });
    }
    for (const record of state.instances ?? []) this.instances.set(record.instanceId, record);
  }

  /** Re-arms timers of restored instances (called once the emulators are wired). */
  resume(): void {
    for (const record of this.instances.values()) {
      const remaining = record.nextTransitionAt
        ? Math.max(0, Date.parse(record.nextTransitionAt) - Date.now())
        : 0;
      const simulated = remaining / this.deps.clock.timeScale;
      if (record.state === 'pending') this.scheduleBoot(record, simulated);
      else if (record.state === 'shutting-down') {
        this.schedule(record, simulated, () => {
          record.terminatedAt = new Date().toISOString();
          this.setState(record, 'terminated');
        });
      } else if (record.state === 'stopping')
        this.schedule(record, simulated, () => this.setState(record, 'stopped'));
      if (record.state === 'running') this.armWatchdog(record);
    }
  }

  close(): void {
    for (const timer of [...this.timers.values(), ...this.watchdogs.values()])
      this.deps.clock.clearTimer(timer);
    this.timers.clear();
    this.watchdogs.clear();
  }
}

function encodeToken(offset: number): string {
  return Buffer.from(JSON.stringify({ o: offset })).toString('base64url');
}

function decodeToken(token: string): number {
  try {
    const value = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
    if (Number.isInteger(value?.o) && value.o >= 0) return value.o;
  } catch {
    // fall through
  }
  throw new LocalAwsError(
    'InvalidPaginationToken',
    'The specified pagination token is not valid or is expired.',
  );
}
