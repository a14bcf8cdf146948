import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../shared/config/load.js';
import { TransferRequest } from '../../shared/config/schema.js';
import { parseInput } from '../../shared/input.js';

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
});
