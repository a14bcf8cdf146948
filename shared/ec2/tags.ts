/**
 * Tags on transfer instances. They are what the three cleanup layers look for (the execution's
 * failure handler, the execution-status rule, the deadline sweeper) and what IAM conditions scope
 * RunInstances / TerminateInstances to, so every key lives here.
 */
export const TAG_EXECUTION = 'fsx-transfer:execution';
export const TAG_TRANSFER_ID = 'fsx-transfer:transfer-id';
export const TAG_MAPPING = 'fsx-transfer:mapping';
export const TAG_DEADLINE = 'fsx-transfer:deadline';
export const TAG_STAGE = 'fsx-transfer:stage';
/** Index of the scale-out shard an instance transfers (only on scaled-out runs). */
export const TAG_SHARD = 'fsx-transfer:shard';

/** Deployment stage (`FSX_TRANSFER_STAGE`; `local` against the local cloud, else `dev`). */
export function currentStage(env: NodeJS.ProcessEnv = process.env): string {
  return env.FSX_TRANSFER_STAGE || (env.AWS_ENDPOINT_URL ? 'local' : 'dev');
}

/** Value of tag `key` in an EC2 tag list, or undefined. */
export function tagValue(
  tags: { Key?: string; Value?: string }[] | undefined,
  key: string,
): string | undefined {
  return tags?.find((tag) => tag.Key === key)?.Value;
}
