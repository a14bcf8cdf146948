/** `start`, `status`, `watch`, `cancel`: runs of the transfer state machine. */
import type { DescribeExecutionCommandOutput } from '@aws-sdk/client-sfn';
import type { Command } from 'commander';
import { getSfn } from '../../shared/aws/clients.js';
import { findMapping, loadConfig } from '../../shared/config/load.js';
import { TransferRequest } from '../../shared/config/schema.js';
import { InvalidRequestError } from '../../shared/errors.js';
import { parseInput } from '../../shared/input.js';
import {
  describeTransfer,
  executionArnFor,
  findStateMachineArn,
  followTransfer,
  startTransfer,
  stateMachineName,
  stopTransfer,
} from '../../shared/sfn/executions.js';
import { note, printJson } from '../output.js';

export interface RequestOptions {
  subPath?: string;
  method?: string;
  delete?: boolean;
  transferId?: string;
  dryRun?: boolean;
}

/** Builds a TransferRequest from CLI arguments with the one schema, and checks it against the config. */
export function requestFromArgs(
  mapping: string,
  direction: string,
  options: RequestOptions,
): TransferRequest {
  const request = parseInput(
    TransferRequest,
    {
      mapping,
      direction,
      ...(options.subPath !== undefined ? { subPath: options.subPath } : {}),
      ...(options.method !== undefined ? { method: options.method } : {}),
      ...(options.delete ? { delete: true } : {}),
      ...(options.dryRun ? { dryRun: true } : {}),
      ...(options.transferId !== undefined ? { transferId: options.transferId } : {}),
    },
    'request',
  );
  const config = loadConfig();
  const found = findMapping(config, request.mapping);
  if (!found.directions.includes(request.direction)) {
    throw new InvalidRequestError(
      `direction: mapping ${found.name} does not allow ${request.direction} (allowed: ${found.directions.join(', ')})`,
    );
  }
  return request;
}

export function addRequestOptions(command: Command): Command {
  return command
    .argument('<mapping>', 'mapping name from the config')
    .argument('<direction>', 'stage-in (S3 -> FSx) or export (FSx -> S3)')
    .option('--sub-path <path>', 'only this folder, relative to the mapping')
    .option('--method <method>', 'auto | dra | ec2 (overrides the mapping)')
    .option('--delete', 'delete destination files missing from the source (opt-in)')
    .option('--json', 'machine-readable output');
}

async function transferStateMachineArn(): Promise<string> {
  return findStateMachineArn(getSfn(), stateMachineName('transfer'));
}

function summary(described: DescribeExecutionCommandOutput) {
  return {
    executionArn: described.executionArn,
    name: described.name,
    status: described.status,
    startDate: described.startDate?.toISOString(),
    stopDate: described.stopDate?.toISOString(),
    ...(described.output ? { output: JSON.parse(described.output) } : {}),
    ...(described.error ? { error: described.error, cause: described.cause } : {}),
  };
}

function printDescribed(described: DescribeExecutionCommandOutput, json: boolean): void {
  const result = summary(described);
  if (json) {
    printJson(result);
    return;
  }
  note(`${result.name}: ${result.status}`);
  if (result.error) note(`  ${result.error}: ${result.cause ?? ''}`);
  if (result.output) note(JSON.stringify(result.output, null, 2));
}

async function watch(executionArn: string, json: boolean): Promise<number> {
  const started = Date.now();
  const described = await followTransfer(getSfn(), executionArn, {
    onState: ({ state }) => {
      if (!json) note(`  ${((Date.now() - started) / 1000).toFixed(1).padStart(6)}s  ${state}`);
    },
  });
  printDescribed(described, json);
  return described.status === 'SUCCEEDED' ? 0 : 1;
}

export function registerExecutionCommands(program: Command): void {
  addRequestOptions(program.command('start').description('start a transfer run'))
    .option('--transfer-id <id>', 'idempotency key: the same id never starts a second run')
    .option('--wait', 'follow the run until it ends')
    .action(
      async (
        mapping: string,
        direction: string,
        options: RequestOptions & { json?: boolean; wait?: boolean },
      ) => {
        const request = requestFromArgs(mapping, direction, options);
        const started = await startTransfer(getSfn(), await transferStateMachineArn(), request);
        if (!options.wait) {
          if (options.json) printJson(started);
          else
            note(
              `started ${started.executionName}\n  ${started.executionArn}\nfollow it with: fsx-transfer watch ${started.executionName}`,
            );
          return;
        }
        if (!options.json) note(`started ${started.executionName}`);
        process.exitCode = await watch(started.executionArn, Boolean(options.json));
      },
    );

  program
    .command('status')
    .description('show the status of a run')
    .argument('<execution>', 'execution name or ARN')
    .option('--json', 'machine-readable output')
    .action(async (execution: string, options: { json?: boolean }) => {
      const arn = executionArnFor(await transferStateMachineArn(), execution);
      printDescribed(await describeTransfer(getSfn(), arn), Boolean(options.json));
    });

  program
    .command('watch')
    .description('follow a run, printing each state as it is entered, until it ends')
    .argument('<execution>', 'execution name or ARN')
    .option('--json', 'machine-readable output')
    .action(async (execution: string, options: { json?: boolean }) => {
      const arn = executionArnFor(await transferStateMachineArn(), execution);
      process.exitCode = await watch(arn, Boolean(options.json));
    });

  program
    .command('cancel')
    .description('stop a run; its transfer instance is terminated by the cleanup path')
    .argument('<execution>', 'execution name or ARN')
    .option('--reason <text>', 'recorded as the cause', 'cancelled with fsx-transfer cancel')
    .option('--json', 'machine-readable output')
    .action(async (execution: string, options: { json?: boolean; reason: string }) => {
      const arn = executionArnFor(await transferStateMachineArn(), execution);
      await stopTransfer(getSfn(), arn, options.reason);
      if (options.json) printJson({ executionArn: arn, status: 'ABORTED' });
      else note(`cancelled ${arn}`);
    });
}
