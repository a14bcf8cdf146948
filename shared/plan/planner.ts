/**
 * `fsx-transfer plan`: what a run would do, take and cost, with nothing changed. The same checks
 * as `Validate` (the request, the file system, every DRA prerequisite with the values seen), the
 * size of the scope from a listing, and an estimate for each method (shared/cost/estimate.ts).
 */

import type { TransferRequest } from '../config/schema.js';
import {
  type EstimateInput,
  estimateDra,
  estimateEc2,
  fileSystemThroughputMBps,
  type MethodEstimate,
  type ScaleOutSuggestion,
  suggestScaleOut,
} from '../cost/estimate.js';
import { type PriceTable, priceTable } from '../cost/prices.js';
import { findSameAssociation } from '../dra/association-paths.js';
import {
  checkDraPrerequisites,
  describeReasons,
  failedReasons,
  gatherDraFacts,
} from '../dra/prerequisites.js';
import { DraPrerequisiteError } from '../errors.js';
import { describeFileSystem } from '../fsx/file-systems.js';
import { formatS3Uri } from '../paths.js';
import { resolveRequest } from '../transfers/request.js';
import { sizeS3Scope } from './estimate-run.js';
import { chooseMethod, type MethodChoice } from './method.js';
import type { Reason, TransferPlan } from './schema.js';
import {
  buildPlan,
  checkedAccount,
  draQuestion,
  fileSystemFacts,
  requireAvailableLustre,
  type ValidateDeps,
} from './validate.js';

export type CheckStatus = 'pass' | 'fail' | 'skipped';

/** One prerequisite as `plan` shows it. */
export interface PlanCheck {
  code: string;
  status: CheckStatus;
  message: string;
  seen?: Record<string, unknown>;
  fix?: string;
}

export interface ScopeReport {
  /** null when the size is unknown (an export: the file system cannot be listed from here). */
  files: number | null;
  bytes: number | null;
  largestFile: { path: string; bytes: number } | null;
  /** `s3-listing`: counted from ListObjectsV2; `given`: from --files/--bytes; `unknown`. */
  source: 's3-listing' | 'given' | 'unknown';
  reason?: string;
  fsxPath: string;
  s3Uri: string;
}

export type MethodReport =
  | ({ possible: true } & MethodEstimate)
  | { possible: true; seconds: null; usd: null; reason: string }
  | { possible: false; seconds: null; usd: null; reason: string };

export interface PlanReport {
  mapping: string;
  direction: TransferRequest['direction'];
  requestedMethod: 'auto' | 'dra' | 'ec2';
  /** What the run would use; null when the requested method is not possible. */
  method: 'dra' | 'ec2' | null;
  methodReasons: Reason[];
  checks: PlanCheck[];
  fileSystem: {
    id: string;
    deploymentType: string;
    lustreVersion: string;
    storageCapacityGiB: number;
    perUnitStorageThroughput: number | null;
    throughputMBps: number;
  };
  scope: ScopeReport;
  instanceType: string;
  estimates: { dra: MethodReport; ec2: MethodReport };
  scaleOut: ScaleOutSuggestion | null;
  prices: { asOf: string; region: string; source: string[] };
  /** The plan `Validate` would hand the run (null when the method is not possible). */
  plan: TransferPlan | null;
}

export interface PlannerDeps extends ValidateDeps {}

export interface PlanOptions {
  /** Size the estimate for this many files / bytes instead of listing the scope. */
  files?: number;
  bytes?: number;
  /** Estimate the EC2 method with this instance type instead of the config's. */
  instanceType?: string;
}

/** pass/fail, and skipped for checks that do not apply to this request or could not be made. */
function checkOf(reason: Reason): PlanCheck {
  const seen = reason.seen ?? {};
  const skipped =
    reason.ok &&
    ((reason.code === 'PRELOAD_CLIENT' && seen.preload === false) ||
      (reason.code === 'DATA_REPOSITORY_ROLE_S3_ACCESS' && seen.checked === false));
  return {
    code: reason.code,
    status: !reason.ok ? 'fail' : skipped ? 'skipped' : 'pass',
    message: reason.message,
    ...(reason.seen ? { seen: reason.seen } : {}),
    ...(reason.fix && !reason.ok ? { fix: reason.fix } : {}),
  };
}

/**
 * Plans a request without changing anything.
 * @throws what Validate throws before the method is chosen (InvalidRequestError,
 *   MappingNotFoundError, FileSystemNotFoundError, FileSystemNotAvailableError,
 *   AccountMismatchError, BucketAccessError); a requested method that is not possible is reported
 *   (`method: null`), not thrown.
 */
