/**
 * Step Functions emulator (JSON 1.0, X-Amz-Target AWSStepFunctions.<Operation>).
 * Work in progress: the full implementation lands in the following commits.
 */
import type { LambdaRegistry } from '../lambda.js';
import {
  type Clock,
  type JsonService,
  LocalAwsError,
  type LocalEvent,
  type RequestContext,
} from '../types.js';

export interface StepFunctionsEmulatorDeps {
  clock: Clock;
  accountId: string;
  region: string;
  emit: (e: LocalEvent) => void;
  lambdas: LambdaRegistry;
  stateMachinesDir: string;
  substitutions: Record<string, string>;
  stage?: string;
}

export class StepFunctionsEmulator implements JsonService {
  readonly targetPrefix = 'AWSStepFunctions';
  readonly jsonVersion = '1.0' as const;

  constructor(readonly deps: StepFunctionsEmulatorDeps) {}

  async handle(operation: string, _input: Record<string, unknown>, _ctx: RequestContext): Promise<unknown> {
    throw new LocalAwsError('UnknownOperationException', `Operation ${operation} is not supported yet`);
  }

  /** Stops running executions (ABORTED) and timers. */
  async close(): Promise<void> {}
}
