import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderSchemas, SCHEMA_DIR } from '../../../scripts/gen-json-schema.js';

describe('generated JSON Schemas', () => {
  it.each(Object.entries(renderSchemas()))(
    'docs/schema/%s matches the zod schema (run npm run schema)',
    (file, text) => {
      const committed = readFileSync(join(SCHEMA_DIR, file), 'utf8');

      expect(committed).toBe(text);
    },
  );

  it('describes the config keys and forbids unknown ones', () => {
    const schema = JSON.parse(renderSchemas()['fsx-transfer.config.schema.json']!);

    expect(Object.keys(schema.properties)).toEqual([
      'version',
      'region',
      'accountId',
      'fileSystems',
      'mappings',
      'defaults',
      'pricing',
    ]);
    expect(schema.additionalProperties).toBe(false);
    expect(schema.properties.mappings.items.properties.fsxPath.pattern).toBe('^\\/[A-Za-z0-9._/+=@,:~-]*$');
  });
});
