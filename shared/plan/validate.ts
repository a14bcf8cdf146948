/**
 * The `Validate` step: turns a transfer request into a `TransferPlan`, or throws a typed error
 * before anything is changed. Resolves the mapping and direction, confines the paths, checks the
 * file system, runs the DRA prerequisites and resolves `method: auto`.
 */
import { randomUUID } from 'node:crypto';
import type { S3Client } from '@aws-sdk/client-s3';
import { z } from 'zod';
import { rethrowTransient } from '../aws/transient.js';
import { fileSystemFor, findMapping } from '../config/load.js';
import { type Config, type MappingConfig, type Method, TransferRequest } from '../config/schema.js';
import {
  checkDraPrerequisites,
  describeReasons,
  failedReasons,
  gatherDraFacts,
  regionFromArn,
} from '../dra/prerequisites.js';
import {
  AccountMismatchError,
  DraPrerequisiteError,
  FileSystemNotAvailableError,
  FileSystemNotFoundError,
  InvalidRequestError,
} from '../errors.js';
import { describeFileSystem, type FSxClient } from '../fsx/file-systems.js';
import { parseInput } from '../input.js';
import { formatS3Uri, resolveScope, type TransferScope } from '../paths.js';
import { callerAccount as accountOf, type STSClient } from '../sts/identity.js';
import type { Reason, ResolvedMethod, TransferPlan } from './types.js';

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

/** The transfer scope, with path rule violations turned into InvalidRequestError naming the field. */
function scopeOf(mapping: MappingConfig, subPath: string | undefined): TransferScope {
  try {
    return resolveScope(mapping, subPath ?? '');
  } catch (error) {
    throw new InvalidRequestError(`Invalid transfer request: subPath: ${(error as Error).message}`, {
      cause: error,
      details: { field: 'subPath', mapping: mapping.name },
    });
  }
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
  const {
    request: rawRequest,
    executionName,
    startTime,
  } = parseInput(ValidateInput, input, 'Validate input');
  const request = parseInput(TransferRequest, rawRequest, 'transfer request');
  const config = deps.config;
  const mapping = findMapping(config, request.mapping);
  if (!mapping.directions.includes(request.direction)) {
    throw new InvalidRequestError(
      `Invalid transfer request: direction: ${request.direction} is not allowed by mapping ${mapping.name} (allowed: ${mapping.directions.join(', ')})`,
      { details: { field: 'direction', mapping: mapping.name, allowed: mapping.directions } },
    );
  }
  const scope = scopeOf(mapping, request.subPath);
  const fsConfig = fileSystemFor(config, mapping);

  let callerAccount: string | undefined;
  if (config.accountId) {
    callerAccount = await accountOf(deps.sts);
    if (callerAccount !== config.accountId) {
      throw new AccountMismatchError(
        `The config expects account ${config.accountId}, but the credentials belong to ${callerAccount}`,
        { details: { expected: config.accountId, caller: callerAccount } },
      );
    }
  }

  const fileSystem = await describeFileSystem(deps.fsx, mapping.fileSystemId);
  if (fileSystem.FileSystemType !== 'LUSTRE') {
    throw new FileSystemNotFoundError(
      `File system ${mapping.fileSystemId} is ${fileSystem.FileSystemType}, not FSx for Lustre`,
      { details: { fileSystemId: mapping.fileSystemId, type: fileSystem.FileSystemType } },
    );
  }
  if (fileSystem.Lifecycle !== 'AVAILABLE') {
    throw new FileSystemNotAvailableError(
      `File system ${mapping.fileSystemId} is ${fileSystem.Lifecycle}, not AVAILABLE${
        fileSystem.FailureDetails?.Message ? `: ${fileSystem.FailureDetails.Message}` : ''
      }; retry when it is AVAILABLE`,
      { details: { fileSystemId: mapping.fileSystemId, lifecycle: fileSystem.Lifecycle } },
    );
  }

  const options = {
    delete: request.delete ?? mapping.delete,
    include: mapping.include,
    exclude: mapping.exclude,
    preload: mapping.preload,
    release: mapping.release,
    autoExport: mapping.autoExport,
    dryRun: request.dryRun ?? false,
  };
  const requested: Method = request.method ?? mapping.method;
  let method: ResolvedMethod;
  let methodReasons: Reason[];
  if (requested === 'ec2') {
    method = 'ec2';
    methodReasons = [
      {
        code: 'METHOD_EC2',
        ok: true,
        message: 'method ec2 was requested; DRA prerequisites were not checked',
      },
    ];
  } else {
    const facts = await gatherDraFacts(deps, {
      fileSystem,
      configuredRegion: fsConfig.region,
      mappingFsxPath: mapping.fsxPath,
      s3: resolveScope(mapping).s3,
      request: {
        direction: request.direction,
        delete: options.delete,
        include: options.include,
        exclude: options.exclude,
        preload: options.preload,
      },
      dataRepositoryRoleArn: fsConfig.dataRepositoryRoleArn,
      lustreClientInstanceId: fsConfig.lustreClientInstanceId,
      callerAccount,
    });
    const failed = failedReasons(checkDraPrerequisites(facts));
    if (requested === 'dra' && failed.length > 0) {
      throw new DraPrerequisiteError(
        `method dra was requested for mapping ${mapping.name}, but ${failed.length} DRA prerequisite(s) failed: ${describeReasons(failed)}`,
        { details: { mapping: mapping.name, reasons: failed } },
      );
    }
    method = failed.length === 0 ? 'dra' : 'ec2';
    const summary: Reason = {
      code: requested === 'dra' ? 'METHOD_DRA' : 'METHOD_AUTO',
      ok: true,
      message:
        requested === 'dra'
          ? 'method dra was requested and every DRA prerequisite holds'
          : failed.length === 0
            ? 'method auto chose dra: every DRA prerequisite holds'
            : `method auto chose ec2: ${failed.length} DRA prerequisite(s) failed (${failed.map((r) => r.code).join(', ')})`,
      seen: { requested, resolved: method },
    };
    methodReasons = [summary, ...failed];
  }

  const now = deps.now?.() ?? new Date();
  const started = startTime ? new Date(startTime) : now;
  const base = Number.isNaN(started.getTime()) ? now : started;
  const timeouts = config.defaults.timeouts;
  const mappingScope = resolveScope(mapping);
  return {
    transferId: request.transferId ?? executionName ?? `${mapping.name}-${request.direction}-${randomUUID()}`,
    ...(executionName ? { executionName } : {}),
    mapping: mapping.name,
    direction: request.direction,
    method,
    methodReasons,
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
    },
    scope: {
      fsxPath: scope.fsxPath,
      mappingFsxPath: mappingScope.fsxPath,
      mappingS3Uri: formatS3Uri(mappingScope.s3),
      bucket: scope.s3.bucket,
      prefix: scope.s3.prefix,
    },
    options,
    instance: {
      instanceType: config.defaults.instanceType,
      fallbackInstanceTypes: config.defaults.fallbackInstanceTypes,
      amiParameter: config.defaults.amiParameter,
      ...(config.defaults.instanceProfileName
        ? { instanceProfileName: config.defaults.instanceProfileName }
        : {}),
    },
    deadline: new Date(base.getTime() + timeouts.transferMinutes * 60_000).toISOString(),
    timeouts,
  };
}
