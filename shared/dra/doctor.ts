/**
 * `fsx-transfer doctor`: every DRA prerequisite for every mapping, with the values seen and the
 * fix, without changing anything. A mapping whose checks all pass can use method dra; otherwise
 * `auto` falls back to EC2 for the reasons listed.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { fileSystemFor } from '../config/load.js';
import type { Config, Direction, MappingConfig } from '../config/schema.js';
import { TransferError } from '../errors.js';
import { describeFileSystem, type FileSystem, type FSxClient } from '../fsx/file-systems.js';
import { parseS3Uri } from '../paths.js';
import type { CheckStatus, Reason } from '../plan/schema.js';
import { callerAccount, type STSClient } from '../sts/identity.js';
import { checkDraPrerequisites, gatherDraFacts, PREREQUISITE_CODES, statusOf } from './prerequisites.js';

export interface MappingDiagnosis {
  mapping: string;
  fileSystemId: string;
  fsxPath: string;
  s3Uri: string;
  /** The mapping's configured method. */
  method: MappingConfig['method'];
  /** True when every DRA prerequisite holds for every direction the mapping allows. */
  draReady: boolean;
  /** What `auto` resolves to for this mapping today. */
  autoResolvesTo: 'dra' | 'ec2';
  /** Every check, in order (ok and failed); a check that differs per direction appears once per direction. */
  reasons: Reason[];
}

export interface DoctorReport {
  account?: string;
  region: string;
  ok: boolean;
  /** How many checks (over every mapping) came out ok, warn, fail and skipped. */
  counts: Record<CheckStatus, number>;
  mappings: MappingDiagnosis[];
}

export interface DoctorDeps {
  config: Config;
  fsx: FSxClient;
  s3: S3Client;
  sts: STSClient;
}

/** A failed check standing for an error that stopped the other checks (file system or bucket missing). */
function blocking(code: string, error: unknown, fix: string): Reason {
  const message = error instanceof Error ? error.message : String(error);
  return { code, ok: false, status: 'fail', message, seen: { error: (error as Error)?.name }, fix };
}

/** The prerequisites an error kept from being checked: each reported skipped, saying why. */
function notChecked(because: Reason): Reason[] {
  return PREREQUISITE_CODES.map((code) => ({
    code,
    ok: true,
    status: 'skipped' as const,
    message: `not checked: ${because.code} failed first`,
  }));
}

/** Direction-specific checks (export delete) only differ per direction; keep one copy of the rest. */
function mergeDirections(perDirection: Array<{ direction: Direction; reasons: Reason[] }>): Reason[] {
  const [first, ...rest] = perDirection;
  if (!first) return [];
  return first.reasons.flatMap((reason, index) => {
    const variants = [reason, ...rest.map((d) => d.reasons[index]!)];
    const same = variants.every((v) => v.ok === reason.ok && v.message === reason.message);
    if (same) return [reason];
    return perDirection.map(({ direction, reasons }) => ({
      ...reasons[index]!,
      message: `${direction}: ${reasons[index]!.message}`,
    }));
  });
}

/**
 * Diagnoses every mapping of the config (read-only AWS calls).
 * @returns one diagnosis per mapping, never throwing for a per-mapping problem (it becomes a reason).
 */
