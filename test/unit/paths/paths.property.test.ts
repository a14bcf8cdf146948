/**
 * Property-based tests (fast-check) for the path and URI rules: whatever string a user, an event
 * or an attacker sends, the rules either reject it or produce a normalised path that stays
 * inside its mapping and is safe to hand to a shell.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  formatS3Uri,
  fsxPathProblem,
  fsxPathsOverlap,
  isWithin,
  keyPrefixProblem,
  normalizeFsxPath,
  parseS3Uri,
  resolveScope,
  SAFE_FILTER_PATTERN,
  SAFE_PATH_PATTERN,
  s3LocationsOverlap,
  s3UriProblem,
  subPathProblem,
} from '../../../shared/paths.js';

const RUNS = { numRuns: 500 };

/** Characters of the safe set, weighted towards the ones that make paths interesting. */
const safeChar = fc.constantFrom(...'abcXYZ019._-+=@,:~/'.split(''), '/', '/', '.', '.');
const segment = fc.stringMatching(/^[A-Za-z0-9_+=@,:~-][A-Za-z0-9._+=@,:~-]{0,8}$/);
/** A valid absolute FSx path, possibly with `//`, `.` segments and a trailing slash. */
const fsxPath = fc
  .tuple(fc.array(fc.oneof(segment, fc.constant('.'), fc.constant('')), { maxLength: 5 }), fc.boolean())
  .map(([parts, trailing]) => `/${parts.join('/')}${trailing ? '/' : ''}`);
const bucket = fc
  .stringMatching(/^[a-z0-9][a-z0-9-]{1,20}[a-z0-9]$/)
  .filter((b) => !/^(xn--|sthree-)/.test(b));
const prefix = fc.array(segment, { maxLength: 4 }).map((parts) => parts.join('/'));
const s3Uri = fc
  .tuple(bucket, prefix, fc.boolean())
  .map(([b, p, trailing]) =>
    p ? `s3://${b}/${p}${trailing ? '/' : ''}` : `s3://${b}${trailing ? '/' : ''}`,
  );
const mapping = fc.record({ fsxPath, s3Uri });
/** Any string over the safe characters plus the dangerous ones: the attacker's alphabet. */
const UNSAFE_CHARS = [...';$`\'"|&<>\\\n\r\t *?!()[]{}#%^', '\u0000', '\u00e9'];
const anyChar = fc.oneof(safeChar, fc.constantFrom(...UNSAFE_CHARS));
const hostile = fc.array(anyChar, { maxLength: 30 }).map((chars) => chars.join(''));
/** Any string over the safe characters: `//`, `.` segments, leading and trailing slashes. */
const safeString = fc.array(safeChar, { maxLength: 20 }).map((chars) => chars.join(''));
const withUnsafeChar = fc
  .tuple(hostile, fc.constantFrom(...UNSAFE_CHARS), hostile)
  .map(([a, bad, b]) => `${a}${bad}${b}`);
const withDotDotSegment = fc
  .tuple(fc.array(segment, { maxLength: 3 }), fc.array(segment, { maxLength: 3 }))
  .map(([before, after]) => [...before, '..', ...after].join('/'));

function prefixSegments(p: string): string[] {
  return p ? p.split('/') : [];
}

describe('normalizeFsxPath', () => {
  it('is idempotent and yields a path without empty, dot or trailing segments', () => {
    fc.assert(
      fc.property(fsxPath, (path) => {
        const once = normalizeFsxPath(path);

        expect(normalizeFsxPath(once)).toBe(once);
        expect(fsxPathProblem(once)).toBeUndefined();
        if (once !== '/') {
          expect(once.slice(1).split('/')).not.toContain('');
          expect(once.slice(1).split('/')).not.toContain('.');
        }
      }),
      RUNS,
    );
  });
});

describe('unsafe strings', () => {
  it('never accepts a string with a shell metacharacter or non-ASCII character', () => {
    fc.assert(
      fc.property(withUnsafeChar, (value) => {
        expect(fsxPathProblem(`/${value}`)).toBeDefined();
        expect(subPathProblem(value)).toBeDefined();
        expect(keyPrefixProblem(value)).toBeDefined();
        expect(s3UriProblem(`s3://bucket/${value}`)).toBeDefined();
        expect(SAFE_PATH_PATTERN.test(value)).toBe(false);
        expect(() => resolveScope({ fsxPath: '/data', s3Uri: 's3://bucket/data' }, value)).toThrow();
      }),
      RUNS,
    );
  });

  it('never accepts a .. segment in a path, sub-path or key prefix', () => {
    fc.assert(
      fc.property(withDotDotSegment, (value) => {
        expect(fsxPathProblem(`/${value}`)).toBeDefined();
        expect(subPathProblem(value)).toBeDefined();
        expect(keyPrefixProblem(value)).toBeDefined();
        expect(s3UriProblem(`s3://bucket/${value}`)).toBeDefined();
        expect(() => resolveScope({ fsxPath: '/data', s3Uri: 's3://bucket/data' }, value)).toThrow();
        expect(() => resolveScope({ fsxPath: '/data', s3Uri: 's3://bucket/data' }, `./${value}`)).toThrow();
      }),
      RUNS,
    );
  });

  it('never accepts a filter that starts with - or ~ (option injection, tilde expansion)', () => {
    fc.assert(
      fc.property(fc.constantFrom('-', '~'), safeString, (first, rest) => {
        expect(SAFE_FILTER_PATTERN.test(`${first}${rest}`)).toBe(false);
      }),
      RUNS,
    );
  });

  it('never accepts a filter with a shell metacharacter other than glob characters', () => {
    const notGlob = UNSAFE_CHARS.filter((c) => !'*?![]'.includes(c));
    fc.assert(
      fc.property(hostile, fc.constantFrom(...notGlob), hostile, (a, bad, b) => {
        expect(SAFE_FILTER_PATTERN.test(`${a}${bad}${b}`)).toBe(false);
      }),
      RUNS,
    );
  });
});

