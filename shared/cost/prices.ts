/**
 * The price table and the performance assumptions behind `fsx-transfer plan` estimates and the
 * actual cost of finished runs. Prices are AWS list prices for us-east-1 (on-demand, Linux), from
 * the pages in `source`, written down by hand on the date in `asOf` (the machines that build this
 * project cannot reach the AWS Price List API, so nothing checks them automatically). Other
 * regions, discounts (Savings Plans, private pricing) and later price changes belong in the
 * config's `pricing` section, which overrides any field of this table (docs/planning.md says how
 * to read current prices with `aws pricing get-products`).
 */
import * as z from 'zod';

/** One EC2 instance type: on-demand price and network bandwidth (EC2 instance type specifications). */
export const InstancePrice = z.strictObject({
  usdPerHour: z.number().nonnegative(),
  /** Sustained bandwidth in Gbps (the "baseline bandwidth" of the specifications). */
  baselineGbps: z.number().positive(),
  /** Bandwidth while network I/O credits last ("burst bandwidth"; equal to baseline when fixed). */
  burstGbps: z.number().positive(),
});
export type InstancePrice = z.infer<typeof InstancePrice>;

/** How fast things go where AWS publishes no number: assumptions, documented in docs/planning.md. */
export const ModelAssumptions = z.strictObject({
  /** How long an "up to" instance keeps its burst bandwidth (AWS: typically 5 to 60 minutes by size). */
  networkBurstMinutes: z.number().nonnegative(),
  /** LaunchInstance to the sync starting: boot, SSM agent online, lustre-client install, mount. */
  instanceStartupSeconds: z.number().nonnegative(),
  /** After the sync: the file system listing, verification and termination. */
  instanceFinishSeconds: z.number().nonnegative(),
  /** Latency one S3 request adds per file (aws s3 sync runs `syncConcurrency` of them at once). */
  syncSecondsPerFile: z.number().nonnegative(),
  /** Parallel S3 requests of the transfer document (MaxConcurrentRequests). */
  syncConcurrency: z.number().int().positive(),
  /** aws s3 multipart chunk size: a file costs one request per part of this size. */
  partSizeBytes: z.number().int().positive(),
  /** Creating the data repository association (only when the mapping has none yet). */
  draAssociationSeconds: z.number().nonnegative(),
  /** Starting a data repository task and reading its report: the fixed part of a task. */
  draTaskSeconds: z.number().nonnegative(),
  /** Files an import task (metadata only) creates per second. */
  draImportFilesPerSecond: z.number().positive(),
  /** Files an export task writes per second, besides the bytes at the file system's throughput. */
  draExportFilesPerSecond: z.number().positive(),
  /** Validate, the turn and the summary: the fixed part of every run. */
  runOverheadSeconds: z.number().nonnegative(),
});
export type ModelAssumptions = z.infer<typeof ModelAssumptions>;

export const PriceTable = z.strictObject({
  /** When these prices were read from the source pages (YYYY-MM-DD). */
  asOf: z.string().min(1),
  source: z.array(z.string()).min(1),
  region: z.string().min(1),
  ec2: z.record(z.string(), InstancePrice),
  /** EC2 per-second billing has a 60-second minimum per instance (Linux). */
  ec2MinimumSeconds: z.number().nonnegative(),
  s3: z.strictObject({
    /** PUT, COPY, POST, LIST requests, per 1,000 (S3 Standard). */
    putListPer1000: z.number().nonnegative(),
    /** GET, SELECT and all other requests, per 1,000 (S3 Standard). */
    getPer1000: z.number().nonnegative(),
  }),
  stepFunctions: z.strictObject({
    /** Standard workflows, per state transition (retries included). */
    perTransition: z.number().nonnegative(),
  }),
  lambda: z.strictObject({
    perRequest: z.number().nonnegative(),
    /** arm64 (the functions' architecture). */
    perGbSecond: z.number().nonnegative(),
    /** Memory of the functions (serverless.yml provider.memorySize). */
    memoryMb: z.number().positive(),
  }),
  fsx: z.strictObject({
    /** Throughput per TiB of storage (MB/s) of deployment types that do not report PerUnitStorageThroughput. */
    perUnitStorageThroughputByDeploymentType: z.record(z.string(), z.number().positive()),
  }),
  model: ModelAssumptions,
});
export type PriceTable = z.infer<typeof PriceTable>;

