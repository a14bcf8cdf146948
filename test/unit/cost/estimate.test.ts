/**
 * The estimate model against the worked examples of docs/planning.md: 500 GiB (5,000 files) staged
 * in to a 2,400 GiB PERSISTENT_2 file system at 125 MB/s/TiB, by one c6i.large or by DRA.
 */
import { describe, expect, it } from 'vitest';
import {
  CHECKSUM_HASH_MBPS,
  checksumCost,
  dataSeconds,
  type EstimateInput,
  estimateDra,
  estimateEc2,
  fileSystemThroughputMBps,
  formatSeconds,
  suggestScaleOut,
} from '../../../shared/cost/estimate.js';
import { PRICE_TABLE, priceTable } from '../../../shared/cost/prices.js';

const GiB = 1024 ** 3;

function example(overrides: Partial<EstimateInput> = {}): EstimateInput {
  return {
    direction: 'stage-in',
    scope: { files: 5000, bytes: 500 * GiB, largestBytes: 200 * 1024 ** 2 },
    fileSystem: { deploymentType: 'PERSISTENT_2', storageCapacityGiB: 2400, perUnitStorageThroughput: 125 },
    instanceType: 'c6i.large',
    associationExists: false,
    preload: false,
    ...overrides,
  };
}

describe('the estimate model (docs/planning.md)', () => {
  it('gives a 2,400 GiB PERSISTENT_2 file system at 125 MB/s/TiB 300 MB/s, and a SCRATCH_2 one 200 MB/s/TiB', () => {
    const persistent = fileSystemThroughputMBps(example().fileSystem, PRICE_TABLE);
    const scratch = fileSystemThroughputMBps(
      { deploymentType: 'SCRATCH_2', storageCapacityGiB: 1200 },
      PRICE_TABLE,
    );

    expect(persistent).toBe(300);
    expect(scratch).toBe(240);
  });

  it('moves data at the burst rate while credits last, then at the baseline', () => {
    const within = dataSeconds(60_000e6, 300, 97.625, 300);
    const beyond = dataSeconds(536_870.912e6, 300, 97.625, 300);

    expect(within).toBe(200);
    expect(beyond).toBeCloseTo(300 + 446_870.912 / 97.625, 6);
  });

  it('worked example 1: 500 GiB stage-in on one c6i.large takes about 1h 26m and costs about $0.15', () => {
    const estimate = estimateEc2(example(), PRICE_TABLE);

    // 10 s overhead + 180 s startup + (300 s burst + 4,577.4 s baseline + 7.8 s per-file) + 60 s finish.
    expect(estimate.seconds).toBeCloseTo(5135.2, 1);
    expect(formatSeconds(estimate.seconds)).toBe('1h 25m');
    expect(estimate.counts.instanceSeconds).toBeCloseTo(5125.2, 1);
    expect(estimate.costs.instances).toBeCloseTo((5125.2 * 0.085) / 3600, 4);
    // 64,000 GETs of 8 MiB parts dominate the S3 requests.
    expect(estimate.counts.s3Get).toBe(64_001);
    expect(estimate.costs.s3Requests).toBeCloseTo(0.0305, 4);
    expect(estimate.usd).toBeCloseTo(0.152, 3);
    expect(estimate.limitedBy).toMatch(
      /file system during the 5-minute burst \(300 MB\/s\).*0\.781 Gbps baseline/,
    );
  });

  it('worked example 2: the same by DRA takes about 6 minutes and $0.0025, contents loading on first read', () => {
    const estimate = estimateDra(example(), PRICE_TABLE);

    // 10 s overhead + 300 s to create the association + 60 s task + 5,000 files at 1,000 files/s.
    expect(estimate.seconds).toBe(375);
    expect(estimate.costs.instances).toBe(0);
    // No polls: 16 transitions; 10 functions and 7 poller rounds (365 s of waits, one a minute).
    expect(estimate.counts.transitions).toBe(16);
    expect(estimate.counts.lambdaInvocations).toBe(17);
    expect(estimate.usd).toBeCloseTo(0.0025, 4);
    expect(estimate.notes[0]).toMatch(/first read: 29m 50s of reading at the file system's 300 MB\/s/);
  });

  it('worked example 3: DRA with preload adds the contents at the file system throughput', () => {
    const estimate = estimateDra(example({ preload: true }), PRICE_TABLE);

    // The preload's three states, whatever it lasts.
    expect(estimate.counts.transitions).toBe(19);

    // 375 s + 536,870.9 MB / 300 MB/s.
    expect(estimate.seconds).toBeCloseTo(375 + 536_870.912 / 300, 1);
    expect(formatSeconds(estimate.seconds)).toBe('36m 05s');
  });

  it('an export by DRA writes the data at the file system throughput, one PUT per 8 MiB part', () => {
    const estimate = estimateDra(example({ direction: 'export', associationExists: true }), PRICE_TABLE);

    // 10 s + 60 s task + 5,000 files at 500 files/s + 536,870.9 MB at 300 MB/s.
    expect(estimate.seconds).toBeCloseTo(10 + 60 + 10 + 536_870.912 / 300, 1);
    expect(estimate.counts.s3Put).toBe(64_000 + 10 + 1);
    expect(estimate.costs.s3Requests).toBeCloseTo(0.32, 2);
  });

  it('suggests 4 c6i.large instances, or one c5n.large, to reach 300 MB/s', () => {
    const suggestion = suggestScaleOut(example(), PRICE_TABLE);
    const c5n = estimateEc2(example({ instanceType: 'c5n.large' }), PRICE_TABLE);

    expect(suggestion).toMatchObject({ instances: 4, instanceType: 'c5n.large', worthwhile: true });
    // 3 Gbps baseline (375 MB/s) is more than the file system gives: 536,870.9 MB at 300 MB/s.
    expect(c5n.seconds).toBeCloseTo(10 + 180 + 536_870.912 / 300 + 7.8125 + 60, 1);
  });

  it('never suggests more instances than files', () => {
    const suggestion = suggestScaleOut(
      example({ scope: { files: 2, bytes: 10 * GiB, largestBytes: 5 * GiB } }),
      PRICE_TABLE,
    );

    expect(suggestion.instances).toBe(2);
  });

  it('says what limits a small transfer: starting the instance, or creating the association', () => {
    const small = example({ scope: { files: 20, bytes: 6 * 1024 ** 2, largestBytes: 1024 ** 2 } });

    expect(estimateEc2(small, PRICE_TABLE).limitedBy).toMatch(
      /^starting and stopping the instance \(4m 00s\)/,
    );
    expect(estimateDra(small, PRICE_TABLE).limitedBy).toMatch(
      /^creating the association \(5m 00s, once per mapping\)/,
    );
    expect(suggestScaleOut(small, PRICE_TABLE).worthwhile).toBe(false);
  });

  it('refuses an instance type missing from the table, naming the config field', () => {
    expect(() => estimateEc2(example({ instanceType: 'x9.huge' }), PRICE_TABLE)).toThrow(
      /no price for instance type x9.huge: add it under pricing.ec2/,
    );
  });
});

describe('priceTable', () => {
  it('applies the config overrides over the table, instance type by instance type', () => {
    const prices = priceTable({
      asOf: '2027-01-01',
      region: 'eu-west-1',
      ec2: { 'c6i.large': { usdPerHour: 0.094, baselineGbps: 0.781, burstGbps: 12.5 } },
      model: { networkBurstMinutes: 10 },
    });

    expect(prices.asOf).toBe('2027-01-01');
    expect(prices.ec2['c6i.large']!.usdPerHour).toBe(0.094);
    expect(prices.ec2['c5n.large']).toEqual(PRICE_TABLE.ec2['c5n.large']);
    expect(prices.model.networkBurstMinutes).toBe(10);
    expect(prices.model.instanceStartupSeconds).toBe(PRICE_TABLE.model.instanceStartupSeconds);
    expect(priceTable(undefined)).toBe(PRICE_TABLE);
  });
});

describe('the cost of checksum verification', () => {
  it('adds a read of every file and one HeadObject per file to an EC2 run, and says so', () => {
    const size = estimateEc2(example(), PRICE_TABLE);

    const checksum = estimateEc2(example({ verify: 'checksum' }), PRICE_TABLE);

    expect(checksum.counts.s3Get - size.counts.s3Get).toBe(5000 + 1);
    expect(checksum.counts.s3Put - size.counts.s3Put).toBe(1);
    const phase = checksum.phases.find((p) => p.name === 'checksums (read every file on FSx)');
    expect(phase?.seconds).toBeGreaterThanOrEqual((500 * GiB) / 1e6 / CHECKSUM_HASH_MBPS);
    expect(checksum.seconds - size.seconds).toBeCloseTo(phase?.seconds ?? 0, 6);
    expect(checksum.usd).toBeGreaterThan(size.usd);
    expect(checksum.notes.join(' ')).toContain('checksum verification reads all 500 GiB once more');
  });

  it('worked example 5: a DRA stage-in with a configured Lustre client adds its read of every file (restoring it)', () => {
    const size = estimateDra(example({ lustreClient: true }), PRICE_TABLE);

    const checksum = estimateDra(example({ verify: 'checksum', lustreClient: true }), PRICE_TABLE);

    // 536,870.9 MB at min(300 MB/s file system, 300 MB/s hashing) = 1,789.6 s after the 375 s run.
    const phase = checksum.phases.find((p) => p.name === 'checksums on the Lustre client (read every file)');
    expect(phase?.seconds).toBeCloseTo(1789.6, 1);
    expect(checksum.seconds).toBeCloseTo(375 + 1789.6, 1);
    expect(checksum.seconds - size.seconds).toBeCloseTo(phase?.seconds ?? 0, 6);
    // The read restores every file from S3 (1 GET per file or 1 GiB chunk), then 1 HeadObject per
    // file and the checksums object (1 GET, 1 PUT); nothing is launched.
    expect(checksum.counts.s3Get - size.counts.s3Get).toBe(5000 + 5000 + 1);
    expect(checksum.counts.s3Put - size.counts.s3Put).toBe(1);
    expect(checksum.costs.instances).toBe(0);
    expect(checksum.counts.instanceSeconds).toBe(0);
    expect(checksum.usd).toBeCloseTo(0.0066, 4);
    expect(checksum.notes.join(' ')).toContain('reads all 500 GiB on the configured Lustre client');
  });

  it('worked example 6: a DRA stage-in without a Lustre client adds a launched instance and its read', () => {
    const size = estimateDra(example(), PRICE_TABLE);

    const checksum = estimateDra(example({ verify: 'checksum' }), PRICE_TABLE);

    // Launch 180 s + 536,870.9 MB at min(97.6 MB/s c6i.large baseline, 300) = 5,499.3 s + 60 s.
    expect(checksum.phases.map((p) => p.name)).toEqual(
      expect.arrayContaining([
        'launch, SSM agent, mount (for checksums)',
        'checksums on the instance (read every file)',
        'verify, terminate',
      ]),
    );
    expect(checksum.counts.instanceSeconds).toBeCloseTo(180 + 536_870.912 / 97.625 + 60, 1);
    expect(checksum.seconds).toBeCloseTo(375 + 5739.3, 1);
    expect(formatSeconds(checksum.seconds)).toBe('1h 41m');
    expect(checksum.costs.instances).toBeCloseTo((5739.3 * 0.085) / 3600, 4);
    expect(checksum.counts.s3Get - size.counts.s3Get).toBe(5000 + 5000 + 1);
    expect(checksum.counts.transitions).toBeGreaterThan(size.counts.transitions + 6);
    expect(checksum.usd).toBeCloseTo(0.143, 3);
    expect(checksum.notes.join(' ')).toContain('launches a c6i.large (no Lustre client configured)');
    expect(checksum.limitedBy).toBe('reading every file on a launched c6i.large (97.6 MB/s)');
  });

  it('does not preload twice: a checksum DRA stage-in with preload restores the contents once, while checksumming', () => {
    const preloaded = estimateDra(example({ preload: true, lustreClient: true }), PRICE_TABLE);

    const both = estimateDra(example({ preload: true, verify: 'checksum', lustreClient: true }), PRICE_TABLE);

    expect(both.phases.map((p) => p.name)).not.toContain('preload (lfs hsm_restore)');
    expect(both.seconds).toBeCloseTo(preloaded.seconds, 6);
    expect(both.counts.s3Get - preloaded.counts.s3Get).toBe(5000 + 1);
  });

  it('prices a DRA export checksum run at the launched instance type, and refuses a type missing from the table', () => {
    const exported = estimateDra(example({ direction: 'export', verify: 'checksum' }), PRICE_TABLE);

    expect(
      exported.counts.s3Get - estimateDra(example({ direction: 'export' }), PRICE_TABLE).counts.s3Get,
    ).toBe(5000 + 1);
    expect(() => estimateDra(example({ verify: 'checksum', instanceType: 'x9.huge' }), PRICE_TABLE)).toThrow(
      /no price for instance type x9.huge/,
    );
    expect(
      estimateDra(example({ verify: 'checksum', instanceType: 'x9.huge', lustreClient: true }), PRICE_TABLE)
        .seconds,
    ).toBeGreaterThan(0);
  });

  it('reads at the slowest of the hashing, file system and network rates', () => {
    expect(checksumCost({ files: 1, bytes: 3e9 }, 1e9).seconds).toBeCloseTo(3e9 / 1e6 / CHECKSUM_HASH_MBPS);
    expect(checksumCost({ files: 1, bytes: 3e9 }, 100).seconds).toBeCloseTo(30);
  });
});
