/** A config with one mapping per trigger case, and S3 events built on events/s3/object-created.json. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseConfig } from '../../../shared/config/load.js';
import { encodeEventKey } from '../../../shared/triggers/s3-events.js';

const SAMPLE = JSON.parse(
  readFileSync(join(import.meta.dirname, '..', '..', '..', 'events', 's3', 'object-created.json'), 'utf8'),
);

export const config = parseConfig(`version: 1
region: us-east-1
fileSystems:
  - id: fs-00000000000000001
    subnetIds: [subnet-00000000000000001]
    securityGroupIds: [sg-00000000000000001]
  - id: fs-00000000000000002
    subnetIds: [subnet-00000000000000001]
    securityGroupIds: [sg-00000000000000001]
mappings:
  - { name: tropomi, fileSystemId: fs-00000000000000001, fsxPath: /tropomi, s3Uri: s3://demo/blended-tropomi, directions: [stage-in], method: ec2, autoStage: true }
  - { name: extdata, fileSystemId: fs-00000000000000001, fsxPath: /ExtData, s3Uri: s3://demo/ExtData, directions: [stage-in], method: dra, autoStage: true }
  - { name: preloaded, fileSystemId: fs-00000000000000001, fsxPath: /preloaded, s3Uri: s3://demo/preloaded, directions: [stage-in], method: dra, preload: true, autoStage: true }
  - { name: mirrored, fileSystemId: fs-00000000000000001, fsxPath: /mirrored, s3Uri: s3://demo/mirrored, directions: [stage-in], method: ec2, delete: true, autoStage: true }
  - { name: manual, fileSystemId: fs-00000000000000001, fsxPath: /manual, s3Uri: s3://demo/manual, directions: [stage-in], method: ec2 }
  - { name: tropomi-copy, fileSystemId: fs-00000000000000002, fsxPath: /tropomi, s3Uri: s3://demo/blended-tropomi, directions: [stage-in], method: auto, autoStage: true }
`);

let sequence = 0;

/** An EventBridge S3 event for `key` (encoded as S3 encodes keys in events). */
export function s3Event(
  key: string,
  options: { bucket?: string; deleted?: boolean; id?: string } = {},
): Record<string, unknown> {
  sequence += 1;
  return {
    ...SAMPLE,
    id: options.id ?? `event-${sequence}-${Math.random().toString(36).slice(2)}`,
    'detail-type': options.deleted ? 'Object Deleted' : 'Object Created',
    detail: {
      ...SAMPLE.detail,
      bucket: { name: options.bucket ?? 'demo' },
      object: { ...SAMPLE.detail.object, key: encodeEventKey(key) },
      reason: options.deleted ? 'DeleteObject' : 'PutObject',
    },
  };
}

/** SQS messages carrying `events` (as the EventBridge rule target delivers them). */
export function messages(events: Record<string, unknown>[]) {
  return events.map((event, i) => ({ messageId: `m-${String(event.id)}-${i}`, body: JSON.stringify(event) }));
}
