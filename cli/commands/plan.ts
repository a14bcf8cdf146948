/** `plan`: validates a request and shows what a run would do (method, reasons, scope), starting nothing. */
import type { Command } from 'commander';
import { getFsx, getS3, getSts } from '../../shared/aws/clients.js';
import { loadConfig } from '../../shared/config/load.js';
import type { TransferPlan } from '../../shared/plan/schema.js';
import { validateTransfer } from '../../shared/plan/validate.js';
import { note, printJson } from '../output.js';
import { addRequestOptions, type RequestOptions, requestFromArgs } from './executions.js';

function describePlan(plan: TransferPlan): string {
  const lines = [
    `transfer ${plan.mapping} ${plan.direction} by ${plan.method.toUpperCase()}`,
    `  file system  ${plan.fileSystem.id} (Lustre ${plan.fileSystem.lustreVersion}, ${plan.fileSystem.deploymentType})`,
    `  FSx path     ${plan.scope.fsxPath}`,
    `  S3           s3://${plan.scope.bucket}/${plan.scope.prefix}`,
    `  options      delete=${plan.options.delete} include=[${plan.options.include.join(' ')}] exclude=[${plan.options.exclude.join(' ')}]`,
  ];
  if (plan.methodReasons.length) {
    lines.push('  method checks:');
    for (const reason of plan.methodReasons) {
      lines.push(
        `    ${reason.ok ? 'ok  ' : 'FAIL'} ${reason.code}: ${reason.message}${reason.fix && !reason.ok ? ` (fix: ${reason.fix})` : ''}`,
      );
    }
  }
  return lines.join('\n');
}

export function registerPlanCommand(program: Command): void {
  addRequestOptions(
    program.command('plan').description('validate a transfer and show the plan; starts nothing'),
  ).action(async (mapping: string, direction: string, options: RequestOptions & { json?: boolean }) => {
    const request = requestFromArgs(mapping, direction, options);
    const plan = await validateTransfer(
      { request, executionName: 'plan' },
      { config: loadConfig(), fsx: getFsx(), s3: getS3(), sts: getSts() },
    );
    if (options.json) printJson(plan);
    else note(describePlan(plan));
  });
}
