/**
 * `StartFileListing` / `StartPreload` / `SendPreloadCommand` / `SendChecksumsCommand`: a command through SSM on the configured
 * Lustre client, or on the transfer instance LaunchInstance launched for the preload or the checksums
 * (input `instance`).
 */
import { getSsm } from '../../shared/aws/clients.js';
import { sendLustreCommand } from '../../shared/dra/lustre-client.js';
import { SendLustreCommandInput } from '../../shared/dra/steps.js';
import { parseInput } from '../../shared/input.js';
import { lambdaHandler } from '../../shared/lambda.js';

export const handler = lambdaHandler(async (event: unknown) => {
  const input = parseInput(SendLustreCommandInput, event, 'SendLustreCommand input');
  return sendLustreCommand({ ssm: getSsm() }, input);
});
