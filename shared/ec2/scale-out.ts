/**
 * The PlanShards step: how many transfer instances a run of the EC2 method gets and which key
 * range each copies. The planner's scale-out suggestion (shared/cost/estimate.ts) decides the
 * count from the scope's size, the file system throughput and the instance type's bandwidth,
 * bounded by `defaults.scaleOut.maxInstances`; the scope's S3 listing gives size-balanced ranges.
 * An export keeps one instance: its source is the file system, which a Lambda function cannot list.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import type { Config } from '../config/schema.js';
import { suggestScaleOut } from '../cost/estimate.js';
import { priceTable } from '../cost/prices.js';
import { VerificationFailedError } from '../errors.js';
import type { TransferPlan } from '../plan/schema.js';
import { RESERVED_PREFIX } from '../ssm/document.js';
import { passesFilters } from '../verify/compare.js';
import type { ListedFile } from '../verify/listing.js';
import { listS3Scope } from '../verify/scope.js';
import { instanceCount, planShards, type Shard } from './shards.js';

export interface ShardPlan {
  /** Number of instances (the length of `items`); 1 keeps the single-instance states. */
  count: number;
  items: Shard[];
  /** Why this count, for the execution history and the summary. */
  reason: string;
}

type ShardPlanInput = Pick<TransferPlan, 'direction' | 'scope' | 'options' | 'fileSystem' | 'instance'>;

/**
 * Plans the shards of a run.
 * @returns `{count, items, reason}` (`$.shards`); one unbounded shard when scaling out does not pay.
 * @throws TransientAwsError on throttling (a scope that cannot be listed gets one instance).
 */
export async function planRunShards(
  deps: { s3: S3Client },
  plan: ShardPlanInput,
  config: Pick<Config, 'defaults' | 'pricing'>,
): Promise<ShardPlan> {
  const single = (reason: string): ShardPlan => ({
    count: 1,
    items: [{ index: 0, count: 1, files: 0, bytes: 0 }],
    reason,
  });
  const maxInstances = config.defaults.scaleOut.maxInstances;
  if (plan.direction === 'export')
    return single('an export runs on one instance (the file system cannot be listed from here)');
  if (maxInstances <= 1) return single('defaults.scaleOut.maxInstances is 1');
  const capacity = plan.fileSystem.storageCapacityGiB;
  if (!capacity) return single('the file system storage capacity is unknown');

  let listed: ListedFile[];
  try {
    listed = await listS3Scope(deps.s3, plan.scope.bucket, plan.scope.prefix);
  } catch (error) {
    // Planning only makes the run faster: a scope that cannot be listed (a missing bucket, access
    // denied) runs on one instance, whose sync reports the cause as before. Throttling is retried.
    if (!(error instanceof VerificationFailedError)) throw error;
    return single(`the scope could not be listed: ${error.message}`);
  }
  const files = listed.filter(
    (file) =>
      !(plan.scope.prefix === '' && file.path.startsWith(`${RESERVED_PREFIX}/`)) &&
      passesFilters(file.path, plan.options.include, plan.options.exclude),
  );
  const prices = priceTable(config.pricing);
  const suggestion = suggestScaleOut(
    {
      direction: plan.direction,
      scope: {
        files: files.length,
        bytes: files.reduce((sum, file) => sum + file.size, 0),
        largestBytes: files.reduce((max, file) => Math.max(max, file.size), 0),
      },
      fileSystem: {
        deploymentType: plan.fileSystem.deploymentType,
        storageCapacityGiB: capacity,
        ...(plan.fileSystem.perUnitStorageThroughput
          ? { perUnitStorageThroughput: plan.fileSystem.perUnitStorageThroughput }
          : {}),
      },
      instanceType: plan.instance.instanceType,
      associationExists: true,
      preload: false,
    },
    prices,
  );
  const count = instanceCount(suggestion, maxInstances, files.length);
  if (count === 1)
    return single(suggestion.worthwhile ? suggestion.reason : 'one instance is enough for this scope');
  const items = planShards(files, count);
  return {
    count: items.length,
    items,
    reason: `${suggestion.reason}: ${items.length} instances (at most defaults.scaleOut.maxInstances ${maxInstances})`,
  };
}
