/**
 * DRA prerequisites: every requirement AWS places on a data repository association, checked
 * before anything is changed. Gathering the facts (AWS calls) is separate from judging them (pure
 * `checkDraPrerequisites`), so each rule is a plain function of data and trivially testable.
 *
 * AWS facts (CreateDataRepositoryAssociation API reference, FSx for Lustre user guide):
 * - DRAs exist on Lustre 2.12 and 2.15 file systems of any deployment type except SCRATCH_1;
 * - at most 8 per file system; file system paths of DRAs on one file system must not overlap, nor
 *   may their S3 paths; a DRA on `/` must be the only one;
 * - the file system and the bucket must be in the same account and the same region;
 * - FSx reaches the bucket through a role that needs s3:GetObject, s3:PutObject, s3:ListBucket.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import type { Direction } from '../config/schema.js';
import { awsErrorName } from '../errors.js';
import { listAssociations } from '../fsx/associations.js';
import type { FileSystem, FSxClient } from '../fsx/file-systems.js';
import { formatS3Uri, fsxPathsOverlap, looseFsxPath, type S3Location, s3LocationsOverlap } from '../paths.js';
import type { Reason } from '../plan/schema.js';
import { type BucketFacts, defaultEncryption, getBucketPolicy, inspectBucket } from '../s3/buckets.js';
import { callerAccount, type STSClient } from '../sts/identity.js';
import { type AssociationPaths, findSameAssociation, toAssociationPaths } from './association-paths.js';
import { findDraDenies } from './bucket-policy.js';

/** AWS limit: data repository associations per file system. */
export const MAX_ASSOCIATIONS = 8;
export const DRA_LUSTRE_VERSIONS = ['2.12', '2.15'];

/**
 * Reason codes, in check order. Users search for these; keep them stable. `PRELOAD_CLIENT` is
 * informational (it says where a preload runs) and always holds.
 */
export const PREREQUISITE_CODES = [
  'FILE_SYSTEM_TYPE',
  'FILE_SYSTEM_AVAILABLE',
  'SAME_ACCOUNT',
  'SAME_REGION',
  'LUSTRE_VERSION',
  'DEPLOYMENT_TYPE',
  'FSX_PATH_OVERLAP',
  'S3_PREFIX_OVERLAP',
  'ASSOCIATION_LIMIT',
  'ROOT_ASSOCIATION',
  'DATA_REPOSITORY_ROLE_S3_ACCESS',
  'EXPORT_DELETE',
  'FILTERS',
  'PRELOAD_CLIENT',
] as const;
export type PrerequisiteCode = (typeof PREREQUISITE_CODES)[number];

/** Everything the rules look at, gathered once (see `gatherDraFacts`). */
export interface DraFacts {
  fileSystem: {
    id: string;
    type?: string;
    lifecycle?: string;
    lustreVersion?: string;
    deploymentType?: string;
    region: string;
    ownerId?: string;
  };
  /** The association the mapping asks for (normalised). */
  target: { fileSystemPath: string; s3: S3Location };
  callerAccount: string;
  /** Owner (the file system's account?), region, and why they could not be read. */
  bucket: BucketFacts;
  associations: AssociationPaths[];
  roleAccess: {
    checked: boolean;
    denied: string[];
    conditional: string[];
    note?: string;
    principals: string[];
  };
  request: { direction: Direction; delete: boolean; include: string[]; exclude: string[]; preload: boolean };
  lustreClientInstanceId?: string;
}

const fail = (
  code: PrerequisiteCode,
  message: string,
  seen: Record<string, unknown>,
  fix: string,
): Reason => ({
  code,
  ok: false,
  status: 'fail',
  message,
  seen,
  fix,
});
const pass = (code: PrerequisiteCode, message: string, seen: Record<string, unknown>): Reason => ({
  code,
  ok: true,
  status: 'ok',
  message,
  seen,
});
/** Holds as far as it could be seen, with something the user should look at (`fix`). */
const warn = (
  code: PrerequisiteCode,
  message: string,
  seen: Record<string, unknown>,
  fix: string,
): Reason => ({
  code,
  ok: true,
  status: 'warn',
  message,
  seen,
  fix,
});
/** Could not be checked (`why`); does not block the DRA, which FSx itself then checks. */
const skipped = (code: PrerequisiteCode, why: string, seen: Record<string, unknown>): Reason => ({
  code,
  ok: true,
  status: 'skipped',
  message: `not checked: ${why}`,
  seen,
});

