/**
 * The clients and settings the trigger, gate and API functions share, built once per container:
 * the transfers table (TRANSFERS_TABLE) and the transfer state machine (TRANSFER_STATE_MACHINE_ARN,
 * else found by its name for the stage, e.g. when a handler runs in-process).
 */
import { getDynamoDb, getEventBridge, getSfn } from '../aws/clients.js';
import { getConfig } from '../config/load.js';
import { priceTable } from '../cost/prices.js';
import { findStateMachineArn, stateMachineName } from '../sfn/executions.js';
import { transfersTable } from './table.js';

let cachedArn: Promise<string> | undefined;

/** ARN of this stage's transfer state machine. */
export function transferStateMachineArn(env: NodeJS.ProcessEnv = process.env): Promise<string> {
  if (env.TRANSFER_STATE_MACHINE_ARN) return Promise.resolve(env.TRANSFER_STATE_MACHINE_ARN);
  cachedArn ??= findStateMachineArn(getSfn(), stateMachineName('transfer')).catch((error) => {
    cachedArn = undefined;
    throw error;
  });
  return cachedArn;
}

/** Everything the gate, trigger, finish and API code needs. */
export async function transferDeps() {
  const config = getConfig();
  return {
    db: getDynamoDb(),
    table: transfersTable(),
    sfn: getSfn(),
    events: getEventBridge(),
    config,
    prices: priceTable(config.pricing),
    stateMachineArn: await transferStateMachineArn(),
  };
}
