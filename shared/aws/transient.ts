/**
 * Which AWS SDK errors are transient (throttling, server faults, network), and how a service helper
 * hands them to the state machine: as `TransientAwsError`, a name a `Retry` can list, instead of the
 * SDK's per-service names (`RequestLimitExceeded`, `ThrottlingException`, `SlowDown` ...).
 */
import { TransferError, TransientAwsError } from '../errors.js';

/** Error names the AWS SDKs treat as throttling (same list as the SDK's own retry strategy). */
const THROTTLING = new Set([
  'BandwidthLimitExceeded',
  'EC2ThrottledException',
  'PriorRequestNotComplete',
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
  'RequestThrottled',
  'RequestThrottledException',
  'SlowDown',
  'ThrottledException',
  'Throttling',
  'ThrottlingException',
  'TooManyRequestsException',
]);

/** Server-side faults and timeouts that succeed when repeated later. */
const SERVER_FAULTS = new Set([
  'InternalError',
  'InternalFailure',
  'InternalServerError',
  'InternalServerException',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'Unavailable',
  'RequestTimeout',
  'RequestTimeoutException',
  'TimeoutError',
]);

const NETWORK_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'EAI_AGAIN']);

interface SdkErrorLike {
  name?: unknown;
  code?: unknown;
  $metadata?: { httpStatusCode?: number };
}

/** True when `error` is throttling, a 5xx, or a network fault: repeating the call later may succeed. */
export function isTransientAwsError(error: unknown): boolean {
  if (!error || typeof error !== 'object' || error instanceof TransferError) return false;
  const e = error as SdkErrorLike;
  const name = typeof e.name === 'string' ? e.name : '';
  const status = e.$metadata?.httpStatusCode ?? 0;
  return (
    THROTTLING.has(name) ||
    SERVER_FAULTS.has(name) ||
    status === 429 ||
    status >= 500 ||
    (typeof e.code === 'string' && NETWORK_CODES.has(e.code))
  );
}

/**
 * Rethrows `error`, turning a transient SDK error into `TransientAwsError` (naming what was being
 * done) so the state machine retries the state. Other errors pass through unchanged.
 */
export function rethrowTransient(error: unknown, doing: string): never {
  if (isTransientAwsError(error)) {
    const name = (error as SdkErrorLike).name;
    throw new TransientAwsError(`${doing}: ${String(name)} (${(error as Error).message}); retrying`, {
      cause: error,
    });
  }
  throw error;
}
