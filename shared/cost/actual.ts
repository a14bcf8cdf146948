/**
 * The actual cost of a run, read from its execution history: state transitions (retries included,
 * as Step Functions bills them), Lambda invocations and their durations, and the transfer
 * instance's seconds from launch to termination by type. S3 requests are not in the history: they
 * follow from the files and bytes moved, as in the estimate model (docs/planning.md).
 */
import type { HistoryEvent } from '@aws-sdk/client-sfn';
import * as z from 'zod';
import { dataRequests, PROGRESS_INTERVAL_SECONDS, s3Cost } from './estimate.js';
import type { PriceTable } from './prices.js';
import { countTransitions, isLambdaScheduled } from './transitions.js';

export const InstanceCost = z.object({
  instanceId: z.string(),
  instanceType: z.string(),
  /** Billed seconds (at least the 60-second minimum). */
  seconds: z.number(),
  usd: z.number(),
});

/** What a run cost, in USD at the price table's prices (recorded with the run, shown by status and the API). */
export const RunCost = z.object({
  usd: z.number(),
  /** False while the run is still going (the cost so far). */
  final: z.boolean(),
  instances: z.array(InstanceCost),
  transitions: z.object({ count: z.number(), usd: z.number() }),
  lambda: z.object({ invocations: z.number(), gbSeconds: z.number(), usd: z.number() }),
  s3Requests: z.object({ put: z.number(), get: z.number(), usd: z.number() }),
  prices: z.object({ asOf: z.string(), region: z.string() }),
});
export type RunCost = z.infer<typeof RunCost>;

/** What the history does not say: what was moved, by which method, in which direction. */
export interface MovedData {
  method?: string | null;
  direction?: string;
  files?: number | null;
  bytes?: number | null;
}

const TERMINATE_STATES = new Set([
  'TerminateInstance',
  'TerminateAfterFailure',
  'TerminateAfterLaunchFailure',
  'TerminateShards',
  'TerminateShardsAfterFailure',
]);
/** Scale-out: states that terminate one shard's own instance (`$.instance` of their output). */
const SHARD_TERMINATE_STATES = new Set(['TerminateShardInstance', 'TerminateShardAfterFailure']);

function parse(text: string | undefined): Record<string, unknown> | undefined {
  if (!text) return undefined;
  try {
    const value = JSON.parse(text);
    return value && typeof value === 'object' ? value : undefined;
  } catch {
    return undefined;
  }
}

const ms = (date: Date | undefined) => (date ? new Date(date).getTime() : Number.NaN);

/** The instance LaunchInstance returned (`$.ec2.instance` of its output). */
const Launched = z.object({
  instanceId: z.string(),
  instanceType: z.string(),
  launchedAt: z.string(),
});

/**
 * The cost of a run from its history.
 * @param end when the run ended (its stopDate), or undefined while it runs (then `now` counts).
 */
export function runCostFromHistory(
  events: readonly HistoryEvent[],
  moved: MovedData,
  prices: PriceTable,
  options: { end?: Date; now?: Date } = {},
): RunCost {
  const endMs = ms(options.end ?? options.now ?? new Date());
  let scheduled = 0;
  let lambdaSeconds = 0;
  let syncStarted: number | undefined;
  let syncSeconds = 0;
  let started: number | undefined;
  const launches: Array<z.infer<typeof Launched>> = [];
  const terminations: number[] = [];
  const shardTerminations = new Map<string, number>();
  for (const event of events) {
    const type = event.type ?? '';
    const at = ms(event.timestamp);
    if (event.stateEnteredEventDetails?.name === 'RunTransferCommand') syncStarted = at;
    if (isLambdaScheduled(event)) scheduled += 1;
    if (type === 'LambdaFunctionStarted' || type === 'TaskStarted') started = at;
    // A .waitForTaskToken invocation ends when Lambda answers (TaskSubmitted), not at the callback.
    if (
      started !== undefined &&
      [
        'LambdaFunctionSucceeded',
        'LambdaFunctionFailed',
        'LambdaFunctionTimedOut',
        'TaskSubmitted',
        'TaskSucceeded',
        'TaskFailed',
        'TaskTimedOut',
      ].includes(type)
    ) {
      lambdaSeconds += Math.max(0.001, (at - started) / 1000);
      started = undefined;
    }
    const exited = event.stateExitedEventDetails;
    if (exited?.name === 'LaunchInstance') {
      const instance = Launched.safeParse((parse(exited.output)?.ec2 as Record<string, unknown>)?.instance);
      if (instance.success) launches.push(instance.data);
    }
    if (exited?.name === 'LaunchShardInstance') {
      const instance = Launched.safeParse(parse(exited.output)?.instance);
      if (instance.success) launches.push(instance.data);
    }
    if (exited?.name && TERMINATE_STATES.has(exited.name)) terminations.push(at);
    if (exited?.name && SHARD_TERMINATE_STATES.has(exited.name)) {
      const id = (parse(exited.output)?.instance as { instanceId?: unknown } | undefined)?.instanceId;
      if (typeof id === 'string' && !shardTerminations.has(id)) shardTerminations.set(id, at);
    }
    if (exited?.name === 'RunTransferCommand' || exited?.name === 'PollTransferCommand') {
      if (syncStarted !== undefined) syncSeconds += (at - syncStarted) / 1000;
      syncStarted = undefined;
    }
  }
  if (syncStarted !== undefined) syncSeconds += (endMs - syncStarted) / 1000;

  const transitions = countTransitions(events).billed;
  const gbSeconds = lambdaSeconds * (prices.lambda.memoryMb / 1024);
  const instances = launches.map((launch) => {
    const from = Date.parse(launch.launchedAt);
    const to = shardTerminations.get(launch.instanceId) ?? terminations.find((t) => t >= from) ?? endMs;
    const seconds = Math.max(prices.ec2MinimumSeconds, Math.round((to - from) / 1000));
    const perHour = prices.ec2[launch.instanceType]?.usdPerHour ?? 0;
    return { ...launch, seconds, usd: (seconds * perHour) / 3600 };
  });

  const files = moved.files ?? 0;
  const bytes = moved.bytes ?? 0;
  const lists = Math.ceil(files / 1000);
  const data = files || bytes ? dataRequests({ files, bytes }, prices.model.partSizeBytes) : 0;
  const exporting = moved.direction === 'export';
  const progress = Math.ceil(syncSeconds / PROGRESS_INTERVAL_SECONDS);
  const put = (exporting ? data : 0) + 2 * lists + progress + (moved.method ? 1 : 0);
  const get = (exporting ? 0 : data) + (moved.method ? 1 : 0);
  const s3usd = s3Cost(put, get, prices);
  const transitionsUsd = transitions * prices.stepFunctions.perTransition;
  const lambdaUsd = scheduled * prices.lambda.perRequest + gbSeconds * prices.lambda.perGbSecond;
  const instancesUsd = instances.reduce((sum, i) => sum + i.usd, 0);
  return {
    usd: instancesUsd + transitionsUsd + lambdaUsd + s3usd,
    final: options.end !== undefined,
    instances: instances.map(({ instanceId, instanceType, seconds, usd }) => ({
      instanceId,
      instanceType,
      seconds,
      usd,
    })),
    transitions: { count: transitions, usd: transitionsUsd },
    lambda: { invocations: scheduled, gbSeconds, usd: lambdaUsd },
    s3Requests: { put, get, usd: s3usd },
    prices: { asOf: prices.asOf, region: prices.region },
  };
}
