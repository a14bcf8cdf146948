/**
 * Set-up shared by the DRA end-to-end tests (test/e2e/dra-*.test.ts): the real transfer state
 * machine on the local cloud (through ec2-helpers' startWorld/runTransfer), plus what DRA cases
 * need: extra file systems with chosen properties, buckets in other accounts or regions, existing
 * associations, a Lustre client instance, and a way to switch the config the Lambdas read.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { RunInstancesCommand } from '@aws-sdk/client-ec2';
import {
  CreateDataRepositoryAssociationCommand,
  type DataRepositoryAssociation,
  type DataRepositoryTask,
  DescribeDataRepositoryAssociationsCommand,
  DescribeDataRepositoryTasksCommand,
} from '@aws-sdk/client-fsx';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import {
  DescribeInstanceInformationCommand,
  GetCommandInvocationCommand,
  SendCommandCommand,
} from '@aws-sdk/client-ssm';
import { LOCAL_AL2023_AMI } from '../../local/ssm/parameters.js';
import { getEc2, getFsx, getS3, getSsm } from '../../shared/aws/clients.js';
import { sleep, type World } from './ec2-helpers.js';

export const FS_ID = 'fs-00000000000000001';
export const BUCKET = 'dra-e2e';
export const SUBNET = 'subnet-00000000000000001';

export interface FileSystemYaml {
  id: string;
  lustreClientInstanceId?: string;
}

export interface MappingYaml {
  name: string;
  fileSystemId?: string;
  fsxPath: string;
  s3Uri: string;
  /** Extra YAML lines of the mapping (without indentation). */
  extra?: string[];
}

/** A config with the given file systems and mappings (every mapping allows both directions). */
export function draConfig(fileSystems: FileSystemYaml[], mappings: MappingYaml[]): string {
  return [
    'version: 1',
    'region: us-east-1',
    "accountId: '000000000000'",
    'fileSystems:',
    ...fileSystems.flatMap((fs) => [
      `  - id: ${fs.id}`,
      '    mountPoint: /fsx',
      `    subnetIds: [${SUBNET}]`,
      '    securityGroupIds: [sg-00000000000000001]',
      ...(fs.lustreClientInstanceId ? [`    lustreClientInstanceId: ${fs.lustreClientInstanceId}`] : []),
    ]),
    'mappings:',
    ...mappings.flatMap((m) => [
      `  - name: ${m.name}`,
      `    fileSystemId: ${m.fileSystemId ?? FS_ID}`,
      `    fsxPath: ${m.fsxPath}`,
      `    s3Uri: ${m.s3Uri}`,
      '    directions: [stage-in, export]',
      ...(m.extra ?? []).map((line) => `    ${line}`),
    ]),
    '',
  ].join('\n');
}

let configs = 0;

/**
 * Deploys the project with a new config file (getConfig() caches by path, so a new path is
 * re-read; the IAM statements scoped to the config follow it). The FSx emulator declared its file
 * systems at start; create others with `world.cloud.fsx`.
 */
export function useConfig(world: World, yaml: string): string {
  configs++;
  const path = join(world.dataDir, `config-${configs}.yaml`);
  writeFileSync(path, yaml);
  world.cloud.useConfig(path);
  return path;
}

/** Every association of a file system. */
export async function associationsOf(fileSystemId: string): Promise<DataRepositoryAssociation[]> {
  const out = await getFsx().send(
    new DescribeDataRepositoryAssociationsCommand({
      Filters: [{ Name: 'file-system-id', Values: [fileSystemId] }],
    }),
  );
  return out.Associations ?? [];
}

/** Every data repository task of a file system (including the ones FSx ran for BatchImportMetaDataOnCreate). */
export async function tasksOf(fileSystemId: string): Promise<DataRepositoryTask[]> {
  const out = await getFsx().send(
    new DescribeDataRepositoryTasksCommand({ Filters: [{ Name: 'file-system-id', Values: [fileSystemId] }] }),
  );
  return out.DataRepositoryTasks ?? [];
}

/** Creates an association directly (as another user would) and waits until it is AVAILABLE. */
export async function linkDirectly(
  fileSystemId: string,
  fileSystemPath: string,
  dataRepositoryPath: string,
): Promise<string> {
  const out = await getFsx().send(
    new CreateDataRepositoryAssociationCommand({
      FileSystemId: fileSystemId,
      FileSystemPath: fileSystemPath,
      DataRepositoryPath: dataRepositoryPath,
    }),
  );
  const id = out.Association!.AssociationId!;
  for (let i = 0; i < 400; i++) {
    const [association] = (
      await getFsx().send(new DescribeDataRepositoryAssociationsCommand({ AssociationIds: [id] }))
    ).Associations!;
    if (association?.Lifecycle === 'AVAILABLE') return id;
    await sleep(25);
  }
  throw new Error(`association ${id} did not become AVAILABLE`);
}

/**
 * Launches an instance, waits for its SSM agent and mounts `fileSystemId` at /fsx with the Lustre
 * client (the local cloud's mount shim): the "Lustre client" a config names for verify and preload.
 */
export async function startLustreClient(world: World, fileSystemId: string): Promise<string> {
  const run = await getEc2().send(
    new RunInstancesCommand({
      ImageId: LOCAL_AL2023_AMI,
      InstanceType: 'c6i.large',
      MinCount: 1,
      MaxCount: 1,
      SubnetId: SUBNET,
      IamInstanceProfile: { Name: 'lustre-client' },
    }),
  );
  const instanceId = run.Instances![0]!.InstanceId!;
  for (let i = 0; ; i++) {
    const info = await getSsm().send(
      new DescribeInstanceInformationCommand({ Filters: [{ Key: 'InstanceIds', Values: [instanceId] }] }),
    );
    if (info.InstanceInformationList?.[0]?.PingStatus === 'Online') break;
    if (i > 400) throw new Error(`agent of ${instanceId} never came online`);
    await sleep(25);
  }
  const fs = world.cloud.fsx.listFileSystems().find((f) => f.FileSystemId === fileSystemId)!;
  const sent = await getSsm().send(
    new SendCommandCommand({
      DocumentName: 'AWS-RunShellScript',
      InstanceIds: [instanceId],
      Parameters: {
        commands: [
          'set -e',
          'mkdir -p /fsx',
          `mount -t lustre -o relatime,flock ${fs.DNSName}@tcp:/${fs.LustreConfiguration!.MountName} /fsx`,
        ],
      },
    }),
  );
  const commandId = sent.Command!.CommandId!;
  for (let i = 0; ; i++) {
    await sleep(25);
    const invocation = await getSsm()
      .send(new GetCommandInvocationCommand({ CommandId: commandId, InstanceId: instanceId }))
      .catch(() => undefined);
    if (invocation?.Status === 'Success') return instanceId;
    if (invocation && ['Failed', 'Cancelled', 'TimedOut'].includes(String(invocation.Status))) {
      throw new Error(`mounting on ${instanceId} failed: ${invocation.StandardErrorContent}`);
    }
    if (i > 400) throw new Error(`mount command on ${instanceId} did not finish`);
  }
}

/** Uploads `key -> body` into the DRA test bucket. */
export async function putObjects(objects: Record<string, string | Buffer>, bucket = BUCKET): Promise<void> {
  for (const [key, body] of Object.entries(objects)) {
    await getS3().send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
  }
}

/** The failed reason codes recorded in a run's summary. */
export function failedCodes(
  output: { methodReasons?: Array<{ ok: boolean; code: string }> } | undefined,
): string[] {
  return (output?.methodReasons ?? []).filter((r) => !r.ok).map((r) => r.code);
}
