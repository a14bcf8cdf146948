/**
 * Local EventBridge (default bus): rules come from serverless.yml — function events
 * (`eventBridge: {pattern}`, `cloudwatchEvent: {event}`, `schedule: rate(...)|cron(...)`), state
 * machine events (serverless-step-functions `eventBridge: {event}`) and `AWS::Events::Rule`
 * resources — and can be added from code. `emit(event)` completes the envelope (version, id, time,
 * account, region, resources), matches every enabled rule and delivers the event to the rule's
 * targets asynchronously, like EventBridge invoking a Lambda function asynchronously: a failing
 * target is logged and recorded, never thrown back to the emitter. Targets are Lambda functions,
 * state machines (StartExecution with the input) and SQS queues (the input, as JSON text, becomes
 * the message body, as EventBridge sends it).
 *
 * Scheduled rules fire on demand (`fireSchedule`), and `rate(...)` rules also on timers of the
 * scaled clock after `startSchedules()`. Not modelled: custom buses, archives, retries and DLQs of
 * asynchronous invocations, cron timers (cron rules fire only on demand).
 */

import { randomUUID } from 'node:crypto';
import { timerDelay } from './clock.js';
import { InvalidEventPatternError, matchesPattern, validatePattern } from './event-pattern.js';
import { jsonPathGet } from './json-path.js';
import type { LambdaRegistry } from './lambda.js';
import {
  evaluateCfn,
  lambdaArn,
  normalizedResourceName,
  type ServerlessProject,
  stateMachineArn,
  stateMachineNameFor,
} from './serverless-config.js';
import type { Clock, LocalEvent } from './types.js';

export interface EventBusDeps {
  clock: Clock;
  lambdas: LambdaRegistry;
  /** Default: the registry's account, region and stage. */
  accountId?: string;
  region?: string;
  /**
   * Start `rate(...)` timers at construction: true for every rule, a list for the rules it names
   * (as `fireSchedule` names them); default none (see startSchedules).
   */
  schedules?: boolean | readonly string[];
  /** Where delivery failures are reported (default console.error). */
  log?: (message: string) => void;
  /** Accepted for compatibility; the project root and stage come from the Lambda registry. */
  rootDir?: string;
  stage?: string;
}

/** A full EventBridge event as delivered to targets. */
export interface BusEvent {
  version: string;
  id: string;
  'detail-type': string;
  source: string;
  account: string;
  time: string;
  region: string;
  resources: string[];
  detail: Record<string, unknown>;
}

export interface RuleTarget {
  id: string;
  /** Lambda function, state machine or SQS queue ARN. */
  arn: string;
  input?: string;
  inputPath?: string;
  inputTransformer?: { inputPathsMap?: Record<string, string>; inputTemplate: string };
}

export interface EventRule {
  name: string;
  arn: string;
  /** CloudFormation logical id, when the rule comes from serverless.yml. */
  logicalId?: string;
  /** Function key or state machine key that declared the rule. */
  owner?: string;
  pattern?: Record<string, unknown>;
  /** `rate(...)` or `cron(...)`. */
  schedule?: string;
  enabled: boolean;
  targets: RuleTarget[];
}

export interface Delivery {
  rule: string;
  target: string;
  eventId: string;
  detailType: string;
  ok: boolean;
  error?: string;
  at: Date;
}

/** Starts a state machine execution for a rule target (wired to the Step Functions emulator). */
/** Starts a state machine for a rule (`rule.schedule` set for scheduled rules, which start it with their role). */
export type StateMachineStarter = (
  stateMachineArn: string,
  input: string,
  rule: { name: string; schedule?: string },
) => Promise<unknown>;

/** Sends a message to an SQS queue target (wired to the SQS emulator); throws when the queue is unknown. */
export type QueueSender = (queueArn: string, body: string) => void | Promise<void>;

const MAX_DELIVERIES = 1000;

export class EventBus {
  readonly accountId: string;
  readonly region: string;
  readonly rules: EventRule[] = [];
  /** Recent deliveries (capped), for tests and the admin API. */
  readonly deliveries: Delivery[] = [];
  private readonly inFlight = new Set<Promise<void>>();
  private readonly timers = new Map<EventRule, NodeJS.Timeout>();
  private starter?: StateMachineStarter;
  private queueSender?: QueueSender;
  private readonly log: (message: string) => void;

