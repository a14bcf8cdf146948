/**
 * `fsx-transfer`: plan, start, follow, list and cancel transfers; check prerequisites; run the
 * local cloud and the demo. Every command takes `--json` (one JSON document on stdout) and exits
 * 0 ok, 1 a run failed, 2 bad input, 3 prerequisites not met.
 */
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { logger } from '../shared/log.js';
import { registerDemoCommand } from './commands/demo.js';
import { registerDoctorCommand } from './commands/doctor.js';
import { registerExecutionCommands } from './commands/executions.js';
import { registerLocalCommand } from './commands/local.js';
import { registerPlanCommand } from './commands/plan.js';
import { EXIT, exitCodeFor, printError, printJson } from './output.js';

const OVERVIEW = `
Examples:
  $ fsx-transfer plan extdata stage-in              what it would do, take and cost
  $ fsx-transfer start extdata stage-in --wait      run it and follow it to the end
  $ fsx-transfer list --status RUNNING              recent runs
  $ fsx-transfer local up                           the local cloud (another terminal)
  $ fsx-transfer --local plan blended-tropomi stage-in

Environment: FSX_TRANSFER_CONFIG (--config), AWS_PROFILE (--profile), AWS_REGION (--region),
AWS_ENDPOINT_URL (--endpoint-url), FSX_TRANSFER_STAGE (--stage), NO_COLOR; credentials come from
the AWS SDK's default chain (environment, profile, SSO, instance role).

Exit codes: 0 ok, 1 a run failed, 2 bad input, 3 prerequisites not met (the file system, the
bucket, DRA requirements, the deployed stack or the local cloud).
Docs: docs/cli.md (every command with its output), docs/planning.md (the estimates).`;

export function buildProgram(): Command {
  const program = new Command('fsx-transfer')
    .description(
      'Move data between Amazon S3 and Amazon FSx for Lustre (DRA or a transfer instance), safely.',
    )
    .version('0.1.0')
    .configureHelp({ showGlobalOptions: true })
    .addOption(new Option('-c, --config <path>', 'config file').env('FSX_TRANSFER_CONFIG'))
    .addOption(
      new Option('--profile <name>', 'AWS profile (shared config and credentials files)').env('AWS_PROFILE'),
    )
    .addOption(new Option('--region <region>', 'AWS region').env('AWS_REGION'))
    .addOption(
      new Option('--endpoint-url <url>', 'AWS endpoint override (e.g. the local cloud)').env(
        'AWS_ENDPOINT_URL',
      ),
    )
    .option('--local [port]', 'use the local cloud of `fsx-transfer local up` (default port 4566)', parsePort)
    .addOption(
      new Option(
        '--stage <stage>',
        'deployment stage of the state machines (default dev; local with --local)',
      ),
    )
    .addHelpText('after', OVERVIEW);
  program.hook('preAction', (command, action) => {
    applyGlobalOptions(command.optsWithGlobals());
    quietHandlerLogs(action);
  });

  registerPlanCommand(program);
  registerExecutionCommands(program);
  registerDoctorCommand(program);
  registerLocalCommand(program);
  registerDemoCommand(program);
  return program;
}

export function parsePort(value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new InvalidArgumentError('must be a port number between 0 and 65535');
  }
  return port;
}

/** Turns global options into the standard AWS environment variables the client factory reads. */
function applyGlobalOptions(opts: Record<string, unknown>): void {
  if (opts.local !== undefined) {
    const port = typeof opts.local === 'number' ? opts.local : 4566;
    process.env.AWS_ENDPOINT_URL = `http://127.0.0.1:${port}`;
    process.env.AWS_ACCESS_KEY_ID ??= 'test';
    process.env.AWS_SECRET_ACCESS_KEY ??= 'test';
    process.env.FSX_TRANSFER_STAGE ??= 'local';
  } else if (typeof opts.endpointUrl === 'string') {
    process.env.AWS_ENDPOINT_URL = opts.endpointUrl;
  }
  if (typeof opts.profile === 'string') process.env.AWS_PROFILE = opts.profile;
  if (typeof opts.region === 'string') process.env.AWS_REGION = opts.region;
  if (typeof opts.stage === 'string') process.env.FSX_TRANSFER_STAGE = opts.stage;
  if (typeof opts.config === 'string') process.env.FSX_TRANSFER_CONFIG = opts.config;
}

/**
 * Commands that print a view (status, watch, plan...) run domain code in-process; its warnings
 * (e.g. progress that could not be read) are log lines for operators, not for the terminal, where
 * they would break the progress bar. `local up` and `demo` serve handlers and keep their warnings.
 */
export function quietHandlerLogs(action: Command): void {
  const serves = ['local', 'demo'].includes(action.name()) || action.parent?.name() === 'local';
  if (!serves && !process.env.LOG_LEVEL) logger.setLogLevel('ERROR');
}

/**
 * `--local` takes an optional port, and commander would read the command that follows as that
 * port (`--local plan ...`): a bare `--local` becomes `--local=4566`.
 */
export function withLocalPort(argv: string[]): string[] {
  const end = argv.indexOf('--');
  return argv.map((arg, i) =>
    arg === '--local' && (end === -1 || i < end) && !/^\d+$/.test(argv[i + 1] ?? '') ? '--local=4566' : arg,
  );
}

/** Commander's own exits: help and version are fine, everything else is a usage error. */
function commanderExit(error: CommanderError): number {
  return ['commander.helpDisplayed', 'commander.help', 'commander.version'].includes(error.code)
    ? EXIT.ok
    : EXIT.badInput;
}

/**
 * Runs the CLI.
 * @returns the exit code: 0 ok, 1 a run failed, 2 bad input, 3 prerequisites not met.
 */
export async function main(argv: string[]): Promise<number> {
  const json = argv.includes('--json');
  const program = buildProgram();
  // Usage errors are one line naming the argument (as JSON with --json).
  inheritSettings(program, json);
  try {
    await program.parseAsync(withLocalPort(argv));
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT.ok;
  } catch (error) {
    if (error instanceof CommanderError) return commanderExit(error);
    printError(error, json);
    return exitCodeFor(error);
  }
}

/** Every command throws instead of exiting and prints a usage error as one line (JSON with --json). */
function inheritSettings(command: Command, json: boolean): void {
  const path: string[] = [];
  for (let c: Command | null = command; c; c = c.parent) path.unshift(c.name());
  command.exitOverride().configureOutput({
    outputError: (text, write) => {
      const line = text.trim().replace(/^error: /, '');
      if (json) printJson({ error: 'UsageError', message: line, exitCode: EXIT.badInput });
      else write(`error: ${line} (see ${path.join(' ')} --help)\n`);
    },
  });
  for (const sub of command.commands) inheritSettings(sub, json);
}
