/** The caller's identity (STS GetCallerIdentity): which account the credentials belong to. */
import { GetCallerIdentityCommand, type STSClient } from '@aws-sdk/client-sts';

export type { STSClient };

/**
 * The account of the credentials in use, or undefined when STS does not say.
 * @throws the SDK error (no credentials, throttling) unchanged.
 */
export async function callerAccount(sts: STSClient): Promise<string | undefined> {
  return (await sts.send(new GetCallerIdentityCommand({}))).Account;
}