/** The status of a check (reasons from before statuses existed: by `ok`). */
export function statusOf(reason: Reason): NonNullable<Reason['status']> {
  return reason.status ?? (reason.ok ? 'ok' : 'fail');
}

/**
 * Judges every DRA prerequisite. Returns one Reason per code of `PREREQUISITE_CODES`, in that
 * order; `ok: false` ones carry the values seen and the fix.
 */
export function checkDraPrerequisites(facts: DraFacts): Reason[] {
  const { fileSystem: fs, target, bucket } = facts;
  const targetUri = formatS3Uri(target.s3);
  const reuse = findSameAssociation(facts.associations, target.fileSystemPath, target.s3);
  const others = facts.associations.filter((a) => a !== reuse);
  const reasons: Reason[] = [];

  reasons.push(
    fs.type === 'LUSTRE'
      ? pass('FILE_SYSTEM_TYPE', `${fs.id} is an FSx for Lustre file system`, { type: fs.type })
      : fail(
          'FILE_SYSTEM_TYPE',
          `${fs.id} is ${fs.type ?? 'of unknown type'}, not LUSTRE: data repository associations exist only on FSx for Lustre`,
          { fileSystemId: fs.id, type: fs.type },
          'Point the mapping at an FSx for Lustre file system',
        ),
  );
  reasons.push(
    fs.lifecycle === 'AVAILABLE'
      ? pass('FILE_SYSTEM_AVAILABLE', `${fs.id} is AVAILABLE`, { lifecycle: fs.lifecycle })
      : fail(
          'FILE_SYSTEM_AVAILABLE',
          `${fs.id} is ${fs.lifecycle ?? 'in an unknown state'}, not AVAILABLE`,
          { fileSystemId: fs.id, lifecycle: fs.lifecycle },
          'Wait until the file system is AVAILABLE (aws fsx describe-file-systems) or fix what its FailureDetails name',
        ),
  );

  const fsAccount = fs.ownerId ?? facts.callerAccount;
  reasons.push(
    bucket.sameOwner === true
      ? pass(
          'SAME_ACCOUNT',
          `bucket ${target.s3.bucket} belongs to account ${fsAccount}, like the file system`,
          {
            account: fsAccount,
          },
        )
      : fail(
          'SAME_ACCOUNT',
          bucket.sameOwner === false
            ? `bucket ${target.s3.bucket} is not owned by account ${fsAccount}, which owns ${fs.id}`
            : `the owner of bucket ${target.s3.bucket} could not be confirmed as account ${fsAccount} (${bucket.problem ?? 'unknown'})`,
          {
            bucket: target.s3.bucket,
            fileSystemAccount: fsAccount,
            callerAccount: facts.callerAccount,
            problem: bucket.problem,
          },
          `Link a bucket owned by account ${fsAccount} (copy or replicate the data there), or use method ec2 with a bucket policy that lets the transfer instance role read and write the prefix`,
        ),
  );
  reasons.push(
    bucket.region && bucket.region === fs.region
      ? pass('SAME_REGION', `bucket and file system are both in ${fs.region}`, { region: fs.region })
      : fail(
          'SAME_REGION',
          bucket.region
            ? `bucket ${target.s3.bucket} is in ${bucket.region}, the file system in ${fs.region}`
            : `the region of bucket ${target.s3.bucket} could not be read (${bucket.problem ?? 'unknown'})`,
          { bucketRegion: bucket.region, fileSystemRegion: fs.region },
          `Use a bucket in ${fs.region} (for example with S3 replication), or use method ec2`,
        ),
  );
  reasons.push(
    fs.lustreVersion && DRA_LUSTRE_VERSIONS.includes(fs.lustreVersion)
      ? pass('LUSTRE_VERSION', `Lustre ${fs.lustreVersion} supports data repository associations`, {
          lustreVersion: fs.lustreVersion,
        })
      : fail(
          'LUSTRE_VERSION',
          `${fs.id} runs Lustre ${fs.lustreVersion ?? '(unknown)'}; data repository associations need 2.12 or 2.15 (2.10 only has the legacy ImportPath/ExportPath)`,
          { lustreVersion: fs.lustreVersion },
          'Use a Lustre 2.15 file system (create one, or restore a backup into one), or use method ec2',
        ),
  );
  reasons.push(
    fs.deploymentType && fs.deploymentType !== 'SCRATCH_1'
      ? pass(
          'DEPLOYMENT_TYPE',
          `deployment type ${fs.deploymentType} supports data repository associations`,
          {
            deploymentType: fs.deploymentType,
          },
        )
      : fail(
          'DEPLOYMENT_TYPE',
          `${fs.id} is ${fs.deploymentType ?? 'of unknown deployment type'}; SCRATCH_1 file systems have no data repository associations`,
          { deploymentType: fs.deploymentType },
          'Use a SCRATCH_2, PERSISTENT_1 or PERSISTENT_2 file system, or use method ec2',
        ),
  );

  // A DRA on '/' is judged by ROOT_ASSOCIATION alone, so each rule fails for one cause only.
  const pathConflicts =
    target.fileSystemPath === '/'
      ? []
      : others.filter(
          (a) => a.fileSystemPath !== '/' && fsxPathsOverlap(a.fileSystemPath, target.fileSystemPath),
        );
  reasons.push(
    pathConflicts.length === 0
      ? pass('FSX_PATH_OVERLAP', `${target.fileSystemPath} overlaps no other association on ${fs.id}`, {
          fileSystemPath: target.fileSystemPath,
          reuse: reuse?.associationId,
        })
      : fail(
          'FSX_PATH_OVERLAP',
          `file system path ${target.fileSystemPath} overlaps ${pathConflicts
            .map((a) => `${a.fileSystemPath} (${a.associationId})`)
            .join(', ')}; paths of associations on one file system must not contain each other`,
          {
            fileSystemPath: target.fileSystemPath,
            conflicts: pathConflicts.map((a) => ({
              associationId: a.associationId,
              fileSystemPath: a.fileSystemPath,
            })),
          },
          'Choose a mapping fsxPath outside the existing association paths, or delete the conflicting association',
        ),
  );
  const s3Conflicts = others.filter((a) => a.s3 && s3LocationsOverlap(a.s3, target.s3));
  reasons.push(
    s3Conflicts.length === 0
      ? pass('S3_PREFIX_OVERLAP', `${targetUri} overlaps no S3 path linked to ${fs.id}`, { s3Uri: targetUri })
      : fail(
          'S3_PREFIX_OVERLAP',
          `${targetUri} overlaps ${s3Conflicts
            .map((a) => `${a.dataRepositoryPath} (${a.associationId})`)
            .join(
              ', ',
            )}, already linked to ${fs.id}; S3 paths of associations on one file system must not contain each other`,
          {
            s3Uri: targetUri,
            conflicts: s3Conflicts.map((a) => ({
              associationId: a.associationId,
              dataRepositoryPath: a.dataRepositoryPath,
            })),
          },
          'Choose a mapping s3Uri outside the linked prefixes, or delete the conflicting association',
        ),
  );
  reasons.push(
    reuse || facts.associations.length < MAX_ASSOCIATIONS
      ? pass('ASSOCIATION_LIMIT', `${facts.associations.length} of ${MAX_ASSOCIATIONS} associations in use`, {
          count: facts.associations.length,
          reuse: reuse?.associationId,
        })
      : fail(
          'ASSOCIATION_LIMIT',
          `${fs.id} already has ${facts.associations.length} data repository associations, the maximum is ${MAX_ASSOCIATIONS}`,
          { count: facts.associations.length, limit: MAX_ASSOCIATIONS },
          'Delete an association that is no longer needed, or use method ec2',
        ),
  );
  const rootAssociation = others.find((a) => a.fileSystemPath === '/');
  const rootProblem = rootAssociation
    ? `${rootAssociation.associationId} links the file system root /, so it must be the only association`
    : target.fileSystemPath === '/' && others.length > 0
      ? `a new association on / must be the only one, but ${fs.id} has ${others.length}`
      : undefined;
  reasons.push(
    rootProblem
      ? fail(
          'ROOT_ASSOCIATION',
          rootProblem,
          {
            rootAssociation: rootAssociation?.associationId,
            fileSystemPath: target.fileSystemPath,
            others: others.map((a) => a.associationId),
          },
          rootAssociation
            ? `Transfer through the root association (map fsxPath / to ${rootAssociation.dataRepositoryPath}), or use method ec2`
            : 'Choose a mapping fsxPath below /, or use method ec2',
        )
      : pass('ROOT_ASSOCIATION', 'no association on / conflicts', {}),
  );

  const role = facts.roleAccess;
  const roleSeen = {
    checked: role.checked,
    conditional: role.conditional,
    principals: role.principals,
    note: role.note,
  };
  const noDeny = `the bucket policy denies none of s3:GetObject, s3:PutObject, s3:ListBucket on ${targetUri}`;
  reasons.push(
    !role.checked
      ? skipped(
          'DATA_REPOSITORY_ROLE_S3_ACCESS',
          `the bucket policy of ${target.s3.bucket} could not be read (${role.note ?? 'unreadable'}); FSx checks the role's access when the association is created`,
          roleSeen,
        )
      : role.denied.length === 0 && (role.conditional.length > 0 || role.note)
        ? warn(
            'DATA_REPOSITORY_ROLE_S3_ACCESS',
            `${noDeny}${role.conditional.length ? `; conditional denies were not evaluated: ${role.conditional.join(', ')}` : ''}${role.note ? `; ${role.note}` : ''}`,
            roleSeen,
            'Check that the conditions of those denies, and the KMS key policy, let the FSx role read and write the prefix',
          )
        : role.denied.length === 0
          ? pass('DATA_REPOSITORY_ROLE_S3_ACCESS', noDeny, roleSeen)
          : fail(
              'DATA_REPOSITORY_ROLE_S3_ACCESS',
              `the bucket policy of ${target.s3.bucket} denies FSx ${role.denied.join(', ')}`,
              { denied: role.denied, principals: role.principals },
              `Remove the deny for the FSx role, so it can use s3:GetObject, s3:PutObject and s3:ListBucket on ${targetUri} (for SSE-KMS buckets also allow the role in the key policy)`,
            ),
  );

  const req = facts.request;
  reasons.push(
    req.direction === 'export' && req.delete
      ? fail(
          'EXPORT_DELETE',
          'delete was requested for an export, but a DRA export never deletes objects in S3',
          { direction: req.direction, delete: req.delete },
          'Use method ec2 (aws s3 sync --delete), or export without delete',
        )
      : pass('EXPORT_DELETE', 'no S3 deletions are required', { delete: req.delete }),
  );
  reasons.push(
    req.include.length + req.exclude.length > 0
      ? fail(
          'FILTERS',
          'include/exclude filters are set, but a data repository association always covers the whole prefix',
          { include: req.include, exclude: req.exclude },
          'Use method ec2 (aws s3 sync applies the filters), or remove the filters from the mapping',
        )
      : pass('FILTERS', 'no include/exclude filters', {}),
  );
  // Informational, never fails: without a configured Lustre client the DRA branch launches a
  // transfer instance for the preload (as the EC2 method does) and terminates it afterwards.
  const preload = req.direction === 'stage-in' && req.preload;
  reasons.push(
    pass(
      'PRELOAD_CLIENT',
      !preload
        ? 'no preload requested'
        : facts.lustreClientInstanceId
          ? `preload runs lfs hsm_restore on the configured Lustre client ${facts.lustreClientInstanceId}`
          : 'preload runs lfs hsm_restore on a transfer instance launched for it and terminated afterwards (no lustreClientInstanceId is configured)',
      {
        preload,
        lustreClientInstanceId: facts.lustreClientInstanceId ?? null,
        ...(preload
          ? { runsOn: facts.lustreClientInstanceId ? 'configured-client' : 'launched-instance' }
          : {}),
      },
    ),
  );
  return reasons;
}

