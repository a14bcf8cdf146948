import {
  CreateDataRepositoryAssociationCommand,
  DescribeDataRepositoryAssociationsCommand,
  FSxClient,
} from '@aws-sdk/client-fsx';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  associationToken,
  checkAssociation,
  ensureAssociation,
} from '../../../shared/dra/ensure-association.js';
import type { AssociationState } from '../../../shared/dra/state.js';
import { awsError, fsxMock } from './aws-mocks.js';
import { association, BUCKET, buildPlan, FS_ID } from './builders.js';

const fsx = () => ({ fsx: new FSxClient({}) });

describe('ensureAssociation', () => {
  beforeEach(() => {
    fsxMock.reset();
    fsxMock.on(DescribeDataRepositoryAssociationsCommand).resolves({ Associations: [] });
  });

  it('creates an import-only association with a token derived from the mapping and the run', async () => {
    const created = {
      ...association('/ExtData', `s3://${BUCKET}/ExtData`, 'CREATING'),
      BatchImportMetaDataOnCreate: true,
    };
    fsxMock.on(CreateDataRepositoryAssociationCommand).resolves({ Association: created });
    const plan = buildPlan();

    const state = await ensureAssociation(fsx(), plan);

    expect(state).toMatchObject({
      associationId: created.AssociationId,
      created: true,
      lifecycle: 'CREATING',
    });
    const input = fsxMock.commandCalls(CreateDataRepositoryAssociationCommand)[0]!.args[0].input;
    expect(input).toMatchObject({
      FileSystemId: FS_ID,
      FileSystemPath: '/ExtData',
      DataRepositoryPath: `s3://${BUCKET}/ExtData`,
      BatchImportMetaDataOnCreate: true,
      S3: { AutoImportPolicy: { Events: ['NEW', 'CHANGED', 'DELETED'] } },
      ClientRequestToken: associationToken(plan),
    });
    expect(input.S3?.AutoExportPolicy).toBeUndefined();
    expect(input.Tags).toContainEqual({ Key: 'fsx-transfer:mapping', Value: 'extdata' });
  });

  it('adds auto-export for new and changed files, never deletions, when the mapping opts in', async () => {
    fsxMock
      .on(CreateDataRepositoryAssociationCommand)
      .resolves({ Association: association('/ExtData', `s3://${BUCKET}/ExtData`) });

    await ensureAssociation(fsx(), buildPlan({ options: { autoExport: true } }));

    const input = fsxMock.commandCalls(CreateDataRepositoryAssociationCommand)[0]!.args[0].input;
    expect(input.S3?.AutoExportPolicy).toEqual({ Events: ['NEW', 'CHANGED'] });
  });

  it('reuses an association with the same paths instead of creating a second one', async () => {
    const existing = association('/ExtData/', `s3://${BUCKET}/ExtData/`);
    fsxMock.on(DescribeDataRepositoryAssociationsCommand).resolves({ Associations: [existing] });

    const state = await ensureAssociation(fsx(), buildPlan());

    expect(state).toMatchObject({ associationId: existing.AssociationId, created: false });
    expect(fsxMock.commandCalls(CreateDataRepositoryAssociationCommand)).toHaveLength(0);
  });

  it('refuses to create when an overlapping association appeared since Validate', async () => {
    fsxMock
      .on(DescribeDataRepositoryAssociationsCommand)
      .resolves({ Associations: [association('/ExtData/sub', 's3://other-bucket/sub')] });

    await expect(ensureAssociation(fsx(), buildPlan())).rejects.toMatchObject({ name: 'PathOverlapError' });
    expect(fsxMock.commandCalls(CreateDataRepositoryAssociationCommand)).toHaveLength(0);
  });

  it('maps ServiceLimitExceeded to DraPrerequisiteError', async () => {
    fsxMock.on(CreateDataRepositoryAssociationCommand).rejects(awsError('ServiceLimitExceeded'));

    await expect(ensureAssociation(fsx(), buildPlan())).rejects.toMatchObject({
      name: 'DraPrerequisiteError',
    });
  });

  it('turns throttling into TransientAwsError so the state machine retries', async () => {
    fsxMock.on(CreateDataRepositoryAssociationCommand).rejects(awsError('ThrottlingException', 400));

    await expect(ensureAssociation(fsx(), buildPlan())).rejects.toMatchObject({ name: 'TransientAwsError' });
  });
});