describe('S3 URIs', () => {
  it('parse into a bucket and a prefix without leading, trailing or doubled slashes, and round-trip', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          s3Uri,
          hostile.map((h) => `s3://bucket/${h}`),
        ),
        (uri) => {
          fc.pre(s3UriProblem(uri) === undefined);

          const location = parseS3Uri(uri);

          expect(location.prefix.startsWith('/')).toBe(false);
          expect(location.prefix.endsWith('/')).toBe(false);
          expect(location.prefix.includes('//')).toBe(false);
          expect(parseS3Uri(formatS3Uri(location))).toEqual(location);
        },
      ),
      RUNS,
    );
  });
});

describe('overlap checks', () => {
  it('are symmetric and reflexive for FSx paths', () => {
    fc.assert(
      fc.property(fsxPath, fsxPath, (a, b) => {
        expect(fsxPathsOverlap(a, b)).toBe(fsxPathsOverlap(b, a));
        expect(fsxPathsOverlap(a, a)).toBe(true);
      }),
      RUNS,
    );
  });

  it('are symmetric and reflexive for S3 locations', () => {
    fc.assert(
      fc.property(s3Uri, s3Uri, (a, b) => {
        const la = parseS3Uri(a);
        const lb = parseS3Uri(b);

        expect(s3LocationsOverlap(la, lb)).toBe(s3LocationsOverlap(lb, la));
        expect(s3LocationsOverlap(la, la)).toBe(true);
      }),
      RUNS,
    );
  });

  it('report a path and any path below it as overlapping', () => {
    fc.assert(
      fc.property(fsxPath, prefix, (parent, below) => {
        expect(fsxPathsOverlap(parent, `${normalizeFsxPath(parent)}/${below}`)).toBe(true);
      }),
      RUNS,
    );
  });

  it('treat sibling paths that share a name prefix as disjoint', () => {
    fc.assert(
      fc.property(segment, segment, (name, suffix) => {
        expect(fsxPathsOverlap(`/${name}`, `/${name}${suffix}`)).toBe(false);
        expect(
          s3LocationsOverlap({ bucket: 'b', prefix: name }, { bucket: 'b', prefix: `${name}${suffix}` }),
        ).toBe(false);
      }),
      RUNS,
    );
  });
});

describe('resolveScope', () => {
  it('always stays inside the mapping, on FSx and in S3, for any sub-path it accepts', () => {
    fc.assert(
      fc.property(mapping, fc.oneof(hostile, safeString, prefix, withDotDotSegment), (m, subPath) => {
        let scope: ReturnType<typeof resolveScope>;
        try {
          scope = resolveScope(m, subPath);
        } catch {
          return;
        }
        const base = normalizeFsxPath(m.fsxPath);
        const root = parseS3Uri(m.s3Uri);

        expect(isWithin(base, scope.fsxPath)).toBe(true);
        expect(fsxPathProblem(scope.fsxPath)).toBeUndefined();
        expect(normalizeFsxPath(scope.fsxPath)).toBe(scope.fsxPath);
        expect(scope.s3.bucket).toBe(root.bucket);
        const rootSegments = prefixSegments(root.prefix);
        const scopeSegments = prefixSegments(scope.s3.prefix);
        expect(scopeSegments.slice(0, rootSegments.length)).toEqual(rootSegments);
        expect(keyPrefixProblem(scope.s3.prefix)).toBeUndefined();
        // The same relative path is appended on both sides.
        const fsxRelative =
          scope.fsxPath === base ? '' : scope.fsxPath.slice(base === '/' ? 1 : base.length + 1);
        expect(scopeSegments.slice(rootSegments.length).join('/')).toBe(fsxRelative);
      }),
      RUNS,
    );
  });

  it('keeps every sub-path segment, including names that start with a dot', () => {
    fc.assert(
      fc.property(mapping, fc.array(segment, { minLength: 1, maxLength: 4 }), (m, parts) => {
        const subPath = parts.map((p, i) => (i === 0 ? `.${p}` : p)).join('/');

        const scope = resolveScope(m, subPath);

        expect(scope.fsxPath.endsWith(`/${subPath}`)).toBe(true);
        expect(scope.s3.prefix.endsWith(subPath)).toBe(true);
      }),
      RUNS,
    );
  });
});
