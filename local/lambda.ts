/**
 * Local Lambda registry: invokes the project's real handlers in-process, by function name or ARN.
 * Work in progress: the full implementation lands in the following commits.
 */

export interface LambdaRegistryDeps {
  /** Project root (holds serverless.yml and functions/). */
  rootDir: string;
  accountId: string;
  region: string;
  stage?: string;
  /** Local values for environment variables whose serverless.yml value is a CloudFormation expression. */
  environment?: Record<string, string>;
}

export class LambdaRegistry {
  constructor(readonly deps: LambdaRegistryDeps) {}

  /** Invokes a function by key (`launch-instance`), name (`fsx-transfer-local-launch-instance`) or ARN. */
  async invoke(_nameOrArn: string, _event: unknown): Promise<unknown> {
    throw new Error('LambdaRegistry.invoke: not implemented yet');
  }
}
