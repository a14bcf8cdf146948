/**
 * `start`, `status`, `watch`, `list`, `cancel`: runs of the transfer state machine, shown through
 * the same view as the transfers API (shared/transfers/view.ts), so both say the same thing.
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { getDynamoDb, getFsx, getS3, getSfn } from '../../shared/aws/clients.js';
import { loadConfig } from '../../shared/config/load.js';
import type { TransferRequest } from '../../shared/config/schema.js';
import { PRICE_TABLE, type PriceTable, priceTable } from '../../shared/cost/prices.js';
import { awsErrorName, TransferError } from '../../shared/errors.js';
import {
  findStateMachineArn,
  startTransfer,
  stateMachineName,
  stopTransfer,
} from '../../shared/sfn/executions.js';
import {
  FINAL_STATUSES,
  listRecords,
  TRANSFER_STATUSES,
  type TransferStatus,
} from '../../shared/transfers/records.js';
import { checkTransferRequest } from '../../shared/transfers/request.js';
import { transfersTable } from '../../shared/transfers/table.js';
import { getTransfer, type TransferView, type ViewDeps, viewOf } from '../../shared/transfers/view.js';
import { CliError, EXIT, note, PrerequisiteError, printJson, say } from '../output.js';
import { describeTransfer, listTable } from '../render.js';
import { watchTransfer } from '../watch.js';

export interface RequestOptions {
  subPath?: string;
  method?: string;
  delete?: boolean;
  verify?: string;
  transferId?: string;
  dryRun?: boolean;
}

/** Builds a TransferRequest from CLI arguments and checks it with the one schema, against the config. */
export function requestFromArgs(
  mapping: string,
  direction: string,
  options: RequestOptions,
): TransferRequest {
  const input = {
    mapping,
    direction,
    ...(options.subPath !== undefined ? { subPath: options.subPath } : {}),
    ...(options.method !== undefined ? { method: options.method } : {}),
    ...(options.delete ? { delete: true } : {}),
    ...(options.verify !== undefined ? { verify: options.verify } : {}),
    ...(options.dryRun ? { dryRun: true } : {}),
    ...(options.transferId !== undefined ? { transferId: options.transferId } : {}),
    trigger: 'cli',
  };
  return checkTransferRequest(loadConfig(), input, 'request').request;
}

export function addRequestOptions(command: Command): Command {
  return command
    .argument('<mapping>', 'mapping name from the config')
    .argument('<direction>', 'stage-in (S3 -> FSx) or export (FSx -> S3)')
    .option('--sub-path <path>', 'only this folder, relative to the mapping')
    .addOption(new Option('--method <method>', 'overrides the mapping').choices(['auto', 'dra', 'ec2']))
    .option('--delete', 'delete destination files missing from the source (opt-in)')
    .addOption(
      new Option(
        '--verify <mode>',
        'overrides the mapping: size (names and sizes), checksum (also the content of every file), none',
      ).choices(['size', 'checksum', 'none']),
    )
    .option('--json', 'one JSON document on stdout');
}

/**
 * ARN of this stage's transfer state machine.
 * @throws PrerequisiteError when it is not deployed (or the local cloud is not running it).
 */
export async function transferStateMachineArn(): Promise<string> {
  try {
    return await findStateMachineArn(getSfn(), stateMachineName('transfer'));
  } catch (error) {
    if (error instanceof TransferError) throw new PrerequisiteError(error.message);
    throw error;
  }
}

/** Prices from the config's `pricing`, or the repository's table when there is no config here. */
function prices(): PriceTable {
  try {
    return priceTable(loadConfig().pricing);
  } catch {
    return PRICE_TABLE;
  }
}

/** A transfers table with no records: for stacks deployed without one, or credentials that cannot read it. */
const NO_RECORDS = { send: async () => ({}) } as unknown as DynamoDBDocumentClient;

async function viewDeps(): Promise<ViewDeps> {
  return {
    db: getDynamoDb(),
    table: transfersTable(),
    sfn: getSfn(),
    stateMachineArn: await transferStateMachineArn(),
    live: { s3: getS3(), fsx: getFsx() },
    prices: prices(),
  };
}