  constructor(readonly deps: EventBusDeps) {
    this.accountId = deps.accountId ?? deps.lambdas.accountId;
    this.region = deps.region ?? deps.lambdas.region;
    this.log = deps.log ?? ((message) => console.error(message));
    this.loadRules(deps.lambdas.serverless);
    if (deps.schedules === true) this.startSchedules();
    else if (deps.schedules) this.startSchedules(deps.schedules);
  }

  /** Lets rules target state machines (call once the Step Functions emulator exists). */
  connectStateMachines(starter: StateMachineStarter): void {
    this.starter = starter;
  }

  /** Lets rules target SQS queues (call once the SQS emulator exists). */
  connectQueues(sender: QueueSender): void {
    this.queueSender = sender;
  }

  /** Adds (or replaces, by name) a rule; the pattern is validated like PutRule. */
  putRule(
    rule: Omit<EventRule, 'arn' | 'enabled' | 'targets'> & Partial<Pick<EventRule, 'enabled' | 'targets'>>,
  ) {
    if (rule.pattern) validatePattern(rule.pattern);
    if (!rule.pattern && !rule.schedule) {
      throw new InvalidEventPatternError(`Rule ${rule.name} needs an event pattern or a schedule expression`);
    }
    const full: EventRule = {
      enabled: true,
      targets: [],
      ...rule,
      arn: `arn:aws:events:${this.region}:${this.accountId}:rule/${rule.name}`,
    };
    const index = this.rules.findIndex((existing) => existing.name === rule.name);
    if (index >= 0) this.rules[index] = full;
    else this.rules.push(full);
    return full;
  }

  /** Completes the envelope of an event (version, id, time, account, region, resources). */
  envelope(event: LocalEvent | BusEvent): BusEvent {
    const given = event as Partial<BusEvent>;
    return {
      version: given.version ?? '0',
      id: given.id ?? randomUUID(),
      'detail-type': event['detail-type'],
      source: event.source,
      account: given.account ?? this.accountId,
      time:
        given.time ??
        this.deps.clock
          .now()
          .toISOString()
          .replace(/\.\d{3}Z$/, 'Z'),
      region: given.region ?? this.region,
      resources: event.resources ?? [],
      detail: event.detail ?? {},
    };
  }

  /**
   * Puts an event on the bus: every enabled rule whose pattern matches gets it, asynchronously.
   * @returns the completed event (its `id` identifies the deliveries).
   */
  emit(event: LocalEvent | BusEvent): BusEvent {
    const full = this.envelope(event);
    for (const rule of this.matchingRules(full)) {
      for (const target of rule.targets) this.track(this.deliver(rule, target, full));
    }
    return full;
  }

  /** Rules whose pattern matches the event (enabled rules only). */
  matchingRules(event: BusEvent): EventRule[] {
    return this.rules.filter((rule) => rule.enabled && rule.pattern && matchesPattern(rule.pattern, event));
  }

  /**
   * Fires scheduled rules now, as EventBridge would at their next time. `ruleName` may be a rule
   * name, a logical id, or a function key/name (all of that function's schedules).
   * @returns once every target has run.
   */
  async fireSchedule(ruleName: string): Promise<void> {
    await Promise.all(this.scheduledRules(ruleName).map((rule) => this.fireRule(rule)));
  }

  /** The scheduled rules `ruleName` names (see fireSchedule); throws when none. */
  private scheduledRules(ruleName: string): EventRule[] {
    const rules = this.rules.filter(
      (rule) =>
        rule.schedule &&
        (rule.name === ruleName ||
          rule.logicalId === ruleName ||
          rule.owner === ruleName ||
          rule.arn === ruleName),
    );
    const byFunctionName = this.rules.filter(
      (rule) => rule.schedule && rule.targets.some((target) => target.arn.endsWith(`:function:${ruleName}`)),
    );
    const chosen = rules.length > 0 ? rules : byFunctionName;
    if (chosen.length === 0) {
      const known = this.rules.filter((rule) => rule.schedule).map((rule) => rule.name);
      throw new Error(`No scheduled rule named ${ruleName} (scheduled rules: ${known.join(', ') || 'none'})`);
    }
    return chosen;
  }

