import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fileSystemSpecs } from '../../../local/fsx/service.js';
import type { AssociationDescription } from '../../../local/fsx/store.js';
import { loadConfig } from '../../../shared/config/load.js';
import { ACCOUNT, call, ctx, failure, type Harness, harness, waitFor } from './fsx-helpers.js';

const FS = 'fs-0123456789abcdef0';
const BUCKET = 'dzhang-imi-gchp-test';

type Describe = { Associations: AssociationDescription[]; NextToken?: string };

/** The seed's DRA 1 (import-only), as the AWS CLI sends it. */
const seedDra = (overrides: Record<string, unknown> = {}) => ({
  FileSystemId: FS,
  FileSystemPath: '/ExtData',
  DataRepositoryPath: `s3://${BUCKET}/ExtData`,
  BatchImportMetaDataOnCreate: true,
  S3: { AutoImportPolicy: { Events: ['NEW', 'CHANGED', 'DELETED'] } },
  Tags: [{ Key: 'Name', Value: 'dra-extdata' }],
  ClientRequestToken: 'dra-extdata-001',
  ...overrides,
});

let h: Harness;

beforeEach(() => {
  h = harness({ fileSystems: [{ id: FS }] });
  h.s3.createBucket(BUCKET);
});

afterEach(async () => {
  await h.close();
});

async function create(input: Record<string, unknown>): Promise<AssociationDescription> {
  const out = await call<{ Association: AssociationDescription }>(
    h.fsx,
    'CreateDataRepositoryAssociation',
    input,
  );
  return out.Association;
}

async function describe1(id: string): Promise<AssociationDescription> {
  const out = await call<Describe>(h.fsx, 'DescribeDataRepositoryAssociations', { AssociationIds: [id] });
  return out.Associations[0] as AssociationDescription;
}

async function lifecycle(id: string, wanted: string): Promise<AssociationDescription> {
  return waitFor(
    async () => {
      const d = await describe1(id);
      return d.Lifecycle === wanted ? d : undefined;
    },
    3000,
    `${id} ${wanted}`,
  );
}