/** The run as the API shows it; without the table's record where the table cannot be read. */
async function readView(deps: ViewDeps, id: string): Promise<TransferView> {
  try {
    return await getTransfer(deps, id);
  } catch (error) {
    if (!['ResourceNotFoundException', 'AccessDeniedException'].includes(awsErrorName(error) ?? ''))
      throw error;
    return getTransfer({ ...deps, db: NO_RECORDS }, id);
  }
}

/** The transfer id of an id or an execution ARN. */
function idOf(idOrArn: string): string {
  const id = idOrArn.startsWith('arn:') ? (idOrArn.split(':').pop() ?? '') : idOrArn;
  if (!/^[A-Za-z0-9_-]{1,80}$/.test(id)) {
    throw new CliError(`<id>: ${JSON.stringify(idOrArn)} is neither a transfer id nor an execution ARN`);
  }
  return id;
}

/** `--json` output of a run: the API view, plus `name` (= id) and `output` (= summary) kept for scripts. */
function viewJson(view: TransferView) {
  return { ...view, name: view.id, output: view.summary };
}

/** Prints how a run ended (or stands) and returns the exit code: 0 succeeded, 1 failed. */
function finalOutput(view: TransferView, json: boolean): number {
  if (json) printJson(viewJson(view));
  else say(describeTransfer(view));
  return view.status === 'SUCCEEDED' ? EXIT.ok : EXIT.runFailed;
}

async function follow(deps: ViewDeps, id: string, json: boolean): Promise<number> {
  const view = await watchTransfer({ sfn: deps.sfn, view: () => readView(deps, id), quiet: json });
  return finalOutput(view, json);
}

function parseLimit(value: string): number {
  const limit = Number(value);
  if (!Number.isInteger(limit) || limit < 1 || limit > 100) throw new InvalidArgumentError('must be 1-100');
  return limit;
}