  /**
   * Fires now the schedules whose target input is a transfer request for `mapping` (and
   * `direction`, when given): the config's `mappings[].schedules`.
   * @returns the names of the rules fired (empty when the mapping has no schedule).
   */
  async fireTransferSchedules(mapping: string, direction?: string): Promise<string[]> {
    const chosen = this.rules.filter(
      (rule) =>
        rule.schedule &&
        rule.targets.some((target) => {
          const input = parseInput(target.input);
          return input?.mapping === mapping && (!direction || input.direction === direction);
        }),
    );
    await Promise.all(chosen.map((rule) => this.fireRule(rule)));
    return chosen.map((rule) => rule.name);
  }

  /**
   * Starts timers for enabled `rate(...)` rules on the scaled clock: every rule, or those `names`
   * names (as fireSchedule does). A tick while the rule's previous delivery still runs is skipped:
   * at a small time scale ticks would otherwise pile up faster than the machine runs them.
   */
  startSchedules(names?: readonly string[]): void {
    const chosen = names ? [...new Set(names.flatMap((name) => this.scheduledRules(name)))] : this.rules;
    for (const rule of chosen) {
      const ms = rule.enabled && rule.schedule ? rateMillis(rule.schedule) : undefined;
      if (ms === undefined || this.timers.has(rule)) continue;
      let running = false;
      const timer = setInterval(
        () => {
          if (running) return;
          running = true;
          this.track(this.fireRule(rule).finally(() => (running = false)));
        },
        Math.max(1, timerDelay(this.deps.clock, ms)),
      );
      timer.unref?.();
      this.timers.set(rule, timer);
    }
  }

  /** Resolves once every delivery started so far (and those they trigger) has finished. */
  async idle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  /** True while deliveries are in flight. */
  get busy(): boolean {
    return this.inFlight.size > 0;
  }

  close(): void {
    for (const timer of this.timers.values()) clearInterval(timer);
    this.timers.clear();
  }

  private async fireRule(rule: EventRule): Promise<void> {
    const event = this.envelope({
      source: 'aws.events',
      'detail-type': 'Scheduled Event',
      resources: [rule.arn],
      detail: {},
    });
    await Promise.all(rule.targets.map((target) => this.deliver(rule, target, event)));
  }

  private track(work: Promise<void>): void {
    this.inFlight.add(work);
    work.finally(() => this.inFlight.delete(work));
  }

  private async deliver(rule: EventRule, target: RuleTarget, event: BusEvent): Promise<void> {
    const record: Delivery = {
      rule: rule.name,
      target: target.arn,
      eventId: event.id,
      detailType: event['detail-type'],
      ok: true,
      at: new Date(),
    };
    this.deliveries.push(record);
    if (this.deliveries.length > MAX_DELIVERIES) this.deliveries.shift();
    try {
      // Asynchronous like EventBridge: never run a target inside the emitter's call stack.
      await new Promise((resolve) => setImmediate(resolve));
      const input = transformInput(target, event, rule);
      if (target.arn.includes(':states:') && target.arn.includes(':stateMachine:')) {
        if (!this.starter)
          throw new Error('no Step Functions emulator connected (EventBus.connectStateMachines)');
        await this.starter(target.arn, typeof input === 'string' ? input : JSON.stringify(input), rule);
      } else if (/^arn:aws[\w-]*:sqs:/.test(target.arn)) {
        if (!this.queueSender) throw new Error('no SQS emulator connected (EventBus.connectQueues)');
        await this.queueSender(target.arn, typeof input === 'string' ? input : JSON.stringify(input));
      } else {
        await this.deps.lambdas.invoke(target.arn, input);
      }
    } catch (error) {
      record.ok = false;
      record.error = `${(error as Error).name}: ${(error as Error).message}`;
      this.log(`[events] rule ${rule.name} -> ${target.arn} failed for event ${event.id}: ${record.error}`);
    }
  }

