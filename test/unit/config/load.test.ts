import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  configPath,
  DEFAULT_CONFIG_PATH,
  fileSystemFor,
  findMapping,
  getConfig,
  loadConfig,
  parseConfig,
  resetConfig,
} from '../../../shared/config/load.js';
import { ConfigError, MappingNotFoundError } from '../../../shared/errors.js';
import { configYaml } from './builders.js';

const dir = mkdtempSync(join(tmpdir(), 'fsx-transfer-config-'));
function writeConfig(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

afterEach(() => {
  delete process.env.FSX_TRANSFER_CONFIG;
  resetConfig();
});

describe('loadConfig', () => {
  it('applies defaults to a minimal config', () => {
    const path = writeConfig('minimal.yaml', configYaml());

    const config = loadConfig(path);

    expect(config.defaults.instanceType).toBe('c6i.large');
    expect(config.defaults.timeouts.transferMinutes).toBe(240);
    expect(config.fileSystems[0]!.mountPoint).toBe('/fsx');
    expect(config.mappings[0]).toMatchObject({
      method: 'auto',
      directions: ['stage-in', 'export'],
      delete: false,
    });
  });

  it('reads the file named by FSX_TRANSFER_CONFIG when no path is given', () => {
    const path = writeConfig('from-env.yaml', configYaml({ mappings: [{ name: 'from-env' }] }));
    process.env.FSX_TRANSFER_CONFIG = path;

    const config = loadConfig();

    expect(config.mappings.map((m) => m.name)).toEqual(['from-env']);
  });

  it('prefers an explicit path over FSX_TRANSFER_CONFIG', () => {
    process.env.FSX_TRANSFER_CONFIG = writeConfig('env.yaml', configYaml({ mappings: [{ name: 'env' }] }));
    const explicit = writeConfig('explicit.yaml', configYaml({ mappings: [{ name: 'explicit' }] }));

    expect(loadConfig(explicit).mappings[0]!.name).toBe('explicit');
  });

  it('defaults to fsx-transfer.config.yaml', () => {
    expect(configPath({})).toBe(DEFAULT_CONFIG_PATH);
    expect(DEFAULT_CONFIG_PATH).toBe('fsx-transfer.config.yaml');
  });

  it('names the file and says how to fix it when the file is missing', () => {
    const path = join(dir, 'missing.yaml');

    expect(() => loadConfig(path)).toThrow(ConfigError);
    expect(() => loadConfig(path)).toThrow(`${path}: cannot read the config file (file not found)`);
  });

  it('puts every issue in details for machine-readable output', () => {
    const text = configYaml({ top: ['colour: blue'] });

    const error = catchConfigError(() => parseConfig(text, 'cfg.yaml'));

    expect(error.details).toEqual({
      file: 'cfg.yaml',
      issues: [
        { file: 'cfg.yaml', line: 3, col: 1, field: 'colour', rule: expect.stringContaining('unknown key') },
      ],
    });
  });
});

describe('pricing', () => {
  it('accepts overrides of the price table and refuses a negative price, naming the field', () => {
    const good = configYaml({
      top: [
        'pricing:',
        '  region: eu-west-1',
        '  ec2:',
        '    c6i.large: { usdPerHour: 0.094, baselineGbps: 0.781, burstGbps: 12.5 }',
      ],
    });
    const bad = configYaml({ top: ['pricing:', '  s3: { getPer1000: -1 }'] });

    expect(parseConfig(good, 'cfg.yaml').pricing?.ec2?.['c6i.large']?.usdPerHour).toBe(0.094);
    expect(catchConfigError(() => parseConfig(bad, 'cfg.yaml')).details.issues).toEqual([
      expect.objectContaining({ field: 'pricing.s3.getPer1000' }),
    ]);
  });
});

describe('shipped config files', () => {
  it('accepts the example config with the seed mappings and an export mapping', () => {
    const config = loadConfig('fsx-transfer.config.example.yaml');

    expect(config.mappings.map((m) => m.name)).toEqual([
      'extdata',
      'blended-tropomi',
      'blended-boundary-conditions',
      'output',
    ]);
    expect(findMapping(config, 'output').directions).toEqual(['export']);
    expect(new Set(config.mappings.map((m) => m.s3Uri.split('/')[2]))).toEqual(
      new Set(['dzhang-imi-gchp-test']),
    );
  });

  it('accepts the local demo config, which uses the demo bucket only', () => {
    const config = loadConfig('fsx-transfer.config.yaml');

    expect(config.mappings.every((m) => m.s3Uri.startsWith('s3://demo/'))).toBe(true);
    expect(config.mappings.map((m) => m.method)).toEqual(expect.arrayContaining(['dra', 'ec2']));
  });
});

describe('getConfig', () => {
  it('loads once and reuses the result while FSX_TRANSFER_CONFIG is unchanged', () => {
    const path = writeConfig('cached.yaml', configYaml({ mappings: [{ name: 'first' }] }));
    process.env.FSX_TRANSFER_CONFIG = path;
    const first = getConfig();
    writeFileSync(path, configYaml({ mappings: [{ name: 'second' }] }));

    const again = getConfig();

    expect(again).toBe(first);
    expect(again.mappings[0]!.name).toBe('first');
  });

  it('reloads when FSX_TRANSFER_CONFIG points at another file', () => {
    process.env.FSX_TRANSFER_CONFIG = writeConfig('a.yaml', configYaml({ mappings: [{ name: 'a-map' }] }));
    getConfig();
    process.env.FSX_TRANSFER_CONFIG = writeConfig('b.yaml', configYaml({ mappings: [{ name: 'b-map' }] }));

    expect(getConfig().mappings[0]!.name).toBe('b-map');
  });
});

describe('findMapping', () => {
  const config = parseConfig(configYaml());

  it('returns the mapping with that name', () => {
    expect(findMapping(config, 'blended-tropomi').fsxPath).toBe('/blended-tropomi');
  });

  it('throws MappingNotFoundError listing the configured names', () => {
    const act = () => findMapping(config, 'extdta');

    expect(act).toThrow(MappingNotFoundError);
    expect(act).toThrow(
      'Unknown mapping "extdta"; configured mappings: extdata, blended-tropomi, blended-boundary-conditions',
    );
  });
});

describe('fileSystemFor', () => {
  it('returns the file system of a mapping with the top-level region as default', () => {
    const config = parseConfig(configYaml());

    expect(fileSystemFor(config, config.mappings[0]!)).toMatchObject({
      id: config.fileSystems[0]!.id,
      region: 'us-east-1',
    });
  });
});

function catchConfigError(act: () => unknown): ConfigError {
  try {
    act();
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}
