/**
 * FSx for Lustre emulator (JSON 1.1, X-Amz-Target AWSSimbaAPIService_v20180301.<Operation>).
 * Work in progress: the full model lands in the following commits.
 */

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import {
  type Clock,
  type JsonService,
  LocalAwsError,
  type LocalEvent,
  type RequestContext,
} from '../types.js';

export interface FsxEmulatorDeps {
  dataDir: string;
  clock: Clock;
  accountId: string;
  region: string;
  s3: S3Client;
  emit: (e: LocalEvent) => void;
  /** File systems to declare at start (from the config file's `fileSystems`). */
  fileSystems?: FileSystemSpec[];
}

export interface FileSystemSpec {
  id?: string;
  region?: string;
  deploymentType?: 'SCRATCH_1' | 'SCRATCH_2' | 'PERSISTENT_1' | 'PERSISTENT_2';
  fileSystemTypeVersion?: '2.10' | '2.12' | '2.15';
  storageCapacity?: number;
  perUnitStorageThroughput?: number;
  subnetIds?: string[];
  lifecycle?: string;
}

export class FsxEmulator implements JsonService {
  readonly targetPrefix = 'AWSSimbaAPIService_v20180301';
  readonly jsonVersion = '1.1' as const;

  constructor(private readonly deps: FsxEmulatorDeps) {}

  async handle(operation: string, _input: Record<string, unknown>, _ctx: RequestContext): Promise<unknown> {
    throw new LocalAwsError(
      'BadRequest',
      `Operation ${operation} is not supported by the local FSx emulator`,
    );
  }

  fileSystemRoot(fileSystemId: string): string {
    const dir = join(this.deps.dataDir, 'fsx', fileSystemId, 'root');
    mkdirSync(dir, { recursive: true });
    return dir;
  }

  findByDnsName(_dnsName: string): { FileSystemId: string } | undefined {
    return undefined;
  }

  async createFileSystem(_spec: FileSystemSpec): Promise<Record<string, unknown>> {
    throw new LocalAwsError('BadRequest', 'not implemented yet');
  }

  async restore(_fileSystemId: string, _path: string): Promise<void> {}

  async onS3Event(_record: unknown): Promise<void> {}

  async close(): Promise<void> {}
}
