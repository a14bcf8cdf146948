import { Command } from 'commander';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { quietHandlerLogs, withLocalPort } from '../../../cli/main.js';
import { logger } from '../../../shared/log.js';

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

describe('handler logs in the terminal', () => {
  const program = new Command('fsx-transfer');
  const watch = program.command('watch');
  const local = program.command('local');
  const up = local.command('up');
  const demo = program.command('demo');
  afterEach(() => {
    logger.setLogLevel('WARN');
    vi.unstubAllEnvs();
  });

  it('are errors only for commands that print a view, so a warning never breaks the progress bar', () => {
    vi.stubEnv('LOG_LEVEL', '');
    quietHandlerLogs(watch);
    expect(logger.getLevelName()).toBe('ERROR');
  });

  it('keep their warnings where handlers are served (local up, demo) or when LOG_LEVEL asks', () => {
    vi.stubEnv('LOG_LEVEL', '');
    for (const command of [up, demo]) {
      quietHandlerLogs(command);
      expect(logger.getLevelName()).toBe('WARN');
    }
    vi.stubEnv('LOG_LEVEL', 'INFO');
    quietHandlerLogs(watch);
    expect(logger.getLevelName()).toBe('WARN');
  });
});
