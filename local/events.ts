/**
 * Local EventBridge bus: matches events against the rules declared in serverless.yml and invokes
 * their Lambda targets. Work in progress: the full implementation lands in the following commits.
 */
import type { LambdaRegistry } from './lambda.js';
import type { Clock, LocalEvent } from './types.js';

export interface EventBusDeps {
  rootDir: string;
  accountId: string;
  region: string;
  clock: Clock;
  lambdas: LambdaRegistry;
  stage?: string;
}

export class EventBus {
  constructor(readonly deps: EventBusDeps) {}

  /** Delivers an event to every matching rule's targets (asynchronously, errors logged). */
  emit(_event: LocalEvent): void {}

  /** Fires a scheduled rule now. */
  async fireSchedule(_ruleName: string): Promise<void> {}

  close(): void {}
}
