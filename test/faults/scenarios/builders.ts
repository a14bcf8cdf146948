/**
 * Small builders for the fault matrix's tables: the usual ways to inject a fault (a fault rule of
 * the local cloud, a crashing or timed-out function, an FSx fault) and the tests that run a table.
 */
import {
  DeleteDataRepositoryAssociationCommand,
  DescribeDataRepositoryAssociationsCommand,
} from '@aws-sdk/client-fsx';
import { it } from 'vitest';
import type { FaultRule } from '../../../local/faults.js';
import type { FsxFaults } from '../../../local/fsx/core.js';
import type { LocalHandler } from '../../../local/lambda.js';
import { getFsx } from '../../../shared/aws/clients.js';
import type { FaultWorld, Scenario, ScenarioContext } from '../harness.js';
import { runScenario } from '../harness.js';

/** Adds fault rules of the local cloud. */
export const rules =
  (...added: FaultRule[]) =>
  (ctx: ScenarioContext) => {
    ctx.world.cloud.faults.add(added);
  };

/** The function crashes on every invocation (as Step Functions sees an out-of-memory or runtime exit). */
export const crash = (functionKey: string): FaultRule => ({
  service: 'lambda',
  operation: 'Invoke',
  code: 'Lambda.Unknown',
  message: 'Runtime exited with error: signal: killed (out of memory)',
  match: { function: functionKey },
});

/** The function runs past its timeout on every invocation. */
export const timesOut = (functionKey: string): FaultRule => ({
  service: 'lambda',
  operation: 'Invoke',
  code: 'Sandbox.Timedout',
  message: 'Task timed out after 60.00 seconds',
  match: { function: functionKey },
});

/** FSx faults of the emulator (per-file task failures, slow tasks, failing associations). */
export const fsxFaults = (faults: FsxFaults) => (ctx: ScenarioContext) => {
  ctx.world.cloud.fsx.setFaults(faults);
};

/** Runs `first`, then `second` (both injections of one scenario). */
export const both =
  (first: Scenario['inject'], second: Scenario['inject']) => async (ctx: ScenarioContext) => {
    await first(ctx);
    await second(ctx);
  };

/**
 * Replaces a function for the scenario: `replace(real)` returns the handler to use. Restore it in
 * `clear` with `restoreFunction`.
 */
export function replaceFunction(
  functionKey: string,
  replace: (real: LocalHandler) => LocalHandler,
  timeout = 300,
) {
  return async (ctx: ScenarioContext) => {
    const real = await realHandler(functionKey);
    ctx.world.cloud.lambdas.register(functionKey, replace(real), { timeout });
  };
}

export function restoreFunction(functionKey: string, timeout = 300) {
  return async (ctx: ScenarioContext) => {
    ctx.world.cloud.lambdas.register(functionKey, await realHandler(functionKey), { timeout });
  };
}

async function realHandler(functionKey: string): Promise<LocalHandler> {
  const module = (await import(`../../../functions/${functionKey}/handler.ts`)) as { handler: LocalHandler };
  return module.handler;
}

/** Deletes the associations of a file system path (files stay), as a user removing a broken one does. */
export async function deleteAssociations(fileSystemId: string, fileSystemPath: string): Promise<void> {
  const out = await getFsx().send(
    new DescribeDataRepositoryAssociationsCommand({
      Filters: [{ Name: 'file-system-id', Values: [fileSystemId] }],
    }),
  );
  for (const association of out.Associations ?? []) {
    if (association.FileSystemPath?.replace(/\/$/, '') !== fileSystemPath) continue;
    await getFsx().send(
      new DeleteDataRepositoryAssociationCommand({
        AssociationId: association.AssociationId!,
        DeleteDataInFileSystem: false,
      }),
    );
  }
  for (let i = 0; i < 400; i++) {
    const left = await getFsx().send(
      new DescribeDataRepositoryAssociationsCommand({
        Filters: [{ Name: 'file-system-id', Values: [fileSystemId] }],
      }),
    );
    if (!left.Associations?.some((a) => a.FileSystemPath?.replace(/\/$/, '') === fileSystemPath)) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`the association of ${fileSystemPath} was not deleted`);
}

/** The association of a file system path, if any. */
export async function associationOf(
  fileSystemId: string,
  fileSystemPath: string,
): Promise<string | undefined> {
  const out = await getFsx().send(
    new DescribeDataRepositoryAssociationsCommand({
      Filters: [{ Name: 'file-system-id', Values: [fileSystemId] }],
    }),
  );
  return out.Associations?.find((a) => a.FileSystemPath?.replace(/\/$/, '') === fileSystemPath)
    ?.AssociationId;
}

/** One test per scenario, each recording its leaks and losses for the verdict (reporter.ts). */
export function scenarioTests(world: () => FaultWorld, scenarios: Scenario[], timeoutMs = 150_000): void {
  for (const scenario of scenarios) {
    it(
      `${scenario.state}: ${scenario.what} -> ${scenario.expect}`,
      async ({ task }) => {
        const meta = { leaked: 0, lost: 0 };
        task.meta.faultScenario = meta;
        await runScenario(world(), scenario, meta);
      },
      timeoutMs,
    );
  }
}
