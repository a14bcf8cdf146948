/**
 * `plan`: what a run would do, take and cost (method and every prerequisite, the scope from a
 * listing, an estimate for each method), starting and changing nothing.
 */
import type { Command } from 'commander';
import { InvalidArgumentError, Option } from 'commander';
import { getFsx, getS3, getSts } from '../../shared/aws/clients.js';
import { loadConfig } from '../../shared/config/load.js';
import { planReport } from '../../shared/plan/planner.js';
import { EXIT, parseSize, printJson, say } from '../output.js';
import { describePlan } from '../render.js';
import { addRequestOptions, type RequestOptions, requestFromArgs } from './executions.js';

function parseCount(value: string): number {
  const count = Number(value);
  if (!Number.isInteger(count) || count < 0)
    throw new InvalidArgumentError('must be a whole number of files');
  return count;
}

function parseBytes(value: string): number {
  try {
    return parseSize(value);
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message);
  }
}

export function registerPlanCommand(program: Command): void {
  addRequestOptions(
    program
      .command('plan')
      .description(
        'show what a run would do, take and cost: the method and every prerequisite, the scope, an estimate per method; starts nothing',
      ),
  )
    .option('--files <n>', 'estimate for this many files instead of listing the scope', parseCount)
    .option(
      '--bytes <size>',
      'estimate for this size instead of listing the scope (500GiB, 1.5TB)',
      parseBytes,
    )
    .addOption(
      new Option(
        '--instance-type <type>',
        'estimate the EC2 method with this type (default: defaults.instanceType)',
      ),
    )
    .addHelpText(
      'after',
      `
The scope of a stage-in is listed in S3; the source of an export is on the file system, which
cannot be listed from here: give --files and --bytes to estimate it. Exit code 3 when the
requested method is not possible (every failed prerequisite is shown).

Examples:
  $ fsx-transfer plan extdata stage-in
  $ fsx-transfer plan output export --sub-path run-2026-06-01 --files 1200 --bytes 80GiB
  $ fsx-transfer plan blended-tropomi stage-in --instance-type c5n.xlarge --json | jq .estimates`,
    )
    .action(
      async (
        mapping: string,
        direction: string,
        options: RequestOptions & { json?: boolean; files?: number; bytes?: number; instanceType?: string },
      ) => {
        const request = requestFromArgs(mapping, direction, options);
        const report = await planReport(
          { config: loadConfig(), fsx: getFsx(), s3: getS3(), sts: getSts() },
          request,
          {
            ...(options.files !== undefined ? { files: options.files } : {}),
            ...(options.bytes !== undefined ? { bytes: options.bytes } : {}),
            ...(options.instanceType ? { instanceType: options.instanceType } : {}),
          },
        );
        if (options.json) printJson(report);
        else say(describePlan(report));
        process.exitCode = report.method ? EXIT.ok : EXIT.prerequisites;
      },
    );
}
