/**
 * The DRA method's states (and the states every run shares: Validate, WaitForTurn) under faults.
 * File system fs-1 has a Lustre client (listing and preload run there); fs-2 has none (the preload,
 * and the checksums of a `checksum` run, run on a transfer instance launched for them).
 */
import { StopExecutionCommand } from '@aws-sdk/client-sfn';
import { getDynamoDb, getSfn } from '../../../shared/aws/clients.js';
import type { TransferRequest } from '../../../shared/config/schema.js';
import { listWaits } from '../../../shared/dra/waits.js';
import { transfersTable } from '../../../shared/transfers/table.js';
import { putObjects } from '../../e2e/dra-helpers.js';
import { eventually, instancesOf, statesEntered } from '../../e2e/ec2-helpers.js';
import { BUCKET, outcomeOf, type Scenario, type ScenarioContext } from '../harness.js';
import {
  associationOf,
  crash,
  deleteAssociations,
  fsxFaults,
  replaceFunction,
  restoreFunction,
  rules,
  timesOut,
} from './builders.js';

export const FS_CLIENT = 'fs-00000000000000001';
export const FS_BARE = 'fs-00000000000000002';

/**
 * Mappings whose first run creates their association (and runs an import task): one per scenario
 * that needs a new association, because an association is never deleted under imported files
 * (their lazily imported contents would have nowhere to come from).
 */
const NEW_MAPPINGS: Array<[string, string]> = [
  ['new-failed', FS_CLIENT],
  ['new-500', FS_CLIENT],
  ['new-busy', FS_CLIENT],
  ['new-import-failed', FS_BARE],
  ['new-import-partial', FS_BARE],
];

export const DRA_CONFIG = `version: 1
region: us-east-1
accountId: '000000000000'
fileSystems:
  - id: ${FS_CLIENT}
    mountPoint: /fsx
    subnetIds: [subnet-00000000000000001, subnet-00000000000000002]
    securityGroupIds: [sg-00000000000000001]
    lustreClientInstanceId: i-0c11e47000000000a
  - id: ${FS_BARE}
    mountPoint: /fsx
    subnetIds: [subnet-00000000000000001]
    securityGroupIds: [sg-00000000000000001]
mappings:
  - {name: dra-in, fileSystemId: ${FS_CLIENT}, fsxPath: /dra-in, s3Uri: 's3://faults/dra-in', directions: [stage-in], method: dra, preload: true}
  - {name: dra-out, fileSystemId: ${FS_CLIENT}, fsxPath: /dra-out, s3Uri: 's3://faults/dra-out', directions: [export], method: dra}
  - {name: dra-archive, fileSystemId: ${FS_CLIENT}, fsxPath: /dra-archive, s3Uri: 's3://faults/dra-archive', directions: [export], method: dra, release: true}
  - {name: dra-remote, fileSystemId: ${FS_BARE}, fsxPath: /remote, s3Uri: 's3://faults/remote', directions: [stage-in], method: dra, preload: true}
  - {name: dra-checked, fileSystemId: ${FS_BARE}, fsxPath: /checked, s3Uri: 's3://faults/checked', directions: [stage-in], method: dra, verify: checksum, preload: true}
  - {name: dra-checked-out, fileSystemId: ${FS_BARE}, fsxPath: /checked-out, s3Uri: 's3://faults/checked-out', directions: [export], method: dra, verify: checksum, release: true}
${NEW_MAPPINGS.map(([name, fs]) => `  - {name: ${name}, fileSystemId: ${fs}, fsxPath: /${name}, s3Uri: 's3://faults/${name}', directions: [stage-in], method: dra}`).join('\n')}
defaults:
  timeouts: {agentOnlineMinutes: 2}
`;

const STAGE_IN: TransferRequest = { mapping: 'dra-in', direction: 'stage-in' };
const EXPORT: TransferRequest = { mapping: 'dra-out', direction: 'export' };
const ARCHIVE: TransferRequest = { mapping: 'dra-archive', direction: 'export' };
const REMOTE: TransferRequest = { mapping: 'dra-remote', direction: 'stage-in' };
const CHECKED: TransferRequest = { mapping: 'dra-checked', direction: 'stage-in' };
const CHECKED_OUT: TransferRequest = { mapping: 'dra-checked-out', direction: 'export' };

