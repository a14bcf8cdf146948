/**
 * The paths of the associations already on a file system, as the DRA rules see them: parsed
 * leniently (an association may have been created by hand, with characters our own rules reject),
 * and which one links exactly a mapping's paths (reuse, not overlap). The overlap rule itself is
 * `shared/paths.ts`'s.
 */
import type { DataRepositoryAssociation } from '../fsx/associations.js';
import { looseFsxPath, looseS3Location, type S3Location, sameS3Location } from '../paths.js';

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
  return associations.find(
    (a) => a.fileSystemPath === path && a.s3 !== undefined && sameS3Location(a.s3, s3),
  );
}
