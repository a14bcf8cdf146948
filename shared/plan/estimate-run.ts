/**
 * The plan's own estimate of a run, which its deadline follows (deadline.ts `runBudget`): Validate
 * sizes a stage-in's S3 scope and applies the chosen method's estimate (shared/cost/estimate.ts,
 * the model of `fsx-transfer plan`).
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { isTransientAwsError } from '../aws/transient.js';
import type { Direction, VerifyMode } from '../config/schema.js';
import { type EstimateInput, estimateDra, estimateEc2, type FileSystemFacts } from '../cost/estimate.js';
import type { PriceTable } from '../cost/prices.js';
import { listObjects } from '../s3/objects.js';
import { RESERVED_PREFIX } from '../ssm/document.js';
import { passesFilters } from '../verify/compare.js';
import type { RunEstimate } from './deadline.js';

/** Validate lists at most this many objects to size the scope (200 ListObjectsV2 pages, well inside its 60 s). */
export const ESTIMATE_LISTING_LIMIT = 200_000;

export interface ScopeSize {
  files: number;
  bytes: number;
  largestBytes: number;
  /** The listing stopped at `limit` objects: the size is a lower bound. */
  truncated: boolean;
}

/**
 * Files and bytes of an S3 scope that a stage-in considers (filters applied, fsx-transfer's own
 * objects skipped), listing at most `limit` objects.
 * @throws the SDK error (AccessDenied, NoSuchBucket, throttling).
 */
export async function sizeS3Scope(
  s3: S3Client,
  scope: { bucket: string; prefix: string; include: string[]; exclude: string[] },
  limit = Number.POSITIVE_INFINITY,
  onFile?: (path: string, bytes: number) => void,
): Promise<ScopeSize> {
  const base = scope.prefix ? `${scope.prefix}/` : '';
  const size: ScopeSize = { files: 0, bytes: 0, largestBytes: 0, truncated: false };
  let seen = 0;
  for await (const object of listObjects(s3, scope.bucket, base)) {
    if (seen >= limit) {
      size.truncated = true;
      break;
    }
    seen += 1;
    const path = object.key.slice(base.length);
    if (object.key.endsWith('/') || (!base && path.startsWith(`${RESERVED_PREFIX}/`))) continue;
    if (!passesFilters(path, scope.include, scope.exclude)) continue;
    size.files += 1;
    size.bytes += object.size;
    size.largestBytes = Math.max(size.largestBytes, object.size);
    onFile?.(path, object.size);
  }
  return size;
}

export interface EstimateRunInput {
  method: 'dra' | 'ec2';
  direction: Direction;
  scope: { bucket: string; prefix: string; include: string[]; exclude: string[] };
  fileSystem: FileSystemFacts;
  instanceType: string;
  preload: boolean;
  verify: VerifyMode;
}

/**
 * The plan's own estimate of a run, for its deadline (`runBudget`): a stage-in sizes its S3 scope
 * (at most ESTIMATE_LISTING_LIMIT objects), then the chosen method's estimate (shared/cost/
 * estimate.ts; the association counted as new, the longer case).
 * @returns undefined when there is no estimate: an export (its source, the file system, cannot be
 *   listed from a Lambda function), a scope that cannot be listed (the run reports that itself), an
 *   instance type the price table lacks.
 * @throws TransientAwsError-like SDK errors on throttling (the state retries).
 */
export async function estimateRun(
  deps: { s3: S3Client },
  input: EstimateRunInput,
  prices: PriceTable,
): Promise<RunEstimate | undefined> {
  if (input.direction !== 'stage-in') return undefined;
  let size: ScopeSize;
  try {
    size = await sizeS3Scope(deps.s3, input.scope, ESTIMATE_LISTING_LIMIT);
  } catch (error) {
    if (isTransientAwsError(error)) throw error;
    return undefined;
  }
  const estimateInput: EstimateInput = {
    direction: input.direction,
    scope: { files: size.files, bytes: size.bytes, largestBytes: size.largestBytes },
    fileSystem: input.fileSystem,
    instanceType: input.instanceType,
    associationExists: false,
    preload: input.preload,
    verify: input.verify,
  };
  try {
    const estimate =
      input.method === 'dra' ? estimateDra(estimateInput, prices) : estimateEc2(estimateInput, prices);
    return {
      seconds: Math.ceil(estimate.seconds),
      files: size.files,
      bytes: size.bytes,
      source: size.truncated ? 'partial-listing' : 's3-listing',
    };
  } catch {
    // Only an instance type missing from the price table throws: the deadline falls back to the config.
    return undefined;
  }
}
