/**
 * DRA prerequisites on the local cloud, through the real transfer state machine: each prerequisite
 * failing on its own makes `method: auto` choose EC2 with exactly that reason, and `method: dra`
 * fail before any association or task is created. (The bucket-policy check cannot fail here: the
 * local S3 has no bucket policies; its unit tests cover it.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FileSystemSpec } from '../../local/fsx/service.js';
import {
  associationsOf,
  BUCKET,
  draConfig,
  FS_ID,
  failedCodes,
  linkDirectly,
  type MappingYaml,
  putObjects,
  tasksOf,
  useConfig,
} from './dra-helpers.js';
import { fsTree, runTransfer, startWorld, type World } from './ec2-helpers.js';

let world: World;

beforeAll(async () => {
  world = await startWorld({
    config: draConfig(
      [{ id: FS_ID }],
      [{ name: 'inputs', fsxPath: '/inputs', s3Uri: `s3://${BUCKET}/inputs` }],
    ),
  });
}, 60_000);

afterAll(async () => {
  await world?.stop();
});

interface Case {
  code: string;
  /** Properties of the case's own file system (created fresh for the case). */
  fileSystem?: Omit<FileSystemSpec, 'id'>;
  /** Runs against the case's file system id before the transfer (existing associations ...). */
  arrange?: (fileSystemId: string) => Promise<void>;
  /** The case's mapping (defaults: /case -> s3://dra-e2e/case-<n>). */
  mapping?: (n: number) => Partial<MappingYaml>;
  request?: Record<string, unknown>;
}

const cases: Case[] = [
  {
    code: 'SAME_ACCOUNT',
    arrange: async () => {
      await world.cloud.s3.createBucket('dra-e2e-other-account');
      world.cloud.s3.setBucketAttributes('dra-e2e-other-account', { owner: '111122223333' });
    },
    mapping: () => ({ s3Uri: 's3://dra-e2e-other-account/inputs' }),
  },
  {
    code: 'SAME_REGION',
    arrange: async () => {
      await world.cloud.s3.createBucket('dra-e2e-eu');
      world.cloud.s3.setBucketAttributes('dra-e2e-eu', { region: 'eu-west-1' });
    },
    mapping: () => ({ s3Uri: 's3://dra-e2e-eu/inputs' }),
  },
  { code: 'LUSTRE_VERSION', fileSystem: { deploymentType: 'PERSISTENT_1', fileSystemTypeVersion: '2.10' } },
  // On AWS SCRATCH_1 also means Lustre 2.10; 2.12 here isolates the deployment type rule.
  { code: 'DEPLOYMENT_TYPE', fileSystem: { deploymentType: 'SCRATCH_1', fileSystemTypeVersion: '2.12' } },
  {
    code: 'FSX_PATH_OVERLAP',
    arrange: async (fs) => {
      await linkDirectly(fs, '/case/sub', `s3://${BUCKET}/elsewhere-${fs.slice(-3)}`);
    },
  },
  {
    code: 'S3_PREFIX_OVERLAP',
    arrange: async (fs) => {
      await linkDirectly(fs, '/other', `s3://${BUCKET}/case-${Number(fs.slice(-3))}/sub`);
    },
  },
  {
    code: 'ASSOCIATION_LIMIT',
    arrange: async (fs) => {
      for (let i = 0; i < 8; i++)
        await linkDirectly(fs, `/d${i}`, `s3://${BUCKET}/limit-${fs.slice(-3)}-${i}`);
    },
  },
  {
    code: 'ROOT_ASSOCIATION',
    arrange: async (fs) => {
      await world.cloud.s3.createBucket('dra-e2e-root');
      await linkDirectly(fs, '/', 's3://dra-e2e-root');
    },
  },
  { code: 'EXPORT_DELETE', request: { direction: 'export', delete: true } },
  { code: 'FILTERS', mapping: () => ({ extra: ["include: ['*.nc']"] }) },
];

let next = 100;

/** A fresh file system and mapping for one case, and the config naming them. */
async function prepare(c: Case): Promise<{ fileSystemId: string; mapping: string }> {
  next++;
  const fileSystemId = `fs-00000000000000${next}`;
  await world.cloud.fsx.createFileSystem({
    id: fileSystemId,
    subnetIds: ['subnet-00000000000000001'],
    ...c.fileSystem,
  });
  await c.arrange?.(fileSystemId);
  const mapping = `case-${next}`;
  useConfig(
    world,
    draConfig(
      [{ id: fileSystemId }],
      [
        {
          name: mapping,
          fileSystemId,
          fsxPath: '/case',
          s3Uri: `s3://${BUCKET}/case-${next}`,
          ...c.mapping?.(next),
        },
      ],
    ),
  );
  return { fileSystemId, mapping };
}

describe('DRA prerequisites through the transfer state machine', () => {
  it('plans a DRA for method auto when every prerequisite holds', async () => {
    const { mapping } = await prepare({ code: 'NONE' });

    const run = await runTransfer(world, { mapping, direction: 'stage-in', dryRun: true });

    expect(run.status).toBe('SUCCEEDED');
    expect(run.output).toMatchObject({ method: 'dra' });
    expect(failedCodes(run.output)).toEqual([]);
  });

  it.each(cases)('$code failing alone: auto chooses ec2 with exactly that reason', async (c) => {
    const { mapping } = await prepare(c);

    const run = await runTransfer(world, { mapping, direction: 'stage-in', ...c.request, dryRun: true });

    expect(run.status).toBe('SUCCEEDED');
    expect(run.output).toMatchObject({ method: 'ec2' });
    expect(failedCodes(run.output)).toEqual([c.code]);
  });

  it.each(cases)('$code failing alone: dra fails before any association or task is created', async (c) => {
    const { fileSystemId, mapping } = await prepare(c);
    const associationsBefore = (await associationsOf(fileSystemId)).length;
    const tasksBefore = (await tasksOf(fileSystemId)).length;

    const run = await runTransfer(world, { mapping, direction: 'stage-in', ...c.request, method: 'dra' });

    expect(run.status).toBe('FAILED');
    expect(run.error).toBe('DraPrerequisiteError');
    expect(run.cause).toContain(c.code);
    expect(run.states).not.toContain('EnsureAssociation');
    expect(await associationsOf(fileSystemId)).toHaveLength(associationsBefore);
    expect(await tasksOf(fileSystemId)).toHaveLength(tasksBefore);
  });

  it('really transfers with EC2 when auto falls back (filters a DRA cannot apply)', async () => {
    useConfig(
      world,
      draConfig(
        [{ id: FS_ID }],
        [
          {
            name: 'filtered',
            fsxPath: '/filtered',
            s3Uri: `s3://${BUCKET}/filtered`,
            extra: ["include: ['*.nc']"],
          },
        ],
      ),
    );
    await putObjects({ 'filtered/a.nc': 'netcdf', 'filtered/notes.txt': 'skip me' });

    const run = await runTransfer(world, { mapping: 'filtered', direction: 'stage-in' }, 120_000);

    expect(run.status).toBe('SUCCEEDED');
    expect(run.output).toMatchObject({ method: 'ec2', status: 'SUCCEEDED' });
    expect(failedCodes(run.output)).toEqual(['FILTERS']);
    expect(Object.keys(await fsTree(`${world.cloud.fsx.fileSystemRoot(FS_ID)}/filtered`))).toEqual(['a.nc']);
  }, 150_000);
});
