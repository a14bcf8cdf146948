/**
 * `fsx-transfer`: plan, start, watch and cancel transfers; check prerequisites; run the local cloud
 * and the demo. Every command takes `--json` for machine-readable output.
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import { TransferError } from '../shared/errors.js';
import { registerDemoCommand } from './commands/demo.js';
import { registerDoctorCommand } from './commands/doctor.js';
import { registerExecutionCommands } from './commands/executions.js';
import { registerLocalCommand } from './commands/local.js';
import { registerPlanCommand } from './commands/plan.js';
import { CliError, printError, printJson } from './output.js';

export function buildProgram(): Command {
  const program = new Command('fsx-transfer')
    .description(
      'Move data between Amazon S3 and Amazon FSx for Lustre (DRA or a transfer instance), safely.',
    )
    .version('0.1.0')
    .showHelpAfterError('(run with --help for usage)')
    .addOption(new Option('-c, --config <path>', 'config file').env('FSX_TRANSFER_CONFIG'))
    .addOption(
      new Option('--endpoint-url <url>', 'AWS endpoint override (e.g. the local cloud)').env(
        'AWS_ENDPOINT_URL',
      ),
    )
    .option(
      '--local [port]',
      'use a local cloud started with `fsx-transfer local up` on this port',
      parsePort,
    )
    .addOption(new Option('--region <region>', 'AWS region').env('AWS_REGION'))
    .addOption(new Option('--stage <stage>', 'deployment stage of the state machines'));
  program.hook('preAction', (command) => applyGlobalOptions(command.optsWithGlobals()));

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
  if (typeof opts.region === 'string') process.env.AWS_REGION = opts.region;
  if (typeof opts.stage === 'string') process.env.FSX_TRANSFER_STAGE = opts.stage;
  if (typeof opts.config === 'string') process.env.FSX_TRANSFER_CONFIG = opts.config;
}

/** Runs the CLI; resolves to the process exit code (0 ok, 1 failed run, 2 bad input or error). */
export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  // Subcommands created before exitOverride() would still call process.exit on a usage error.
  const override = (command: Command): void => {
    command.exitOverride();
    command.commands.forEach(override);
  };
  override(program);
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (error) {
    const json = argv.includes('--json') || process.argv.includes('--json');
    if (error && typeof error === 'object' && 'exitCode' in error && 'code' in error) {
      // commander already printed help, the version (exit 0) or a usage error: bad input, exit 2.
      const { exitCode, message } = error as unknown as { exitCode: number; message: string };
      if (exitCode === 0) return 0;
      if (json) printJson({ error: 'UsageError', message });
      return 2;
    }
    printError(error, json);
    return error instanceof CliError || error instanceof TransferError ? 2 : 1;
  }
}
