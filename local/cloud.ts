/**
 * The local cloud, composed: one router on 127.0.0.1 with S3 (s3rver), FSx, EC2, SSM, STS, Step
 * Functions, SQS, DynamoDB (dynalite), EventBridge PutEvents and the project's HTTP API behind it,
 * the Lambda registry, the event bus and the SQS event source mappings that run the project's
 * real handlers, fault injection and a scaled clock. Tests and the demo start it in-process with
 * `startLocalCloud`; `fsx-transfer local up` runs it as a server (local/main.ts).
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { readStateMachines } from '../scripts/sls/asl.js';
import { deploymentValues } from '../scripts/sls/deployment.js';
import { loadConfig } from '../shared/config/load.js';
import type { Config } from '../shared/config/schema.js';
import { encodeEventKey } from '../shared/triggers/s3-events.js';
import { registerAdminRoutes } from './admin-routes.js';
import { ScaledClock } from './clock.js';
import { LocalCredentials } from './credentials.js';
import { createTablesFromProject, DynamoDbServer } from './dynamodb.js';
import { Network } from './ec2/network.js';
import { Ec2Emulator, type Ec2Timings } from './ec2/service.js';
import { type BusEvent, EventBus } from './events.js';
import { EventsApi } from './events-api.js';
import { type FaultInjector, FaultInjector as Faults, readFaultsFile } from './faults.js';
import { registerFsxAdmin } from './fsx/admin.js';
import { applyFileCorruption, corruptibleFileSystems } from './fsx/corrupt.js';
import { FsxEmulator, fileSystemSpecs } from './fsx/service.js';
import { EXECUTE_API_PREFIX, HttpApi } from './http-api/service.js';
import { registerIamAdmin } from './iam/admin.js';
import { writeIamReport } from './iam/coverage.js';
import { projectRoles, stateMachineResolverValues } from './iam/roles.js';
import { type IamMode, LocalIam } from './iam/service.js';
import {
  eventSourceAuthorizer,
  executionIam,
  functionIdentity,
  instanceIam,
  refuseApiInvoke,
  refuseScheduledStart,
} from './iam/wiring.js';
import { StateStore } from './kit/persistence.js';
import { LambdaRegistry } from './lambda.js';
import { type BucketAttributes, S3Backend, type S3EventRecord } from './s3/service.js';
import { LocalRouter, markInternal } from './server.js';
import { StepFunctionsEmulator } from './sfn/service.js';
import { SqsEventSources } from './sqs/event-source.js';
import { createQueuesFromProject, eventSourceSpecs } from './sqs/project.js';
import { SqsEmulator } from './sqs/service.js';
import { InstanceFilesystems } from './ssm/instance-fs.js';
import { AMAZON_IMAGE_IDS, LOCAL_AL2023_AMI } from './ssm/parameters.js';
import { SsmEmulator, type SsmTimings } from './ssm/service.js';
import { writeShims } from './ssm/shims.js';
import { StsEmulator } from './sts.js';
import type { LocalEvent } from './types.js';

export const LOCAL_ACCOUNT_ID = '000000000000';
export const LOCAL_REGION = 'us-east-1';
export const LOCAL_STAGE = 'local';
/** The project's Run Command document, registered as `fsx-transfer-<stage>-transfer` (as serverless.yml names it). */
export const PROJECT_DOCUMENT_FILE = 'ssm/transfer-document.yaml';
/** The resolver serverless.yml reads `custom.config` from (`${file(./scripts/sls/config.cjs)}`). */
export const CONFIG_RESOLVER_FILE = 'scripts/sls/config.cjs';
/** The resolver of the state machine definitions and the functions they invoke. */
export const STATE_MACHINES_RESOLVER_FILE = 'scripts/sls/state-machines.cjs';
/** The function whose schedule completes DRA waits (functions/poll-dra-waits): DRA runs need it running. */
export const DRA_WAIT_POLLER = 'poll-dra-waits';
/** SenderId of the messages EventBridge rules send to SQS targets. */
export const EVENTBRIDGE_SENDER_ID = 'AIDAIEVENTBRIDGELOCAL';