describe('CreateDataRepositoryAssociation', () => {
  it('creates the seed DRA in CREATING and makes it AVAILABLE after the creation delay', async () => {
    const created = await create(seedDra());

    const available = await lifecycle(created.AssociationId, 'AVAILABLE');

    expect(created.Lifecycle).toBe('CREATING');
    expect(created.AssociationId).toMatch(/^dra-[0-9a-f]{17}$/);
    expect(created.ResourceARN).toBe(
      `arn:aws:fsx:us-east-1:${ACCOUNT}:association/${FS}/${created.AssociationId}`,
    );
    expect(available).toMatchObject({
      FileSystemId: FS,
      FileSystemPath: '/ExtData',
      DataRepositoryPath: `s3://${BUCKET}/ExtData`,
      BatchImportMetaDataOnCreate: true,
      ImportedFileChunkSize: 1024,
      S3: { AutoImportPolicy: { Events: ['NEW', 'CHANGED', 'DELETED'] } },
      Tags: [{ Key: 'Name', Value: 'dra-extdata' }],
    });
    expect(typeof available.CreationTime).toBe('number');
    expect(existsSync(join(h.fsx.fileSystemRoot(FS), 'ExtData'))).toBe(true);
  });

  it('refuses a file system path that overlaps an existing DRA, in either direction', async () => {
    await create(seedDra());

    const below = await failure(
      create(
        seedDra({
          FileSystemPath: '/ExtData/sub',
          DataRepositoryPath: `s3://${BUCKET}/other`,
          ClientRequestToken: 'a',
        }),
      ),
    );
    const above = await failure(
      create(
        seedDra({ FileSystemPath: '/', DataRepositoryPath: `s3://${BUCKET}/x`, ClientRequestToken: 'b' }),
      ),
    );
    const trailing = await failure(
      create(
        seedDra({
          FileSystemPath: '/ExtData/',
          DataRepositoryPath: `s3://${BUCKET}/y`,
          ClientRequestToken: 'c',
        }),
      ),
    );

    expect(below.code).toBe('BadRequest');
    expect(below.message).toContain('overlaps with the file system path /ExtData');
    expect(above.code).toBe('BadRequest');
    expect(above.message).toContain('file system path /');
    expect(trailing.code).toBe('BadRequest');
  });

  it('refuses a data repository path that overlaps an existing DRA on the same file system', async () => {
    await create(seedDra());

    const nested = await failure(
      create(
        seedDra({
          FileSystemPath: '/other',
          DataRepositoryPath: `s3://${BUCKET}/ExtData/sub`,
          ClientRequestToken: 'a',
        }),
      ),
    );
    const bucket = await failure(
      create(
        seedDra({ FileSystemPath: '/other', DataRepositoryPath: `s3://${BUCKET}`, ClientRequestToken: 'b' }),
      ),
    );
    const sibling = await create(
      seedDra({
        FileSystemPath: '/other',
        DataRepositoryPath: `s3://${BUCKET}/ExtData2`,
        ClientRequestToken: 'c',
      }),
    );

    expect(nested.code).toBe('BadRequest');
    expect(nested.message).toContain('data repository path');
    expect(bucket.code).toBe('BadRequest');
    expect(sibling.Lifecycle).toBe('CREATING');
  });

  it('allows a DRA on / only as the only DRA of the file system', async () => {
    await create(seedDra({ FileSystemPath: '/', DataRepositoryPath: `s3://${BUCKET}/all` }));

    const second = await failure(
      create(
        seedDra({
          FileSystemPath: '/elsewhere',
          DataRepositoryPath: `s3://${BUCKET}/b`,
          ClientRequestToken: 'x',
        }),
      ),
    );

    expect(second.code).toBe('BadRequest');
    expect(second.message).toContain('file system path / can only be used');
  });

  it('refuses a ninth DRA on one file system', async () => {
    for (let i = 0; i < 8; i += 1) {
      await create(
        seedDra({
          FileSystemPath: `/d${i}`,
          DataRepositoryPath: `s3://${BUCKET}/d${i}`,
          ClientRequestToken: `t${i}`,
        }),
      );
    }

    const ninth = await failure(
      create(
        seedDra({ FileSystemPath: '/d8', DataRepositoryPath: `s3://${BUCKET}/d8`, ClientRequestToken: 't8' }),
      ),
    );

    expect(ninth.code).toBe('BadRequest');
    expect(ninth.message).toContain('8 data repository associations');
  });

  it('creates the DRAs of a file system one at a time, in request order', async () => {
    const first = await create(seedDra({ BatchImportMetaDataOnCreate: false }));
    const second = await create(
      seedDra({
        FileSystemPath: '/b',
        DataRepositoryPath: `s3://${BUCKET}/b`,
        ClientRequestToken: 'b',
        BatchImportMetaDataOnCreate: false,
      }),
    );

    await lifecycle(first.AssociationId, 'AVAILABLE');
    const secondWhenFirstDone = (await describe1(second.AssociationId)).Lifecycle;
    await lifecycle(second.AssociationId, 'AVAILABLE');

    expect(secondWhenFirstDone).toBe('CREATING');
  });

  it('rejects SCRATCH_1 and Lustre 2.10 file systems with UnsupportedOperation', async () => {
    const scratch = await h.fsx.createFileSystem({ deploymentType: 'SCRATCH_1' });
    const old = await h.fsx.createFileSystem({
      deploymentType: 'PERSISTENT_1',
      fileSystemTypeVersion: '2.10',
    });

    const onScratch = await failure(create(seedDra({ FileSystemId: scratch.FileSystemId })));
    const onOld = await failure(
      create(seedDra({ FileSystemId: old.FileSystemId, ClientRequestToken: 'old' })),
    );

    expect(scratch.FileSystemTypeVersion).toBe('2.10');
    expect(onScratch.code).toBe('UnsupportedOperation');
    expect(onScratch.message).toContain('SCRATCH_1');
    expect(onOld.code).toBe('UnsupportedOperation');
    expect(onOld.message).toContain('2.12 and 2.15');
  });

  it('accepts SCRATCH_2 and PERSISTENT_1 file systems on Lustre 2.12', async () => {
    const scratch2 = await h.fsx.createFileSystem({
      deploymentType: 'SCRATCH_2',
      fileSystemTypeVersion: '2.12',
    });

    const created = await create(seedDra({ FileSystemId: scratch2.FileSystemId }));

    expect(created.Lifecycle).toBe('CREATING');
  });

  it('cannot validate access to a bucket that does not exist or belongs to another account', async () => {
    h.fsx.setBucket('foreign-bucket', { ownerAccountId: '111122223333' });
    h.s3.createBucket('foreign-bucket');

    const missing = await failure(create(seedDra({ DataRepositoryPath: 's3://no-such-bucket/ExtData' })));
    const foreign = await failure(
      create(seedDra({ DataRepositoryPath: 's3://foreign-bucket/ExtData', ClientRequestToken: 'f' })),
    );

    for (const error of [missing, foreign]) {
      expect(error.code).toBe('BadRequest');
      expect(error.message).toContain('unable to validate access to the S3 bucket');
    }
  });

  it('refuses automatic import from a bucket in another region, but allows an export-only DRA there', async () => {
    h.s3.createBucket('west-bucket');
    h.fsx.setBucket('west-bucket', { region: 'us-west-2' });

    const importing = await failure(create(seedDra({ DataRepositoryPath: 's3://west-bucket/ExtData' })));
    const exportOnly = await create(
      seedDra({
        DataRepositoryPath: 's3://west-bucket/ExtData',
        S3: { AutoExportPolicy: { Events: ['NEW'] } },
        ClientRequestToken: 'e',
      }),
    );

    expect(importing.code).toBe('BadRequest');
    expect(importing.message).toContain('different AWS Region');
    expect(exportOnly.Lifecycle).toBe('CREATING');
  });

  it('returns the same association for a repeated ClientRequestToken with the same parameters', async () => {
    const first = await create(seedDra());

    const again = await create(seedDra());
    const all = await call<Describe>(h.fsx, 'DescribeDataRepositoryAssociations', {});

    expect(again.AssociationId).toBe(first.AssociationId);
    expect(all.Associations).toHaveLength(1);
  });

  it('answers IncompatibleParameterError naming the parameter when a token is reused with other parameters', async () => {
    await create(seedDra());

    const reused = await failure(
      create(seedDra({ FileSystemPath: '/Other', DataRepositoryPath: `s3://${BUCKET}/Other` })),
    );

    expect(reused.code).toBe('IncompatibleParameterError');
    expect(reused.fields).toEqual({ Parameter: 'DataRepositoryPath' });
  });

  it('reports an unknown file system as FileSystemNotFound, and file systems are regional', async () => {
    const unknown = await failure(create(seedDra({ FileSystemId: 'fs-00000000000000000' })));
    const otherRegion = await failure(
      h.fsx.handle('CreateDataRepositoryAssociation', seedDra(), {
        ...ctx,
        region: 'eu-west-1',
      }) as Promise<unknown>,
    );

    expect(unknown.code).toBe('FileSystemNotFound');
    expect(otherRegion.code).toBe('FileSystemNotFound');
  });

  it('rejects a missing or relative file system path and a non-S3 data repository path with BadRequest', async () => {
    const { FileSystemPath: _omit, ...noPath } = seedDra();

    const missing = await failure(create(noPath));
    const relative = await failure(create(seedDra({ FileSystemPath: 'ExtData', ClientRequestToken: 'r' })));
    const nfs = await failure(
      create(seedDra({ DataRepositoryPath: 'nfs://server/export', ClientRequestToken: 'n' })),
    );

    expect(missing).toMatchObject({
      code: 'BadRequest',
      message: expect.stringContaining('FileSystemPath is required'),
    });
    expect(relative).toMatchObject({ code: 'BadRequest', message: expect.stringContaining('forward slash') });
    expect(nfs).toMatchObject({ code: 'BadRequest', message: expect.stringContaining('s3://') });
  });

  it('queues a DRA requested while the file system is still CREATING', async () => {
    const fs = await h.fsx.createFileSystem({ lifecycle: 'CREATING' });

    const created = await create(seedDra({ FileSystemId: fs.FileSystemId }));
    const available = await lifecycle(created.AssociationId, 'AVAILABLE');

    expect(available.Lifecycle).toBe('AVAILABLE');
    expect(h.fsx.listFileSystems().find((f) => f.FileSystemId === fs.FileSystemId)?.Lifecycle).toBe(
      'AVAILABLE',
    );
  });
});

