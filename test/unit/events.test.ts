import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadServerlessProject } from '../../local/serverless-config.js';
import { parseConfig } from '../../shared/config/load.js';
import { TransferRequest } from '../../shared/config/schema.js';
import { parseInput } from '../../shared/input.js';
import {
  COMPLETION_SOURCE,
  completionDetail,
  FAILED_DETAIL_TYPE,
  SUCCEEDED_DETAIL_TYPE,
} from '../../shared/transfers/finish.js';
import { classifyS3Event, S3ObjectEvent } from '../../shared/triggers/s3-events.js';

const EVENTS = join(import.meta.dirname, '..', '..', 'events');
const read = (path: string) => JSON.parse(readFileSync(join(EVENTS, path), 'utf8'));
const config = parseConfig(readFileSync(join(EVENTS, '..', 'fsx-transfer.config.yaml'), 'utf8'));
const mappingNames = config.mappings.map((m) => m.name);

describe('sample events', () => {
  it('are all valid JSON documented in events/README.md', () => {
    const readme = readFileSync(join(EVENTS, 'README.md'), 'utf8');
    const files = readdirSync(EVENTS, { recursive: true, encoding: 'utf8' }).filter((f) =>
      f.endsWith('.json'),
    );

    expect(files.length).toBeGreaterThan(0);
    for (const file of files) {
      expect(() => read(file)).not.toThrow();
      const [folder] = file.split(/[\\/]/);
      expect(readme).toContain(`${folder}/`);
    }
  });

  it.each([
    'transfer/stage-in-extdata.json',
    'transfer/export-output.json',
    'schedule/transfer-request.json',
  ])('%s is a valid transfer request for a mapping of the demo config', (file) => {
    const request = parseInput(TransferRequest, read(file));

    expect(mappingNames).toContain(request.mapping);
  });

  it('carries a valid transfer request in the API body', () => {
    const request = parseInput(TransferRequest, JSON.parse(read('api/post-transfers.json').body));

    expect(request).toMatchObject({ mapping: 'output', direction: 'export' });
  });

  it('carries an API body that the request schema refuses, naming the field and the rule', () => {
    const act = () => parseInput(TransferRequest, JSON.parse(read('api/post-transfers-invalid.json').body));

    expect(act).toThrow(/subPath: (may contain only|must not contain \.\. segments)/);
  });

  it('has an S3 object under a mapped prefix of the demo bucket', () => {
    const { bucket, object } = read('s3/object-created.json').detail;

    expect(
      config.mappings.some((m) => `${object.key}`.startsWith(m.s3Uri.replace(`s3://${bucket.name}/`, ''))),
    ).toBe(true);
  });

  it.each(['s3/object-created.json', 's3/object-deleted.json'])(
    '%s is an S3 object event the trigger parses',
    (file) => {
      const event = S3ObjectEvent.parse(read(file));

      expect(classifyS3Event(config, event).kind).toBeDefined();
    },
  );

  it('carries S3 events as the bodies of the SQS batch the trigger receives', () => {
    const { Records } = read('sqs/s3-events-batch.json');

    expect(Records.length).toBeGreaterThan(0);
    for (const record of Records) expect(() => S3ObjectEvent.parse(JSON.parse(record.body))).not.toThrow();
  });

  it('has API requests for routes serverless.yml declares', () => {
    const project = loadServerlessProject({ rootDir: join(EVENTS, '..') });
    const routes = [...project.functions.values()].flatMap((fn) =>
      fn.events.flatMap((e) => {
        const api = e.httpApi as { method?: string; path?: string } | undefined;
        return api ? [`${api.method} ${api.path}`] : [];
      }),
    );
    const samples = readdirSync(join(EVENTS, 'api')).map((file) => read(`api/${file}`).routeKey);

    expect(new Set(samples)).toEqual(new Set(routes));
  });

  it.each(['transfer/completion-succeeded.json', 'transfer/completion-failed.json'])(
    '%s has the fields of the completion event detail',
    (file) => {
      const event = read(file);
      const record = parseRecord(event.detail);
      const built = completionDetail(record, {
        executionArn: event.detail.executionArn,
        name: event.detail.transferId,
        status: event.detail.status,
      });

      expect(event.source).toBe(COMPLETION_SOURCE);
      expect(event['detail-type']).toBe(
        event.detail.status === 'SUCCEEDED' ? SUCCEEDED_DETAIL_TYPE : FAILED_DETAIL_TYPE,
      );
      expect(Object.keys(event.detail).sort()).toEqual(Object.keys(built).sort());
    },
  );
});

/** A record with what a completion event's detail says (the builder's input). */
function parseRecord(detail: Record<string, unknown>) {
  return {
    id: String(detail.transferId),
    mapping: String(detail.mapping),
    direction: detail.direction as 'stage-in' | 'export',
    trigger: 'api' as const,
    request: { mapping: String(detail.mapping), direction: detail.direction as 'stage-in' | 'export' },
    status: detail.status as 'SUCCEEDED',
    createdAt: '2026-06-01T00:00:00Z',
    updatedAt: '2026-06-01T00:00:00Z',
  };
}
