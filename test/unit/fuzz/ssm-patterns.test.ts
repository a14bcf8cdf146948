/**
 * The transfer document's `allowedPattern`s (ssm/transfer-document.yaml, read from the file as SSM
 * reads it) against the same bad-input corpus as the API, the CLI, the config and S3 events: no
 * value with shell syntax, a `..` segment or a malformed URI reaches the script, whatever the
 * request checks upstream let through.
 */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { BAD_S3_URIS, escapingPath, HOSTILE_FRAGMENTS, hostileString } from './corpus.js';

const DOCUMENT = parse(
  readFileSync(new URL('../../../ssm/transfer-document.yaml', import.meta.url), 'utf8'),
) as {
  parameters: Record<string, { allowedPattern?: string }>;
};
const pattern = (name: string) => new RegExp(DOCUMENT.parameters[name]!.allowedPattern!);
const RUNS = { numRuns: 500 };

/** Fragments a glob filter may legitimately hold (aws s3 sync reads them; the script disables globbing). */
const GLOB = new Set(['*', '?', ' ']);

describe('transfer document allowedPatterns against the bad-input corpus', () => {
  it.each(['MountPoint', 'FsxPath', 'S3Prefix', 'S3Bucket', 'FileSystemDnsName', 'MountName', 'Region'])(
    'refuses every hostile value for %s',
    (name) => {
      fc.assert(
        fc.property(hostileString, (value) => {
          expect(pattern(name).test(value)).toBe(false);
          expect(pattern(name).test(`/${value}`)).toBe(false);
        }),
        RUNS,
      );
    },
  );

  it.each(['MountPoint', 'FsxPath', 'S3Prefix', 'ListingUri'])('refuses every .. segment for %s', (name) => {
    const dotDot = escapingPath.filter((p) => p.split('/').includes('..'));
    fc.assert(
      fc.property(dotDot, (value) => {
        for (const candidate of [value, `/${value.replace(/^\/+/, '')}`, `s3://demo/${value}`])
          expect(pattern(name).test(candidate)).toBe(false);
      }),
      RUNS,
    );
  });

  it('refuses every malformed or foreign S3 URI as the listing URI', () => {
    for (const uri of BAD_S3_URIS.filter((u) => !/^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]\/[a-z]+$/.test(u)))
      expect(pattern('ListingUri').test(uri), uri).toBe(false);
  });

  it.each(['Include', 'Exclude'])(
    'refuses shell syntax in %s (globs and separating spaces aside)',
    (name) => {
      const shellish = fc
        .tuple(
          fc.stringMatching(/^[A-Za-z0-9._*]{0,6}$/),
          fc.constantFrom(...HOSTILE_FRAGMENTS.filter((f) => !GLOB.has(f))),
          fc.stringMatching(/^[A-Za-z0-9._*]{0,6}$/),
        )
        .map((parts) => parts.join(''));
      fc.assert(
        fc.property(shellish, (value) => {
          expect(pattern(name).test(value)).toBe(false);
        }),
        RUNS,
      );
    },
  );

  it('never lets a quote, $, backtick, ;, |, &, <, >, \\ or a line break through any parameter', () => {
    const dangerous = fc
      .tuple(
        fc.stringMatching(/^[a-z0-9/]{0,8}$/),
        fc.constantFrom("'", '"', '$', '`', ';', '|', '&', '<', '>', '\\', '\n', '\r', '\u0000'),
        fc.stringMatching(/^[a-z0-9/]{0,8}$/),
      )
      .map((parts) => parts.join(''));
    const names = Object.keys(DOCUMENT.parameters).filter(
      (name) => DOCUMENT.parameters[name]!.allowedPattern,
    );
    fc.assert(
      fc.property(dangerous, (value) => {
        for (const name of names)
          expect(pattern(name).test(value), `${name}: ${JSON.stringify(value)}`).toBe(false);
      }),
      RUNS,
    );
  });
});
