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
import { deploymentValues } from '../scripts/sls/deployment.js';
import { loadConfig } from '../shared/config/load.js';
import type { Config } from '../shared/config/schema.js';
import { encodeEventKey } from '../shared/triggers/s3-events.js';
import { ScaledClock } from './clock.js';
import { LocalCredentials } from './credentials.js';
import { createTablesFromProject, DynamoDbServer } from './dynamodb.js';
import { Network } from './ec2/network.js';
import { Ec2Emulator, type Ec2Timings } from './ec2/service.js';
import { type BusEvent, EventBus } from './events.js';
import { EventsApi } from './events-api.js';
import { type FaultInjector, FaultInjector as Faults, readFaultsFile } from './faults.js';
import { registerFsxAdmin } from './fsx/admin.js';
import { FsxEmulator, fileSystemSpecs } from './fsx/service.js';
import { EXECUTE_API_PREFIX, HttpApi } from './http-api/service.js';
import { StateStore } from './kit/persistence.js';
import { LambdaRegistry } from './lambda.js';
import { type BucketAttributes, S3Backend, type S3EventRecord } from './s3/service.js';
import { LocalRouter, markInternal } from './server.js';
import { StepFunctionsEmulator } from './sfn/service.js';
import { SqsEventSources } from './sqs/event-source.js';
import { createQueuesFromProject, eventSourceSpecs } from './sqs/project.js';
import { SqsEmulator } from './sqs/service.js';
import { InstanceFilesystems } from './ssm/instance-fs.js';
import { LOCAL_AL2023_AMI } from './ssm/parameters.js';
import { SsmEmulator, type SsmTimings } from './ssm/service.js';
import { runShimTool, writeShims } from './ssm/shims.js';
import { StsEmulator } from './sts.js';
import { LocalAwsError, type LocalEvent } from './types.js';

export const LOCAL_ACCOUNT_ID = '000000000000';
export const LOCAL_REGION = 'us-east-1';
export const LOCAL_STAGE = 'local';
/** The project's Run Command document, registered as `fsx-transfer-<stage>-transfer` (as serverless.yml names it). */
export const PROJECT_DOCUMENT_FILE = 'ssm/transfer-document.yaml';
/** The resolver serverless.yml reads `custom.config` from (`${file(./scripts/sls/config.cjs)}`). */
export const CONFIG_RESOLVER_FILE = 'scripts/sls/config.cjs';
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
  /** Fire `rate(...)` schedule rules on the scaled clock (the sweeper, the command poller); tests fire them on demand. */
  schedules?: boolean;
  /** Project root holding serverless.yml, functions/, statemachines/ and ssm/ (default: this repository). */
  rootDir?: string;
  /** Simulated durations (ms) of EC2 and SSM processes. */
  timings?: Partial<Ec2Timings & SsmTimings>;
  /**
   * Values merged over `${self:custom.config.*}` (which the cloud derives from the config with
   * scripts/sls/deployment.ts, as packaging does): fixtures, or values the derivation lacks.
   */
  customConfig?: Record<string, unknown>;
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
  /** Access keys the HTTP API verifies signatures against (`test`/`test` by default). */
  credentials: LocalCredentials;
  router: LocalRouter;
  config?: Config;
  /** Recent events put on the bus (newest last, at most 1000). */
  eventLog: BusEvent[];
  /** Recent log lines of background work. */
  logs: string[];
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
): Record<string, unknown> {
  if (!config || !configPath) return overrides ? { [CONFIG_RESOLVER_FILE]: overrides } : {};
  return { [CONFIG_RESOLVER_FILE]: { ...deploymentValues(config, configPath), ...overrides } };
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
    const lambdas = new LambdaRegistry({
      rootDir,
      accountId,
      region,
      stage: LOCAL_STAGE,
      environment: env,
      serverlessFiles: serverlessFiles(config, configPath, options.customConfig),
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
      schedules: Boolean(options.schedules),
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
    const eventSources = new SqsEventSources({ sqs, lambdas, clock, region, log });
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
    });
    stoppers.push(() => sfn.close());
    events.connectStateMachines(async (stateMachineArn, input) =>
      sfn.startExecution({ stateMachineArn, input }),
    );
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
        await fsx.restore(fileSystemId, path);
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
      router,
      config,
      eventLog,
      logs,
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
      },
    };

    registerAdminRoutes(cloud, { instances, fileSystems, network, store });
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

function body(request: { body: unknown }): Record<string, unknown> {
  const value = request.body;
  if (value === undefined) return {};
  if (!value || typeof value !== 'object' || Array.isArray(value)) {
    throw new LocalAwsError('ValidationException', 'admin request body must be a JSON object');
  }
  return value as Record<string, unknown>;
}