export const PRICE_TABLE: PriceTable = {
  asOf: '2026-11-30',
  source: [
    'https://aws.amazon.com/ec2/pricing/on-demand/',
    'https://docs.aws.amazon.com/ec2/latest/instancetypes/co.html#co_network',
    'https://docs.aws.amazon.com/ec2/latest/instancetypes/gp.html#gp_network',
    'https://aws.amazon.com/s3/pricing/',
    'https://aws.amazon.com/step-functions/pricing/',
    'https://aws.amazon.com/lambda/pricing/',
    'https://docs.aws.amazon.com/fsx/latest/LustreGuide/performance.html',
  ],
  region: 'us-east-1',
  ec2: {
    'c5n.large': { usdPerHour: 0.108, baselineGbps: 3, burstGbps: 25 },
    'c5n.xlarge': { usdPerHour: 0.216, baselineGbps: 5, burstGbps: 25 },
    'c5n.2xlarge': { usdPerHour: 0.432, baselineGbps: 10, burstGbps: 25 },
    'c5n.4xlarge': { usdPerHour: 0.864, baselineGbps: 15, burstGbps: 25 },
    'c5n.9xlarge': { usdPerHour: 1.944, baselineGbps: 50, burstGbps: 50 },
    'c6a.large': { usdPerHour: 0.0765, baselineGbps: 0.781, burstGbps: 12.5 },
    'c6a.xlarge': { usdPerHour: 0.153, baselineGbps: 1.562, burstGbps: 12.5 },
    'c6i.large': { usdPerHour: 0.085, baselineGbps: 0.781, burstGbps: 12.5 },
    'c6i.xlarge': { usdPerHour: 0.17, baselineGbps: 1.562, burstGbps: 12.5 },
    'c6i.2xlarge': { usdPerHour: 0.34, baselineGbps: 3.125, burstGbps: 12.5 },
    'c6i.4xlarge': { usdPerHour: 0.68, baselineGbps: 6.25, burstGbps: 12.5 },
    'c6i.8xlarge': { usdPerHour: 1.36, baselineGbps: 12.5, burstGbps: 12.5 },
    'c6in.large': { usdPerHour: 0.1134, baselineGbps: 3.125, burstGbps: 25 },
    'c6in.xlarge': { usdPerHour: 0.2268, baselineGbps: 6.25, burstGbps: 30 },
    'c6in.2xlarge': { usdPerHour: 0.4536, baselineGbps: 12.5, burstGbps: 40 },
    'c7i.large': { usdPerHour: 0.08925, baselineGbps: 0.781, burstGbps: 12.5 },
    'm6i.large': { usdPerHour: 0.096, baselineGbps: 0.781, burstGbps: 12.5 },
    'm6i.xlarge': { usdPerHour: 0.192, baselineGbps: 1.562, burstGbps: 12.5 },
    'm7i.large': { usdPerHour: 0.1008, baselineGbps: 0.781, burstGbps: 12.5 },
  },
  ec2MinimumSeconds: 60,
  s3: { putListPer1000: 0.005, getPer1000: 0.0004 },
  stepFunctions: { perTransition: 0.000025 },
  lambda: { perRequest: 0.0000002, perGbSecond: 0.0000133334, memoryMb: 512 },
  fsx: {
    // SCRATCH file systems have a fixed 200 MB/s per TiB baseline; PERSISTENT ones report theirs.
    perUnitStorageThroughputByDeploymentType: { SCRATCH_1: 200, SCRATCH_2: 200 },
  },
  model: {
    networkBurstMinutes: 5,
    instanceStartupSeconds: 180,
    instanceFinishSeconds: 60,
    syncSecondsPerFile: 0.05,
    syncConcurrency: 32,
    partSizeBytes: 8 * 1024 * 1024,
    draAssociationSeconds: 300,
    draTaskSeconds: 60,
    draImportFilesPerSecond: 1000,
    draExportFilesPerSecond: 500,
    runOverheadSeconds: 10,
  },
};

/**
 * The config's `pricing` section: any field of the table, merged over it (instance types are
 * added or replaced one by one).
 */
export const PricingOverride = z
  .strictObject({
    asOf: z.string().min(1).optional(),
    source: z.array(z.string()).min(1).optional(),
    region: z.string().min(1).optional(),
    ec2: z.record(z.string(), InstancePrice).optional(),
    ec2MinimumSeconds: z.number().nonnegative().optional(),
    s3: PriceTable.shape.s3.partial().optional(),
    stepFunctions: PriceTable.shape.stepFunctions.partial().optional(),
    lambda: PriceTable.shape.lambda.partial().optional(),
    fsx: PriceTable.shape.fsx.partial().optional(),
    model: ModelAssumptions.partial().optional(),
  })
  .describe(
    'Overrides of the price table behind plan estimates and run costs (shared/cost/prices.ts): your region, discounts, measured rates',
  );
export type PricingOverride = z.infer<typeof PricingOverride>;

/** The price table with the config's overrides applied. */
export function priceTable(override: PricingOverride | undefined): PriceTable {
  if (!override) return PRICE_TABLE;
  const base = PRICE_TABLE;
  return {
    ...base,
    ...(override.asOf ? { asOf: override.asOf } : {}),
    ...(override.source ? { source: override.source } : {}),
    ...(override.region ? { region: override.region } : {}),
    ...(override.ec2MinimumSeconds !== undefined ? { ec2MinimumSeconds: override.ec2MinimumSeconds } : {}),
    ec2: { ...base.ec2, ...override.ec2 },
    s3: { ...base.s3, ...override.s3 },
    stepFunctions: { ...base.stepFunctions, ...override.stepFunctions },
    lambda: { ...base.lambda, ...override.lambda },
    fsx: {
      perUnitStorageThroughputByDeploymentType: {
        ...base.fsx.perUnitStorageThroughputByDeploymentType,
        ...override.fsx?.perUnitStorageThroughputByDeploymentType,
      },
    },
    model: { ...base.model, ...override.model },
  };
}
