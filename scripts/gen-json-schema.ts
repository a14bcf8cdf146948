/**
 * Generates the JSON Schemas for editors and API clients from the one zod schema
 * (`npm run schema`). A unit test fails when the committed files differ from this output, so
 * the schema files never drift from `shared/config/schema.ts`.
 */
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as z from 'zod';
import { ConfigSchema, TransferRequest } from '../shared/config/schema.ts';

export const SCHEMA_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'docs', 'schema');

const SOURCES = {
  'fsx-transfer.config.schema.json': {
    schema: ConfigSchema,
    title: 'fsx-transfer configuration (fsx-transfer.config.yaml)',
  },
  'transfer-request.schema.json': {
    schema: TransferRequest,
    title: 'fsx-transfer transfer request (API body, CLI, state machine input)',
  },
} as const;

/** File name -> JSON text (2-space indent, trailing newline) of every generated schema. */
export function renderSchemas(): Record<string, string> {
  return Object.fromEntries(
    Object.entries(SOURCES).map(([file, { schema, title }]) => {
      // `io: 'input'` describes what a user writes: fields with defaults are optional.
      const json = { title, ...z.toJSONSchema(schema, { io: 'input', target: 'draft-2020-12' }) };
      return [file, `${JSON.stringify(json, null, 2)}\n`];
    }),
  );
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  for (const [file, text] of Object.entries(renderSchemas())) {
    writeFileSync(join(SCHEMA_DIR, file), text);
    console.log(`wrote docs/schema/${file}`);
  }
}
