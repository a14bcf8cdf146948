/**
 * AWS JSON 1.0/1.1 protocol (FSx, SSM, Step Functions): `POST /` with `X-Amz-Target:
 * <Prefix>.<Operation>` and a JSON body. Errors are HTTP 4xx/5xx with `{"__type": "<Code>",
 * "message": "..."}` and the header `x-amzn-ErrorType: <Code>`: the SDK v3 reads `__type` first
 * (then `code`, then the header) and keeps the part after `#`; botocore reads only `__type` (also
 * after `#`). Both read `message` or `Message`. Timestamps are epoch seconds.
 */
import type { LocalAwsError } from '../types.js';

/** JSON text for an emulator's output: `Date` values become epoch seconds, as the JSON protocols expect. */
export function toAwsJson(value: unknown): string {
  return JSON.stringify(
    value ?? {},
    function replacer(this: Record<string, unknown>, key: string, v: unknown) {
      const original = key === '' ? value : this[key];
      if (original instanceof Date) return original.getTime() / 1000;
      return v;
    },
  );
}

export function jsonErrorBody(error: LocalAwsError): string {
  // Extra members of the error shape (e.g. FSx IncompatibleParameterError.Parameter) ride along.
  const fields = (error as LocalAwsError & { fields?: Record<string, unknown> }).fields ?? {};
  return JSON.stringify({ ...fields, __type: error.code, message: error.message });
}

/** Parses a JSON request body; `undefined` when it is not a JSON object (-> SerializationException). */
export function parseJsonBody(body: string): Record<string, unknown> | undefined {
  if (body.trim() === '') return {};
  try {
    const value = JSON.parse(body);
    return value && typeof value === 'object' && !Array.isArray(value) ? value : undefined;
  } catch {
    return undefined;
  }
}
