/**
 * The bad-input corpus every fuzz test draws from (fast-check): shell metacharacters, quotes,
 * newlines, NUL, very long strings, unicode (accents, right-to-left override, zero-width, emoji),
 * `..` segments, absolute paths, paths that leave the mapping, malformed S3 URIs and bucket names.
 * Each hostile value contains at least one character or segment that no field of a transfer
 * request may carry, so each must be refused.
 */
import fc from 'fast-check';

/** Fragments that make a value unsafe wherever they appear in it. */
export const HOSTILE_FRAGMENTS = [
  ';',
  '$(reboot)',
  '$IFS',
  '`id`',
  "'",
  '"',
  '\n',
  '\r',
  '\t',
  '\u0000',
  ' ',
  '|',
  '&&',
  '<',
  '>',
  '\\',
  '*',
  '?',
  '#',
  '%2e%2e',
  'é',
  '\u202e',
  '\u200b',
  '😀',
  '\u0085',
];

/** Path shapes that leave a mapping or are not relative to it. */
export const ESCAPING_PATHS = [
  '..',
  '../',
  '../etc',
  'a/../../etc',
  'a/b/../../..',
  './../x',
  '/etc/passwd',
  '/',
  '//server/share',
  '~/x/../..',
];

/** Malformed or foreign S3 URIs and bucket names. */
export const BAD_S3_URIS = [
  's3:/bucket/x',
  's3://',
  's3:///x',
  'S3://bucket/x',
  'http://bucket.s3.amazonaws.com/x',
  's3://UPPER/x',
  's3://b/x',
  's3://bucket_under/x',
  's3://-bucket/x',
  's3://bucket-/x',
  's3://bu..cket/x',
  's3://192.168.1.1/x',
  's3://xn--bucket/x',
  's3://bucket-s3alias/x',
  `s3://${'a'.repeat(64)}/x`,
  's3://bucket//x',
  's3://bucket/x/../y',
  's3://bucket/./x',
  's3://bucket/x;reboot',
  's3://bucket/$(id)',
  "s3://bucket/it's",
  's3://bucket/a\nb',
];

const safeSegment = fc.stringMatching(/^[A-Za-z0-9_-][A-Za-z0-9._+=@,:~-]{0,8}$/);

/** A string with at least one hostile fragment among safe text (sometimes very long). */
export const hostileString = fc
  .tuple(
    fc.array(safeSegment, { maxLength: 3 }),
    fc.constantFrom(...HOSTILE_FRAGMENTS),
    fc.array(safeSegment, { maxLength: 3 }),
    fc.boolean(),
  )
  .map(([before, bad, after, long]) => {
    const value = [...before, bad, ...after].join('/');
    return long ? `${'x'.repeat(5000)}${value}` : value;
  });

/** A relative path with a `..` segment, or an absolute one. */
export const escapingPath = fc.oneof(
  fc.constantFrom(...ESCAPING_PATHS),
  fc
    .tuple(fc.array(safeSegment, { maxLength: 3 }), fc.array(safeSegment, { maxLength: 3 }))
    .map(([before, after]) => [...before, '..', ...after].join('/')),
  fc.array(safeSegment, { minLength: 1, maxLength: 3 }).map((parts) => `/${parts.join('/')}`),
);

/** Anything a field of a path kind must refuse. */
export const badPath = fc.oneof(hostileString, escapingPath);

/** A name (mapping, file system id, transfer id) with a hostile fragment, or a path. */
export const badName = fc.oneof(hostileString, escapingPath, fc.constant(''), fc.constant('x'.repeat(300)));

export const badS3Uri = fc.oneof(
  fc.constantFrom(...BAD_S3_URIS),
  hostileString.map((value) => `s3://demo/${value}`),
);
