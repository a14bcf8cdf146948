/**
 * The `Validate` step: turns a transfer request into a `TransferPlan`, or throws a typed error
 * before anything is changed. It only orchestrates: parse the input, resolve the mapping and the
 * scope, read the caller account, the file system and the DRA facts through the service helpers,
 * choose the method (`chooseMethod`, pure) and build the plan (`buildPlan`, pure).
 */
import { randomUUID } from 'node:crypto';
import type { S3Client } from '@aws-sdk/client-s3';
import * as z from 'zod';
import { rethrowTransient } from '../aws/transient.js';
import { fileSystemFor } from '../config/load.js';
import { type Config, type MappingConfig, TransferRequest } from '../config/schema.js';
import type { FileSystemFacts } from '../cost/estimate.js';
import { priceTable } from '../cost/prices.js';
import { type GatherInput, gatherDraFacts, regionFromArn } from '../dra/prerequisites.js';
import { AccountMismatchError, FileSystemNotAvailableError, FileSystemNotFoundError } from '../errors.js';
import { describeFileSystem, type FileSystem, type FSxClient } from '../fsx/file-systems.js';
import { parseInput } from '../input.js';
import { formatS3Uri, resolveScope, type TransferScope } from '../paths.js';
import { callerAccount, type STSClient } from '../sts/identity.js';
import { resolveRequest } from '../transfers/request.js';
import { type RunEstimate, runBudget, turnSeconds } from './deadline.js';
import { estimateRun } from './estimate-run.js';
import { chooseMethod, type MethodChoice } from './method.js';
import type { TransferPlan } from './schema.js';

/** What the state machine passes to `Validate` (see the transfer state machine's first state). */
export const ValidateInput = z.object({
  request: z.unknown(),
  executionName: z.string().min(1).optional(),
  startTime: z.string().min(1).optional(),
});
export type ValidateInput = z.infer<typeof ValidateInput>;

export interface ValidateDeps {
  config: Config;
  fsx: FSxClient;
  s3: S3Client;
  sts: STSClient;
  now?: () => Date;
}

/**
 * Any method needs an AVAILABLE FSx for Lustre file system.
 * @throws FileSystemNotFoundError (another type), FileSystemNotAvailableError.
 */
export function requireAvailableLustre(fileSystem: FileSystem, fileSystemId: string): void {
  if (fileSystem.FileSystemType !== 'LUSTRE') {
    throw new FileSystemNotFoundError(
      `File system ${fileSystemId} is ${fileSystem.FileSystemType}, not FSx for Lustre`,
      { details: { fileSystemId, type: fileSystem.FileSystemType } },
    );
  }
  if (fileSystem.Lifecycle !== 'AVAILABLE') {
    throw new FileSystemNotAvailableError(
      `File system ${fileSystemId} is ${fileSystem.Lifecycle}, not AVAILABLE${
        fileSystem.FailureDetails?.Message ? `: ${fileSystem.FailureDetails.Message}` : ''
      }; retry when it is AVAILABLE`,
      { details: { fileSystemId, lifecycle: fileSystem.Lifecycle } },
    );
  }
}

/**
 * The caller's account, checked against the config's `accountId` (undefined when none is set).
 * @throws AccountMismatchError.
 */
export async function checkedAccount(
  sts: STSClient,
  expected: string | undefined,
): Promise<string | undefined> {
  if (!expected) return undefined;
  const caller = await callerAccount(sts);
  if (caller !== expected) {
    throw new AccountMismatchError(
      `The config expects account ${expected}, but the credentials belong to ${caller}`,
      { details: { expected, caller } },
    );
  }
  return caller;
}

/** The request's options over the mapping's settings. */
function transferOptions(request: TransferRequest, mapping: MappingConfig): TransferPlan['options'] {
  return {
    delete: request.delete ?? mapping.delete,
    verify: request.verify ?? mapping.verify,
    include: mapping.include,
    exclude: mapping.exclude,
    preload: mapping.preload,
    release: mapping.release,
    autoExport: mapping.autoExport,
    dryRun: request.dryRun ?? false,
  };
}

export interface PlanParts {
  config: Config;
  request: TransferRequest;
  mapping: MappingConfig;
  scope: TransferScope;
  fileSystem: FileSystem;
  choice: MethodChoice;
  executionName?: string;
  /** When the run started (the deadline counts from it); `now` when absent or not a date. */
  startTime?: string;
  now: Date;
  /** The plan's own estimate of the run (its deadline is at least this with a margin). */
  estimate?: RunEstimate;
}