describe('DescribeDataRepositoryAssociations', () => {
  beforeEach(async () => {
    for (let i = 0; i < 5; i += 1) {
      await create(
        seedDra({
          FileSystemPath: `/d${i}`,
          DataRepositoryPath: `s3://${BUCKET}/d${i}`,
          ClientRequestToken: `t${i}`,
        }),
      );
    }
  });

  it('pages with MaxResults and NextToken, in creation order', async () => {
    const pages: string[][] = [];
    let token: string | undefined;

    do {
      const out = await call<Describe>(h.fsx, 'DescribeDataRepositoryAssociations', {
        MaxResults: 2,
        ...(token ? { NextToken: token } : {}),
      });
      pages.push(out.Associations.map((a) => a.FileSystemPath));
      token = out.NextToken;
    } while (token);

    expect(pages).toEqual([['/d0', '/d1'], ['/d2', '/d3'], ['/d4']]);
  });

  it('filters by file system id and data repository type', async () => {
    const other = await h.fsx.createFileSystem({});
    await create(seedDra({ FileSystemId: other.FileSystemId, ClientRequestToken: 'o' }));

    const mine = await call<Describe>(h.fsx, 'DescribeDataRepositoryAssociations', {
      Filters: [{ Name: 'file-system-id', Values: [FS] }],
    });
    const s3 = await call<Describe>(h.fsx, 'DescribeDataRepositoryAssociations', {
      Filters: [{ Name: 'data-repository-type', Values: ['S3'] }],
    });
    const nfs = await call<Describe>(h.fsx, 'DescribeDataRepositoryAssociations', {
      Filters: [{ Name: 'data-repository-type', Values: ['NFS'] }],
    });

    expect(mine.Associations).toHaveLength(5);
    expect(s3.Associations).toHaveLength(6);
    expect(nfs.Associations).toHaveLength(0);
  });

  it('answers AWS errors for unknown ids, unknown file systems, bad types, bad filters and bad tokens', async () => {
    const unknownId = await failure(
      call(h.fsx, 'DescribeDataRepositoryAssociations', { AssociationIds: ['dra-0000000000000000a'] }),
    );
    const unknownFs = await failure(
      call(h.fsx, 'DescribeDataRepositoryAssociations', {
        Filters: [{ Name: 'file-system-id', Values: ['fs-99999999999999999'] }],
      }),
    );
    const badType = await failure(
      call(h.fsx, 'DescribeDataRepositoryAssociations', {
        Filters: [{ Name: 'data-repository-type', Values: ['FTP'] }],
      }),
    );
    const badFilter = await failure(
      call(h.fsx, 'DescribeDataRepositoryAssociations', {
        Filters: [{ Name: 'backup-type', Values: ['USER'] }],
      }),
    );
    const badToken = await failure(call(h.fsx, 'DescribeDataRepositoryAssociations', { NextToken: 'AAAA' }));
    const tooMany = await failure(call(h.fsx, 'DescribeDataRepositoryAssociations', { MaxResults: 26 }));

    expect(unknownId.code).toBe('DataRepositoryAssociationNotFound');
    expect(unknownFs.code).toBe('FileSystemNotFound');
    expect(badType.code).toBe('InvalidDataRepositoryType');
    expect(badFilter.code).toBe('BadRequest');
    expect(badToken.code).toBe('BadRequest');
    expect(tooMany).toMatchObject({
      code: 'BadRequest',
      message:
        "1 validation error detected: Value '26' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 25",
    });
  });
});