function registerAdminRoutes(
  cloud: LocalCloud,
  deps: {
    instances: InstanceFilesystems;
    fileSystems: Parameters<typeof runShimTool>[1];
    network: Network;
    store: StateStore;
  },
): void {
  const { router, faults, clock, ec2, ssm, s3, events } = cloud;
  router.admin({
    method: 'GET',
    path: '/',
    description: 'this list of admin routes',
    handler: () => ({ routes: router.listAdminRoutes() }),
  });
  router.admin({
    method: 'GET',
    path: '/health',
    description: 'liveness: endpoint, account, region, services',
    handler: () => ({
      status: 'ok',
      endpoint: cloud.endpoint,
      accountId: cloud.accountId,
      region: cloud.region,
      services: ['s3', 'fsx', 'ec2', 'ssm', 'sts', 'states', 'sqs', 'dynamodb', 'events', 'execute-api'],
      apiUrl: cloud.apiUrl,
      dataDir: cloud.dataDir,
    }),
  });
  router.admin({
    method: 'GET',
    path: '/state',
    description:
      'summary of every service (instances by state, commands by status, buckets, file systems, state machines)',
    handler: async () => ({
      endpoint: cloud.endpoint,
      timeScale: clock.timeScale,
      ec2: { instances: ec2.summary() },
      ssm: ssm.summary(),
      s3: { buckets: await s3.listBuckets(), bucketAttributes: s3.allBucketAttributes() },
      fsx: {
        fileSystems: cloud.fsx.listFileSystems().map((d) => (d as { FileSystemId: string }).FileSystemId),
      },
      states: { stateMachines: cloud.sfn.list() },
      sqs: { queues: cloud.sqs.list().map((queue) => ({ name: queue.name, ...queue.counts() })) },
      eventSources: cloud.eventSources
        .list()
        .map(({ uuid, functionName, queueArn, enabled, inFlight, stats }) => ({
          uuid,
          functionName,
          queueArn,
          enabled,
          inFlight,
          stats,
        })),
      httpApi: { url: cloud.apiUrl, routes: cloud.httpApi.routes.length },
      lambdas: cloud.lambdas.list().map((f) => f.name),
      events: { rules: events.rules.length, recent: cloud.eventLog.length },
      faults: faults.list().length,
    }),
  });

  router.admin({
    method: 'GET',
    path: '/faults',
    description: 'fault rules',
    handler: () => ({ rules: faults.list() }),
  });
  router.admin({
    method: 'POST',
    path: '/faults',
    description: 'add fault rules: a rule, a list, or {rules: [...]}',
    handler: (request) => {
      const value = request.body as unknown;
      const rules = Array.isArray(value) ? value : ((value as { rules?: unknown })?.rules ?? value);
      return { rules: faults.add(rules as never) };
    },
  });
  router.admin({
    method: 'DELETE',
    path: '/faults',
    description: 'remove every fault rule',
    handler: () => {
      faults.clear();
      return { rules: [] };
    },
  });
  router.admin({
    method: 'DELETE',
    path: /^\/faults\/([^/]+)$/,
    description: 'remove one fault rule',
    handler: (request) => {
      if (!faults.remove(request.params[0]!))
        throw new LocalAwsError('NotFound', `no fault rule ${request.params[0]}`, 404);
      return { removed: request.params[0] };
    },
  });

  router.admin({
    method: 'GET',
    path: '/clock',
    description: 'now and the time scale',
    handler: () => ({ now: clock.now().toISOString(), timeScale: clock.timeScale }),
  });
  router.admin({
    method: 'POST',
    path: '/clock',
    description: 'set {timeScale} for timers started from now on, or {advanceMs} to move now() forward',
    handler: (request) => {
      const b = body(request);
      try {
        if (b.timeScale !== undefined) clock.setTimeScale(Number(b.timeScale));
      } catch (error) {
        throw new LocalAwsError('ValidationException', (error as Error).message);
      }
      if (b.advanceMs !== undefined) clock.advance(Number(b.advanceMs));
      return { now: clock.now().toISOString(), timeScale: clock.timeScale };
    },
  });

  router.admin({
    method: 'GET',
    path: '/events',
    description: 'recent events on the bus (?source=&detailType=&limit=)',
    handler: (request) => {
      const source = request.query.get('source');
      const detailType = request.query.get('detailType');
      const limit = Number(request.query.get('limit') ?? 100);
      const list = cloud.eventLog.filter(
        (e) => (!source || e.source === source) && (!detailType || e['detail-type'] === detailType),
      );
      return { events: list.slice(-limit), deliveries: events.deliveries.slice(-limit) };
    },
  });
  router.admin({
    method: 'POST',
    path: '/events',
    description: 'put an event on the bus {source, detail-type, detail, resources?}',
    handler: (request) => {
      const b = body(request);
      if (typeof b.source !== 'string' || typeof b['detail-type'] !== 'string') {
        throw new LocalAwsError('ValidationException', 'an event needs source and detail-type');
      }
      const event = events.emit({
        source: b.source,
        'detail-type': b['detail-type'],
        detail: (b.detail ?? {}) as Record<string, unknown>,
        resources: (b.resources as string[] | undefined) ?? [],
      });
      cloud.eventLog.push(event);
      return event;
    },
  });
  router.admin({
    method: 'POST',
    path: /^\/events\/schedules\/([^/]+)$/,
    description: 'fire a scheduled rule now (rule name, logical id or function key)',
    handler: async (request) => {
      try {
        await events.fireSchedule(request.params[0]!);
      } catch (error) {
        throw new LocalAwsError('NotFound', (error as Error).message, 404);
      }
      return { fired: request.params[0] };
    },
  });

  router.admin({
    method: 'POST',
    path: /^\/schedules\/([^/]+)$/,
    description: 'fire the config schedules of a mapping now (?direction=stage-in|export)',
    handler: async (request) => {
      const mapping = request.params[0]!;
      const direction = request.query.get('direction') ?? undefined;
      const fired = await events.fireTransferSchedules(mapping, direction);
      if (fired.length === 0) {
        throw new LocalAwsError(
          'NotFound',
          `mapping ${mapping} has no schedule${direction ? ` for ${direction}` : ''} in the config (mappings[].schedules)`,
          404,
        );
      }
      return { mapping, fired };
    },
  });

  registerTriggerAdminRoutes(cloud);

  router.admin({
    method: 'GET',
    path: '/ec2/instances',
    description: 'every instance record (state, tags, user data, request parameters)',
    handler: () => ({ instances: ec2.listInstances() }),
  });
  router.admin({
    method: 'POST',
    path: '/ec2/instances',
    description:
      'create a running instance with its agent online {instanceId, subnetId?, tags?} (a Lustre client)',
    handler: (request) => {
      const b = body(request);
      const instanceId = String(b.instanceId ?? '');
      if (!/^i-[0-9a-f]{8,17}$/.test(instanceId))
        throw new LocalAwsError('ValidationException', 'instanceId must look like i-0123456789abcdef0');
      const record = ec2.ensureInstance(instanceId, {
        subnetId: b.subnetId as string | undefined,
        tags: b.tags as Record<string, string> | undefined,
      });
      ssm.registerAgentNow(instanceId);
      return record;
    },
  });
  router.admin({
    method: 'POST',
    path: '/ec2/network',
    description: 'add subnets and security groups {subnetIds?, securityGroupIds?}',
    handler: (request) => {
      const b = body(request);
      const { network } = deps;
      network.add({
        subnetIds: b.subnetIds as string[] | undefined,
        securityGroupIds: b.securityGroupIds as string[] | undefined,
      });
      return { subnets: [...network.subnets.values()], securityGroups: [...network.securityGroups.values()] };
    },
  });

  router.admin({
    method: 'GET',
    path: '/ssm/commands',
    description: 'every Run Command command with its invocations (outputs included)',
    handler: () => ({ commands: ssm.debugCommands() }),
  });
  router.admin({
    method: 'POST',
    path: '/ssm/documents',
    description: 'register or update a Command document {name, content, format?}',
    handler: (request) => {
      const b = body(request);
      if (typeof b.name !== 'string' || typeof b.content !== 'string') {
        throw new LocalAwsError('ValidationException', 'name and content are required');
      }
      return ssm.registerDocument(b.name, b.content, b.format === 'JSON' ? 'JSON' : 'YAML');
    },
  });
  router.admin({
    method: 'POST',
    path: '/ssm/shim',
    description: 'internal: the PATH shims of Run Command scripts (mount, umount, mountpoint, dnf, yum, lfs)',
    handler: (request) => {
      const b = body(request);
      if (typeof b.instanceId !== 'string' || typeof b.tool !== 'string' || !Array.isArray(b.args)) {
        throw new LocalAwsError('ValidationException', 'instanceId, tool and args are required');
      }
      return runShimTool(deps.instances, deps.fileSystems, {
        instanceId: b.instanceId,
        tool: b.tool,
        args: b.args.map(String),
        cwd: typeof b.cwd === 'string' ? b.cwd : undefined,
      });
    },
  });

  router.admin({
    method: 'GET',
    path: '/s3/buckets',
    description: 'buckets with their owner and region',
    handler: async () => ({
      buckets: (await s3.listBuckets()).map((name) => ({ name, ...s3.getBucketAttributes(name) })),
    }),
  });
  router.admin({
    method: 'PUT',
    path: /^\/s3\/buckets\/([^/]+)$/,
    description: 'create a bucket and/or set {owner, region} (models other accounts and regions)',
    handler: async (request) => {
      const name = request.params[0]!;
      const b = body(request);
      await s3.createBucket(name);
      s3.setBucketAttributes(name, {
        ...(b.owner !== undefined ? { owner: String(b.owner) } : {}),
        ...(b.region !== undefined ? { region: String(b.region) } : {}),
      });
      deps.store.save('s3', () => s3.allBucketAttributes());
      return { name, ...s3.getBucketAttributes(name) };
    },
  });
}

