/**
 * What every part of the EC2 emulator shares: its dependencies and simulated durations, the
 * instance records and ClientTokens (persisted as `state/ec2.json`), the instance lifecycle
 * (lifecycle.ts), and the lookups more than one action needs. The per-action modules
 * (run-instances.ts, describe.ts, tags.ts, lifecycle.ts) are functions over one `Ec2Core`.
 */
import type { ScaledClock } from '../clock.js';
import type { FaultInjector } from '../faults.js';
import { resourceId } from '../kit/ids.js';
import type { StateStore } from '../kit/persistence.js';
import type { NestedParams } from '../protocols/query.js';
import { LocalAwsError, type LocalEvent } from '../types.js';
import { Lifecycle } from './lifecycle.js';
import type { Network, SecurityGroupRecord, SubnetRecord } from './network.js';
import { asStrings } from './params.js';

export type InstanceStateName =
  | 'pending'
  | 'running'
  | 'shutting-down'
  | 'terminated'
  | 'stopping'
  | 'stopped';

export const STATE_CODES: Record<InstanceStateName, number> = {
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

export interface Ec2State {
  instances: InstanceRecord[];
  clientTokens: { token: string; fingerprint: string; reservationId: string }[];
  counter: number;
}

export class Ec2Core {
  readonly instances = new Map<string, InstanceRecord>();
  /** ClientToken -> the request's fingerprint and the reservation it created (kept for good). */
  readonly clientTokens = new Map<string, { fingerprint: string; reservationId: string }>();
  readonly timings: Ec2Timings;
  readonly lifecycle: Lifecycle;
  /** Instances launched so far (private and public IP addresses are derived from it). */
  counter = 0;

  constructor(readonly deps: Ec2EmulatorDeps) {
    this.timings = { ...DEFAULT_EC2_TIMINGS, ...deps.timings };
    this.lifecycle = new Lifecycle(this);
    const saved = deps.store?.load<Ec2State>('ec2');
    if (saved) this.restore(saved);
  }

  /** Saves the state (debounced). */
  persist(): void {
    this.deps.store?.save('ec2', () => this.snapshot());
  }

  snapshot(): Ec2State {
    return {
      instances: [...this.instances.values()],
      clientTokens: [...this.clientTokens.entries()].map(([token, v]) => ({ token, ...v })),
      counter: this.counter,
    };
  }

  /** Loads saved state (the lifecycle re-arms its timers in `resume`). */
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

  /** Terminated instances stay visible for `terminatedVisibleMs` (real time). */
  visible(record: InstanceRecord): boolean {
    if (record.state !== 'terminated' || !record.terminatedAt) return true;
    return Date.now() - Date.parse(record.terminatedAt) < this.timings.terminatedVisibleMs;
  }

  /**
   * The `InstanceId.N` of a request, each well-formed and visible.
   * @throws InvalidInstanceID.Malformed / .NotFound; MissingParameter unless `allowMissing`.
   */
  instanceIds(p: NestedParams, allowMissing: boolean): string[] {
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

  /** A new `pending` instance record (not yet stored or started). */
  newInstance(args: {
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
          volumeId: resourceId('vol'),
          deleteOnTermination: true,
          attachTime: now,
          encrypted: false,
        },
      ],
      networkInterfaceId: resourceId('eni'),
      associatePublicIpAddress: false,
      amiLaunchIndex: args.index,
      ebsOptimized: false,
      monitoring: 'disabled',
      request: args.request,
    };
  }
}
