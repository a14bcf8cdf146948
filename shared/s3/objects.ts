/**
 * S3 objects: listing, reading and deleting. The only module that lists S3: ListObjectsV2 returns
 * at most 1,000 keys per call, so every listing here pages to the end (or to the first match).
 */
import {
  DeleteObjectCommand,
  GetObjectCommand,
  paginateListObjectsV2,
  type S3Client,
} from '@aws-sdk/client-s3';
import { unlessMissing } from '../aws/missing.js';

export interface S3Object {
  key: string;
  size: number;
}

/**
 * Every object whose key starts with `prefix` ('' for the whole bucket), in key order, page by page.
 * @throws the SDK error (NoSuchBucket, AccessDenied, throttling) unchanged; callers map it.
 */
export async function* listObjects(s3: S3Client, bucket: string, prefix: string): AsyncGenerator<S3Object> {
  for await (const page of paginateListObjectsV2({ client: s3 }, { Bucket: bucket, Prefix: prefix })) {
    for (const object of page.Contents ?? []) {
      if (object.Key !== undefined) yield { key: object.Key, size: object.Size ?? 0 };
    }
  }
}

/**
 * The text of an object (UTF-8), or undefined when there is no such key.
 * @throws the SDK error for anything else (AccessDenied, throttling).
 */
export async function getObjectText(s3: S3Client, bucket: string, key: string): Promise<string | undefined> {
  const out = await unlessMissing(
    s3.send(new GetObjectCommand({ Bucket: bucket, Key: key })),
    'NoSuchKey',
    'NotFound',
  );
  return out && ((await out.Body?.transformToString('utf8')) ?? '');
}

/**
 * Finds an object whose name is only partly known (a data repository task's completion report):
 * the first of `keys` that exists, else the first key below `prefix` that `matches`, searching
 * every page of the listing.
 * @returns the key and its text, or undefined when nothing matches.
 */
export async function findObjectText(
  s3: S3Client,
  bucket: string,
  search: { keys: readonly string[]; prefix: string; matches: (key: string) => boolean },
): Promise<{ key: string; text: string } | undefined> {
  for (const key of search.keys) {
    const text = await getObjectText(s3, bucket, key);
    if (text !== undefined) return { key, text };
  }
  for await (const object of listObjects(s3, bucket, search.prefix)) {
    if (!search.matches(object.key)) continue;
    const text = await getObjectText(s3, bucket, object.key);
    if (text !== undefined) return { key: object.key, text };
  }
  return undefined;
}

/** Deletes one object (S3 answers success for a key that does not exist). */
export async function deleteObject(s3: S3Client, bucket: string, key: string): Promise<void> {
  await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
}
