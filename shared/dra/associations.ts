/**
 * Data repository associations as this project sees them: the paths AWS returns, parsed leniently
 * (existing associations may have been created by hand, with characters our own rules reject),
 * reuse of an association with the same paths, and paging. The overlap rule is `shared/paths.ts`'s.
 */
import {
  type DataRepositoryAssociation,
  DescribeDataRepositoryAssociationsCommand,
  type DescribeDataRepositoryAssociationsCommandOutput,
  type FSxClient,
} from '@aws-sdk/client-fsx';
import { awsErrorName } from '../errors.js';
import { looseFsxPath, looseS3Location, type S3Location } from '../paths.js';

/** The parts of an association the rules look at (paths normalised). */
export interface AssociationPaths {
  associationId: string;
  lifecycle: string;
  /** Normalised absolute file system path ('/' for the root). */
  fileSystemPath: string;
  /** Data repository location (trailing slash removed); undefined for non-S3 repositories. */
  s3?: S3Location;
  dataRepositoryPath: string;
}

export function toAssociationPaths(association: DataRepositoryAssociation): AssociationPaths {
  return {
    associationId: association.AssociationId ?? '(unknown)',
    lifecycle: association.Lifecycle ?? 'UNKNOWN',
    fileSystemPath: looseFsxPath(association.FileSystemPath),
    s3: looseS3Location(association.DataRepositoryPath),
    dataRepositoryPath: association.DataRepositoryPath ?? '',
  };
}

export function sameS3Location(a: S3Location | undefined, b: S3Location): boolean {
  return Boolean(a) && a!.bucket === b.bucket && a!.prefix === b.prefix;
}

/**
 * The existing association linking exactly `fileSystemPath` to `s3` (reuse, not overlap), if any.
 * Both sides are compared after normalisation, so `/ExtData/` and `s3://b/ExtData/` match.
 */
export function findSameAssociation(
  associations: readonly AssociationPaths[],
  fileSystemPath: string,
  s3: S3Location,
): AssociationPaths | undefined {
  const path = looseFsxPath(fileSystemPath);
  return associations.find((a) => a.fileSystemPath === path && sameS3Location(a.s3, s3));
}

/**
 * Every data repository association of a file system (all pages).
 * @throws the SDK error (FileSystemNotFound...) unchanged; callers map it.
 */
export async function listAssociations(
  fsx: FSxClient,
  fileSystemId: string,
): Promise<DataRepositoryAssociation[]> {
  const all: DataRepositoryAssociation[] = [];
  let NextToken: string | undefined;
  do {
    let page: DescribeDataRepositoryAssociationsCommandOutput;
    try {
      page = await fsx.send(
        new DescribeDataRepositoryAssociationsCommand({
          Filters: [{ Name: 'file-system-id', Values: [fileSystemId] }],
          MaxResults: 25,
          NextToken,
        }),
      );
    } catch (error) {
      // Some endpoints answer "none" with this error instead of an empty list.
      if (awsErrorName(error) === 'DataRepositoryAssociationNotFound') return all;
      throw error;
    }
    all.push(...(page.Associations ?? []));
    NextToken = page.NextToken;
  } while (NextToken);
  return all;
}
