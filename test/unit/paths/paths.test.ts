import { describe, expect, it } from 'vitest';
import {
  fsxPathsOverlap,
  parseS3Uri,
  resolveScope,
  SAFE_FILTER_PATTERN,
  s3LocationsOverlap,
  s3UriProblem,
} from '../../../shared/paths.js';

const extData = { fsxPath: '/ExtData', s3Uri: 's3://dzhang-imi-gchp-test/ExtData' };

describe('S3 URIs', () => {
  it.each([
    ['s3://bucket//a', 'must not start with /'],
    ['s3://bucket//', 'must not start with /'],
    ['s3://bucket/a//', 'empty segments'],
    ['s3://bucket/a//b', 'empty segments'],
    ['s3://bucket/a/../b', '. or .. segments'],
    ['s3://Bucket/a', 'lowercase'],
    ['https://bucket/a', 'form s3://bucket/prefix'],
    ['s3://bucket/a;rm', 'may contain only'],
  ])('rejects %s (%s)', (uri, rule) => {
    expect(s3UriProblem(uri)).toContain(rule);
  });

  it('accepts one trailing slash and drops it from the prefix', () => {
    expect(parseS3Uri('s3://dzhang-imi-gchp-test/ExtData/')).toEqual({
      bucket: 'dzhang-imi-gchp-test',
      prefix: 'ExtData',
    });
  });
});

describe('resolveScope', () => {
  it('keeps a leading dot of a sub-path name (.cache is not cache)', () => {
    expect(resolveScope(extData, '.cache').fsxPath).toBe('/ExtData/.cache');
  });

  it('rejects .. as a sub-path instead of treating it as the mapping root', () => {
    expect(() => resolveScope(extData, '..')).toThrow('must not contain .. segments');
  });

  it('accepts names made of dots that are not .. (...)', () => {
    expect(resolveScope(extData, '.../x').s3.prefix).toBe('ExtData/.../x');
  });

  it('maps ./a/ and a//b to the same normalised scope on FSx and in S3', () => {
    expect(resolveScope(extData, './GEOS_0.5x0.625/')).toEqual({
      fsxPath: '/ExtData/GEOS_0.5x0.625',
      s3: { bucket: 'dzhang-imi-gchp-test', prefix: 'ExtData/GEOS_0.5x0.625' },
    });
    expect(resolveScope(extData, 'a//b').fsxPath).toBe('/ExtData/a/b');
  });
});

describe('overlap', () => {
  it('treats /ExtData and /ExtData/sub as overlapping and /ExtData2 as disjoint (DRA rule)', () => {
    expect(fsxPathsOverlap('/ExtData', '/ExtData/sub')).toBe(true);
    expect(fsxPathsOverlap('/ExtData', '/ExtData2')).toBe(false);
    expect(fsxPathsOverlap('/', '/anything')).toBe(true);
  });

  it('treats prefixes in different buckets as disjoint', () => {
    expect(s3LocationsOverlap({ bucket: 'a11', prefix: 'x' }, { bucket: 'b22', prefix: 'x' })).toBe(false);
  });

  it('compares file system paths as AWS returns them, after normalising both sides', () => {
    expect(fsxPathsOverlap('/ExtData/', '/ExtData/sub')).toBe(true);
    expect(fsxPathsOverlap('/ExtData//sub/', '/ExtData/sub/deeper')).toBe(true);
    expect(fsxPathsOverlap('', '/anything')).toBe(true);
    expect(fsxPathsOverlap('/ExtData/', '/ExtData2/')).toBe(false);
  });

  it('compares S3 prefixes by segments, ignoring leading, trailing and repeated slashes', () => {
    const b = (prefix: string) => ({ bucket: 'b22', prefix });

    expect(s3LocationsOverlap(b('ExtData/'), b('ExtData/2024'))).toBe(true);
    expect(s3LocationsOverlap(b('/ExtData'), b('ExtData//2024/'))).toBe(true);
    expect(s3LocationsOverlap(b(''), b('anything'))).toBe(true);
    expect(s3LocationsOverlap(b('ExtData/'), b('ExtData2/'))).toBe(false);
    expect(s3LocationsOverlap(b('a/..'), b('b'))).toBe(false);
  });

  it('compares paths of associations created by hand (characters our rules refuse) without throwing', () => {
    expect(fsxPathsOverlap('/my data/', '/my data/2024')).toBe(true);
    expect(fsxPathsOverlap('/my data', '/other')).toBe(false);
  });
});

describe('filters', () => {
  it('rejects a filter that would read as an option of aws s3 sync', () => {
    expect(SAFE_FILTER_PATTERN.test('--delete')).toBe(false);
    expect(SAFE_FILTER_PATTERN.test('*.nc4')).toBe(true);
  });
});