/** The plan from what Validate resolved. Pure (the transfer id is random only without one). */
export function buildPlan(parts: PlanParts): TransferPlan {
  const { config, request, mapping, scope, fileSystem, executionName, now } = parts;
  const fsConfig = fileSystemFor(config, mapping);
  const started = parts.startTime ? new Date(parts.startTime) : now;
  const base = Number.isNaN(started.getTime()) ? now : started;
  const timeouts = config.defaults.timeouts;
  const budget = runBudget(timeouts, parts.estimate);
  const mappingScope = resolveScope(mapping);
  return {
    transferId: request.transferId ?? executionName ?? `${mapping.name}-${request.direction}-${randomUUID()}`,
    ...(executionName ? { executionName } : {}),
    mapping: mapping.name,
    direction: request.direction,
    method: parts.choice.method,
    methodReasons: parts.choice.reasons,
    fileSystem: {
      id: mapping.fileSystemId,
      region: regionFromArn(fileSystem.ResourceARN) ?? fsConfig.region,
      dnsName: fileSystem.DNSName ?? '',
      mountName: fileSystem.LustreConfiguration?.MountName ?? '',
      lustreVersion: fileSystem.FileSystemTypeVersion ?? '',
      deploymentType: fileSystem.LustreConfiguration?.DeploymentType ?? '',
      mountPoint: fsConfig.mountPoint,
      subnetIds: fsConfig.subnetIds,
      securityGroupIds: fsConfig.securityGroupIds,
      ...(fileSystem.VpcId ? { vpcId: fileSystem.VpcId } : {}),
      ...(fsConfig.lustreClientInstanceId ? { lustreClientInstanceId: fsConfig.lustreClientInstanceId } : {}),
      ...(fsConfig.dataRepositoryRoleArn ? { dataRepositoryRoleArn: fsConfig.dataRepositoryRoleArn } : {}),
      ...(fileSystem.StorageCapacity ? { storageCapacityGiB: fileSystem.StorageCapacity } : {}),
      ...(fileSystem.LustreConfiguration?.PerUnitStorageThroughput
        ? { perUnitStorageThroughput: fileSystem.LustreConfiguration.PerUnitStorageThroughput }
        : {}),
    },
    scope: {
      fsxPath: scope.fsxPath,
      mappingFsxPath: mappingScope.fsxPath,
      mappingS3Uri: formatS3Uri(mappingScope.s3),
      bucket: scope.s3.bucket,
      prefix: scope.s3.prefix,
    },
    options: transferOptions(request, mapping),
    instance: {
      instanceType: config.defaults.instanceType,
      fallbackInstanceTypes: config.defaults.fallbackInstanceTypes,
      amiParameter: config.defaults.amiParameter,
      ...(config.defaults.instanceProfileName
        ? { instanceProfileName: config.defaults.instanceProfileName }
        : {}),
    },
    deadline: new Date(base.getTime() + budget.runMinutes * 60_000).toISOString(),
    timeouts: {
      ...timeouts,
      runMinutes: budget.runMinutes,
      runReason: budget.reason,
      waitSeconds: budget.waitSeconds,
      turnSeconds: turnSeconds(timeouts.maxRunMinutes),
    },
    ...(parts.estimate ? { estimate: parts.estimate } : {}),
  };
}

/**
 * Validates a request and plans the transfer.
 * @returns the TransferPlan every later state consumes.
 * @throws InvalidRequestError (schema, direction not allowed, path escapes the mapping),
 *   MappingNotFoundError, FileSystemNotFoundError, FileSystemNotAvailableError, AccountMismatchError,
 *   BucketAccessError, DraPrerequisiteError (`method: dra` with failed prerequisites, all listed).
 */
export async function validateTransfer(input: unknown, deps: ValidateDeps): Promise<TransferPlan> {
  try {
    return await planTransfer(input, deps);
  } catch (error) {
    // Throttling and 5xx become TransientAwsError (retried by the state); our errors pass unchanged.
    rethrowTransient(error, 'validating the transfer request');
  }
}

async function planTransfer(input: unknown, deps: ValidateDeps): Promise<TransferPlan> {
  const { request: raw, executionName, startTime } = parseInput(ValidateInput, input, 'Validate input');
  const request = parseInput(TransferRequest, raw, 'transfer request');
  const { config } = deps;
  const { mapping, scope } = resolveRequest(config, request);
  const account = await checkedAccount(deps.sts, config.accountId);
  const fileSystem = await describeFileSystem(deps.fsx, mapping.fileSystemId);
  requireAvailableLustre(fileSystem, mapping.fileSystemId);
  const requested = request.method ?? mapping.method;
  const choice = chooseMethod(
    requested === 'ec2'
      ? { mapping: mapping.name, requested }
      : {
          mapping: mapping.name,
          requested,
          dra: await gatherDraFacts(deps, draQuestion(config, request, mapping, fileSystem, account)),
        },
  );
  const options = transferOptions(request, mapping);
  const estimate = await estimateRun(
    deps,
    {
      method: choice.method,
      direction: request.direction,
      scope: { ...scope.s3, include: options.include, exclude: options.exclude },
      fileSystem: fileSystemFacts(fileSystem),
      instanceType: config.defaults.instanceType,
      preload: options.preload,
      verify: options.verify,
    },
    priceTable(config.pricing),
  );
  const now = deps.now?.() ?? new Date();
  return buildPlan({
    config,
    request,
    mapping,
    scope,
    fileSystem,
    choice,
    executionName,
    startTime,
    now,
    ...(estimate ? { estimate } : {}),
  });
}

/** What the estimates need to know of a file system (its throughput). */
export function fileSystemFacts(fileSystem: FileSystem): FileSystemFacts {
  const lustre = fileSystem.LustreConfiguration;
  return {
    deploymentType: lustre?.DeploymentType ?? '',
    storageCapacityGiB: fileSystem.StorageCapacity ?? 0,
    ...(lustre?.PerUnitStorageThroughput
      ? { perUnitStorageThroughput: lustre.PerUnitStorageThroughput }
      : {}),
  };
}

/** What the DRA prerequisites are checked for: the mapping's whole association, with the request's options. */
export function draQuestion(
  config: Config,
  request: TransferRequest,
  mapping: MappingConfig,
  fileSystem: FileSystem,
  callerAccount: string | undefined,
): GatherInput {
  const fsConfig = fileSystemFor(config, mapping);
  const { delete: del, include, exclude, preload } = transferOptions(request, mapping);
  return {
    fileSystem,
    configuredRegion: fsConfig.region,
    mappingFsxPath: mapping.fsxPath,
    s3: resolveScope(mapping).s3,
    request: { direction: request.direction, delete: del, include, exclude, preload },
    dataRepositoryRoleArn: fsConfig.dataRepositoryRoleArn,
    lustreClientInstanceId: fsConfig.lustreClientInstanceId,
    callerAccount,
  };
}
