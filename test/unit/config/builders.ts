/** Small builders for config YAML text used by the config tests. */

export const FS_ID = 'fs-0123456789abcdef0';

export interface MappingFields {
  name: string;
  fsxPath?: string;
  s3Uri?: string;
  fileSystemId?: string;
  /** Extra YAML lines (without indentation) appended to the mapping. */
  extra?: string[];
}

export function mappingYaml({
  name,
  fsxPath,
  s3Uri,
  fileSystemId = FS_ID,
  extra = [],
}: MappingFields): string {
  return [
    `  - name: ${name}`,
    `    fileSystemId: ${fileSystemId}`,
    `    fsxPath: ${fsxPath ?? `/${name}`}`,
    `    s3Uri: ${s3Uri ?? `s3://dzhang-imi-gchp-test/${name}`}`,
    ...extra.map((line) => `    ${line}`),
  ].join('\n');
}

export interface ConfigFields {
  /** Extra top-level YAML lines. */
  top?: string[];
  /** Extra YAML lines of the first file system. */
  fileSystem?: string[];
  mappings?: MappingFields[];
}

/** A valid config (unless the fields break it) with the seed's three input mappings by default. */
export function configYaml({ top = [], fileSystem = [], mappings }: ConfigFields = {}): string {
  const list = mappings ?? [
    { name: 'extdata' },
    { name: 'blended-tropomi' },
    { name: 'blended-boundary-conditions' },
  ];
  return [
    'version: 1',
    'region: us-east-1',
    ...top,
    'fileSystems:',
    `  - id: ${FS_ID}`,
    '    subnetIds: [subnet-0123456789abcdef0]',
    '    securityGroupIds: [sg-0123456789abcdef0]',
    ...fileSystem.map((line) => `    ${line}`),
    'mappings:',
    ...list.map(mappingYaml),
    '',
  ].join('\n');
}

/**
 * 1-based line and column where `needle` starts in `text`, plus `offset` columns (to point at a
 * value after its key). Throws when the needle is missing or ambiguous, so tests fail loudly.
 */
export function position(text: string, needle: string, offset = 0): string {
  const first = text.indexOf(needle);
  if (first < 0 || text.indexOf(needle, first + 1) >= 0) throw new Error(`needle not unique: ${needle}`);
  const before = text.slice(0, first).split('\n');
  return `${before.length}:${before.at(-1)!.length + 1 + offset}`;
}

/** Position of the value of `key: value` (the column after `key: `). */
export function valuePosition(text: string, keyAndValue: string): string {
  return position(text, keyAndValue, keyAndValue.indexOf(': ') + 2);
}
