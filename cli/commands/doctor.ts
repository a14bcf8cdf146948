/** `doctor`: checks every DRA prerequisite for every mapping (read-only) and says what `auto` would pick. */
import type { Command } from 'commander';
import { getFsx, getS3, getSts } from '../../shared/aws/clients.js';
import { loadConfig } from '../../shared/config/load.js';
import { formatDoctorReport, runDoctor } from '../../shared/dra/doctor.js';
import { EXIT, note, printJson } from '../output.js';

export function registerDoctorCommand(program: Command): void {
  program
    .command('doctor')
    .description(
      'check the config against AWS: file systems, buckets, DRA prerequisites per mapping (read-only)',
    )
    .option('--mapping <name>', 'only this mapping')
    .option('--json', 'one JSON document on stdout')
    .addHelpText(
      'after',
      '\nExit code 3 when a prerequisite is not met (a mapping pinned to dra cannot use one, wrong account).\n\nExamples:\n  $ fsx-transfer doctor\n  $ fsx-transfer doctor --mapping extdata --json',
    )
    .action(async (options: { mapping?: string; json?: boolean }) => {
      const config = loadConfig();
      const report = await runDoctor({ config, fsx: getFsx(), s3: getS3(), sts: getSts() });
      const shown = options.mapping
        ? { ...report, mappings: report.mappings.filter((m) => m.mapping === options.mapping) }
        : report;
      if (options.json) printJson(shown);
      else note(formatDoctorReport(shown));
      process.exitCode = shown.ok ? EXIT.ok : EXIT.prerequisites;
    });
}