export interface GatherDeps {
  fsx: FSxClient;
  s3: S3Client;
  sts: STSClient;
}

export interface GatherInput {
  /** As returned by DescribeFileSystems. */
  fileSystem: FileSystem;
  /** Region of the file system when the ARN does not say (the config). */
  configuredRegion: string;
  mappingFsxPath: string;
  s3: S3Location;
  request: DraFacts['request'];
  dataRepositoryRoleArn?: string;
  lustreClientInstanceId?: string;
  /** Caller account, when already known (saves a call). */
  callerAccount?: string;
}

/** The region in an FSx ARN (`arn:aws:fsx:us-east-1:1234:file-system/fs-1`), if any. */
export function regionFromArn(arn: string | undefined): string | undefined {
  return arn?.split(':')[3] || undefined;
}

/** Role ARNs FSx may use for the association: the configured role and the service-linked role. */
export function fsxPrincipalArns(account: string, fileSystemId: string, roleArn?: string): string[] {
  const slr = `arn:aws:iam::${account}:role/aws-service-role/s3.data-source.lustre.fsx.amazonaws.com/AWSServiceRoleForFSxS3Access_${fileSystemId}`;
  return roleArn ? [roleArn, slr] : [slr];
}

async function inspectRoleAccess(
  s3: S3Client,
  target: S3Location,
  principals: string[],
  expectedOwner: string,
): Promise<DraFacts['roleAccess']> {
  let policy: string | undefined;
  try {
    policy = await getBucketPolicy(s3, target.bucket, expectedOwner);
  } catch (error) {
    const note = `GetBucketPolicy failed (${awsErrorName(error)})`;
    return { checked: false, denied: [], conditional: [], principals, note };
  }
  if (policy === undefined) return { checked: true, denied: [], conditional: [], principals };
  const result = policy
    ? findDraDenies({ policy, bucket: target.bucket, prefix: target.prefix, principalArns: principals })
    : { denied: [], conditional: [] };
  const encryption = await defaultEncryption(s3, target.bucket, expectedOwner);
  const note = encryption?.algorithm?.startsWith('aws:kms')
    ? `bucket uses SSE-KMS (${encryption.kmsKeyId ?? 'aws/s3'}): its key policy must allow the FSx role`
    : undefined;
  return { checked: true, ...result, principals, note };
}

