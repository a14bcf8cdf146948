/** `local up`: runs the local cloud as a server until interrupted. */
import { type Command, Option } from 'commander';
import { parsePort } from '../main.js';
import { CliError, note, printJson } from '../output.js';

export function registerLocalCommand(program: Command): void {
  const local = program
    .command('local')
    .description(
      'the local cloud (S3, FSx, EC2, SSM, STS, Step Functions, SQS, DynamoDB, the HTTP API on one port)',
    );
  local
    .command('up')
    .description('start the local cloud on 127.0.0.1 and keep it running until interrupted (Ctrl-C)')
    .option('--port <port>', 'port to listen on', parsePort, 4566)
    .option('--data-dir <dir>', 'where state is kept across restarts', '.local-cloud')
    .option(
      '--time-scale <factor>',
      'speed of simulated delays (1 = real time, 0.1 = ten times faster)',
      Number,
      1,
    )
    .option('--faults <file>', 'fault injection rules (JSON or YAML)')
    .addOption(
      new Option(
        '--iam <mode>',
        "IAM: enforce (verify every signature, evaluate every request against the principal's policies), warn (only log and list denials), off (accept any access key)",
      )
        .choices(['enforce', 'warn', 'off'])
        .default('enforce'),
    )
    .option('--json', 'print the endpoint and credentials as JSON')
    .action(
      async (options: {
        port: number;
        dataDir: string;
        timeScale: number;
        faults?: string;
        iam: 'enforce' | 'warn' | 'off';
        json?: boolean;
      }) => {
        const { runLocalUp } = await import('../../local/main.js');
        await runLocalUp({
          port: options.port,
          dataDir: options.dataDir,
          configPath: process.env.FSX_TRANSFER_CONFIG,
          timeScale: options.timeScale,
          faultsFile: options.faults,
          iam: options.iam,
          json: Boolean(options.json),
        });
      },
    );

  local
    .command('schedule')
    .description("fire a mapping's config schedules now on a running local cloud (fsx-transfer local up)")
    .argument('<mapping>', 'mapping name from the config')
    .option('--direction <direction>', 'only the schedules of this direction (stage-in or export)')
    .option('--json', 'machine-readable output')
    .addHelpText(
      'after',
      '\nExample:\n  npx fsx-transfer --local 4566 local schedule output --direction export',
    )
    .action(async (mapping: string, options: { direction?: string; json?: boolean }) => {
      const endpoint = process.env.AWS_ENDPOINT_URL ?? 'http://127.0.0.1:4566';
      const url = new URL(`/_local/schedules/${encodeURIComponent(mapping)}`, endpoint);
      if (options.direction) url.searchParams.set('direction', options.direction);
      const response = await fetch(url, { method: 'POST' });
      const body = (await response.json()) as { fired?: string[]; error?: { message: string } };
      if (!response.ok)
        throw new CliError(body.error?.message ?? `the local cloud answered ${response.status}`);
      if (options.json) printJson(body);
      else note(`fired ${body.fired?.join(', ')}; follow the run with fsx-transfer status or GET /transfers`);
    });
}