describe('associationToken', () => {
  it('is at most 63 characters of the allowed set, stable, and changes with the mapping settings', () => {
    const long = buildPlan();
    long.mapping = 'a'.repeat(40);

    const token = associationToken(long);

    expect(token.length).toBeLessThanOrEqual(63);
    expect(token).toMatch(/^[A-Za-z0-9_.-]{1,63}$/);
    expect(associationToken(buildPlan())).toBe(associationToken(buildPlan()));
    expect(associationToken(buildPlan({ options: { autoExport: true } }))).not.toBe(
      associationToken(buildPlan()),
    );
  });

  it('differs per run, so a later run never gets back an association deleted since', () => {
    const run = (transferId: string) => ({ ...buildPlan(), transferId });

    expect(associationToken(run('run-2'))).not.toBe(associationToken(run('run-1')));
  });
});

describe('ensureAssociation when another run creates the same association at once', () => {
  beforeEach(() => fsxMock.reset());

  it('reuses the association the other run created instead of failing on the overlap', async () => {
    const other = association('/ExtData', `s3://${BUCKET}/ExtData`, 'CREATING');
    fsxMock
      .on(DescribeDataRepositoryAssociationsCommand)
      .resolvesOnce({ Associations: [] })
      .resolves({ Associations: [other] });
    fsxMock
      .on(CreateDataRepositoryAssociationCommand)
      .rejects(awsError('BadRequest', 400, 'File system path /ExtData overlaps an existing association'));

    const state = await ensureAssociation(fsx(), buildPlan());

    expect(state).toMatchObject({ associationId: other.AssociationId, created: false });
  });
});

describe('checkAssociation', () => {
  const state: AssociationState = {
    associationId: 'dra-0123456789abcdef0',
    lifecycle: 'CREATING',
    created: true,
    fileSystemPath: '/ExtData',
    dataRepositoryPath: `s3://${BUCKET}/ExtData`,
    autoImportEvents: [],
    autoExportEvents: [],
    batchImportMetaDataOnCreate: true,
    notes: [],
  };
  const describeAs = (Lifecycle: string, Message?: string) =>
    fsxMock.on(DescribeDataRepositoryAssociationsCommand).resolves({
      Associations: [
        {
          ...association('/ExtData', `s3://${BUCKET}/ExtData`, Lifecycle),
          AssociationId: state.associationId,
          ...(Message ? { FailureDetails: { Message } } : {}),
        },
      ],
    });
  beforeEach(() => fsxMock.reset());

  it('returns the association once it is AVAILABLE', async () => {
    describeAs('AVAILABLE');

    await expect(checkAssociation(fsx(), buildPlan(), state)).resolves.toMatchObject({
      lifecycle: 'AVAILABLE',
      created: true,
    });
  });

  it.each(['CREATING', 'UPDATING'])('asks for a retry while %s', async (lifecycle) => {
    describeAs(lifecycle);

    await expect(checkAssociation(fsx(), buildPlan(), state)).rejects.toMatchObject({
      name: 'NotReadyYetError',
    });
  });

  it('fails with DraMisconfiguredError carrying FailureDetails.Message', async () => {
    describeAs('MISCONFIGURED', 'Access denied to s3://bucket for the FSx role');

    await expect(checkAssociation(fsx(), buildPlan(), state)).rejects.toMatchObject({
      name: 'DraMisconfiguredError',
      message: expect.stringContaining('Access denied to s3://bucket for the FSx role'),
    });
  });

  it('fails with DraFailedError carrying FailureDetails.Message', async () => {
    describeAs('FAILED', 'The bucket was deleted');

    await expect(checkAssociation(fsx(), buildPlan(), state)).rejects.toMatchObject({
      name: 'DraFailedError',
      message: expect.stringContaining('The bucket was deleted'),
    });
  });

  it('gives up with TransferTimeoutError after the deadline', async () => {
    describeAs('CREATING');

    const result = checkAssociation(fsx(), buildPlan({ deadline: '2000-01-01T00:00:00Z' }), state);

    await expect(result).rejects.toMatchObject({ name: 'TransferTimeoutError' });
  });
});
