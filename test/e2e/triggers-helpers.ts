/**
 * Set-up of the trigger tests (SQS, DynamoDB, EventBridge, HTTP API): a local cloud running the
 * fixture project (test/fixtures/local-project: the work queue and its DLQ, the items table, the
 * SQS-triggered `sqs-worker`, the `httpApi` routes and an S3 object events rule whose state and
 * pattern come from `custom.config`, as in the project's serverless.yml).
 */
import { fileURLToPath } from 'node:url';
import { startTestCloud, type TestCloud } from './local-cloud-helpers.js';

export const FIXTURE_ROOT = fileURLToPath(new URL('../fixtures/local-project', import.meta.url));
export const WORK_QUEUE = 'fixture-local-work';
export const WORK_DLQ = 'fixture-local-work-dlq';
export const ITEMS_TABLE = 'fixture-local-items';
export const BUCKET = 'fixture-data';

/** A config whose mapping's bucket the cloud creates at start. */
export const FIXTURE_CONFIG = `version: 1
region: us-east-1
accountId: '000000000000'
fileSystems:
  - id: fs-00000000000000001
    mountPoint: /fsx
    subnetIds: [subnet-00000000000000001]
    securityGroupIds: [sg-00000000000000001]
mappings:
  - name: input
    fileSystemId: fs-00000000000000001
    fsxPath: /input
    s3Uri: s3://${BUCKET}/input
    method: ec2
`;

/** The S3 events rule's pattern, shaped like the contract's `s3EventPattern`. */
export const S3_EVENT_PATTERN = {
  source: ['aws.s3'],
  'detail-type': ['Object Created', 'Object Deleted'],
  detail: {
    $or: [
      { bucket: { name: [BUCKET] }, object: { key: [{ prefix: 'input/' }] } },
      { bucket: { name: [BUCKET] }, object: { key: [{ prefix: 'more-input/' }] } },
    ],
  },
};

export function startFixtureCloud(): Promise<TestCloud> {
  return startTestCloud({
    rootDir: FIXTURE_ROOT,
    config: FIXTURE_CONFIG,
    customConfig: { s3EventsRuleState: 'ENABLED', s3EventPattern: S3_EVENT_PATTERN },
  });
}
