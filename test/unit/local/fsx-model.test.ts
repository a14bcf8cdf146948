import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { ALL_OPERATIONS, OPERATIONS, SHAPES } from '../../../local/fsx/model.js';
import { csvField, fsPathForKey, keyForFile, parseCsvLine, parseS3Path } from '../../../local/fsx/paths.js';

/** The FSx API model shipped with the AWS CLI on this machine (botocore). */
function botocoreModel(): {
  operations: Record<string, { input: { shape: string } }>;
  shapes: Record<string, Record<string, unknown>>;
} {
  const dir = execFileSync(
    'python3',
    ['-c', 'import botocore,os;print(os.path.dirname(botocore.__file__))'],
    { encoding: 'utf8' },
  ).trim();
  const file = join(dir, 'data/fsx/2018-03-01/service-2.json.gz');
  return JSON.parse(gunzipSync(readFileSync(file)).toString('utf8'));
}

describe('FSx model subset', () => {
  const model = botocoreModel();

  it('has the constraints of the botocore model for every shape it validates', () => {
    for (const [name, shape] of Object.entries(SHAPES)) {
      const aws = model.shapes[name] as Record<string, unknown>;
      expect(aws, name).toBeDefined();
      expect(shape.type, name).toBe(aws.type);
      for (const key of ['min', 'max', 'pattern', 'enum', 'required'] as const) {
        expect((shape as Record<string, unknown>)[key], `${name}.${key}`).toEqual(aws[key]);
      }
      if (shape.type === 'structure') {
        const members = Object.fromEntries(
          Object.entries(aws.members as Record<string, { shape: string }>).map(([k, v]) => [k, v.shape]),
        );
        expect(shape.members, name).toEqual(members);
      }
      if (shape.type === 'list') expect(shape.member, name).toBe((aws.member as { shape: string }).shape);
    }
  });

  it('maps each implemented operation to its input shape and knows every FSx operation', () => {
    for (const [operation, input] of Object.entries(OPERATIONS)) {
      expect(model.operations[operation]?.input.shape, operation).toBe(input);
    }
    expect([...ALL_OPERATIONS]).toEqual(Object.keys(model.operations).sort());
  });
});

describe('completion report encoding', () => {
  it('quotes values as the FSx documentation shows', () => {
    expect(csvField('@filename.txt')).toBe('"""@filename.txt"""');
    expect(csvField('+filename.txt')).toBe('"""+filename.txt"""');
    expect(csvField('file,name.txt')).toBe('"file,name.txt"');
    expect(csvField('file"name.txt')).toBe('"file""name.txt"');
    expect(csvField('dir1/myLargeFile')).toBe('dir1/myLargeFile');
  });

  it('parses what it writes', () => {
    expect(parseCsvLine(`${csvField('a,"b"')},failed,S3Error`)).toEqual(['a,"b"', 'failed', 'S3Error']);
  });
});

describe('DRA path mapping', () => {
  it('maps files to keys and keys to files under a prefix, a bucket root and the file system root', () => {
    const prefixed = parseS3Path('s3://bucket/ExtData/') as NonNullable<ReturnType<typeof parseS3Path>>;
    const whole = parseS3Path('s3://bucket') as NonNullable<ReturnType<typeof parseS3Path>>;

    expect(prefixed).toEqual({ bucket: 'bucket', prefix: 'ExtData' });
    expect(keyForFile('/ExtData', prefixed, '/ExtData/a/b.nc')).toBe('ExtData/a/b.nc');
    expect(keyForFile('/', whole, '/a.nc')).toBe('a.nc');
    expect(fsPathForKey('/data', prefixed, 'ExtData/x/y.nc')).toBe('/data/x/y.nc');
    expect(fsPathForKey('/data', prefixed, 'ExtDataX/y.nc')).toBeUndefined();
    expect(fsPathForKey('/data', prefixed, 'ExtData/../y.nc')).toBeUndefined();
    expect(fsPathForKey('/', whole, 'dir/')).toBe('/dir');
    expect(parseS3Path('nfs://x/y')).toBeUndefined();
  });
});