describe('UpdateDataRepositoryAssociation', () => {
  it('goes UPDATING then AVAILABLE with the new policy, and never changes the paths', async () => {
    const created = await create(seedDra());
    await lifecycle(created.AssociationId, 'AVAILABLE');

    const updated = await call<{ Association: AssociationDescription }>(
      h.fsx,
      'UpdateDataRepositoryAssociation',
      {
        AssociationId: created.AssociationId,
        S3: { AutoExportPolicy: { Events: ['NEW', 'CHANGED'] } },
        FileSystemPath: '/Elsewhere',
        DataRepositoryPath: `s3://${BUCKET}/elsewhere`,
      },
    );
    const after = await lifecycle(created.AssociationId, 'AVAILABLE');

    expect(updated.Association.Lifecycle).toBe('UPDATING');
    expect(after.S3).toEqual({
      AutoImportPolicy: { Events: ['NEW', 'CHANGED', 'DELETED'] },
      AutoExportPolicy: { Events: ['NEW', 'CHANGED'] },
    });
    expect(after.FileSystemPath).toBe('/ExtData');
    expect(after.DataRepositoryPath).toBe(`s3://${BUCKET}/ExtData`);
  });

  it('refuses to update a DRA that is still CREATING, and an unknown DRA', async () => {
    const created = await create(seedDra());

    const creating = await failure(
      call(h.fsx, 'UpdateDataRepositoryAssociation', {
        AssociationId: created.AssociationId,
        ImportedFileChunkSize: 2048,
      }),
    );
    const unknown = await failure(
      call(h.fsx, 'UpdateDataRepositoryAssociation', { AssociationId: 'dra-0000000000000000b' }),
    );

    expect(creating.code).toBe('BadRequest');
    expect(creating.message).toContain('CREATING');
    expect(unknown.code).toBe('DataRepositoryAssociationNotFound');
  });
});

