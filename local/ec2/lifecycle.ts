/**
 * The instance lifecycle on the scaled clock: pending -> running after `bootMs`; TerminateInstances
 * -> shutting-down -> terminated after `shutdownMs`; the user-data watchdog (`shutdown -P +N`)
 * shuts an instance down by itself (terminate or stop, per InstanceInitiatedShutdownBehavior).
 * Every change is saved, emitted as `EC2 Instance State-change Notification` (source aws.ec2) and
 * told to the listeners (the SSM emulator registers agents from these); pending transitions keep
 * their due times so a restart re-arms them (`resume`).
 */
import type { NestedParams, XmlObject } from '../protocols/query.js';
import { LocalAwsError } from '../types.js';
import { type Ec2Core, type InstanceRecord, type InstanceStateName, STATE_CODES } from './core.js';
import { bool, dryRunSucceeded } from './params.js';

export type InstanceListener = (instance: InstanceRecord, previous: InstanceStateName | undefined) => void;

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

export class Lifecycle {
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly watchdogs = new Map<string, NodeJS.Timeout>();
  private readonly listeners = new Set<InstanceListener>();

  constructor(private readonly ec2: Ec2Core) {}

  /** Subscribes to instance state changes. */
  onStateChange(listener: InstanceListener): void {
    this.listeners.add(listener);
  }

  private schedule(record: InstanceRecord, delayMs: number, next: () => void): void {
    this.ec2.deps.clock.clearTimer(this.timers.get(record.instanceId));
    record.nextTransitionAt = new Date(Date.now() + this.ec2.deps.clock.scale(delayMs)).toISOString();
    const timer = this.ec2.deps.clock.setTimer(() => {
      this.timers.delete(record.instanceId);
      record.nextTransitionAt = undefined;
      next();
    }, delayMs);
    this.timers.set(record.instanceId, timer);
  }

  /** pending -> running after `delayMs` (simulated), then the watchdog is armed. */
  scheduleBoot(record: InstanceRecord, delayMs = this.ec2.timings.bootMs): void {
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
      record.watchdogAt = new Date(launched + this.ec2.deps.clock.scale(minutes * 60_000)).toISOString();
      this.ec2.persist();
    }
    const remainingReal = Math.max(0, Date.parse(record.watchdogAt) - Date.now());
    const timer = this.ec2.deps.clock.setTimer(() => {
      this.watchdogs.delete(record.instanceId);
      if (record.state !== 'running' && record.state !== 'pending') return;
      this.shutDown(record, 'instance');
    }, remainingReal / this.ec2.deps.clock.timeScale);
    this.watchdogs.set(record.instanceId, timer);
  }

  /** Starts shutting an instance down: `user` (TerminateInstances) or `instance` (its own shutdown). */
  shutDown(record: InstanceRecord, initiator: 'user' | 'instance'): void {
    const stamp = `${new Date().toISOString().replace('T', ' ').slice(0, 19)} GMT`;
    if (initiator === 'instance' && record.shutdownBehavior === 'stop') {
      record.stateTransitionReason = `Client.InstanceInitiatedShutdown (${stamp})`;
      record.stateReason = {
        code: 'Client.InstanceInitiatedShutdown',
        message: 'Client.InstanceInitiatedShutdown: Instance initiated shutdown',
      };
      this.setState(record, 'stopping');
      this.schedule(record, this.ec2.timings.shutdownMs, () => this.setState(record, 'stopped'));
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
    this.ec2.deps.clock.clearTimer(this.watchdogs.get(record.instanceId));
    this.watchdogs.delete(record.instanceId);
    this.setState(record, 'shutting-down');
    this.schedule(record, this.ec2.timings.shutdownMs, () => {
      record.terminatedAt = new Date().toISOString();
      this.setState(record, 'terminated');
    });
  }

  private setState(record: InstanceRecord, state: InstanceStateName): void {
    const previous = record.state;
    if (previous === state) return;
    record.state = state;
    this.ec2.persist();
    this.emitState(record, previous);
  }

  /** Tells the event bus and the listeners about an instance's (new) state. */
  emitState(record: InstanceRecord, previous: InstanceStateName | undefined): void {
    this.ec2.deps.emit({
      source: 'aws.ec2',
      'detail-type': 'EC2 Instance State-change Notification',
      resources: [
        `arn:aws:ec2:${this.ec2.deps.region}:${this.ec2.deps.accountId}:instance/${record.instanceId}`,
      ],
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

  /** Re-arms the transitions and watchdogs of restored instances from their stored due times. */
  resume(): void {
    for (const record of this.ec2.instances.values()) {
      const remaining = record.nextTransitionAt
        ? Math.max(0, Date.parse(record.nextTransitionAt) - Date.now())
        : 0;
      const simulated = remaining / this.ec2.deps.clock.timeScale;
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

  /** Cancels every pending transition and watchdog. */
  close(): void {
    for (const timer of [...this.timers.values(), ...this.watchdogs.values()])
      this.ec2.deps.clock.clearTimer(timer);
    this.timers.clear();
    this.watchdogs.clear();
  }
}

/** TerminateInstances: running and pending instances start shutting down; the answer has both states. */
export function terminateInstances(ec2: Ec2Core, p: NestedParams): XmlObject {
  const ids = ec2.instanceIds(p, false);
  const dryRun = bool(p.DryRun, 'DryRun');
  for (const id of ids) {
    const record = ec2.instances.get(id)!;
    if (record.disableApiTermination && record.state !== 'terminated') {
      throw new LocalAwsError(
        'OperationNotPermitted',
        `The instance '${id}' may not be terminated. Modify its 'disableApiTermination' instance attribute and try again.`,
      );
    }
  }
  if (dryRun) throw dryRunSucceeded();
  const changes = ids.map((id) => {
    const record = ec2.instances.get(id)!;
    const previous = record.state;
    if (previous !== 'terminated' && previous !== 'shutting-down') ec2.lifecycle.shutDown(record, 'user');
    return {
      instanceId: id,
      currentState: { code: STATE_CODES[record.state], name: record.state },
      previousState: { code: STATE_CODES[previous], name: previous },
    };
  });
  return { instancesSet: changes };
}
