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
 *
 * This file composes the parts over a shared core (core.ts): run-instances.ts, lifecycle.ts (with
 * TerminateInstances), describe.ts, tags.ts, and xml.ts for the answers' shapes.
 */
import { dispatch, type OperationTable } from '../kit/dispatch.js';
import { resourceId } from '../kit/ids.js';
import { ec2Response, type NestedParams, nestParams, type XmlObject } from '../protocols/query.js';
import type { FaultAttributeSource, LocalRequestContext } from '../server.js';
import { LocalAwsError, type QueryService, type RequestContext } from '../types.js';
import { Ec2Core, type Ec2EmulatorDeps, type Ec2State, type InstanceRecord } from './core.js';
import { describeInstances, describeSecurityGroups, describeSubnets, describeVpcs } from './describe.js';
import { type InstanceListener, terminateInstances } from './lifecycle.js';
import { runInstances } from './run-instances.js';
import { createTags } from './tags.js';

export type {
  Ec2EmulatorDeps,
  Ec2Timings,
  InstanceRecord,
  InstanceStateName,
} from './core.js';
export { DEFAULT_EC2_TIMINGS } from './core.js';
export type { InstanceListener } from './lifecycle.js';

/** A query request: the form fields as received and their nested form (`Filter.1.Value.2` -> lists). */
interface QueryParams {
  flat: Record<string, string>;
  nested: NestedParams;
}

export class Ec2Emulator implements QueryService, FaultAttributeSource {
  readonly signingName = 'ec2';
  readonly actions: ReadonlySet<string>;
  private readonly ec2: Ec2Core;
  private readonly operations: OperationTable<QueryParams, RequestContext, XmlObject>;

  constructor(deps: Ec2EmulatorDeps) {
    this.ec2 = new Ec2Core(deps);
    const ec2 = this.ec2;
    this.operations = {
      RunInstances: ({ flat, nested }) => runInstances(ec2, flat, nested),
      DescribeInstances: ({ nested }) => describeInstances(ec2, nested),
      TerminateInstances: ({ nested }) => terminateInstances(ec2, nested),
      CreateTags: ({ nested }) => createTags(ec2, nested),
      DescribeSubnets: ({ nested }) => describeSubnets(ec2, nested),
      DescribeSecurityGroups: ({ nested }) => describeSecurityGroups(ec2, nested),
      DescribeVpcs: ({ nested }) => describeVpcs(ec2, nested),
    };
    this.actions = new Set(Object.keys(this.operations));
  }

  // ------------------------------------------------------------------ dispatch

  async handle(action: string, params: Record<string, string>, ctx: RequestContext): Promise<string> {
    const requestId = (ctx as LocalRequestContext).requestId ?? '';
    const body = await dispatch(
      this.operations,
      action,
      { flat: params, nested: nestParams(params) },
      ctx,
      (name) => new LocalAwsError('InvalidAction', `The action ${name} is not valid for this web service.`),
    );
    return ec2Response(action, requestId, body);
  }

  // ------------------------------------------------------------------ public helpers

  /** Subscribes to instance state changes (the SSM emulator registers agents from these). */
  onStateChange(listener: InstanceListener): void {
    this.ec2.lifecycle.onStateChange(listener);
  }

  getInstance(instanceId: string): InstanceRecord | undefined {
    return this.ec2.instances.get(instanceId);
  }

  listInstances(): InstanceRecord[] {
    return [...this.ec2.instances.values()];
  }

  /** A summary for the admin API: instance counts by state. */
  summary(): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const instance of this.ec2.instances.values())
      counts[instance.state] = (counts[instance.state] ?? 0) + 1;
    return counts;
  }

  faultAttributes(action: string, params: Record<string, unknown>): Record<string, unknown> {
    if (action !== 'RunInstances') return {};
    const { network } = this.ec2.deps;
    const p = params as Record<string, string>;
    const subnetId = p.SubnetId ?? p['NetworkInterface.1.SubnetId'] ?? network.defaultSubnet().subnetId;
    return {
      InstanceType: p.InstanceType ?? 'm1.small',
      SubnetId: subnetId,
      AvailabilityZone: network.subnets.get(subnetId)?.availabilityZone,
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
    const { ec2 } = this;
    const existing = ec2.instances.get(instanceId);
    if (existing && existing.state !== 'terminated') return existing;
    const { network } = ec2.deps;
    const subnet = (options.subnetId && network.subnets.get(options.subnetId)) || network.defaultSubnet();
    const record = ec2.newInstance({
      instanceId,
      reservationId: resourceId('r'),
      imageId: ec2.deps.defaultImageId ?? 'ami-0a0b0c0d0e0f00001',
      instanceType: 'c6i.large',
      subnet,
      groups: [network.defaultSecurityGroup()],
      index: 0,
      tags: Object.entries(options.tags ?? { Name: 'lustre-client' }).map(([key, value]) => ({ key, value })),
      shutdownBehavior: 'stop',
      request: {},
    });
    record.state = 'running';
    ec2.instances.set(instanceId, record);
    ec2.persist();
    ec2.lifecycle.emitState(record, undefined);
    return record;
  }

  // ------------------------------------------------------------------ persistence and timers

  snapshot(): Ec2State {
    return this.ec2.snapshot();
  }

  /** Re-arms timers of restored instances (called once the emulators are wired). */
  resume(): void {
    this.ec2.lifecycle.resume();
  }

  close(): void {
    this.ec2.lifecycle.close();
  }
}