describe('DeleteDataRepositoryAssociation', () => {
  it('deletes the DRA, and with DeleteDataInFileSystem its files on the file system, never the S3 objects', async () => {
    h.s3.put(BUCKET, 'ExtData/a.nc', 'A');
    const created = await create(seedDra());
    await lifecycle(created.AssociationId, 'AVAILABLE');
    const root = h.fsx.fileSystemRoot(FS);
    await waitFor(() => existsSync(join(root, 'ExtData/a.nc')), 3000, 'batch import');

    const out = await call(h.fsx, 'DeleteDataRepositoryAssociation', {
      AssociationId: created.AssociationId,
      DeleteDataInFileSystem: true,
    });
    await waitFor(
      async () =>
        (await call<Describe>(h.fsx, 'DescribeDataRepositoryAssociations', {})).Associations.length === 0,
    );

    expect(out).toEqual({
      AssociationId: created.AssociationId,
      Lifecycle: 'DELETING',
      DeleteDataInFileSystem: true,
    });
    expect(existsSync(join(root, 'ExtData'))).toBe(false);
    expect(h.s3.get(BUCKET, 'ExtData/a.nc')).toBe('A');
  });

  it('keeps the files on the file system by default', async () => {
    const created = await create(seedDra());
    await lifecycle(created.AssociationId, 'AVAILABLE');
    const root = h.fsx.fileSystemRoot(FS);
    writeFileSync(join(root, 'ExtData/local.txt'), 'local');

    await call(h.fsx, 'DeleteDataRepositoryAssociation', { AssociationId: created.AssociationId });
    await waitFor(
      async () =>
        (await call<Describe>(h.fsx, 'DescribeDataRepositoryAssociations', {})).Associations.length === 0,
    );

    expect(existsSync(join(root, 'ExtData/local.txt'))).toBe(true);
  });
});

describe('MISCONFIGURED and FAILED', () => {
  it('goes MISCONFIGURED when the bucket vanishes and back to AVAILABLE when it returns', async () => {
    const created = await create(seedDra({ BatchImportMetaDataOnCreate: false }));
    await lifecycle(created.AssociationId, 'AVAILABLE');

    h.s3.deleteBucket(BUCKET);
    await h.fsx.tick();
    const misconfigured = await describe1(created.AssociationId);
    h.s3.createBucket(BUCKET);
    await h.fsx.tick();
    const healed = await describe1(created.AssociationId);

    expect(misconfigured.Lifecycle).toBe('MISCONFIGURED');
    expect(misconfigured.FailureDetails?.Message).toContain(BUCKET);
    expect(healed.Lifecycle).toBe('AVAILABLE');
    expect(healed.FailureDetails).toBeUndefined();
  });

  it('goes MISCONFIGURED when the bucket is made unreachable', async () => {
    const created = await create(seedDra({ BatchImportMetaDataOnCreate: false }));
    await lifecycle(created.AssociationId, 'AVAILABLE');

    h.fsx.setBucket(BUCKET, { unreachable: true });
    await h.fsx.tick();

    expect((await describe1(created.AssociationId)).Lifecycle).toBe('MISCONFIGURED');
  });

  it('keeps a forced MISCONFIGURED until the DRA is updated', async () => {
    const created = await create(seedDra({ BatchImportMetaDataOnCreate: false }));
    await lifecycle(created.AssociationId, 'AVAILABLE');

    h.fsx.forceAssociationState(created.AssociationId, 'MISCONFIGURED', 'event notification removed');
    await h.fsx.tick();
    const stillMisconfigured = await describe1(created.AssociationId);
    await call(h.fsx, 'UpdateDataRepositoryAssociation', {
      AssociationId: created.AssociationId,
      S3: seedDra().S3,
    });
    const fixed = await lifecycle(created.AssociationId, 'AVAILABLE');

    expect(stillMisconfigured).toMatchObject({
      Lifecycle: 'MISCONFIGURED',
      FailureDetails: { Message: 'event notification removed' },
    });
    expect(fixed.FailureDetails).toBeUndefined();
  });

  it('treats FAILED as terminal: no update, but deletion works', async () => {
    const created = await create(seedDra({ BatchImportMetaDataOnCreate: false }));
    await lifecycle(created.AssociationId, 'AVAILABLE');
    h.fsx.forceAssociationState(created.AssociationId, 'FAILED');

    const update = await failure(
      call(h.fsx, 'UpdateDataRepositoryAssociation', { AssociationId: created.AssociationId }),
    );
    await h.fsx.tick();
    const stillFailed = await describe1(created.AssociationId);
    const deleted = await call(h.fsx, 'DeleteDataRepositoryAssociation', {
      AssociationId: created.AssociationId,
    });

    expect(update.code).toBe('BadRequest');
    expect(stillFailed.Lifecycle).toBe('FAILED');
    expect(stillFailed.FailureDetails?.Message).toBeTruthy();
    expect(deleted).toMatchObject({ Lifecycle: 'DELETING' });
  });

  it('ends a DRA FAILED when an association-create fault matches its path', async () => {
    h.fsx.setFaults({ associationCreateFailures: [{ match: '/ExtData', message: 'injected' }] });

    const created = await create(seedDra());
    const failed = await lifecycle(created.AssociationId, 'FAILED');

    expect(failed.FailureDetails).toEqual({ Message: 'injected' });
  });
});

