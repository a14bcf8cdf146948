import { describe, expect, it } from 'vitest';
import { matchesPattern } from '../../../local/event-pattern.js';
import {
  classifyS3Event,
  decodeEventKey,
  encodeEventKey,
  S3ObjectEvent,
  s3EventPattern,
} from '../../../shared/triggers/s3-events.js';
import { config, s3Event } from './builders.js';

const classify = (event: Record<string, unknown>) => classifyS3Event(config, S3ObjectEvent.parse(event));

describe('S3 event keys', () => {
  it.each([
    ['blended-tropomi/a file with spaces.nc', 'blended-tropomi/a+file+with+spaces.nc'],
    ['blended-tropomi/c++/x+y.nc', 'blended-tropomi/c%2B%2B/x%2By.nc'],
    ['blended-tropomi/100%/ok.nc', 'blended-tropomi/100%25/ok.nc'],
    ['blended-tropomi/données/été.nc', 'blended-tropomi/donn%C3%A9es/%C3%A9t%C3%A9.nc'],
  ])('decodes %s from its event form %s', (key, encoded) => {
    expect(encodeEventKey(key)).toBe(encoded);
    expect(decodeEventKey(encoded)).toBe(key);
  });

  it('refuses a malformed escape, naming the field', () => {
    expect(() => decodeEventKey('blended-tropomi/%zz')).toThrow(/detail\.object\.key/);
  });
});

describe('classifyS3Event', () => {
  it('maps a key under an EC2 mapping with autoStage to a stage-in of that mapping', () => {
    const result = classify(s3Event('blended-tropomi/2024/a b+c%.nc'));

    expect(result).toMatchObject({ kind: 'matched', key: 'blended-tropomi/2024/a b+c%.nc' });
    expect(result.kind === 'matched' && result.matches.map((m) => [m.mapping.name, m.action])).toEqual([
      ['tropomi', 'stage'],
      ['tropomi-copy', 'stage'],
    ]);
  });

  it('drops keys under no mapping, and under a mapping without autoStage, with the reason', () => {
    expect(classify(s3Event('elsewhere/x.nc'))).toMatchObject({ kind: 'dropped', reason: 'no-mapping' });
    expect(classify(s3Event('blended-tropomi/x.nc', { bucket: 'other-bucket' }))).toMatchObject({
      reason: 'no-mapping',
    });
    expect(classify(s3Event('manual/x.nc'))).toMatchObject({ kind: 'dropped', reason: 'not-watched' });
    expect(classify(s3Event('blended-tropomix/x.nc'))).toMatchObject({ reason: 'no-mapping' });
  });

  it("drops fsx-transfer's own objects (DRA completion reports) under a watched prefix", () => {
    expect(classify(s3Event('ExtData/fsx-transfer-reports/task-1/report.csv'))).toMatchObject({
      kind: 'dropped',
      reason: 'internal',
    });
  });

  it('covers DRA mappings by automatic import (no run) unless they preload new files', () => {
    const plain = classify(s3Event('ExtData/new.nc'));
    const preloaded = classify(s3Event('preloaded/new.nc'));

    expect(plain.kind === 'matched' && plain.matches[0]).toMatchObject({
      action: 'skip',
      reason: 'auto-import',
    });
    expect(preloaded.kind === 'matched' && preloaded.matches[0]).toMatchObject({ action: 'stage' });
  });

  it('propagates a deletion only for a mapping that opted into delete', () => {
    const kept = classify(s3Event('blended-tropomi/old.nc', { deleted: true }));
    const mirrored = classify(s3Event('mirrored/old.nc', { deleted: true }));

    expect(kept.kind === 'matched' && kept.matches[0]).toMatchObject({
      action: 'skip',
      reason: 'deletion-not-propagated',
    });
    expect(mirrored.kind === 'matched' && mirrored.matches[0]).toMatchObject({ action: 'stage' });
  });
});

describe('s3EventPattern', () => {
  const pattern = s3EventPattern(config)!;
  const envelope = (event: Record<string, unknown>) => ({
    ...event,
    account: '000000000000',
    region: 'us-east-1',
  });

  it('matches objects under every watched prefix and nothing under the others', () => {
    expect(matchesPattern(pattern, envelope(s3Event('blended-tropomi/x y.nc')))).toBe(true);
    expect(matchesPattern(pattern, envelope(s3Event('ExtData/a.nc', { deleted: true })))).toBe(true);
    expect(matchesPattern(pattern, envelope(s3Event('manual/a.nc')))).toBe(false);
    expect(matchesPattern(pattern, envelope(s3Event('ExtDataX/a.nc')))).toBe(false);
    expect(matchesPattern(pattern, envelope(s3Event('blended-tropomi/a.nc', { bucket: 'other' })))).toBe(
      false,
    );
  });

  it('is undefined when no mapping has autoStage', () => {
    expect(
      s3EventPattern({ ...config, mappings: config.mappings.map((m) => ({ ...m, autoStage: false })) }),
    ).toBeUndefined();
  });
});
