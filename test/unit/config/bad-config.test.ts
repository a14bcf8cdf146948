/**
 * Every way a config file can be wrong is reported as `<file>:<line>:<col> <field>: <rule>`,
 * pointing at the offending YAML node, and nothing is returned.
 */
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../shared/config/load.js';
import { ConfigError } from '../../../shared/errors.js';
import { configYaml, FS_ID, position, valuePosition } from './builders.js';

const FILE = 'fsx-transfer.config.yaml';

/** The ConfigError message for `text`, failing the test when the text is accepted. */
function problems(text: string): string {
  try {
    parseConfig(text, FILE);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).message;
  }
  throw new Error(`config was accepted:\n${text}`);
}

describe('wrong types', () => {
  it('rejects a string where a boolean is expected', () => {
    const text = configYaml({ mappings: [{ name: 'extdata', extra: ['delete: "yes"'] }] });

    expect(problems(text)).toContain(
      `${FILE}:${valuePosition(text, 'delete: "yes"')} mappings[0].delete: must be true or false, got string "yes"`,
    );
  });

  it('rejects a single string where a list is expected', () => {
    const text = configYaml({ mappings: [{ name: 'extdata', extra: ['directions: stage-in'] }] });

    expect(problems(text)).toContain(
      `${FILE}:${valuePosition(text, 'directions: stage-in')} mappings[0].directions: must be a list, got string "stage-in"`,
    );
  });

  it('rejects a number where a path is expected', () => {
    const text = configYaml({ mappings: [{ name: 'extdata', fsxPath: '42' }] });

    expect(problems(text)).toContain(
      `${FILE}:${valuePosition(text, 'fsxPath: 42')} mappings[0].fsxPath: must be a string, got number 42`,
    );
  });

  it('rejects a string where a number is expected, deep in defaults', () => {
    const text = configYaml({ top: ['defaults:', '  timeouts:', '    transferMinutes: ten'] });

    expect(problems(text)).toContain(
      `${FILE}:${valuePosition(text, 'transferMinutes: ten')} defaults.timeouts.transferMinutes: must be a number, got string "ten"`,
    );
  });

  it('rejects a value outside an enum and names the allowed values', () => {
    const text = configYaml({ mappings: [{ name: 'extdata', extra: ['method: fast'] }] });

    expect(problems(text)).toContain(
      `${FILE}:${valuePosition(text, 'method: fast')} mappings[0].method: must be one of auto, dra, ec2`,
    );
  });

  it('rejects an unsupported version', () => {
    const text = configYaml().replace('version: 1', 'version: 2');

    expect(problems(text)).toContain(`${FILE}:1:10 version: must be 1`);
  });

  it('rejects a number out of range', () => {
    const text = configYaml({ top: ['defaults:', '  timeouts:', '    transferMinutes: 0'] });

    expect(problems(text)).toContain(
      `${FILE}:${valuePosition(text, 'transferMinutes: 0')} defaults.timeouts.transferMinutes: must be greater than 0`,
    );
  });

  it('rejects an empty file', () => {
    expect(problems('')).toContain(`${FILE}:1:1 (root): must be a mapping (key: value), got null`);
  });
});

describe('missing fields', () => {
  it('points a missing required key at the object that lacks it', () => {
    const text = configYaml().replace(`    s3Uri: s3://dzhang-imi-gchp-test/extdata\n`, '');

    expect(problems(text)).toContain(
      `${FILE}:${position(text, 'name: extdata')} mappings[0].s3Uri: is required`,
    );
  });

  it('rejects a config without mappings', () => {
    const text = configYaml().replace(/mappings:[\s\S]*$/, 'mappings: []\n');

    expect(problems(text)).toContain(
      `${FILE}:${valuePosition(text, 'mappings: []')} mappings: must have at least 1 item(s)`,
    );
  });
});

describe('unknown keys', () => {
  it('rejects an unknown top-level key at the key and lists the allowed keys', () => {
    const text = configYaml({ top: ['colour: blue'] });

    expect(problems(text)).toContain(
      `${FILE}:${position(text, 'colour')} colour: unknown key; allowed keys: version, region, accountId, fileSystems, mappings, defaults`,
    );
  });

  it('rejects a misspelt nested key', () => {
    const text = configYaml({ fileSystem: ['mountPont: /fsx'] });

    expect(problems(text)).toContain(
      `${FILE}:${position(text, 'mountPont')} fileSystems[0].mountPont: unknown key; allowed keys: id, region, mountPoint,`,
    );
  });

  it('rejects an unknown key in a schedule', () => {
    const text = configYaml({
      mappings: [
        {
          name: 'extdata',
          extra: [
            'schedules:',
            '  - expression: rate(1 day)',
            '    direction: stage-in',
            '    when: nightly',
          ],
        },
      ],
    });

    expect(problems(text)).toContain(
      `${FILE}:${position(text, 'when')} mappings[0].schedules[0].when: unknown key; allowed keys: expression, direction, subPath`,
    );
  });
});