describe('requests that do not fit the model', () => {
  it('lists every violated constraint in one BadRequest, as the service does', async () => {
    const out = await failure(
      call(h.fsx, 'CreateDataRepositoryAssociation', {
        FileSystemId: 'fs-x',
        ClientRequestToken: 'bad token',
      }),
    );

    expect(out.code).toBe('BadRequest');
    expect(out.message).toBe(
      "4 validation errors detected: Value null at 'dataRepositoryPath' failed to satisfy constraint: Member must not be null; " +
        "Value 'fs-x' at 'fileSystemId' failed to satisfy constraint: Member must have length greater than or equal to 11; " +
        "Value 'fs-x' at 'fileSystemId' failed to satisfy constraint: Member must satisfy regular expression pattern: ^(fs-[0-9a-f]{8,})$; " +
        "Value 'bad token' at 'clientRequestToken' failed to satisfy constraint: Member must satisfy regular expression pattern: [A-za-z0-9_.-]{0,63}$",
    );
  });

  it('names nested members and enum sets', async () => {
    const out = await failure(
      call(
        h.fsx,
        'CreateDataRepositoryAssociation',
        seedDra({ S3: { AutoImportPolicy: { Events: ['SOMETIMES'] } } }),
      ),
    );

    expect(out.message).toBe(
      "1 validation error detected: Value 'SOMETIMES' at 's3.autoImportPolicy.events.1.member' failed to satisfy constraint: Member must satisfy enum value set: [NEW, CHANGED, DELETED]",
    );
  });

  it('answers SerializationException for a value of the wrong JSON type', async () => {
    const out = await failure(call(h.fsx, 'DescribeFileSystems', { MaxResults: 'ten' }));

    expect(out).toMatchObject({
      code: 'SerializationException',
      message: 'STRING_VALUE cannot be converted to Integer',
    });
  });

  it('answers UnknownOperationException for an operation FSx does not have and UnsupportedOperation for one not modelled', async () => {
    const unknown = await failure(call(h.fsx, 'MakeCoffee'));
    const unmodelled = await failure(call(h.fsx, 'CreateBackup', { FileSystemId: FS }));

    expect(unknown.code).toBe('UnknownOperationException');
    expect(unmodelled.code).toBe('UnsupportedOperation');
  });
});