export interface LocalCloudOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  /** Where S3 objects, file system roots, instance directories and state snapshots live. */
  dataDir: string;
  /** The fsx-transfer config file: its file systems, subnets, security groups, buckets and Lustre clients. */
  configPath?: string;
  /** Simulated delays are multiplied by this (1 = real time; 0.01 in tests). */
  timeScale?: number;
  /** Fault rules to load at start (JSON or YAML). */
  faultsFile?: string;
  /** No console output (errors of background work still go to `cloud.logs`). */
  quiet?: boolean;
  /**
   * Fire `rate(...)` schedule rules on the scaled clock: true for all (the sweeper, the command
   * poller, the DRA wait poller ...), a list for those it names (rule, logical id or function, e.g.
   * `DRA_WAIT_POLLER`); by default none, tests fire them on demand. A DRA run needs
   * `DRA_WAIT_POLLER`: FSx has no completion event, so only that poller ends its waits.
   */
  schedules?: boolean | readonly string[];
  /** Project root holding serverless.yml, functions/, statemachines/ and ssm/ (default: this repository). */
  rootDir?: string;
  /** Simulated durations (ms) of EC2 and SSM processes. */
  timings?: Partial<Ec2Timings & SsmTimings>;
  /**
   * Model each transfer instance's network: its commands move bytes at the instance type's
   * baseline bandwidth times this factor (local/ssm/instance-network.ts; e.g. the time scale
   * when the data is scaled down likewise). Off by default: local transfers run at machine speed.
   */
  instanceNetworkScale?: number;
  /**
   * Values merged over `${self:custom.config.*}` (which the cloud derives from the config with
   * scripts/sls/deployment.ts, as packaging does): fixtures, or values the derivation lacks.
   */
  customConfig?: Record<string, unknown>;
  /**
   * IAM (local/iam): `enforce` (default) verifies every signature and evaluates every request
   * against the principal's policies, answering as AWS does; `warn` does the same but only logs
   * and lists what it would refuse; `off` accepts any access key and allows everything.
   */
  iam?: IamMode;
  /** Statement ids (`<role logical id>#<index>`) left out of the roles: a run then fails with access denied. */
  iamWithoutStatements?: string[];
  /**
   * Write this cloud's IAM report (statements used, denials) into `$FSX_TRANSFER_IAM_REPORT_DIR`
   * when it stops (default: for this repository's project, unless statements are left out). Tests
   * that cause denials on purpose turn it off, so `npm run test:iam` counts only what the product does.
   */
  iamReport?: boolean;
}

