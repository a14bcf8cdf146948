import { describe, expect, it } from 'vitest';
import { withLocalPort } from '../../../cli/main.js';

describe('--local on the command line', () => {
  it('means port 4566 when a command, not a port, follows it', () => {
    expect(withLocalPort(['node', 'fsx-transfer', '--local', 'plan', 'extdata', 'stage-in'])).toEqual([
      'node',
      'fsx-transfer',
      '--local=4566',
      'plan',
      'extdata',
      'stage-in',
    ]);
    expect(withLocalPort(['node', 'fsx-transfer', 'list', '--local'])).toContain('--local=4566');
  });

  it('keeps a port given after it, and anything after --', () => {
    expect(withLocalPort(['node', 'fsx-transfer', '--local', '4567', 'list'])).toEqual([
      'node',
      'fsx-transfer',
      '--local',
      '4567',
      'list',
    ]);
    expect(withLocalPort(['node', 'fsx-transfer', 'start', '--', '--local', 'x'])).toContain('--local');
  });
});