describe('DescribeFileSystems', () => {
  it('describes file systems declared in the config with AWS fields, and pages them', async () => {
    for (let i = 0; i < 3; i += 1) await h.fsx.createFileSystem({});

    const one = await call<{ FileSystems: Array<Record<string, unknown>> }>(h.fsx, 'DescribeFileSystems', {
      FileSystemIds: [FS],
    });
    const page1 = await call<{ FileSystems: unknown[]; NextToken?: string }>(h.fsx, 'DescribeFileSystems', {
      MaxResults: 3,
    });
    const page2 = await call<{ FileSystems: unknown[]; NextToken?: string }>(h.fsx, 'DescribeFileSystems', {
      MaxResults: 3,
      NextToken: page1.NextToken,
    });
    const missing = await failure(
      call(h.fsx, 'DescribeFileSystems', { FileSystemIds: ['fs-99999999999999999'] }),
    );

    expect(one.FileSystems[0]).toMatchObject({
      FileSystemId: FS,
      FileSystemType: 'LUSTRE',
      Lifecycle: 'AVAILABLE',
      OwnerId: ACCOUNT,
      DNSName: `${FS}.fsx.us-east-1.amazonaws.com`,
      ResourceARN: `arn:aws:fsx:us-east-1:${ACCOUNT}:file-system/${FS}`,
      FileSystemTypeVersion: '2.15',
      StorageCapacity: 1200,
      LustreConfiguration: {
        DeploymentType: 'PERSISTENT_2',
        PerUnitStorageThroughput: 125,
        MountName: expect.stringMatching(/^[a-z][a-z0-9]{7}$/),
      },
    });
    expect(one.FileSystems[0]?.VpcId).toBe('vpc-00000000000000001');
    expect(page1.FileSystems).toHaveLength(3);
    expect(page2.FileSystems).toHaveLength(1);
    expect(page2.NextToken).toBeUndefined();
    expect(missing.code).toBe('FileSystemNotFound');
  });

  it('finds a file system by its DNS name as a mount command gives it', async () => {
    const fs = h.fsx.findByDnsName(`${FS}.fsx.us-east-1.amazonaws.com@tcp:/abcdefgh`);

    expect(fs?.FileSystemId).toBe(FS);
    expect(h.fsx.findByDnsName('fs-nope.fsx.us-east-1.amazonaws.com')).toBeUndefined();
  });

  it('declares the file systems of a config file, as the local cloud passes them', async () => {
    const dir = join(h.dataDir, 'cfg');
    mkdirSync(dir);
    const path = join(dir, 'config.yaml');
    writeFileSync(
      path,
      [
        'version: 1',
        'region: us-east-1',
        'fileSystems:',
        '  - id: fs-0aaaaaaaaaaaaaaaa',
        '    subnetIds: [subnet-0123abcd]',
        '    securityGroupIds: [sg-0123abcd]',
        'mappings:',
        '  - name: extdata',
        '    fileSystemId: fs-0aaaaaaaaaaaaaaaa',
        '    fsxPath: /ExtData',
        `    s3Uri: s3://${BUCKET}/ExtData`,
      ].join('\n'),
    );

    const fsx = await h.restart({ fileSystems: fileSystemSpecs(loadConfig(path).fileSystems) });
    const out = await call<{ FileSystems: Array<{ FileSystemId: string; SubnetIds: string[] }> }>(
      fsx,
      'DescribeFileSystems',
      {
        FileSystemIds: ['fs-0aaaaaaaaaaaaaaaa'],
      },
    );

    expect(out.FileSystems[0]?.SubnetIds).toEqual(['subnet-0123abcd']);
  });
});

describe('tags', () => {
  it('tags, lists and untags an association by ARN', async () => {
    const created = await create(seedDra());

    await call(h.fsx, 'TagResource', {
      ResourceARN: created.ResourceARN,
      Tags: [
        { Key: 'team', Value: 'imi' },
        { Key: 'Name', Value: 'renamed' },
      ],
    });
    await call(h.fsx, 'UntagResource', { ResourceARN: created.ResourceARN, TagKeys: ['team'] });
    const listed = await call<{ Tags: Array<{ Key: string; Value: string }> }>(h.fsx, 'ListTagsForResource', {
      ResourceARN: created.ResourceARN,
    });
    const missing = await failure(
      call(h.fsx, 'ListTagsForResource', {
        ResourceARN: `arn:aws:fsx:us-east-1:${ACCOUNT}:association/${FS}/dra-0000000000000000f`,
      }),
    );

    expect(listed.Tags).toEqual([{ Key: 'Name', Value: 'renamed' }]);
    expect(missing).toMatchObject({
      code: 'ResourceNotFound',
      fields: { ResourceARN: expect.stringContaining('dra-0000000000000000f') },
    });
  });
});
