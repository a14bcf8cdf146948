/**
 * The biggest SendCommand requests the project makes fit SSM's document size limit with margin.
 *
 * The limit: "The content of the document must not exceed 64KB. This quota also includes the
 * content specified for input parameters at runtime." (SSM API reference, CreateDocument `Content`;
 * the same text in the SSM model of botocore and @aws-sdk/client-ssm). SendCommand refuses a larger
 * command with `MaxDocumentSizeExceeded` ("The size limit of a document is 64 KB.").
 *
 * Worst cases: the DRA checksums command on a launched instance (mount + restore + the checksum
 * program + the listing, in `AWS-RunShellScript`'s `commands`) and the EC2 transfer document with
 * its parameters, both with a directory at Linux's PATH_MAX (4,096 bytes; Lustre's limit too) and
 * the longest bucket name.
 */
import { readFileSync } from 'node:fs';
import { SendCommandCommand, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { describe, expect, it } from 'vitest';
import { AWS_RUN_SHELL_SCRIPT } from '../../../local/ssm/command-document.js';
import { sendLustreCommand } from '../../../shared/dra/lustre-client.js';
import { buildCommandParameters } from '../../../shared/ssm/document.js';
import { buildTransferPlan } from '../../support/plan.js';

/** 64 KB, read as 64,000 bytes (the smaller reading of "KB"). */
const SSM_DOCUMENT_LIMIT_BYTES = 64_000;
/** What the tests leave free: a quarter of the limit. */
const MAX_USE = 0.75 * SSM_DOCUMENT_LIMIT_BYTES;

const PATH_MAX = 4096;
/** An absolute path of about `length` bytes in 100-byte segments (within NAME_MAX). */
const longPath = (length: number) =>
  `/${Array.from({ length: Math.floor(length / 101) }, (_, i) => `${String(i).padStart(3, '0')}${'d'.repeat(97)}`).join('/')}`;

const worstPlan = () =>
  buildTransferPlan({
    transferId: `t-${'x'.repeat(78)}`,
    direction: 'stage-in',
    fileSystem: {
      mountPoint: '/fsx',
      dnsName: `${'a'.repeat(200)}.fsx.us-east-1.amazonaws.com`,
      mountName: 'abcdefghijklmnop',
    },
    scope: {
      fsxPath: longPath(PATH_MAX - 10),
      bucket: 'b'.repeat(63),
      prefix: longPath(1000).slice(1),
    },
    options: { verify: 'checksum' },
  });

const bytes = (value: unknown) =>
  Buffer.byteLength(typeof value === 'string' ? value : JSON.stringify(value));

describe('SendCommand sizes against SSM 64 KB limit of document and parameters', () => {
  it('the DRA checksums command on a launched instance (AWS-RunShellScript) leaves a quarter free', async () => {
    const ssmMock = mockClient(SSMClient);
    ssmMock.on(SendCommandCommand).resolves({ Command: { CommandId: 'cmd' } });

    await sendLustreCommand(
      { ssm: new SSMClient({}) },
      { plan: worstPlan(), purpose: 'list', instance: { instanceId: 'i-0123456789abcdef0' } },
    );

    const input = ssmMock.commandCalls(SendCommandCommand)[0]!.args[0].input;
    ssmMock.restore();
    const commands = input.Parameters?.commands ?? [];
    expect(commands.join('\n')).toContain('FSXT_PYTHON');
    expect(commands.join('\n')).toContain('mount -t lustre');
    const total = bytes(AWS_RUN_SHELL_SCRIPT) + bytes(input.Parameters);
    expect(total).toBeLessThan(MAX_USE);
  });

  it('the EC2 transfer document with its parameters leaves a quarter free', () => {
    const document = readFileSync(new URL('../../../ssm/transfer-document.yaml', import.meta.url), 'utf8');
    const plan = worstPlan();
    const filters = Array.from({ length: 20 }, (_, i) => `${'f'.repeat(90)}-${i}/*`);
    const parameters = buildCommandParameters(
      { ...plan, options: { ...plan.options, include: filters, exclude: filters } },
      {
        mode: 'sync',
        listingUri: `s3://${plan.scope.bucket}/.fsx-transfer/listings/${plan.transferId}.listing`,
        checksumsUri: `s3://${plan.scope.bucket}/.fsx-transfer/checksums/${plan.transferId}/i-0123456789abcdef0.checksums`,
        progressUri: `s3://${plan.scope.bucket}/.fsx-transfer/progress/${plan.transferId}.json`,
        executionTimeoutSeconds: 172_800,
        shard: { start: 'k'.repeat(1024), end: 'k'.repeat(1024) },
      },
    );

    const total = bytes(document) + bytes(parameters);
    expect(total).toBeLessThan(MAX_USE);
  });
});
