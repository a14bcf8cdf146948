/**
 * The one logger (Powertools, structured JSON). Domain code that reports what it decided (the
 * trigger's counters, the gate's hand-overs) logs through it; the Lambda wrapper (shared/lambda.ts)
 * adds the request id, the execution name and the transfer id to every line.
 */
import { Logger } from '@aws-lambda-powertools/logger';

export const logger = new Logger({
  serviceName: 'fsx-transfer',
  // On Lambda every line goes to CloudWatch (INFO). Handlers run in-process by the CLI (demo, local
  // up) and on the local cloud only show warnings unless LOG_LEVEL asks for more.
  logLevel:
    (process.env.LOG_LEVEL as 'INFO' | undefined) ??
    (process.env.FSX_TRANSFER_LOCAL || process.env.FSX_TRANSFER_CLI ? 'WARN' : 'INFO'),
});
