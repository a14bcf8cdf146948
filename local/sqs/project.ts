/**
 * What serverless.yml declares for SQS, made real at start: `AWS::SQS::Queue` resources become
 * queues (their CloudFormation properties as queue attributes; redrive policies set once every
 * queue exists, as CloudFormation orders them by their `!GetAtt` dependencies), and functions'
 * `sqs` events become event source mappings.
 */
import { evaluateCfn, evaluateCfnDeep, physicalName, type ServerlessProject } from '../serverless-config.js';
import type { SqsEventSourceSpec } from './event-source.js';
import type { SqsEmulator } from './service.js';

/** CloudFormation `AWS::SQS::Queue` properties that are queue attributes of the same name. */
const ATTRIBUTE_PROPERTIES = [
  'DelaySeconds',
  'MaximumMessageSize',
  'MessageRetentionPeriod',
  'ReceiveMessageWaitTimeSeconds',
  'VisibilityTimeout',
  'KmsMasterKeyId',
  'KmsDataKeyReusePeriodSeconds',
  'SqsManagedSseEnabled',
];

/** A JSON-document property (`RedrivePolicy`) as the attribute string SQS stores. */
function jsonAttribute(project: ServerlessProject, value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(evaluateCfnDeep(project, value));
}

/**
 * Creates the queues of `AWS::SQS::Queue` resources; a queue that cannot be created is logged and
 * skipped.
 * @returns the names of the queues created.
 */
export function createQueuesFromProject(
  sqs: SqsEmulator,
  project: ServerlessProject,
  log: (message: string) => void,
): string[] {
  const created: { logicalId: string; name: string; props: Record<string, unknown> }[] = [];
  for (const [logicalId, resource] of Object.entries(project.resources)) {
    if (resource.Type !== 'AWS::SQS::Queue') continue;
    const props = resource.Properties ?? {};
    const name = physicalName(project, logicalId, 'QueueName');
    if (!name) {
      log(`[sqs] queue ${logicalId} skipped: its QueueName cannot be evaluated locally`);
      continue;
    }
    const attributes: Record<string, string> = {};
    for (const key of ATTRIBUTE_PROPERTIES) {
      if (props[key] !== undefined) attributes[key] = String(evaluateCfn(project, props[key]));
    }
    if (props.RedriveAllowPolicy !== undefined) {
      attributes.RedriveAllowPolicy = jsonAttribute(project, props.RedriveAllowPolicy);
    }
    const tags = Object.fromEntries(
      ((props.Tags ?? []) as { Key: string; Value: unknown }[]).map((tag) => [
        tag.Key,
        String(evaluateCfn(project, tag.Value)),
      ]),
    );
    try {
      sqs.createQueue(name, attributes, tags);
      created.push({ logicalId, name, props });
    } catch (error) {
      log(`[sqs] queue ${logicalId} (${name}) skipped: ${(error as Error).message}`);
    }
  }
  for (const { logicalId, name, props } of created) {
    if (props.RedrivePolicy === undefined) continue;
    try {
      sqs.setQueueAttributes(sqs.queueByName(name)!, {
        RedrivePolicy: jsonAttribute(project, props.RedrivePolicy),
      });
    } catch (error) {
      log(`[sqs] redrive policy of ${logicalId} skipped: ${(error as Error).message}`);
    }
  }
  return created.map((queue) => queue.name);
}

/**
 * The event source mappings of functions' `sqs` events (`sqs: <arn>` or `sqs: {arn, batchSize,
 * maximumBatchingWindow, functionResponseType, maximumConcurrency, enabled, filterPatterns}`).
 * An event whose ARN cannot be evaluated locally is logged and skipped.
 */
export function eventSourceSpecs(
  project: ServerlessProject,
  log: (message: string) => void,
): SqsEventSourceSpec[] {
  const specs: SqsEventSourceSpec[] = [];
  for (const fn of project.functions.values()) {
    for (const event of fn.events) {
      if (event.sqs === undefined) continue;
      const settings = (
        typeof event.sqs === 'object' && event.sqs !== null && !('Fn::GetAtt' in event.sqs)
          ? event.sqs
          : { arn: event.sqs }
      ) as Record<string, unknown>;
      const queueArn = evaluateCfn(project, settings.arn);
      if (!queueArn) {
        log(`[sqs] sqs event of ${fn.key} skipped: its arn cannot be evaluated locally`);
        continue;
      }
      specs.push({
        functionName: fn.key,
        queueArn,
        batchSize: settings.batchSize === undefined ? undefined : Number(settings.batchSize),
        maximumBatchingWindow:
          settings.maximumBatchingWindow === undefined ? undefined : Number(settings.maximumBatchingWindow),
        reportBatchItemFailures: settings.functionResponseType === 'ReportBatchItemFailures',
        maximumConcurrency:
          settings.maximumConcurrency === undefined ? undefined : Number(settings.maximumConcurrency),
        enabled: settings.enabled !== false,
        filterPatterns: settings.filterPatterns as Record<string, unknown>[] | undefined,
      });
    }
  }
  return specs;
}