export interface LocalCloud {
  endpoint: string;
  port: number;
  accountId: string;
  region: string;
  dataDir: string;
  /** Environment variables for SDK clients, the AWS CLI and the project's CLI. */
  env: Record<string, string>;
  clock: ScaledClock;
  faults: FaultInjector;
  events: EventBus;
  fsx: FsxEmulator;
  ec2: Ec2Emulator;
  ssm: SsmEmulator;
  sts: StsEmulator;
  s3: S3Backend;
  sfn: StepFunctionsEmulator;
  lambdas: LambdaRegistry;
  sqs: SqsEmulator;
  /** The Lambda event source mappings of functions' `sqs` events. */
  eventSources: SqsEventSources;
  dynamodb: DynamoDbServer;
  eventsApi: EventsApi;
  httpApi: HttpApi;
  /** Base URL of the project's HTTP API (`<endpoint>/_aws/execute-api/<apiId>`); also `env.FSX_TRANSFER_API_URL`. */
  apiUrl: string;
  /** Access keys signatures are verified against: the administrator `test`/`test` and the project's role sessions. */
  credentials: LocalCredentials;
  /** Signature verification and IAM evaluation of every request (the mode, the roles, usage and denials). */
  iam: LocalIam;
  router: LocalRouter;
  config?: Config;
  /** Recent events put on the bus (newest last, at most 1000). */
  eventLog: BusEvent[];
  /** Recent log lines of background work. */
  logs: string[];
  /**
   * Deploys the project again with another config file: the functions read it, and the values
   * serverless.yml derives from it (IAM statements scoped to its file systems, buckets, Lustre
   * clients ...) are derived again, as `npm run package` and a deploy would.
   */
  useConfig(configPath: string): void;
  /**
   * Resolves once event deliveries and SQS event source mappings are quiet: no delivery in flight,
   * no batch held by a poller, no visible message in a mapped queue.
   */
  idle(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

const DEFAULT_ROOT = fileURLToPath(new URL('..', import.meta.url));

function s3EventToEventBridge(record: S3EventRecord, accountId: string): LocalEvent {
  const bucket = record.s3.bucket.name;
  const created = record.eventName.startsWith('ObjectCreated');
  const reason = created
    ? ({
        'ObjectCreated:Put': 'PutObject',
        'ObjectCreated:Copy': 'CopyObject',
        'ObjectCreated:Post': 'CompleteMultipartUpload',
      }[record.eventName] ?? 'PutObject')
    : 'DeleteObject';
  const object: Record<string, unknown> = {
    // S3 URL-encodes keys in its events (`a b+c` -> `a+b%2Bc`); consumers decode them.
    key: encodeEventKey(record.s3.object.key),
    sequencer: record.s3.object.sequencer,
  };
  if (created) {
    object.size = record.s3.object.size;
    object.etag = record.s3.object.eTag;
  }
  return {
    source: 'aws.s3',
    'detail-type': created ? 'Object Created' : 'Object Deleted',
    resources: [`arn:aws:s3:::${bucket}`],
    detail: {
      version: '0',
      bucket: { name: bucket },
      object,
      'request-id': String(
        (record.responseElements as Record<string, unknown> | undefined)?.['x-amz-request-id'] ?? '',
      ),
      requester: accountId,
      'source-ip-address': '127.0.0.1',
      reason,
      ...(created ? {} : { 'deletion-type': 'Permanently Deleted' }),
    },
  };
}

/** Buckets the config refers to (mappings and report paths), created at start. */
function configBuckets(config: Config | undefined): string[] {
  if (!config) return [];
  const uris = [
    ...config.mappings.map((m) => m.s3Uri),
    ...(config.defaults.reportPath ? [config.defaults.reportPath] : []),
  ];
  return [...new Set(uris.map((uri) => uri.replace(/^s3:\/\//, '').split('/')[0]!))];
}

/**
 * The values serverless.yml's `custom.config` gets from `${file(./scripts/sls/config.cjs)}`:
 * what packaging derives from the config (scripts/sls/deployment.ts), plus `overrides`.
 */
function serverlessFiles(
  config: Config | undefined,
  configPath: string | undefined,
  overrides: Record<string, unknown> | undefined,
  stateMachines: Record<string, unknown>,
): Record<string, unknown> {
  // `${file(./scripts/sls/state-machines.cjs):<name>.invokedFunctionArns}` (the state machine roles).
  const files: Record<string, unknown> = {
    [STATE_MACHINES_RESOLVER_FILE]: stateMachineResolverValues(stateMachines),
  };
  if (!config || !configPath) return overrides ? { ...files, [CONFIG_RESOLVER_FILE]: overrides } : files;
  return { ...files, [CONFIG_RESOLVER_FILE]: { ...deploymentValues(config, configPath), ...overrides } };
}

/** Starts the local cloud; resolves once every service answers. */
export async function startLocalCloud(options: LocalCloudOptions): Promise<LocalCloud> {
  const dataDir = resolve(options.dataDir);
  const rootDir = resolve(options.rootDir ?? DEFAULT_ROOT);
  mkdirSync(dataDir, { recursive: true });
  const accountId = LOCAL_ACCOUNT_ID;
  const logs: string[] = [];
  const log = (line: string) => {
    logs.push(`${new Date().toISOString()} ${line}`);
    if (logs.length > 1000) logs.splice(0, logs.length - 1000);
    if (!options.quiet) console.error(`[local-cloud] ${line}`);
  };
  const configPath = options.configPath ? resolve(options.configPath) : undefined;
  const config = configPath ? loadConfig(configPath) : undefined;
  const region = config?.region ?? LOCAL_REGION;

  const clock = new ScaledClock(options.timeScale ?? 1);
  const faults = new Faults();
  if (options.faultsFile) faults.add(readFaultsFile(options.faultsFile));
  const store = new StateStore(join(dataDir, 'state'));
  const router = new LocalRouter({
    accountId,
    region,
    faults,
    clock,
    log,
    debug: process.env.LOCAL_CLOUD_DEBUG === '1',
  });
  const port = await router.listen(options.port ?? 0);
  const endpoint = router.endpoint;
  const env: Record<string, string> = {
    AWS_ENDPOINT_URL: endpoint,
    AWS_REGION: region,
    AWS_DEFAULT_REGION: region,
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    FSX_TRANSFER_LOCAL: '1',
    FSX_TRANSFER_STAGE: LOCAL_STAGE,
    ...(configPath ? { FSX_TRANSFER_CONFIG: configPath } : {}),
  };

  const stoppers: (() => Promise<void> | void)[] = [];
  try {
    // Lambdas run in this process and read their clients' endpoints from process.env.
    const machinesDir = join(rootDir, 'statemachines');
    const definitions = existsSync(machinesDir) ? readStateMachines(machinesDir) : {};
    const lambdas = new LambdaRegistry({
      rootDir,
      accountId,
      region,
      stage: LOCAL_STAGE,
      environment: env,
      serverlessFiles: serverlessFiles(config, configPath, options.customConfig, definitions),
    });
    const project = lambdas.serverless;
    // `service: lambda, operation: Invoke` fault rules reach the in-process functions too.
    lambdas.useFaults(faults, clock);
    const events = new EventBus({
      clock,
      lambdas,
      accountId,
      region,
      log,
      schedules: options.schedules ?? false,
    });
    const eventLog: BusEvent[] = [];
    /** Puts an event on the bus and in the log of recent events. */
    const putOnBus = (event: LocalEvent | BusEvent): BusEvent => {
      const full = events.emit(event);
      eventLog.push(full);
      if (eventLog.length > 1000) eventLog.splice(0, eventLog.length - 1000);
      return full;
    };
    const emit = (event: LocalEvent) => {
      try {
        putOnBus(event);
      } catch (error) {
        log(`event bus: ${(error as Error).message}`);
      }
    };

    // SQS: the queues of serverless.yml, and EventBridge rules may target them.
    const sqs = new SqsEmulator({ clock, accountId, region, endpoint: () => endpoint });
    stoppers.push(() => sqs.close());
    createQueuesFromProject(sqs, project, log);
    events.connectQueues((queueArn, body) => {
      const queue = sqs.queueByArn(queueArn);
      if (!queue) throw new Error(`queue ${queueArn} does not exist`);
      sqs.sendMessage(queue, { MessageBody: body }, EVENTBRIDGE_SENDER_ID);
    });
    // IAM (built once the emulators whose state it reads exist; until then nothing runs).
    let iam!: LocalIam;
    const eventSources = new SqsEventSources({
      sqs,
      lambdas,
      clock,
      region,
      log,
      authorize: (functionName, action, queueArn) =>
        eventSourceAuthorizer(iam, (name) => lambdas.find(name)?.key)(functionName, action, queueArn),
    });
    const eventsApi = new EventsApi({ accountId, region, emit: putOnBus });
    const dynamodb = new DynamoDbServer();
    const credentials = new LocalCredentials(accountId);
    const httpApi = new HttpApi({
      project,
      lambdas,
      credentials,
      faults,
      clock,
      accountId,
      region,
      endpoint: () => endpoint,
      log,
      refuseInvoke: (principal, routeArn) => refuseApiInvoke(iam, principal, routeArn),
    });
    env.FSX_TRANSFER_API_URL = httpApi.url;
    lambdas.setEnvironment({ FSX_TRANSFER_API_URL: httpApi.url });

    // Internal S3 client for the FSx emulator: goes through the router (so object events fire as
    // for any writer) but is marked internal so fault rules never hit it.
    const internalS3 = markInternal(
      new S3Client({
        endpoint,
        region,
        credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
        forcePathStyle: true,
        requestChecksumCalculation: 'WHEN_REQUIRED',
        responseChecksumValidation: 'WHEN_REQUIRED',
      }),
    );
    stoppers.push(() => internalS3.destroy());

    let fsxRef: FsxEmulator | undefined;
    const s3 = new S3Backend({
      dataDir,
      accountId,
      region,
      buckets: configBuckets(config),
      faults,
      log,
      onEvent: (record) => {
        fsxRef?.onS3Event(record).catch((error) => log(`FSx auto-import: ${(error as Error).message}`));
        emit(s3EventToEventBridge(record, accountId));
      },
    });
    await s3.start();
    stoppers.push(() => s3.stop());
    for (const [bucket, attributes] of Object.entries(
      store.load<Record<string, BucketAttributes>>('s3') ?? {},
    )) {
      s3.setBucketAttributes(bucket, attributes);
    }
    router.setS3(s3);

    const fsx = new FsxEmulator({
      dataDir,
      clock,
      accountId,
      region,
      s3: internalS3,
      emit,
      fileSystems: fileSystemSpecs(config?.fileSystems ?? []),
      log,
      bucketInfo: async (bucket) => {
        const attributes = s3.getBucketAttributes(bucket);
        const exists = (await s3.listBuckets()).includes(bucket);
        return { exists, region: attributes.region, ownerAccountId: attributes.owner };
      },
    });
    fsxRef = fsx;
    stoppers.push(() => fsx.close());

    const network = new Network(region);
    for (const fs of config?.fileSystems ?? []) network.add(fs);
    network.ensureDefaults();
    const ec2 = new Ec2Emulator({
      accountId,
      region,
      clock,
      faults,
      emit,
      store,
      network,
      timings: options.timings,
      defaultImageId: LOCAL_AL2023_AMI,
    });
    stoppers.push(() => ec2.close());

    iam = new LocalIam({
      mode: options.iam ?? 'enforce',
      accountId,
      region,
      credentials,
      roles: projectRoles(project, definitions),
      log,
      withoutStatements: options.iamWithoutStatements,
      lookup: {
        instanceTags: (id) => {
          const instance = ec2.getInstance(id);
          return instance && Object.fromEntries(instance.tags.map((tag) => [tag.key, tag.value]));
        },
        imageOwner: (id) => (AMAZON_IMAGE_IDS.has(id) ? 'amazon' : accountId),
        defaultSubnetId: () => network.defaultSubnet().subnetId,
        instanceProfileRoleArn: (profile) => {
          const name = profile.replace(/^arn:[^:]*:iam::\d*:instance-profile\//, '');
          const role = iam.projectRoles.instanceProfiles.get(name);
          return role ? iam.role(role)?.arn : undefined;
        },
        associationFileSystem: (id) => fsx.associationFileSystem(id),
      },
    });
    router.setIam(iam);
    lambdas.useIdentity(functionIdentity(iam));

    const instances = new InstanceFilesystems(dataDir);
    const shimDir = writeShims(join(dataDir, 'ssm', 'bin'));
    const mountPoints = [...new Set(['/fsx', ...(config?.fileSystems ?? []).map((fs) => fs.mountPoint)])];
    const ssm = new SsmEmulator({
      accountId,
      region,
      clock,
      faults,
      emit,
      ec2,
      instances,
      dataDir,
      shimDir,
      endpoint: () => endpoint,
      mountPoints,
      store,
      timings: options.timings,
      iam: instanceIam(iam),
      ...(options.instanceNetworkScale ? { instanceNetworkScale: options.instanceNetworkScale } : {}),
      afterStep: () => applyFileCorruption(faults, corruptibleFileSystems(fsx), log),
    });
    stoppers.push(() => ssm.close());
    const sts = new StsEmulator({ accountId });

    const sfn = new StepFunctionsEmulator({
      clock,
      accountId,
      region,
      emit,
      lambdas,
      stateMachinesDir: join(rootDir, 'statemachines'),
      substitutions: {},
      stage: LOCAL_STAGE,
      endpoint,
      iam: executionIam(iam),
      faults,
    });
    stoppers.push(() => sfn.close());
    events.connectStateMachines(async (stateMachineArn, input, rule) => {
      // A schedule starts its state machine with the schedule's role (serverless-step-functions).
      const refusal = rule.schedule ? refuseScheduledStart(iam, stateMachineArn) : undefined;
      if (refusal) throw Object.assign(new Error(refusal), { name: 'AccessDeniedException' });
      return sfn.startExecution({ stateMachineArn, input });
    });
    stoppers.push(() => events.close());

    router.registerJson(fsx);
    router.registerJson(ssm);
    router.registerJson(sfn);
    router.registerJson(sqs);
    router.registerJson(eventsApi);
    router.registerRawJson(dynamodb);
    router.registerPath(EXECUTE_API_PREFIX, (req, res, url, ready) => httpApi.handle(req, res, url, ready));
    router.registerQuery(ec2);
    router.registerQuery(sts);

    const fileSystems = {
      byDnsName: (dnsName: string) => {
        const found = fsx.findByDnsName(dnsName) as
          | { FileSystemId: string; LustreConfiguration?: { MountName?: string } }
          | undefined;
        if (!found) return undefined;
        return {
          fileSystemId: found.FileSystemId,
          root: fsx.fileSystemRoot(found.FileSystemId),
          mountName: found.LustreConfiguration?.MountName,
        };
      },
      restore: async (fileSystemId: string, path: string) => {
        const { restored } = await fsx.restore(fileSystemId, path);
        // Restored contents were just written to the file system: a moment `corrupt-file` may hit
        // them (only them: a file still released would be overwritten by its own restore).
        await applyFileCorruption(
          faults,
          corruptibleFileSystems(fsx),
          log,
          (id, file) => id === fileSystemId && restored.includes(file),
        );
      },
      hsmState: (fileSystemId: string, path: string) => fsx.hsmState(fileSystemId, path)?.lfs,
    };

    const cloud: LocalCloud = {
      endpoint,
      port,
      accountId,
      region,
      dataDir,
      env,
      clock,
      faults,
      events,
      fsx,
      ec2,
      ssm,
      sts,
      s3,
      sfn,
      lambdas,
      sqs,
      eventSources,
      dynamodb,
      eventsApi,
      httpApi,
      apiUrl: httpApi.url,
      credentials,
      iam,
      router,
      config,
      eventLog,
      logs,
      useConfig: (path) => {
        const next = resolve(path);
        lambdas.reload(serverlessFiles(loadConfig(next), next, options.customConfig, definitions));
        lambdas.setEnvironment({ FSX_TRANSFER_CONFIG: next });
        iam.setRoles(projectRoles(lambdas.serverless, definitions));
      },
      idle: async (timeoutMs = 30_000) => {
        const deadline = Date.now() + timeoutMs;
        for (;;) {
          await events.idle();
          await eventSources.idle(Math.max(1, deadline - Date.now()));
          if (!events.busy && eventSources.isIdle()) return;
        }
      },
      stop: async () => {
        router.setReady(false);
        for (const stop of [...stoppers].reverse()) {
          try {
            await stop();
          } catch (error) {
            log(`stop: ${(error as Error).message}`);
          }
        }
        await router.close();
        clock.close();
        store.flush();
        // Once nothing runs any more: what this cloud's principals used and were refused.
        // Only this project's roles count (not a fixture project's), and not with statements left out.
        const report =
          options.iamReport ?? (rootDir === resolve(DEFAULT_ROOT) && !options.iamWithoutStatements?.length);
        if (report) writeIamReport(iam.report());
      },
    };

    registerAdminRoutes(cloud, { instances, fileSystems, network, store });
    registerIamAdmin(router, iam);
    registerFsxAdmin(router, fsx);

    // The project's Run Command document, under the name serverless.yml gives it.
    const documentFile = join(rootDir, PROJECT_DOCUMENT_FILE);
    if (existsSync(documentFile)) {
      ssm.registerDocument(
        `fsx-transfer-${LOCAL_STAGE}-transfer`,
        readFileSync(documentFile, 'utf8'),
        'YAML',
      );
    }

    // Long-lived Lustre clients named in the config: running, agent online, file system mounted.
    for (const fs of config?.fileSystems ?? []) {
      if (!fs.lustreClientInstanceId) continue;
      ec2.ensureInstance(fs.lustreClientInstanceId, {
        subnetId: fs.subnetIds[0],
        tags: { Name: `lustre-client-${fs.id}`, 'fsx-transfer:role': 'lustre-client' },
      });
      ssm.registerAgentNow(fs.lustreClientInstanceId);
      const mountPoint = instances.localPath(fs.lustreClientInstanceId, fs.mountPoint);
      if (!instances.mounts(fs.lustreClientInstanceId).some((m) => m.mountPoint === mountPoint)) {
        mkdirSync(mountPoint, { recursive: true });
        const dns = (
          fsx.listFileSystems().find((d) => d.FileSystemId === fs.id) as { DNSName?: string } | undefined
        )?.DNSName;
        instances.mount(fs.lustreClientInstanceId, {
          mountPoint,
          source: `${dns ?? fs.id}@tcp:/fsx`,
          fileSystemId: fs.id,
          fileSystemRoot: fsx.fileSystemRoot(fs.id),
        });
      }
    }

    ec2.resume();
    ssm.resume();
    router.setReady();

    // Tables through the DynamoDB API (the router must accept requests), then the pollers of the
    // functions' sqs events (their handlers call the cloud).
    const dynamoClient = markInternal(
      new DynamoDBClient({ endpoint, region, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } }),
    );
    try {
      await createTablesFromProject(dynamoClient, project, log);
    } finally {
      dynamoClient.destroy();
    }
    stoppers.push(() => eventSources.close());
    for (const spec of eventSourceSpecs(project, log)) eventSources.add(spec);

    log(`listening on ${endpoint} (data ${dataDir})`);
    return cloud;
  } catch (error) {
    for (const stop of stoppers.reverse()) {
      try {
        await stop();
      } catch {
        // Best effort while failing to start.
      }
    }
    await router.close();
    clock.close();
    throw error;
  }
}
