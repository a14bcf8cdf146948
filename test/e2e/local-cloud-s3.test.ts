/**
 * S3 on the local cloud (s3rver behind the router): the SDK v3 S3 client and the AWS CLI v1 against
 * one endpoint, with pagination, odd keys, empty and 100 MB objects, multipart, aws-chunked bodies,
 * presigned-style query strings, ExpectedBucketOwner, bucket regions, object events and faults.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { Readable } from 'node:stream';
import {
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetBucketLocationCommand,
  GetObjectCommand,
  HeadBucketCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { presignedGetUrl } from '../support/signed-fetch.js';
import { errorOf, startTestCloud, type TestCloud, waitFor } from './local-cloud-helpers.js';

let t: TestCloud;

beforeAll(async () => {
  t = await startTestCloud();
}, 30_000);

afterAll(async () => {
  await t?.stop();
});

const md5 = (data: Buffer | string) => createHash('md5').update(data).digest('hex');

async function body(bucket: string, key: string, client: S3Client = t.s3): Promise<Buffer> {
  const out = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return Buffer.from(await out.Body!.transformToByteArray());
}

function tree(dir: string): Record<string, string> {
  const files: Record<string, string> = {};
  const walk = (d: string) => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const path = join(d, entry.name);
      if (entry.isDirectory()) walk(path);
      else files[relative(dir, path)] = md5(readFileSync(path));
    }
  };
  walk(dir);
  return files;
}

describe('S3 through the SDK v3 client', () => {
  it('creates buckets named in the config at start', async () => {
    const head = await t.s3.send(new HeadBucketCommand({ Bucket: 'conformance' }));

    expect(head.$metadata.httpStatusCode).toBe(200);
  });

  it('round-trips keys with spaces, unicode and an empty object', async () => {
    await t.s3.send(new CreateBucketCommand({ Bucket: 'odd-keys' }));
    const objects: Record<string, string> = {
      'with space/file name.txt': 'spaces',
      'unicodé/naïve 東京.nc': 'unicode',
      'plus+and=equals,comma@at.txt': 'symbols',
      'empty.bin': '',
    };

    for (const [key, value] of Object.entries(objects)) {
      await t.s3.send(new PutObjectCommand({ Bucket: 'odd-keys', Key: key, Body: value }));
    }

    const listed = await t.s3.send(new ListObjectsV2Command({ Bucket: 'odd-keys' }));
    expect((listed.Contents ?? []).map((o) => o.Key).sort()).toEqual(Object.keys(objects).sort());
    for (const [key, value] of Object.entries(objects)) {
      expect((await body('odd-keys', key)).toString()).toBe(value);
    }
    expect(listed.Contents?.find((o) => o.Key === 'empty.bin')?.Size).toBe(0);
  });

  it('paginates ListObjectsV2 with continuation tokens', async () => {
    await t.s3.send(new CreateBucketCommand({ Bucket: 'paged' }));
    const keys = Array.from({ length: 7 }, (_, i) => `p/${String(i).padStart(2, '0')}.txt`);
    for (const key of keys) await t.s3.send(new PutObjectCommand({ Bucket: 'paged', Key: key, Body: key }));

    const seen: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const page = await t.s3.send(
        new ListObjectsV2Command({ Bucket: 'paged', Prefix: 'p/', MaxKeys: 3, ContinuationToken: token }),
      );
      seen.push(...(page.Contents ?? []).map((o) => o.Key!));
      token = page.NextContinuationToken;
      pages += 1;
    } while (token);

    expect(seen).toEqual(keys);
    expect(pages).toBe(3);
  });

  it('stores streamed uploads with the SDK default checksums (aws-chunked) byte for byte', async () => {
    const defaults = new S3Client({
      endpoint: t.cloud.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      forcePathStyle: true,
    });
    const data = randomBytes(200_000);

    await defaults.send(
      new PutObjectCommand({
        Bucket: 'conformance',
        Key: 'chunked.bin',
        Body: Readable.from([data.subarray(0, 70_000), data.subarray(70_000)]),
        ContentLength: data.length,
      }),
    );

    const stored = await body('conformance', 'chunked.bin');
    defaults.destroy();
    expect(stored.length).toBe(data.length);
    expect(md5(stored)).toBe(md5(data));
  });

  it('assembles multipart uploads', async () => {
    const part1 = randomBytes(5 * 1024 * 1024);
    const part2 = randomBytes(1024);
    const { UploadId } = await t.s3.send(
      new CreateMultipartUploadCommand({ Bucket: 'conformance', Key: 'multi.bin' }),
    );
    const etags: string[] = [];
    for (const [i, part] of [part1, part2].entries()) {
      const out = await t.s3.send(
        new UploadPartCommand({
          Bucket: 'conformance',
          Key: 'multi.bin',
          UploadId,
          PartNumber: i + 1,
          Body: part,
        }),
      );
      etags.push(out.ETag!);
    }

    await t.s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: 'conformance',
        Key: 'multi.bin',
        UploadId,
        MultipartUpload: { Parts: etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 })) },
      }),
    );

    expect(md5(await body('conformance', 'multi.bin'))).toBe(md5(Buffer.concat([part1, part2])));
  }, 30_000);

  it('answers a missing object with NoSuchKey and a missing bucket with NoSuchBucket', async () => {
    const noKey = await errorOf(t.s3.send(new GetObjectCommand({ Bucket: 'conformance', Key: 'nope' })));
    const noBucket = await errorOf(t.s3.send(new ListObjectsV2Command({ Bucket: 'no-such-bucket-here' })));

    expect(noKey.name).toBe('NoSuchKey');
    expect(noBucket.name).toBe('NoSuchBucket');
  });

  it('serves presigned URLs, and refuses tampered or expired ones', async () => {
    await t.s3.send(new PutObjectCommand({ Bucket: 'conformance', Key: 'presigned.txt', Body: 'signed' }));
    const url = await presignedGetUrl(t.cloud.endpoint, 'conformance', 'presigned.txt');
    const expired = await presignedGetUrl(t.cloud.endpoint, 'conformance', 'presigned.txt', {
      expiresIn: 60,
      signingDate: new Date(Date.now() - 120_000),
    });

    const res = await fetch(url);
    const tampered = await fetch(url.replace(/X-Amz-Signature=[0-9a-f]{4}/, 'X-Amz-Signature=0000'));
    const late = await fetch(expired);

    expect(res.status).toBe(200);
    expect(await res.text()).toBe('signed');
    expect([tampered.status, await tampered.text()]).toEqual([
      403,
      expect.stringContaining('<Code>SignatureDoesNotMatch</Code>'),
    ]);
    expect([late.status, await late.text()]).toEqual([403, expect.stringContaining('Request has expired')]);
  });

  it('refuses a request whose ExpectedBucketOwner is another account (AccessDenied)', async () => {
    const ok = await t.s3.send(
      new ListObjectsV2Command({ Bucket: 'conformance', ExpectedBucketOwner: '000000000000' }),
    );
    const denied = await errorOf(
      t.s3.send(new ListObjectsV2Command({ Bucket: 'conformance', ExpectedBucketOwner: '111111111111' })),
    );
    await t.admin('PUT', '/s3/buckets/foreign-owner', { owner: '222222222222' });
    const foreign = await errorOf(
      t.s3.send(new HeadBucketCommand({ Bucket: 'foreign-owner', ExpectedBucketOwner: '000000000000' })),
    );

    expect(ok.$metadata.httpStatusCode).toBe(200);
    expect(denied.name).toBe('AccessDenied');
    expect(foreign.$metadata?.httpStatusCode).toBe(403);
  });

  it('reports bucket regions: empty for us-east-1, the admin-set region otherwise', async () => {
    await t.admin('PUT', '/s3/buckets/in-europe', { region: 'eu-west-1' });

    const home = await t.s3.send(new GetBucketLocationCommand({ Bucket: 'conformance' }));
    const away = await t.s3.send(new GetBucketLocationCommand({ Bucket: 'in-europe' }));

    expect(home.LocationConstraint ?? '').toBe('');
    expect(away.LocationConstraint).toBe('eu-west-1');
  });

  it('puts Object Created and Object Deleted events on the bus, DeleteObjects included', async () => {
    await t.s3.send(new PutObjectCommand({ Bucket: 'conformance', Key: 'events/a b.txt', Body: 'x' }));
    await t.s3.send(new PutObjectCommand({ Bucket: 'conformance', Key: 'events/c.txt', Body: 'y' }));
    await t.s3.send(new DeleteObjectCommand({ Bucket: 'conformance', Key: 'events/a b.txt' }));
    await t.s3.send(
      new DeleteObjectsCommand({ Bucket: 'conformance', Delete: { Objects: [{ Key: 'events/c.txt' }] } }),
    );

    const events = await waitFor(() => {
      const list = t.cloud.eventLog.filter(
        (e) =>
          e.source === 'aws.s3' && String((e.detail.object as { key: string }).key).startsWith('events/'),
      );
      // (keys arrive URL-encoded, as S3 sends them: `a b.txt` is `a+b.txt`)
      return list.length >= 4 ? list : undefined;
    });

    const summary = events.map((e) => [
      e['detail-type'],
      (e.detail.object as { key: string }).key,
      e.detail.reason,
    ]);
    expect(summary).toEqual([
      ['Object Created', 'events/a+b.txt', 'PutObject'],
      ['Object Created', 'events/c.txt', 'PutObject'],
      ['Object Deleted', 'events/a+b.txt', 'DeleteObject'],
      ['Object Deleted', 'events/c.txt', 'DeleteObject'],
    ]);
    expect(events[0]).toMatchObject({
      version: '0',
      account: '000000000000',
      region: 'us-east-1',
      resources: ['arn:aws:s3:::conformance'],
      detail: { bucket: { name: 'conformance' }, object: { size: 1 } },
    });
  });

  it('applies S3 fault rules by operation and bucket, then recovers', async () => {
    const [rule] = (
      await t.admin('POST', '/faults', {
        service: 's3',
        operation: 'GetObject',
        code: 'SlowDown',
        match: { Bucket: 'conformance' },
        count: 1,
      })
    ).body.rules;

    const first = await errorOf(
      t.s3.send(new GetObjectCommand({ Bucket: 'conformance', Key: 'presigned.txt' })),
    );
    const second = await body('conformance', 'presigned.txt');

    expect(first.name).toBe('SlowDown');
    expect(first.$metadata?.httpStatusCode).toBe(503);
    expect(second.toString()).toBe('signed');
    expect(
      (await t.admin('GET', '/faults')).body.rules.find((r: { id: string }) => r.id === rule.id).fired,
    ).toBe(1);
    await t.admin('DELETE', '/faults');
  });
});

describe('S3 through the AWS CLI', () => {
  it('round-trips a tree with aws s3 sync up and down (spaces, unicode, empty, nested, 100 MB multipart)', async () => {
    const src = join(t.dir, 'tree-src');
    mkdirSync(join(src, 'nested/deeper'), { recursive: true });
    mkdirSync(join(src, 'ünïcode dir'), { recursive: true });
    writeFileSync(join(src, 'top.txt'), 'top');
    writeFileSync(join(src, 'empty.txt'), '');
    writeFileSync(join(src, 'nested/deeper/file with spaces.nc'), randomBytes(3000));
    writeFileSync(join(src, 'ünïcode dir/東京.txt'), 'tokyo');
    writeFileSync(join(src, 'big.bin'), randomBytes(100 * 1024 * 1024));

    const up = await t.aws(['s3', 'sync', src, 's3://conformance/tree/', '--no-progress']);
    const listing = await t.aws(['s3', 'ls', '--recursive', 's3://conformance/tree/']);
    const dst = join(t.dir, 'tree-dst');
    const down = await t.aws(['s3', 'sync', 's3://conformance/tree/', dst, '--no-progress']);

    expect(up.code, up.stderr).toBe(0);
    expect(down.code, down.stderr).toBe(0);
    expect(listing.stdout).toContain('tree/nested/deeper/file with spaces.nc');
    expect(listing.stdout).toContain('tree/ünïcode dir/東京.txt');
    expect(tree(dst)).toEqual(tree(src));
    expect(statSync(join(dst, 'big.bin')).size).toBe(100 * 1024 * 1024);
    // The CLI uploads files over 8 MB in parts: the object was assembled by CompleteMultipartUpload.
    const created = t.cloud.eventLog.find(
      (e) =>
        e['detail-type'] === 'Object Created' && (e.detail.object as { key: string }).key === 'tree/big.bin',
    );
    expect(created?.detail.reason).toBe('CompleteMultipartUpload');
  }, 180_000);

  it('removes objects with aws s3 rm --recursive and reports them as deleted', async () => {
    const rm = await t.aws(['s3', 'rm', '--recursive', 's3://conformance/tree/nested/']);
    const after = await t.aws(['s3', 'ls', '--recursive', 's3://conformance/tree/nested/']);

    expect(rm.code, rm.stderr).toBe(0);
    expect(rm.stdout).toContain('delete: s3://conformance/tree/nested/deeper/file with spaces.nc');
    expect(after.stdout).toBe('');
    await waitFor(() =>
      t.cloud.eventLog.some(
        (e) =>
          e['detail-type'] === 'Object Deleted' &&
          // S3 URL-encodes keys in events (a space is `+`).
          (e.detail.object as { key: string }).key === 'tree/nested/deeper/file+with+spaces.nc',
      ),
    );
  }, 60_000);

  it('streams a download to stdout and an upload from stdin', async () => {
    const data = 'streamed through stdin\n';
    const file = join(t.dir, 'stdin.txt');
    writeFileSync(file, data);
    const { execFile } = await import('node:child_process');

    await new Promise<void>((resolve, reject) => {
      const child = execFile(
        'aws',
        ['--endpoint-url', t.cloud.endpoint, 's3', 'cp', '-', 's3://conformance/stdin.txt'],
        {
          env: {
            ...process.env,
            AWS_ACCESS_KEY_ID: 'test',
            AWS_SECRET_ACCESS_KEY: 'test',
            AWS_DEFAULT_REGION: 'us-east-1',
          },
        },
        (error) => (error ? reject(error) : resolve()),
      );
      createReadStream(file).pipe(child.stdin!);
    });
    const out = await t.aws(['s3', 'cp', 's3://conformance/stdin.txt', '-']);

    expect(out.stdout).toBe(data);
  }, 30_000);
});
