/**
 * The IAM checks of an S3 REST request (Service Authorization Reference, Amazon S3; "Required
 * permissions for Amazon S3 API operations"): the action of the operation on the bucket ARN
 * (`arn:aws:s3:::bucket`) or the object ARN (`arn:aws:s3:::bucket/key`). HeadObject needs
 * s3:GetObject, HeadBucket and the list operations s3:ListBucket, multipart uploads s3:PutObject,
 * a copy s3:GetObject on its source too, and DeleteObjects s3:DeleteObject on every key.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { AuthorizationCheck } from './policy.js';
import { authorizationCheck, type RequestScope } from './requests.js';

export interface S3RequestFacts {
  method: string;
  bucket?: string;
  key?: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  /** The keys of a DeleteObjects request (read from its body). */
  deleteKeys?: string[];
}

/** Bucket sub-resources and the action of reading (GET) or writing (PUT/DELETE) each. */
const BUCKET_SUBRESOURCES: Record<string, [string, string]> = {
  policy: ['GetBucketPolicy', 'PutBucketPolicy'],
  encryption: ['GetEncryptionConfiguration', 'PutEncryptionConfiguration'],
  notification: ['GetBucketNotification', 'PutBucketNotification'],
  versioning: ['GetBucketVersioning', 'PutBucketVersioning'],
  tagging: ['GetBucketTagging', 'PutBucketTagging'],
  acl: ['GetBucketAcl', 'PutBucketAcl'],
  cors: ['GetBucketCORS', 'PutBucketCORS'],
  lifecycle: ['GetLifecycleConfiguration', 'PutLifecycleConfiguration'],
  website: ['GetBucketWebsite', 'PutBucketWebsite'],
};

/** The action and resource of an S3 request (without the DeleteObjects keys and copy sources). */
function s3Action(facts: S3RequestFacts): [string, 'bucket' | 'object' | '*'] {
  const { method, bucket, key, query } = facts;
  if (!bucket) return ['ListAllMyBuckets', '*'];
  if (!key) {
    const sub = Object.keys(BUCKET_SUBRESOURCES).find((name) => query.has(name));
    if (sub) return [BUCKET_SUBRESOURCES[sub]![method === 'GET' ? 0 : 1], 'bucket'];
    if (method === 'GET' && query.has('location')) return ['GetBucketLocation', 'bucket'];
    if (method === 'GET' && query.has('uploads')) return ['ListBucketMultipartUploads', 'bucket'];
    if (method === 'GET' && query.has('versions')) return ['ListBucketVersions', 'bucket'];
    if (method === 'GET' || method === 'HEAD') return ['ListBucket', 'bucket'];
    if (method === 'PUT') return ['CreateBucket', 'bucket'];
    if (method === 'DELETE') return ['DeleteBucket', 'bucket'];
    return ['DeleteObject', 'bucket'];
  }
  if (query.has('tagging')) return [method === 'GET' ? 'GetObjectTagging' : 'PutObjectTagging', 'object'];
  if (query.has('acl')) return [method === 'GET' ? 'GetObjectAcl' : 'PutObjectAcl', 'object'];
  if (method === 'GET' && query.has('uploadId')) return ['ListMultipartUploadParts', 'object'];
  if (method === 'DELETE') return [query.has('uploadId') ? 'AbortMultipartUpload' : 'DeleteObject', 'object'];
  if (method === 'GET' || method === 'HEAD') return ['GetObject', 'object'];
  return ['PutObject', 'object'];
}

/** The checks of an S3 request. */
export function s3RequestChecks(scope: RequestScope, facts: S3RequestFacts): AuthorizationCheck[] {
  const [action, on] = s3Action(facts);
  const bucketArn = `arn:aws:s3:::${facts.bucket}`;
  const objectArn = (key: string) => `${bucketArn}/${key}`;
  if (facts.deleteKeys) {
    return facts.deleteKeys.map((key) => authorizationCheck(scope, 's3:DeleteObject', objectArn(key)));
  }
  const context =
    action === 'ListBucket'
      ? {
          's3:prefix': facts.query.get('prefix') ?? undefined,
          's3:delimiter': facts.query.get('delimiter') ?? undefined,
        }
      : {};
  const resource = on === '*' ? '*' : on === 'bucket' ? bucketArn : objectArn(facts.key!);
  const checks = [authorizationCheck(scope, `s3:${action}`, resource, context)];
  const copySource = facts.headers['x-amz-copy-source'];
  if (typeof copySource === 'string' && action === 'PutObject') {
    const source = decodeURIComponent(copySource.replace(/^\//, '').split('?')[0]!);
    checks.push(authorizationCheck(scope, 's3:GetObject', `arn:aws:s3:::${source}`));
  }
  return checks;
}
