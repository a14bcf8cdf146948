/** "Not found" answers of AWS calls, as `undefined` instead of an error. */
import { awsErrorName } from '../errors.js';

/**
 * The answer of an AWS call, or undefined when the call fails with one of `names`: the SDK error
 * names that mean the thing asked for does not exist (`NoSuchKey`, `DataRepositoryTaskNotFound`...).
 * @throws every other error unchanged.
 */
export async function unlessMissing<T>(call: Promise<T>, ...names: string[]): Promise<T | undefined> {
  try {
    return await call;
  } catch (error) {
    if (names.includes(awsErrorName(error) ?? '')) return undefined;
    throw error;
  }
}
