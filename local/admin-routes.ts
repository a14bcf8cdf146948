import type { LocalCloud } from './cloud.js';
import type { LocalCredentials } from './credentials.js';
import type { Network } from './ec2/network.js';
import type { StateStore } from './kit/persistence.js';
import type { SqsEmulator } from './sqs/service.js';
import type { InstanceFilesystems } from './ssm/instance-fs.js';
import { runShimTool } from './ssm/shims.js';
import { LocalAwsError } from './types.js';

function body(request: { body: unknown }): Record<string, unknown> {
  const value = request.body;
  if (value === undefined) return {};
  if (!value || typeof value !== 'object' || Array.isArray(value)) {
    throw new LocalAwsError('ValidationException', 'admin request body must be a JSON object');
  }
  return value as Record<string, unknown>;
}

export function registerAdminRoutes(
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
export function registerTriggerAdminRoutes(cloud: LocalCloud): void {
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
