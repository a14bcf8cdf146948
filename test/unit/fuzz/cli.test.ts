/**
 * Bad input on the command line (`fsx-transfer plan|start <mapping> <direction> [--sub-path]
 * [--method] [--transfer-id]`): exit code 2 and one JSON error naming the field and the rule, and
 * no AWS call at all (nothing validated remotely, started or launched).
 */
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { FSxClient } from '@aws-sdk/client-fsx';
import { S3Client } from '@aws-sdk/client-s3';
import { SFNClient } from '@aws-sdk/client-sfn';
import { STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { main } from '../../../cli/main.js';
import { resetConfig } from '../../../shared/config/load.js';
import { badName, badPath, hostileString } from './corpus.js';

const mocks = [
  mockClient(SFNClient),
  mockClient(FSxClient),
  mockClient(S3Client),
  mockClient(STSClient),
  mockClient(DynamoDBClient),
];
const CONFIG = join(tmpdir(), `fsx-transfer-fuzz-cli-${process.pid}.yaml`);
const saved = { ...process.env };

beforeAll(() => {
  writeFileSync(
    CONFIG,
    `version: 1
region: us-east-1
fileSystems:
  - id: fs-00000000000000001
    subnetIds: [subnet-00000000000000001]
    securityGroupIds: [sg-00000000000000001]
mappings:
  - { name: extdata, fileSystemId: fs-00000000000000001, fsxPath: /ExtData, s3Uri: s3://demo/ExtData, directions: [stage-in] }
`,
  );
  process.env.FSX_TRANSFER_CONFIG = CONFIG;
  process.env.AWS_REGION = 'us-east-1';
  resetConfig();
});

afterAll(() => {
  process.env = saved;
  resetConfig();
});

/** Runs the CLI in-process; returns its exit code and its last JSON line. */
async function cli(
  command: string,
  args: string[],
): Promise<{ code: number; json: Record<string, any> | undefined }> {
  const out: string[] = [];
  const write = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    out.push(String(chunk));
    return true;
  });
  const writeErr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
  try {
    const code = await main(['node', 'fsx-transfer', command, '--json', ...args]);
    const last = out.join('').trim().split('\n').at(-1);
    return { code, json: last ? JSON.parse(last) : undefined };
  } finally {
    write.mockRestore();
    writeErr.mockRestore();
  }
}

/** A command line with one bad argument, and the field the error must name. */
const commands = fc.oneof(
  badName.map((mapping) => ({ field: 'mapping', args: ['--', mapping, 'stage-in'] })),
  hostileString.map((direction) => ({ field: 'direction', args: ['--', 'extdata', direction] })),
  badPath.map((subPath) => ({
    field: 'subPath',
    args: ['--sub-path', subPath, '--', 'extdata', 'stage-in'],
  })),
  hostileString.map((method) => ({
    field: 'method',
    args: ['--method', method, '--', 'extdata', 'stage-in'],
  })),
  badName.map((id) => ({ field: 'transferId', args: ['--transfer-id', id, '--', 'extdata', 'stage-in'] })),
  fc.constant({ field: 'direction', args: ['extdata', 'export'] as string[] }),
);

describe('fsx-transfer plan and start with bad arguments', () => {
  it('exit 2 with one JSON error naming the field and the rule, and call no AWS API', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('plan', 'start'), commands, async (command, { field, args }) => {
        for (const mock of mocks) mock.reset();
        if (command === 'plan' && field === 'transferId') return;

        const { code, json } = await cli(command, args);

        expect(code).toBe(2);
        // commander refuses a --method outside its choices itself (UsageError naming --method).
        expect(['InvalidRequestError', 'MappingNotFoundError', 'UsageError']).toContain(json?.error);
        expect(json?.details?.field ?? json?.message).toContain(field);
        expect(String(json?.details?.rule ?? json?.message).length).toBeGreaterThan(5);
        expect(mocks.map((mock) => mock.calls().length)).toEqual([0, 0, 0, 0, 0]);
      }),
      { numRuns: 150 },
    );
  });

  it('exit 2 for an argument that reads as an option, with a JSON usage error', async () => {
    const { code, json } = await cli('start', ['-rf', 'stage-in']);

    expect(code).toBe(2);
    expect(json).toMatchObject({
      error: 'UsageError',
      message: expect.stringContaining("unknown option '-rf'"),
    });
  });
});