  private loadRules(project: ServerlessProject): void {
    const add = (rule: Parameters<EventBus['putRule']>[0]) => {
      try {
        this.putRule({
          ...rule,
          ...(rule.pattern ? { pattern: resolvePattern(project, rule.pattern) } : {}),
        });
      } catch (error) {
        this.log(`[events] rule ${rule.name} from serverless.yml skipped: ${(error as Error).message}`);
      }
    };
    /** A rule from an event block of a function or state machine (its name, enabled, target input). */
    const addFromEvent = (
      settings: Record<string, unknown>,
      defaultName: string,
      arn: string,
      fields: Omit<Parameters<EventBus['putRule']>[0], 'name' | 'enabled' | 'targets'>,
    ) => {
      const name = typeof settings.name === 'string' ? settings.name : defaultName;
      add({
        name,
        ...fields,
        enabled: settings.enabled !== false,
        targets: [{ id: `${name}-target`, arn, ...targetInput(settings) }],
      });
    };
    for (const fn of project.functions.values()) {
      const arn = lambdaArn(project, fn.name);
      let scheduleIndex = 0;
      fn.events.forEach((event, index) => {
        const bridge = bridgeOf(event);
        if (bridge) {
          const pattern = (bridge.pattern ?? bridge.event) as Record<string, unknown> | undefined;
          const schedule = typeof bridge.schedule === 'string' ? bridge.schedule : undefined;
          if (!pattern && !schedule) return;
          addFromEvent(bridge, `${fn.name}-rule-${index + 1}`, arn, { owner: fn.key, pattern, schedule });
        }
        const spec = scheduleOf(event);
        if (spec) {
          const expressions = Array.isArray(spec.rate) ? spec.rate : [spec.rate];
          for (const expression of expressions) {
            if (typeof expression !== 'string') continue;
            scheduleIndex++;
            addFromEvent(spec, `${fn.name}-schedule-${scheduleIndex}`, arn, {
              owner: fn.key,
              logicalId: `${normalizedResourceName(fn.key)}EventsRuleSchedule${scheduleIndex}`,
              schedule: expression,
            });
          }
        }
      });
    }
    for (const machine of project.stateMachines) {
      const arn = stateMachineArn(project, stateMachineNameFor(project, machine.key));
      machine.events.forEach((event, index) => {
        const bridge = bridgeOf(event);
        const pattern = (bridge?.event ?? bridge?.pattern) as Record<string, unknown> | undefined;
        if (bridge && pattern) {
          addFromEvent(bridge, `${machine.key}-rule-${index + 1}`, arn, { owner: machine.key, pattern });
        }
        const spec = scheduleOf(event);
        if (spec) {
          if (typeof spec.rate !== 'string') return;
          addFromEvent(spec, `${machine.key}-schedule-${index + 1}`, arn, {
            owner: machine.key,
            schedule: spec.rate,
          });
        }
      });
    }
    for (const [logicalId, resource] of Object.entries(project.resources)) {
      if (resource.Type !== 'AWS::Events::Rule') continue;
      const props = resource.Properties ?? {};
      const busName = props.EventBusName === undefined ? 'default' : evaluateCfn(project, props.EventBusName);
      if (busName !== 'default') continue;
      const targets: RuleTarget[] = [];
      for (const target of (props.Targets ?? []) as Record<string, unknown>[]) {
        const arn = evaluateCfn(project, target.Arn);
        if (!arn) continue;
        const transformer = target.InputTransformer as Record<string, unknown> | undefined;
        targets.push({
          id: String(target.Id ?? arn),
          arn,
          input: typeof target.Input === 'string' ? target.Input : undefined,
          inputPath: typeof target.InputPath === 'string' ? target.InputPath : undefined,
          inputTransformer: transformer
            ? {
                inputPathsMap: transformer.InputPathsMap as Record<string, string> | undefined,
                inputTemplate: String(transformer.InputTemplate ?? ''),
              }
            : undefined,
        });
      }
      const pattern = props.EventPattern as Record<string, unknown> | undefined;
      const schedule = typeof props.ScheduleExpression === 'string' ? props.ScheduleExpression : undefined;
      if (!pattern && !schedule) continue;
      add({
        name: typeof props.Name === 'string' ? props.Name : logicalId,
        logicalId,
        pattern,
        schedule,
        enabled: props.State !== 'DISABLED',
        targets,
      });
    }
  }
}

/** A target's constant input as an object, or undefined when it has none or it is not JSON. */
function parseInput(input: string | undefined): Record<string, unknown> | undefined {
  if (!input) return undefined;
  try {
    const value = JSON.parse(input);
    return value && typeof value === 'object' ? value : undefined;
  } catch {
    return undefined;
  }
}

/** A serverless.yml event's EventBridge block (`eventBridge`, or the older `cloudwatchEvent`). */
function bridgeOf(event: Record<string, unknown>): Record<string, unknown> | undefined {
  return (event.eventBridge ?? event.cloudwatchEvent) as Record<string, unknown> | undefined;
}