/** Admin routes of SQS, the event source mappings, the HTTP API and the credentials table. */
function registerTriggerAdminRoutes(cloud: LocalCloud): void {
  const { router, sqs, eventSources } = cloud;
  const queueSummary = (queue: ReturnType<SqsEmulator['list']>[number]) => ({
    name: queue.name,
    url: queue.url,
    arn: queue.arn,
    ...queue.counts(),
    ...(queue.redrivePolicy ? { redrivePolicy: queue.redrivePolicy } : {}),
    /** Queues whose dead-letter queue this is. */
    deadLetterSourceQueues: sqs
      .list()
      .filter((source) => source.redrivePolicy?.deadLetterTargetArn === queue.arn)
      .map((source) => source.name),
  });
  router.admin({
    method: 'GET',
    path: '/sqs/queues',
    description: 'queues with their counts (visible, notVisible, delayed), redrive policy and DLQ sources',
    handler: () => ({ queues: sqs.list().map(queueSummary) }),
  });
  router.admin({
    method: 'GET',
    path: /^\/sqs\/queues\/([^/]+)$/,
    description: 'one queue and its messages (body, attributes, receive count, state)',
    handler: (request) => {
      const queue = sqs.queueByName(request.params[0]!);
      if (!queue) throw new LocalAwsError('NotFound', `no queue ${request.params[0]}`, 404);
      return {
        ...queueSummary(queue),
        messages: queue
          .list()
          .map(
            ({
              messageId,
              body,
              messageAttributes,
              receiveCount,
              sentTimestamp,
              state,
              deadLetterQueueSourceArn,
            }) => ({
              messageId,
              body,
              messageAttributes,
              receiveCount,
              sentTimestamp,
              state,
              ...(deadLetterQueueSourceArn ? { deadLetterQueueSourceArn } : {}),
            }),
          ),
      };
    },
  });
  router.admin({
    method: 'GET',
    path: '/sqs/event-source-mappings',
    description:
      'event source mappings of sqs events: settings, enabled, messages in flight, stats, last result',
    handler: () => ({ mappings: eventSources.list() }),
  });
  router.admin({
    method: 'POST',
    path: /^\/sqs\/event-source-mappings\/([^/]+)$/,
    description: 'enable or disable a mapping {enabled} (by UUID, function key/name/ARN or queue ARN)',
    handler: async (request) => {
      const b = body(request);
      if (typeof b.enabled !== 'boolean')
        throw new LocalAwsError('ValidationException', 'enabled (boolean) is required');
      try {
        return await eventSources.setEnabled(request.params[0]!, b.enabled);
      } catch (error) {
        throw new LocalAwsError('NotFound', (error as Error).message, 404);
      }
    },
  });
  router.admin({
    method: 'GET',
    path: '/http-api',
    description: 'the HTTP API: base URL, api id, routes and their authorization',
    handler: () => cloud.httpApi.describe(),
  });
  router.admin({
    method: 'GET',
    path: '/credentials',
    description: 'access keys the HTTP API accepts (without secrets)',
    handler: () => ({ principals: cloud.credentials.list() }),
  });
  router.admin({
    method: 'POST',
    path: '/credentials',
    description: 'add an access key {accessKeyId, secretAccessKey, sessionToken?, arn?, userId?, accountId?}',
    handler: (request) => {
      const b = body(request);
      if (typeof b.accessKeyId !== 'string' || typeof b.secretAccessKey !== 'string') {
        throw new LocalAwsError('ValidationException', 'accessKeyId and secretAccessKey are required');
      }
      const {
        secretAccessKey: _secret,
        sessionToken: _token,
        ...principal
      } = cloud.credentials.add(b as Parameters<LocalCredentials['add']>[0]);
      return principal;
    },
  });
}