const firstRun = (name: string): TransferRequest => ({ mapping: name, direction: 'stage-in' });

/** How many DRA waits the transfers table holds (for the poller's faults). */
async function storedWaits(): Promise<number> {
  return (await listWaits({ db: getDynamoDb(), table: transfersTable() })).length;
}

/** The run's checksums command runs on the transfer instance launched for it. */
async function checksumming(executionArn: string): Promise<void> {
  await eventually(
    async () => (await statesEntered(executionArn)).includes('WaitForChecksumsCommand'),
    'the checksums command runs',
    60_000,
  );
  await eventually(
    async () => (await instancesOf(executionArn)).some((i) => i.State?.Name === 'running'),
    'the transfer instance runs',
    60_000,
  );
}

/** Lustre client commands of one purpose (`list`, `preload`), by the comment SendLustreCommand gives them. */
const lustreCommand = (purpose: 'list' | 'preload') => ({ Comment: `fsx-transfer ${purpose} *` });

export const DRA_SCENARIOS: Scenario[] = [
  // ── the states every run passes ──
  {
    state: 'Validate',
    fault: 'throttling',
    what: 'DescribeFileSystems throttled twice',
    expect: 'SUCCEEDED',
    request: STAGE_IN,
    inject: rules({
      service: 'fsx',
      operation: 'DescribeFileSystems',
      code: 'ThrottlingException',
      count: 2,
    }),
  },
  {
    state: 'Validate',
    fault: '5xx',
    what: 'DescribeFileSystems answers 500 on every call',
    expect: 'TransientAwsError',
    request: STAGE_IN,
    inject: rules({ service: 'fsx', operation: 'DescribeFileSystems', code: 'InternalServerError' }),
  },
  {
    state: 'Validate',
    fault: 'lambda-crash',
    what: 'the function crashes',
    expect: 'FunctionFailedError',
    request: STAGE_IN,
    inject: rules(crash('validate')),
  },
  {
    state: 'WaitForTurn',
    fault: 'throttling',
    what: 'DynamoDB throttles two gate writes',
    expect: 'SUCCEEDED',
    request: EXPORT,
    inject: rules({
      service: 'dynamodb',
      operation: 'UpdateItem',
      code: 'ProvisionedThroughputExceededException',
      count: 2,
    }),
  },
  {
    state: 'WaitForTurn',
    fault: 'lambda-timeout',
    what: 'the function times out',
    expect: 'FunctionFailedError',
    request: EXPORT,
    inject: rules(timesOut('wait-for-turn')),
  },
  // ── DRA branch ──
  {
    state: 'EnsureAssociation',
    fault: 'dra-failed',
    what: 'the new association ends FAILED',
    expect: 'DraFailedError',
    request: firstRun('new-failed'),
    inject: fsxFaults({
      associationCreateFailures: [{ match: '/new-failed', message: 'The S3 bucket was not reachable' }],
    }),
    // FAILED is terminal: the user deletes the association (docs/dra.md), the next run creates it again.
    clear: async () => deleteAssociations(FS_CLIENT, '/new-failed'),
  },
  {
    state: 'EnsureAssociation',
    fault: '5xx',
    what: 'CreateDataRepositoryAssociation answers 500 twice',
    expect: 'SUCCEEDED',
    request: firstRun('new-500'),
    inject: rules({
      service: 'fsx',
      operation: 'CreateDataRepositoryAssociation',
      code: 'InternalServerError',
      count: 2,
    }),
  },
  {
    state: 'EnsureAssociation',
    fault: 'lambda-crash',
    what: 'the function crashes',
    expect: 'FunctionFailedError',
    request: EXPORT,
    inject: rules(crash('ensure-association')),
  },
  {
    state: 'WaitForAssociation',
    fault: 'dra-misconfigured',
    what: 'the association is MISCONFIGURED',
    expect: 'DraMisconfiguredError',
    request: STAGE_IN,
    inject: async (ctx: ScenarioContext) => {
      const id = await associationOf(FS_CLIENT, '/dra-in');
      ctx.world.cloud.fsx.forceAssociationState(
        id!,
        'MISCONFIGURED',
        'The bucket event notification was changed',
      );
    },
    // The user fixes the bucket; FSx returns the association to AVAILABLE.
    clear: async (ctx: ScenarioContext) => {
      ctx.world.cloud.fsx.forceAssociationState((await associationOf(FS_CLIENT, '/dra-in'))!, 'AVAILABLE');
    },
  },
  {
    state: 'WaitForAssociation',
    fault: 'throttling',
    what: 'DescribeDataRepositoryAssociations throttled three times',
    expect: 'SUCCEEDED',
    request: STAGE_IN,
    inject: rules({
      service: 'fsx',
      operation: 'DescribeDataRepositoryAssociations',
      code: 'ThrottlingException',
      count: 3,
    }),
  },
  {
    state: 'StartImportTask',
    fault: 'task-slot-busy',
    what: 'another data repository task holds the file system for three starts (the poller starts the task)',
    expect: 'SUCCEEDED',
    request: firstRun('new-busy'),
    inject: rules({
      service: 'fsx',
      operation: 'CreateDataRepositoryTask',
      code: 'DataRepositoryTaskExecuting',
      count: 3,
    }),
  },
  {
    state: 'WaitForImportTask',
    fault: 'task-failed',
    what: 'every file of the import task fails',
    expect: 'DataRepositoryTaskFailedError',
    request: firstRun('new-import-failed'),
    inject: fsxFaults({
      taskFileFailures: [
        {
          match: '/new-import-failed/',
          errorCode: 'S3AccessDenied',
          types: ['IMPORT_METADATA_FROM_REPOSITORY'],
        },
      ],
    }),
  },
  {
    state: 'WaitForImportTask',
    fault: 'task-partial-failure',
    what: 'one file of the import task fails',
    expect: 'DataRepositoryTaskFailedError',
    request: firstRun('new-import-partial'),
    setup: () => putObjects({ 'new-import-partial/fine.nc': 'imports fine' }, BUCKET),
    inject: fsxFaults({
      taskFileFailures: [
        { match: '/scenario-/', errorCode: 'S3Error', types: ['IMPORT_METADATA_FROM_REPOSITORY'] },
      ],
    }),
  },
  {
    state: 'StartExportTask',
    fault: 'task-slot-busy',
    what: 'another data repository task holds the file system for three starts (the poller starts the task)',
    expect: 'SUCCEEDED',
    request: EXPORT,
    inject: rules({
      service: 'fsx',
      operation: 'CreateDataRepositoryTask',
      code: 'DataRepositoryTaskExecuting',
      count: 3,
    }),
  },
  {
    state: 'WaitForExportTask',
    fault: 'task-partial-failure',
    what: "the export of this run's new file fails",
    expect: 'DataRepositoryTaskFailedError',
    request: EXPORT,
    inject: fsxFaults({
      taskFileFailures: [
        { match: '/scenario-/', errorCode: 'FileSizeTooLarge', types: ['EXPORT_TO_REPOSITORY'] },
      ],
    }),
  },
  {
    state: 'WaitForExportTask',
    fault: 'task-failed',
    what: 'every file of the export task fails',
    expect: 'DataRepositoryTaskFailedError',
    request: EXPORT,
    inject: fsxFaults({
      taskFileFailures: [
        { match: '/dra-out/', errorCode: 'S3AccessDenied', types: ['EXPORT_TO_REPOSITORY'] },
      ],
    }),
  },
  {
    state: 'WaitForExportTask',
    fault: 'throttling',
    what: 'DescribeDataRepositoryTasks throttled three times',
    expect: 'SUCCEEDED',
    request: EXPORT,
    inject: rules({
      service: 'fsx',
      operation: 'DescribeDataRepositoryTasks',
      code: 'ThrottlingException',
      count: 3,
    }),
  },
  {
    state: 'StartFileListing',
    fault: '5xx',
    what: 'SendCommand answers 500 twice',
    expect: 'SUCCEEDED',
    request: STAGE_IN,
    inject: rules({ service: 'ssm', operation: 'SendCommand', code: 'InternalServerError', count: 2 }),
  },
  {
    state: 'WaitForFileListing',
    fault: 'command-failure',
    what: 'the listing command exits 1 on the Lustre client',
    expect: 'CommandFailedError',
    request: STAGE_IN,
    inject: rules({ service: 'ssm', behavior: 'command-exit', exitCode: 1, match: lustreCommand('list') }),
  },
  {
    state: 'VerifyDraTransfer',
    fault: 'lambda-crash',
    what: 'the function crashes',
    expect: 'FunctionFailedError',
    request: EXPORT,
    inject: rules(crash('verify-dra-transfer')),
  },
  {
    state: 'StartPreload',
    fault: 'lambda-crash',
    what: 'the function crashes when it sends the preload',
    expect: 'FunctionFailedError',
    request: STAGE_IN,
    inject: replaceFunction('send-lustre-command', (real) => async (event, context) => {
      if (event.purpose === 'preload') {
        throw Object.assign(new Error('Runtime exited with error: signal: killed'), {
          name: 'Lambda.Unknown',
        });
      }
      return real(event, context);
    }),
    clear: restoreFunction('send-lustre-command'),
  },
  {
    state: 'WaitForPreload',
    fault: 'command-failure',
    what: 'lfs hsm_restore exits 2 on the Lustre client',
    expect: 'CommandFailedError',
    request: STAGE_IN,
    inject: rules({ service: 'ssm', behavior: 'command-exit', exitCode: 2, match: lustreCommand('preload') }),
  },
  {
    state: 'StartReleaseTask',
    fault: 'task-slot-busy',
    what: 'another data repository task holds the file system for two starts (the poller starts the task)',
    expect: 'SUCCEEDED',
    request: ARCHIVE,
    inject: rules({
      service: 'fsx',
      operation: 'CreateDataRepositoryTask',
      code: 'DataRepositoryTaskExecuting',
      count: 2,
      match: { Type: 'RELEASE_DATA_FROM_FILESYSTEM' },
    }),
  },
  {
    state: 'WaitForReleaseTask',
    fault: 'task-failed',
    what: 'every file of the release task fails',
    expect: 'DataRepositoryTaskFailedError',
    request: ARCHIVE,
    inject: fsxFaults({
      taskFileFailures: [
        { match: '/dra-archive/', errorCode: 'ResourceBusy', types: ['RELEASE_DATA_FROM_FILESYSTEM'] },
      ],
    }),
  },
  // ── the DRA wait poller (poll-dra-waits, every minute: completes the waits above) ──
  {
    state: 'poll-dra-waits',
    fault: 'lambda-crash',
    what: 'the poller crashes in its first round that finds a stored wait',
    expect: 'SUCCEEDED',
    request: EXPORT,
    inject: replaceFunction('poll-dra-waits', (real) => {
      let crashed = false;
      return async (event, context) => {
        if (!crashed && (await storedWaits()) > 0) {
          crashed = true;
          throw Object.assign(new Error('Runtime exited with error: signal: killed'), {
            name: 'Lambda.Unknown',
          });
        }
        return real(event, context);
      };
    }),
    clear: restoreFunction('poll-dra-waits'),
  },
  {
    state: 'poll-dra-waits',
    fault: 'lost-event',
    what: 'the stored waits are lost (every poller round finds none): no heartbeat reaches the wait',
    expect: 'WaitLostError',
    request: EXPORT,
    inject: replaceFunction('poll-dra-waits', () => async () => ({ waits: 0, reports: [] })),
    clear: restoreFunction('poll-dra-waits'),
    // HeartbeatSeconds (3600) on the world's clock, plus the run.
    timeoutMs: 90_000,
  },
  // ── preload on a transfer instance (no Lustre client on fs-2) ──
  {
    state: 'LaunchInstance',
    fault: 'insufficient-capacity',
    what: 'no capacity for any type in any subnet (preload instance)',
    expect: 'InsufficientCapacityError',
    request: REMOTE,
    inject: rules({ service: 'ec2', operation: 'RunInstances', code: 'InsufficientInstanceCapacity' }),
  },
  {
    state: 'SendPreloadCommand',
    fault: 'agent-never-online',
    what: "the preload instance's agent never comes online",
    expect: 'InstanceNotReadyError',
    request: REMOTE,
    inject: rules({ service: 'ssm', behavior: 'agent-never-online' }),
  },
  {
    state: 'WaitForPreloadCommand',
    fault: 'command-failure',
    what: 'mount and lfs hsm_restore exit 1 on the preload instance',
    expect: 'CommandFailedError',
    request: REMOTE,
    inject: rules({ service: 'ssm', behavior: 'command-exit', exitCode: 1, match: lustreCommand('preload') }),
  },
  // ── checksum runs on a transfer instance (no Lustre client on fs-2) ──
  {
    state: 'SendChecksumsCommand',
    fault: 'throttling',
    what: 'SendCommand of the checksums throttled twice',
    expect: 'SUCCEEDED',
    request: CHECKED,
    inject: rules({ service: 'ssm', operation: 'SendCommand', code: 'ThrottlingException', count: 2 }),
  },
  {
    state: 'WaitForChecksumsCommand',
    fault: 'command-failure',
    what: 'the checksums command exits 1 on the launched instance',
    expect: 'CommandFailedError',
    request: CHECKED,
    inject: rules({ service: 'ssm', behavior: 'command-exit', exitCode: 1, match: lustreCommand('list') }),
  },
  {
    state: 'WaitForChecksumsCommand',
    fault: 'execution-stopped',
    what: 'the execution is stopped while the instance checksums (the cleanup rule terminates)',
    expect: 'ABORTED',
    request: CHECKED,
    inject: rules({
      service: 'ssm',
      behavior: 'command-slow',
      delayMs: 7_200_000,
      count: 1,
      match: lustreCommand('list'),
    }),
    act: async (ctx: ScenarioContext) => {
      const executionArn = await ctx.start();
      await checksumming(executionArn);
      await getSfn().send(
        new StopExecutionCommand({ executionArn, error: 'Cancelled', cause: 'stopped by the fault matrix' }),
      );
      return outcomeOf(executionArn);
    },
  },
  {
    state: 'WaitForChecksumsCommand',
    fault: 'execution-timed-out',
    what: 'the execution times out while the instance checksums (the cleanup rule terminates)',
    expect: 'TIMED_OUT',
    request: CHECKED_OUT,
    inject: rules(
      {
        service: 'ssm',
        behavior: 'command-slow',
        delayMs: 7_200_000,
        count: 1,
        match: lustreCommand('list'),
      },
      { service: 'states', behavior: 'execution-timeout', delayMs: 1_200_000, count: 1 },
    ),
    act: async (ctx: ScenarioContext) => {
      const executionArn = await ctx.start();
      await checksumming(executionArn);
      return outcomeOf(executionArn);
    },
  },
  {
    state: 'VerifyDraContent',
    fault: '5xx',
    what: "HeadObject of S3's checksums answers 500 on every call (the instance is terminated)",
    expect: 'TransientAwsError',
    request: CHECKED,
    inject: rules({ service: 's3', operation: 'HeadObject', code: 'InternalError' }),
  },
  {
    state: 'VerifyDraContent',
    fault: 'throttling',
    what: 'HeadObject throttled twice; the verified export is released after termination',
    expect: 'SUCCEEDED',
    request: CHECKED_OUT,
    inject: rules({ service: 's3', operation: 'HeadObject', code: 'SlowDown', count: 2 }),
  },
  {
    state: 'VerifyDraContent',
    fault: 'lambda-crash',
    what: 'the function crashes (the instance is terminated)',
    expect: 'FunctionFailedError',
    request: CHECKED,
    inject: rules(crash('verify-dra-transfer')),
  },
];