/**
 * Gathers the facts for `checkDraPrerequisites`: caller account, bucket owner and region,
 * existing associations, bucket policy denies.
 * @throws BucketAccessError when the bucket does not exist; SDK errors of DescribeDataRepositoryAssociations.
 */
export async function gatherDraFacts(deps: GatherDeps, input: GatherInput): Promise<DraFacts> {
  const fileSystem = input.fileSystem;
  const id = fileSystem.FileSystemId ?? '(unknown)';
  const account = input.callerAccount ?? (await callerAccount(deps.sts)) ?? '(unknown)';
  const owner = fileSystem.OwnerId ?? account;
  const target = { fileSystemPath: looseFsxPath(input.mappingFsxPath), s3: input.s3 };
  const isLustre = fileSystem.FileSystemType === 'LUSTRE';
  const [bucket, associations, roleAccess] = await Promise.all([
    inspectBucket(deps.s3, input.s3.bucket, owner),
    isLustre
      ? listAssociations(deps.fsx, id).then((list) => list.map(toAssociationPaths))
      : Promise.resolve([]),
    inspectRoleAccess(deps.s3, input.s3, fsxPrincipalArns(owner, id, input.dataRepositoryRoleArn), owner),
  ]);
  return {
    fileSystem: {
      id,
      type: fileSystem.FileSystemType,
      lifecycle: fileSystem.Lifecycle,
      lustreVersion: fileSystem.FileSystemTypeVersion,
      deploymentType: fileSystem.LustreConfiguration?.DeploymentType,
      region: regionFromArn(fileSystem.ResourceARN) ?? input.configuredRegion,
      ownerId: fileSystem.OwnerId,
    },
    target,
    callerAccount: account,
    bucket,
    associations,
    roleAccess,
    request: input.request,
    lustreClientInstanceId: input.lustreClientInstanceId,
  };
}

/** The failed reasons only. */
export const failedReasons = (reasons: readonly Reason[]): Reason[] => reasons.filter((r) => !r.ok);

/** One line per failed reason: `CODE: message (fix: ...)`. */
export function describeReasons(reasons: readonly Reason[]): string {
  return failedReasons(reasons)
    .map((r) => `${r.code}: ${r.message}${r.fix ? ` (fix: ${r.fix})` : ''}`)
    .join('; ');
}