describe('paths', () => {
  it('rejects a relative file system path', () => {
    const text = configYaml({ mappings: [{ name: 'extdata', fsxPath: 'ExtData' }] });

    expect(problems(text)).toContain(
      `${FILE}:${valuePosition(text, 'fsxPath: ExtData')} mappings[0].fsxPath: must be an absolute path starting with /`,
    );
  });

  it('rejects .. in a file system path', () => {
    const text = configYaml({ mappings: [{ name: 'extdata', fsxPath: '/ExtData/../etc' }] });

    expect(problems(text)).toContain(
      `${FILE}:${valuePosition(text, 'fsxPath: /ExtData/../etc')} mappings[0].fsxPath: must not contain .. segments`,
    );
  });

  it('rejects shell metacharacters in a file system path', () => {
    const text = configYaml({ mappings: [{ name: 'extdata', fsxPath: "'/ExtData;rm -rf'" }] });

    expect(problems(text)).toContain(
      `${FILE}:${valuePosition(text, "fsxPath: '/ExtData;rm -rf'")} mappings[0].fsxPath: may contain only letters, digits and`,
    );
  });

  it('rejects a relative mount point', () => {
    const text = configYaml({ fileSystem: ['mountPoint: fsx'] });

    expect(problems(text)).toContain(
      `${FILE}:${valuePosition(text, 'mountPoint: fsx')} fileSystems[0].mountPoint: must be an absolute path starting with /`,
    );
  });

  it('rejects a schedule sub-path that climbs out of the mapping', () => {
    const text = configYaml({
      mappings: [
        {
          name: 'extdata',
          extra: [
            'schedules:',
            '  - expression: rate(1 day)',
            '    direction: stage-in',
            '    subPath: ../x',
          ],
        },
      ],
    });

    expect(problems(text)).toContain(
      `${FILE}:${valuePosition(text, 'subPath: ../x')} mappings[0].schedules[0].subPath: must not contain .. segments`,
    );
  });

  it('rejects a filter that starts with -', () => {
    const text = configYaml({ mappings: [{ name: 'extdata', extra: ['include: ["--delete"]'] }] });

    expect(problems(text)).toContain(
      `${FILE}:${position(text, '"--delete"')} mappings[0].include[0]: may contain only`,
    );
  });
});

describe('S3 URIs', () => {
  it.each([
    ['s3://Bad_Bucket/ExtData', 'bucket name may contain only lowercase letters, digits, dots and hyphens'],
    ['https://dzhang-imi-gchp-test/ExtData', 'must be an S3 URI of the form s3://bucket/prefix'],
    ['s3://dzhang-imi-gchp-test//ExtData', 'key prefix must not start with /'],
    ['s3://dzhang-imi-gchp-test/ExtData/../x', 'key prefix must not contain . or .. segments'],
    ['s3://ab/ExtData', 'bucket name must be 3 to 63 characters long'],
    ['s3://192.168.1.1/ExtData', 'bucket name must not be formatted as an IP address'],
  ])('rejects %s', (uri, rule) => {
    const text = configYaml({ mappings: [{ name: 'extdata', s3Uri: uri }] });

    expect(problems(text)).toContain(
      `${FILE}:${valuePosition(text, `s3Uri: ${uri}`)} mappings[0].s3Uri: ${rule}`,
    );
  });
});