export function registerExecutionCommands(program: Command): void {
  addRequestOptions(program.command('start').description('start a transfer run; prints its transfer id'))
    .option('--transfer-id <id>', 'idempotency key: the same id never starts a second run')
    .option('--wait', 'follow the run until it ends (exit code 1 if it fails)')
    .addHelpText(
      'after',
      `
Examples:
  $ fsx-transfer start extdata stage-in
  $ fsx-transfer start output export --sub-path run-2026-06-01 --wait
  $ ID=$(fsx-transfer start blended-tropomi stage-in --method ec2) && fsx-transfer watch "$ID"`,
    )
    .action(
      async (
        mapping: string,
        direction: string,
        options: RequestOptions & { json?: boolean; wait?: boolean },
      ) => {
        const request = requestFromArgs(mapping, direction, options);
        const deps = await viewDeps();
        const started = await startTransfer(deps.sfn, deps.stateMachineArn, request);
        const id = started.executionName;
        if (!options.wait) {
          if (options.json) printJson(viewJson(await readView(deps, id)));
          else {
            say(id);
            note(`started ${id}; follow it with: fsx-transfer watch ${id}`);
          }
          return;
        }
        if (!options.json) note(`started ${id}`);
        process.exitCode = await follow(deps, id, Boolean(options.json));
      },
    );

  program
    .command('status')
    .description(
      'show a run: status (QUEUED and why, RUNNING and its state, or how it ended), method and reasons, progress, time, error, cost',
    )
    .argument('<id>', 'transfer id (execution name) or execution ARN')
    .option('--json', 'one JSON document on stdout (the GET /transfers/{id} view)')
    .addHelpText(
      'after',
      '\nExamples:\n  $ fsx-transfer status extdata-stage-in-20261130-100001-k3j9x2\n  $ fsx-transfer status <id> --json | jq .progress',
    )
    .action(async (idOrArn: string, options: { json?: boolean }) => {
      const view = await readView(await viewDeps(), idOf(idOrArn));
      if (options.json) printJson(viewJson(view));
      else say(describeTransfer(view));
      // A run that failed is not a failure of `status`; but scripts can tell it ended badly.
      process.exitCode =
        view.status === 'FAILED' || view.status === 'TIMED_OUT' || view.status === 'ABORTED'
          ? EXIT.runFailed
          : EXIT.ok;
    });

  program
    .command('watch')
    .description(
      'follow a run live (state, files and bytes done, rate, time left; DRA task counts) until it ends',
    )
    .argument('<id>', 'transfer id (execution name) or execution ARN')
    .option('--json', 'print only the final view, as one JSON document')
    .addHelpText(
      'after',
      '\nExit code: 0 when the run succeeded, 1 when it failed, was aborted or timed out.\n\nExample:\n  $ fsx-transfer watch blended-tropomi-stage-in-20261130-100001-k3j9x2',
    )
    .action(async (idOrArn: string, options: { json?: boolean }) => {
      process.exitCode = await follow(await viewDeps(), idOf(idOrArn), Boolean(options.json));
    });

  program
    .command('list')
    .description('recent runs, newest first (whoever started them: CLI, API, S3 events, schedules)')
    .option('--mapping <name>', 'only runs of this mapping')
    .addOption(new Option('--status <status>', 'only runs in this status').choices(TRANSFER_STATUSES))
    .option('--limit <n>', 'how many runs (1-100)', parseLimit, 20)
    .option('--next-token <token>', 'the next page (printed after a full page)')
    .option('--json', 'one JSON document: {transfers, nextToken}, as GET /transfers')
    .addHelpText(
      'after',
      '\nExamples:\n  $ fsx-transfer list\n  $ fsx-transfer list --mapping output --status FAILED --limit 5',
    )
    .action(
      async (options: {
        mapping?: string;
        status?: TransferStatus;
        limit: number;
        nextToken?: string;
        json?: boolean;
      }) => {
        if (options.mapping) {
          const names = loadConfig().mappings.map((m) => m.name);
          if (!names.includes(options.mapping)) {
            throw new CliError(
              `--mapping: ${options.mapping} is not a mapping of the config (${names.join(', ')})`,
            );
          }
        }
        let startKey: Record<string, unknown> | undefined;
        if (options.nextToken) {
          try {
            startKey = JSON.parse(Buffer.from(options.nextToken, 'base64url').toString('utf8'));
          } catch {
            throw new CliError('--next-token: must be a token printed by fsx-transfer list');
          }
        }
        const deps = { db: getDynamoDb(), table: transfersTable() };
        const page = await listRecords(deps, {
          limit: options.limit,
          ...(options.mapping ? { mapping: options.mapping } : {}),
          ...(options.status ? { status: options.status } : {}),
          ...(startKey ? { startKey } : {}),
        });
        const views = page.records.map((record) => viewOf(record.id, record, undefined));
        const nextToken = page.nextKey
          ? Buffer.from(JSON.stringify(page.nextKey)).toString('base64url')
          : null;
        if (options.json) {
          printJson({ transfers: views, nextToken });
          return;
        }
        say(views.length ? listTable(views) : 'no runs recorded yet');
        if (nextToken) note(`more: fsx-transfer list --next-token ${nextToken}`);
      },
    );

  program
    .command('cancel')
    .description('stop a run; the cleanup path terminates its transfer instance and frees its turn')
    .argument('<id>', 'transfer id (execution name) or execution ARN')
    .option('--reason <text>', 'recorded as the cause', 'cancelled with fsx-transfer cancel')
    .option('--json', 'one JSON document: the run after the cancel')
    .addHelpText(
      'after',
      '\nExample:\n  $ fsx-transfer cancel output-export-20261130-100001-k3j9x2 --reason "wrong sub-path"',
    )
    .action(async (idOrArn: string, options: { json?: boolean; reason: string }) => {
      const deps = await viewDeps();
      const id = idOf(idOrArn);
      const before = await readView(deps, id);
      if (FINAL_STATUSES.has(before.status) || !before.executionArn) {
        throw new CliError(`transfer ${id} already ended (${before.status}); nothing to cancel`);
      }
      await stopTransfer(deps.sfn, before.executionArn, options.reason);
      const after = await readView(deps, id);
      if (options.json) printJson(viewJson(after));
      else
        say(`cancelled ${id} (${after.status}); its transfer instance, if it has one, is being terminated`);
    });
}
