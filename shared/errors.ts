/**
 * Every error a state machine can Catch. Lambda reports `error.name` as the error type and
 * `ErrorEquals` matches it exactly, so each class sets `name` to a string literal equal to the
 * class name (a literal survives bundling and minification).
 */

export interface TransferErrorOptions {
  cause?: unknown;
  /** Facts a user can act on; surfaced in CLI/API output and in the Fail state's cause. */
  details?: Record<string, unknown>;
}

export class TransferError extends Error {
  override name = 'TransferError';
  readonly details: Record<string, unknown>;
  constructor(message: string, options: TransferErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.details = options.details ?? {};
  }
}

/** Config file is unreadable or does not match the schema (file, line, field and rule in the message). */
export class ConfigError extends TransferError {
  override name = 'ConfigError';
}

/** A transfer request (API, CLI, event, state machine input) failed validation. */
export class InvalidRequestError extends TransferError {
  override name = 'InvalidRequestError';
}

export class MappingNotFoundError extends TransferError {
  override name = 'MappingNotFoundError';
}

export class FileSystemNotFoundError extends TransferError {
  override name = 'FileSystemNotFoundError';
}

export class FileSystemNotAvailableError extends TransferError {
  override name = 'FileSystemNotAvailableError';
}

/** Caller account or region does not match the file system or bucket. */
export class AccountMismatchError extends TransferError {
  override name = 'AccountMismatchError';
}

export class BucketAccessError extends TransferError {
  override name = 'BucketAccessError';
}

/** `method: dra` was requested but at least one DRA prerequisite failed. */
export class DraPrerequisiteError extends TransferError {
  override name = 'DraPrerequisiteError';
}

export class PathOverlapError extends TransferError {
  override name = 'PathOverlapError';
}

export class DraMisconfiguredError extends TransferError {
  override name = 'DraMisconfiguredError';
}

export class DraFailedError extends TransferError {
  override name = 'DraFailedError';
}

/** Another data repository task is running on the file system; the state machine waits and retries. */
export class DataRepositoryTaskBusyError extends TransferError {
  override name = 'DataRepositoryTaskBusyError';
}

export class DataRepositoryTaskFailedError extends TransferError {
  override name = 'DataRepositoryTaskFailedError';
}

/** RunInstances failed for every instance type and subnet we may use. */
export class InsufficientCapacityError extends TransferError {
  override name = 'InsufficientCapacityError';
}

export class InstanceLaunchError extends TransferError {
  override name = 'InstanceLaunchError';
}

/** The SSM agent of the transfer instance did not come online before the deadline. */
export class InstanceNotReadyError extends TransferError {
  override name = 'InstanceNotReadyError';
}

export class CommandFailedError extends TransferError {
  override name = 'CommandFailedError';
}

export class CommandTimedOutError extends TransferError {
  override name = 'CommandTimedOutError';
}

/** A step is still in progress; the state machine retries the state with back-off. */
export class NotReadyYetError extends TransferError {
  override name = 'NotReadyYetError';
}

/** Source and destination listings differ after a transfer. */
export class VerificationFailedError extends TransferError {
  override name = 'VerificationFailedError';
}

export class TransferTimeoutError extends TransferError {
  override name = 'TransferTimeoutError';
}

/**
 * The plan reached ChooseMethod with a method other than `dra` or `ec2` (a bug: Validate resolves
 * `auto`). Reported by the state machine itself (the Fail state of the same name), thrown by no function.
 */
export class UnknownMethodError extends TransferError {
  override name = 'UnknownMethodError';
}

/**
 * An AWS call was throttled or hit a server-side fault even after the SDK's own retries; the state
 * machine's Retry runs the state again (with back-off) instead of failing the run.
 */
export class TransientAwsError extends TransferError {
  override name = 'TransientAwsError';
}

/**
 * A Lambda function of the run crashed (out of memory, runtime exit), timed out or could not be
 * invoked, also after the state's retries (`Lambda.Unknown`, `Sandbox.Timedout`, `Runtime.*`,
 * `Lambda.<ServiceError>`). Reported by the state machine itself (the FunctionFailed Pass state
 * renames the error), thrown by no function.
 */
export class FunctionFailedError extends TransferError {
  override name = 'FunctionFailedError';
}

/** No transfer with this id (API, CLI): HTTP 404. */
export class TransferNotFoundError extends TransferError {
  override name = 'TransferNotFoundError';
}

/** The request conflicts with the transfer's state: an Idempotency-Key reused for another body, a cancel of an ended run (HTTP 409). */
export class TransferConflictError extends TransferError {
  override name = 'TransferConflictError';
}

/** AWS throttled the start of a run (HTTP 429); the caller retries after a while. */
export class TooManyRequestsError extends TransferError {
  override name = 'TooManyRequestsError';
}

/** A run waited longer than its state allows for its turn (another run of the mapping and direction held it). */
export class TurnTimeoutError extends TransferError {
  override name = 'TurnTimeoutError';
}

/**
 * A DRA wait (`.waitForTaskToken`) got no heartbeat for its HeartbeatSeconds: the scheduled poller
 * (functions/poll-dra-waits) stopped or failed, or the stored token was lost. Reported by the state
 * machine itself (the WaitLost Pass state renames States.HeartbeatTimeout), thrown by no function.
 */
export class WaitLostError extends TransferError {
  override name = 'WaitLostError';
}

/**
 * Every error class, by name (each key equals its class's `name`): the one vocabulary of error
 * names that `ErrorEquals`, the Choice states and the Fail states of `statemachines/` use, and that
 * README's troubleshooting table documents (test/unit/statemachines.test.ts checks all of them).
 */
export const ERROR_CLASSES = {
  TransferError,
  ConfigError,
  InvalidRequestError,
  MappingNotFoundError,
  FileSystemNotFoundError,
  FileSystemNotAvailableError,
  AccountMismatchError,
  BucketAccessError,
  DraPrerequisiteError,
  PathOverlapError,
  DraMisconfiguredError,
  DraFailedError,
  DataRepositoryTaskBusyError,
  DataRepositoryTaskFailedError,
  InsufficientCapacityError,
  InstanceLaunchError,
  InstanceNotReadyError,
  CommandFailedError,
  CommandTimedOutError,
  NotReadyYetError,
  VerificationFailedError,
  TransferTimeoutError,
  UnknownMethodError,
  TransientAwsError,
  FunctionFailedError,
  TransferNotFoundError,
  TransferConflictError,
  TooManyRequestsError,
  TurnTimeoutError,
  WaitLostError,
} as const;

export type ErrorName = keyof typeof ERROR_CLASSES;

/** The AWS SDK error name (`FileSystemNotFound`, `ThrottlingException`...) or undefined. */
export function awsErrorName(error: unknown): string | undefined {
  if (error && typeof error === 'object' && 'name' in error && typeof error.name === 'string') {
    return error.name;
  }
  return undefined;
}
