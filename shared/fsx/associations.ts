/**
 * FSx data repository associations: listing (all pages), describing and creating. Not-found answers
 * become `undefined` or an empty list; every other SDK error is thrown unchanged for the caller to
 * map (the caller knows the mapping and the paths a message should name).
 */
import {
  CreateDataRepositoryAssociationCommand,
  type CreateDataRepositoryAssociationRequest,
  type DataRepositoryAssociation,
  DescribeDataRepositoryAssociationsCommand,
  type EventType,
  type FSxClient,
  paginateDescribeDataRepositoryAssociations,
} from '@aws-sdk/client-fsx';
import { unlessMissing } from '../aws/missing.js';
import { awsErrorName } from '../errors.js';

export type { DataRepositoryAssociation, EventType };

/** Every data repository association of a file system (all pages). */
export async function listAssociations(
  fsx: FSxClient,
  fileSystemId: string,
): Promise<DataRepositoryAssociation[]> {
  const all: DataRepositoryAssociation[] = [];
  try {
    const pages = paginateDescribeDataRepositoryAssociations(
      { client: fsx, pageSize: 25 },
      { Filters: [{ Name: 'file-system-id', Values: [fileSystemId] }] },
    );
    for await (const page of pages) all.push(...(page.Associations ?? []));
  } catch (error) {
    // Some endpoints answer "none" with this error instead of an empty list.
    if (awsErrorName(error) !== 'DataRepositoryAssociationNotFound') throw error;
  }
  return all;
}

/** One association, or undefined when FSx no longer knows it. */
export async function describeAssociation(
  fsx: FSxClient,
  associationId: string,
): Promise<DataRepositoryAssociation | undefined> {
  const out = await unlessMissing(
    fsx.send(new DescribeDataRepositoryAssociationsCommand({ AssociationIds: [associationId] })),
    'DataRepositoryAssociationNotFound',
  );
  return out?.Associations?.[0];
}

/** Creates an association (idempotent for the same ClientRequestToken); undefined if FSx returned none. */
export async function createAssociation(
  fsx: FSxClient,
  request: CreateDataRepositoryAssociationRequest,
): Promise<DataRepositoryAssociation | undefined> {
  return (await fsx.send(new CreateDataRepositoryAssociationCommand(request))).Association;
}