export async function planReport(
  deps: PlannerDeps,
  request: TransferRequest,
  options: PlanOptions = {},
): Promise<PlanReport> {
  const { config } = deps;
  const prices: PriceTable = priceTable(config.pricing);
  const { mapping, scope } = resolveRequest(config, request);
  const account = await checkedAccount(deps.sts, config.accountId);
  const fileSystem = await describeFileSystem(deps.fsx, mapping.fileSystemId);
  requireAvailableLustre(fileSystem, mapping.fileSystemId);
  const question = draQuestion(config, request, mapping, fileSystem, account);
  const facts = await gatherDraFacts(deps, question);
  const draReasons = checkDraPrerequisites(facts);
  const requested = request.method ?? mapping.method;

  let choice: MethodChoice | undefined;
  let refused: DraPrerequisiteError | undefined;
  try {
    choice = chooseMethod(
      requested === 'ec2'
        ? { mapping: mapping.name, requested }
        : { mapping: mapping.name, requested, dra: facts },
    );
  } catch (error) {
    if (!(error instanceof DraPrerequisiteError)) throw error;
    refused = error;
  }
  const now = deps.now?.() ?? new Date();
  const lustre = fileSystem.LustreConfiguration;
  const fsFacts = fileSystemFacts(fileSystem);
  const s3Uri = formatS3Uri(scope.s3);
  const include = mapping.include;
  const exclude = mapping.exclude;
  let size: Pick<ScopeReport, 'files' | 'bytes' | 'largestFile'> & Pick<ScopeReport, 'source' | 'reason'>;
  if (options.files !== undefined || options.bytes !== undefined) {
    size = {
      files: options.files ?? 1,
      bytes: options.bytes ?? 0,
      largestFile: null,
      source: 'given',
    };
  } else if (request.direction === 'stage-in') {
    let largestFile: ScopeReport['largestFile'] = null;
    const listed = await sizeS3Scope(deps.s3, { ...scope.s3, include, exclude }, undefined, (path, bytes) => {
      if (!largestFile || bytes > largestFile.bytes) largestFile = { path, bytes };
    });
    size = { files: listed.files, bytes: listed.bytes, largestFile, source: 's3-listing' };
  } else {
    size = {
      files: null,
      bytes: null,
      largestFile: null,
      source: 'unknown',
      reason: `the source of an export is ${scope.fsxPath} on the file system, which cannot be listed from here: give --files and --bytes to estimate`,
    };
  }

  const instanceType = options.instanceType ?? config.defaults.instanceType;
  const failedDra = failedReasons(draReasons);
  const estimates = {
    dra: unknownSize(size.reason),
    ec2: unknownSize(size.reason),
  } as PlanReport['estimates'];
  let scaleOut: ScaleOutSuggestion | null = null;
  if (size.files !== null && size.bytes !== null) {
    const input: EstimateInput = {
      direction: request.direction,
      scope: { files: size.files, bytes: size.bytes, largestBytes: size.largestFile?.bytes ?? size.bytes },
      fileSystem: fsFacts,
      instanceType,
      associationExists: Boolean(
        findSameAssociation(facts.associations, facts.target.fileSystemPath, facts.target.s3),
      ),
      preload: question.request.preload,
      verify: request.verify ?? mapping.verify,
      lustreClient: Boolean(
        config.fileSystems.find((fs) => fs.id === mapping.fileSystemId)?.lustreClientInstanceId,
      ),
    };
    try {
      estimates.dra = { possible: true, ...estimateDra(input, prices) };
    } catch (error) {
      // A checksum run without a Lustre client prices the instance it launches.
      estimates.dra = { possible: true, seconds: null, usd: null, reason: (error as Error).message };
    }
    try {
      estimates.ec2 = { possible: true, ...estimateEc2(input, prices) };
      scaleOut = suggestScaleOut(input, prices);
    } catch (error) {
      estimates.ec2 = { possible: true, seconds: null, usd: null, reason: (error as Error).message };
    }
  }
  if (failedDra.length > 0) {
    estimates.dra = {
      possible: false,
      seconds: null,
      usd: null,
      reason: `${failedDra.length} DRA prerequisite(s) failed: ${describeReasons(failedDra)}`,
    };
  }

  // The plan Validate would hand the run, with the chosen method's estimate (its deadline follows it).
  const chosen = choice ? estimates[choice.method] : undefined;
  const plan = choice
    ? buildPlan({
        config,
        request,
        mapping,
        scope,
        fileSystem,
        choice,
        executionName: 'plan',
        now,
        ...(chosen?.seconds != null && size.files !== null && size.bytes !== null
          ? {
              estimate: {
                seconds: Math.ceil(chosen.seconds),
                files: size.files,
                bytes: size.bytes,
                source: size.source === 'given' ? 'given' : 's3-listing',
              },
            }
          : {}),
      })
    : null;

  return {
    mapping: mapping.name,
    direction: request.direction,
    requestedMethod: requested,
    method: choice?.method ?? null,
    methodReasons: choice?.reasons ?? [
      {
        code: 'METHOD_DRA',
        ok: false,
        message: refused?.message ?? 'method dra is not possible',
        seen: { requested, resolved: null },
        fix: 'Fix the failed prerequisites, or use method auto to fall back to EC2',
      },
    ],
    checks: draReasons.map(checkOf),
    fileSystem: {
      id: mapping.fileSystemId,
      deploymentType: fsFacts.deploymentType,
      lustreVersion: fileSystem.FileSystemTypeVersion ?? '',
      storageCapacityGiB: fsFacts.storageCapacityGiB,
      perUnitStorageThroughput: lustre?.PerUnitStorageThroughput ?? null,
      throughputMBps: fileSystemThroughputMBps(fsFacts, prices),
    },
    scope: { ...size, fsxPath: scope.fsxPath, s3Uri },
    instanceType,
    estimates,
    scaleOut,
    prices: { asOf: prices.asOf, region: prices.region, source: prices.source },
    plan,
  };
}

function unknownSize(reason: string | undefined): MethodReport {
  return { possible: true, seconds: null, usd: null, reason: reason ?? 'the size of the scope is unknown' };
}