/** A serverless.yml event's schedule block (`schedule: rate(...)` is short for `schedule: { rate }`). */
function scheduleOf(event: Record<string, unknown>): Record<string, unknown> | undefined {
  const scheduled = event.schedule;
  if (!scheduled) return undefined;
  return (typeof scheduled === 'string' ? { rate: scheduled } : scheduled) as Record<string, unknown>;
}

/**
 * Evaluates CloudFormation values inside a pattern (`stateMachineArn: [!Ref TransferStateMachine]`)
 * with local values; a value that cannot be known locally makes the rule invalid (skipped, logged).
 */
function resolvePattern(
  project: ServerlessProject,
  pattern: Record<string, unknown>,
): Record<string, unknown> {
  const visit = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(visit);
    if (value && typeof value === 'object') {
      const keys = Object.keys(value);
      if (keys.length === 1 && (keys[0] === 'Ref' || keys[0]!.startsWith('Fn::'))) {
        const resolved = evaluateCfn(project, value);
        if (resolved === undefined) {
          throw new InvalidEventPatternError(`cannot evaluate ${JSON.stringify(value)} locally`);
        }
        return resolved;
      }
      return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, visit(item)]));
    }
    return value;
  };
  return visit(pattern) as Record<string, unknown>;
}

function targetInput(spec: Record<string, unknown>): Partial<RuleTarget> {
  const out: Partial<RuleTarget> = {};
  if (spec.input !== undefined) {
    out.input = typeof spec.input === 'string' ? spec.input : JSON.stringify(spec.input);
  }
  if (typeof spec.inputPath === 'string') out.inputPath = spec.inputPath;
  const transformer = spec.inputTransformer as Record<string, unknown> | undefined;
  if (transformer) {
    out.inputTransformer = {
      inputPathsMap: transformer.inputPathsMap as Record<string, string> | undefined,
      inputTemplate: String(transformer.inputTemplate ?? ''),
    };
  }
  return out;
}

/** What a target receives: the event, `Input`, `InputPath`, or `InputTransformer` output. */
export function transformInput(target: RuleTarget, event: BusEvent, rule?: EventRule): unknown {
  if (target.input !== undefined) return JSON.parse(target.input);
  if (target.inputPath) return jsonPathGet(event, target.inputPath);
  if (!target.inputTransformer) return event;
  const values: Record<string, unknown> = {
    'aws.events.event': event,
    'aws.events.event.json': event,
    'aws.events.rule-arn': rule?.arn,
    'aws.events.rule-name': rule?.name,
    'aws.events.event.ingestion-time': event.time,
  };
  for (const [name, path] of Object.entries(target.inputTransformer.inputPathsMap ?? {})) {
    values[name] = jsonPathGet(event, path);
  }
  const rendered = renderTemplate(target.inputTransformer.inputTemplate, values);
  try {
    return JSON.parse(rendered);
  } catch {
    return rendered;
  }
}

/**
 * Renders an InputTransformer template: inside a JSON string a placeholder inserts the value's text;
 * outside strings it inserts the value as JSON.
 */
function renderTemplate(template: string, values: Record<string, unknown>): string {
  let out = '';
  let inString = false;
  for (let i = 0; i < template.length; i++) {
    const ch = template[i]!;
    if (ch === '\\' && inString) {
      out += ch + (template[i + 1] ?? '');
      i++;
      continue;
    }
    if (ch === '"') inString = !inString;
    if (ch === '<') {
      const end = template.indexOf('>', i);
      const name = end > i ? template.slice(i + 1, end) : '';
      if (name && Object.hasOwn(values, name)) {
        const value = values[name];
        if (inString) {
          out +=
            typeof value === 'string' ? JSON.stringify(value).slice(1, -1) : JSON.stringify(value ?? null);
        } else {
          out += JSON.stringify(value ?? null);
        }
        i = end;
        continue;
      }
    }
    out += ch;
  }
  return out;
}

/** Milliseconds of a `rate(N unit)` expression, or undefined for cron/invalid. */
export function rateMillis(expression: string): number | undefined {
  const match = /^rate\(\s*(\d+)\s+(minute|minutes|hour|hours|day|days)\s*\)$/.exec(expression.trim());
  if (!match) return undefined;
  const unit = match[2]!.replace(/s$/, '');
  const factor = unit === 'minute' ? 60_000 : unit === 'hour' ? 3_600_000 : 86_400_000;
  return Number(match[1]) * factor;
}
