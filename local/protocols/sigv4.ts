/**
 * Reading the SigV4 credential scope of a request (`Authorization` header or presigned query):
 * the router routes query-protocol calls by the scope's service name and reports the caller's
 * access key. Signatures are not verified (any access key is accepted, as documented).
 */
import type { IncomingHttpHeaders } from 'node:http';

export interface CredentialScope {
  accessKeyId: string;
  date: string;
  region: string;
  service: string;
}

const SCOPE = /Credential=([^/,\s]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request/;

/** The credential scope from `Authorization: AWS4-HMAC-SHA256 Credential=AKID/date/region/service/aws4_request, ...`. */
export function credentialScope(
  headers: IncomingHttpHeaders,
  query?: URLSearchParams,
): CredentialScope | undefined {
  const auth = headers.authorization;
  let match = typeof auth === 'string' ? SCOPE.exec(auth) : null;
  if (!match && query?.get('X-Amz-Credential'))
    match = SCOPE.exec(`Credential=${query.get('X-Amz-Credential')}`);
  if (!match) return undefined;
  return { accessKeyId: match[1]!, date: match[2]!, region: match[3]!, service: match[4]! };
}
