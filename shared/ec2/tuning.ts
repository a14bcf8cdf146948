/**
 * `aws s3 sync` settings for a transfer instance, from its type's network bandwidth (the price
 * table's EC2 instance type specifications). One S3 request moves roughly 50-100 MB/s and one flow
 * is capped at 5 Gbps, so the sync needs about one request per 40 MB/s of bandwidth to fill the
 * pipe; more only adds Python threads on few vCPUs. Larger parts cut the request count of large
 * files on fast instances (S3 allows 10,000 parts per upload). docs/ec2.md gives the bounds.
 */
import { PRICE_TABLE, type PriceTable } from '../cost/prices.js';

export interface SyncTuning {
  maxConcurrentRequests: number;
  multipartChunkSizeMb: number;
}

/** The AWS CLI's defaults (10 requests, 8 MB parts), the floor of every tuning. */
const CLI_DEFAULT: SyncTuning = { maxConcurrentRequests: 10, multipartChunkSizeMb: 8 };
/** MB/s one S3 request is counted for. */
const MBPS_PER_REQUEST = 40;

/**
 * Concurrency and part size for an instance type: requests for its burst bandwidth (at least 10,
 * at most 64), parts of 8 MB, 16 MB from 10 Gbps sustained, 64 MB from 50 Gbps. An unknown type
 * gets the CLI's defaults.
 */
export function syncTuning(instanceType: string, prices: Pick<PriceTable, 'ec2'> = PRICE_TABLE): SyncTuning {
  const price = prices.ec2[instanceType];
  if (!price) return CLI_DEFAULT;
  const requests = Math.ceil((price.burstGbps * 125) / MBPS_PER_REQUEST);
  return {
    maxConcurrentRequests: Math.min(64, Math.max(CLI_DEFAULT.maxConcurrentRequests, requests)),
    multipartChunkSizeMb: price.baselineGbps >= 50 ? 64 : price.baselineGbps >= 10 ? 16 : 8,
  };
}