describe('cross-field rules', () => {
  it('rejects file system paths that contain each other on one file system', () => {
    const text = configYaml({
      mappings: [
        { name: 'extdata', fsxPath: '/ExtData' },
        { name: 'extdata-sub', fsxPath: '/ExtData/sub' },
      ],
    });

    expect(problems(text)).toContain(
      `${FILE}:${valuePosition(text, 'fsxPath: /ExtData/sub')} mappings[1].fsxPath: overlaps mapping extdata (/ExtData); file system paths on one file system must not contain each other`,
    );
  });

  it('rejects a mapping on / next to any other mapping', () => {
    const text = configYaml({ mappings: [{ name: 'extdata' }, { name: 'everything', fsxPath: '/' }] });

    expect(problems(text)).toContain(
      `${FILE}:${valuePosition(text, 'fsxPath: /\n')} mappings[1].fsxPath: overlaps mapping extdata`,
    );
  });

  it('rejects S3 prefixes that contain each other on one file system', () => {
    const text = configYaml({
      mappings: [
        { name: 'extdata', s3Uri: 's3://dzhang-imi-gchp-test/ExtData' },
        { name: 'geos', s3Uri: 's3://dzhang-imi-gchp-test/ExtData/GEOS_0.5x0.625' },
      ],
    });

    expect(problems(text)).toContain(
      `${FILE}:${valuePosition(text, 's3Uri: s3://dzhang-imi-gchp-test/ExtData/GEOS_0.5x0.625')} mappings[1].s3Uri: overlaps mapping extdata (s3://dzhang-imi-gchp-test/ExtData); S3 prefixes linked to one file system must not contain each other`,
    );
  });

  it('accepts the same paths on two different file systems', () => {
    const text = configYaml({
      fileSystem: [],
      mappings: [
        { name: 'a-map', fsxPath: '/data' },
        { name: 'b-map', fsxPath: '/data', fileSystemId: 'fs-0fedcba9876543210' },
      ],
    }).replace(
      'mappings:',
      [
        '  - id: fs-0fedcba9876543210',
        '    subnetIds: [subnet-0123456789abcdef0]',
        '    securityGroupIds: [sg-0123456789abcdef0]',
        'mappings:',
      ].join('\n'),
    );

    expect(parseConfig(text).mappings).toHaveLength(2);
  });

  it('rejects a mapping on a file system that is not declared', () => {
    const text = configYaml({ mappings: [{ name: 'extdata', fileSystemId: 'fs-0fedcba9876543210' }] });

    expect(problems(text)).toContain(
      `${FILE}:${valuePosition(text, 'fileSystemId: fs-0fedcba9876543210')} mappings[0].fileSystemId: unknown file system fs-0fedcba9876543210; declare it under fileSystems`,
    );
  });

  it('rejects duplicate mapping names at the second one', () => {
    const text = configYaml({
      mappings: [{ name: 'extdata' }, { name: 'extdata', fsxPath: '/other', s3Uri: 's3://other-bucket/x' }],
    });

    expect(problems(text)).toContain(
      `${FILE}:${valuePosition(text, 'name: extdata\n    fileSystemId: fs-0123456789abcdef0\n    fsxPath: /other')} mappings[1].name: duplicate mapping name extdata`,
    );
  });

  it('rejects duplicate file system ids', () => {
    const text = configYaml().replace(
      'mappings:',
      [
        '  - id: fs-0123456789abcdef0',
        '    subnetIds: [subnet-0123456789abcdef0]',
        '    securityGroupIds: [sg-0123456789abcdef0]',
        'mappings:',
      ].join('\n'),
    );

    const second = position(
      text,
      '  - id: fs-0123456789abcdef0\n    subnetIds: [subnet-0123456789abcdef0]\n    securityGroupIds: [sg-0123456789abcdef0]\nmappings',
      8,
    );

    expect(problems(text)).toContain(`${FILE}:${second} fileSystems[1].id: duplicate file system ${FS_ID}`);
  });

  it('rejects a schedule in a direction the mapping does not allow', () => {
    const text = configYaml({
      mappings: [
        {
          name: 'extdata',
          extra: [
            'directions: [stage-in]',
            'schedules:',
            '  - expression: rate(1 day)',
            '    direction: export',
          ],
        },
      ],
    });

    expect(problems(text)).toContain(
      `${FILE}:${valuePosition(text, 'direction: export')} mappings[0].schedules[0].direction: export is not one of the mapping's directions (stage-in)`,
    );
  });

  it('rejects a ninth dra mapping on one file system (at most 8 DRAs)', () => {
    const mappings = Array.from({ length: 9 }, (_, i) => ({ name: `m${i}`, extra: ['method: dra'] }));
    const text = configYaml({ mappings });

    expect(problems(text)).toContain(
      'mappings[8].method: a file system has at most 8 data repository associations',
    );
  });
});

describe('reporting', () => {
  it('reports every problem of a file at once, in line order', () => {
    const text = configYaml({
      top: ['colour: blue'],
      mappings: [{ name: 'extdata', fsxPath: 'ExtData', s3Uri: 's3://Bad/x', extra: ['delete: maybe'] }],
    });

    const lines = problems(text).split('\n').slice(1);

    expect(lines).toHaveLength(4);
    const lineNumbers = lines.map((line) => Number(/:(\d+):\d+ /.exec(line)?.[1]));
    expect(lineNumbers).toEqual([...lineNumbers].sort((a, b) => a - b));
    expect(problems(text)).toMatch(/^Invalid config fsx-transfer\.config\.yaml \(4 problems\):/);
  });

  it('reports YAML syntax errors with their position', () => {
    const text = `version: 1\nregion: us-east-1\nregion: eu-west-1\n`;

    expect(problems(text)).toContain(`${FILE}:3:1 (yaml): Map keys must be unique`);
  });

  it('rejects an unknown file system id format', () => {
    const text = configYaml().replace(`- id: ${FS_ID}`, '- id: fs-XYZ');

    expect(problems(text)).toContain(
      `${FILE}:${valuePosition(text, 'id: fs-XYZ')} fileSystems[0].id: must be a file system id like fs-0123456789abcdef0`,
    );
  });
});