export async function runDoctor(deps: DoctorDeps): Promise<DoctorReport> {
  const { config } = deps;
  let account: string | undefined;
  const globalReasons: Reason[] = [];
  try {
    account = await callerAccount(deps.sts);
  } catch (error) {
    globalReasons.push(
      blocking('CALLER_IDENTITY', error, 'Configure AWS credentials (or start the local cloud) and retry'),
    );
  }
  if (account && config.accountId && account !== config.accountId) {
    globalReasons.push({
      code: 'CONFIG_ACCOUNT',
      ok: false,
      status: 'fail',
      message: `the config expects account ${config.accountId}, the credentials belong to ${account}`,
      seen: { expected: config.accountId, caller: account },
      fix: 'Use credentials of the configured account, or correct accountId in the config',
    });
  }
  const fileSystems = new Map<string, Promise<FileSystem>>();
  const mappings: MappingDiagnosis[] = [];
  for (const mapping of config.mappings) {
    const fsConfig = fileSystemFor(config, mapping);
    let reasons: Reason[];
    try {
      let described = fileSystems.get(mapping.fileSystemId);
      if (!described) {
        described = describeFileSystem(deps.fsx, mapping.fileSystemId);
        fileSystems.set(mapping.fileSystemId, described);
      }
      const fileSystem = await described;
      const perDirection = [];
      for (const direction of mapping.directions) {
        const facts = await gatherDraFacts(deps, {
          fileSystem,
          configuredRegion: fsConfig.region,
          mappingFsxPath: mapping.fsxPath,
          s3: parseS3Uri(mapping.s3Uri),
          request: {
            direction,
            delete: mapping.delete,
            include: mapping.include,
            exclude: mapping.exclude,
            preload: mapping.preload,
          },
          dataRepositoryRoleArn: fsConfig.dataRepositoryRoleArn,
          lustreClientInstanceId: fsConfig.lustreClientInstanceId,
          ...(account ? { callerAccount: account } : {}),
        });
        perDirection.push({ direction, reasons: checkDraPrerequisites(facts) });
      }
      reasons = mergeDirections(perDirection);
    } catch (error) {
      const code =
        error instanceof TransferError && error.name === 'FileSystemNotFoundError'
          ? 'FILE_SYSTEM_EXISTS'
          : error instanceof TransferError && error.name === 'BucketAccessError'
            ? 'BUCKET_EXISTS'
            : 'CHECK_FAILED';
      const cause = blocking(
        code,
        error,
        code === 'FILE_SYSTEM_EXISTS'
          ? `Correct fileSystems[].id (${mapping.fileSystemId}) or the region`
          : code === 'BUCKET_EXISTS'
            ? `Create the bucket of ${mapping.s3Uri} or correct the mapping's s3Uri`
            : 'See the message; check credentials and network access to AWS',
      );
      reasons = [cause, ...notChecked(cause)];
    }
    const all = [...globalReasons, ...reasons];
    const draReady = all.every((r) => r.ok);
    mappings.push({
      mapping: mapping.name,
      fileSystemId: mapping.fileSystemId,
      fsxPath: mapping.fsxPath,
      s3Uri: mapping.s3Uri,
      method: mapping.method,
      draReady,
      autoResolvesTo: draReady ? 'dra' : 'ec2',
      reasons: all,
    });
  }
  const counts: Record<CheckStatus, number> = { ok: 0, warn: 0, fail: 0, skipped: 0 };
  for (const reason of mappings.flatMap((m) => m.reasons)) counts[statusOf(reason)] += 1;
  return {
    ...(account ? { account } : {}),
    region: config.region,
    counts,
    // auto falling back to EC2 is a working setup; a mapping pinned to dra that cannot use one is not.
    ok: globalReasons.length === 0 && mappings.every((m) => m.draReady || m.method !== 'dra'),
    mappings,
  };
}

const LABELS: Record<CheckStatus, string> = { ok: 'ok  ', warn: 'warn', fail: 'FAIL', skipped: 'skip' };

/** Human-readable lines of a report (the CLI prints these without --json). */
export function formatDoctorReport(report: DoctorReport): string {
  const lines = [`account ${report.account ?? '(unknown)'}, region ${report.region}`];
  for (const m of report.mappings) {
    const verdict = m.draReady ? 'DRA ready' : `DRA not possible, auto -> ec2`;
    lines.push(
      '',
      `${m.mapping}: ${m.fsxPath} <-> ${m.s3Uri} on ${m.fileSystemId} (method ${m.method}): ${verdict}`,
    );
    for (const r of m.reasons) {
      const status = statusOf(r);
      lines.push(`  ${LABELS[status]} ${r.code}: ${r.message}`);
      if ((status === 'fail' || status === 'warn') && r.fix) lines.push(`       fix: ${r.fix}`);
    }
  }
  const { ok, warn, fail, skipped } = report.counts;
  lines.push('', `${ok} ok, ${warn} warn, ${fail} fail, ${skipped} skipped`);
  return lines.join('\n');
}
