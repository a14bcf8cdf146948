/**
 * Bad input to the transfers API (`POST /transfers` and the id routes): whatever a caller sends,
 * the answer is a 400 problem document naming the field and the rule, and nothing is written to
 * the transfers table and no execution is started.
 */
import type { Context } from 'aws-lambda';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type ApiEvent, httpHandler } from '../../../shared/api/http.js';
import {
  type ApiDeps,
  cancelTransferRoute,
  getTransferRoute,
  startTransferRoute,
} from '../../../shared/api/transfers.js';
import { parseConfig } from '../../../shared/config/load.js';
import { badName, badPath, hostileString } from './corpus.js';

const RUNS = { numRuns: 300 };

const config = parseConfig(`version: 1
region: us-east-1
fileSystems:
  - id: fs-00000000000000001
    subnetIds: [subnet-00000000000000001]
    securityGroupIds: [sg-00000000000000001]
mappings:
  - { name: extdata, fileSystemId: fs-00000000000000001, fsxPath: /ExtData, s3Uri: s3://demo/ExtData, directions: [stage-in] }
  - { name: output, fileSystemId: fs-00000000000000001, fsxPath: /output, s3Uri: s3://demo/output, directions: [export] }
`);

/** Deps whose every AWS call is recorded (a valid request would be written and started). */
function recordingDeps(): { deps: ApiDeps; calls: string[] } {
  const calls: string[] = [];
  const client = (service: string) => ({
    send: async (command: { constructor: { name: string } }) => {
      calls.push(`${service}.${command.constructor.name}`);
      throw new Error('no AWS call may happen for bad input');
    },
  });
  return {
    calls,
    deps: {
      config,
      db: client('dynamodb') as never,
      table: 'transfers',
      sfn: client('sfn') as never,
      stateMachineArn: 'arn:aws:states:us-east-1:000000000000:stateMachine:fsx-transfer-test-transfer',
    },
  };
}

const context = { awsRequestId: 'req-1', functionName: 'api' } as unknown as Context;

/** `POST /transfers` through the HTTP wrapper, as API Gateway hands it over. */
async function post(body: unknown, deps: ApiDeps, idempotencyKey?: string) {
  const handler = httpHandler(async (event: ApiEvent) =>
    startTransferRoute(deps, {
      body: JSON.parse(event.body ?? 'null'),
      idempotencyKey: event.headers?.['idempotency-key'],
      caller: 'arn:aws:iam::000000000000:user/fuzz',
    }),
  );
  const event = {
    body: JSON.stringify(body),
    headers: idempotencyKey === undefined ? {} : { 'idempotency-key': idempotencyKey },
  } as unknown as ApiEvent;
  const response = (await handler(event, context)) as { statusCode: number; body: string };
  return { status: response.statusCode, problem: JSON.parse(response.body) };
}

/** A valid request with one field replaced. */
const bodies = fc.oneof(
  badPath.map((subPath) => ({
    field: 'subPath',
    body: { mapping: 'extdata', direction: 'stage-in', subPath },
  })),
  badName.map((mapping) => ({ field: 'mapping', body: { mapping, direction: 'stage-in' } })),
  hostileString.map((direction) => ({ field: 'direction', body: { mapping: 'extdata', direction } })),
  hostileString.map((method) => ({
    field: 'method',
    body: { mapping: 'extdata', direction: 'stage-in', method },
  })),
  badName.map((transferId) => ({
    field: 'transferId',
    body: { mapping: 'extdata', direction: 'stage-in', transferId },
  })),
  hostileString.map((value) => ({
    field: value,
    body: { mapping: 'extdata', direction: 'stage-in', [value]: true },
  })),
  // Safe characters, but a scope whose S3 keys would pass S3's 1024-byte limit.
  fc.integer({ min: 1017, max: 6000 }).map((n) => ({
    field: 'subPath',
    body: { mapping: 'extdata', direction: 'stage-in', subPath: 'a'.repeat(n) },
  })),
  fc.constant({ field: 'direction', body: { mapping: 'output', direction: 'stage-in' } }),
  fc.constant({ field: 'trigger', body: { mapping: 'extdata', direction: 'stage-in', trigger: 'cli' } }),
  fc.constantFrom(null, [], 'text', 42).map((body) => ({ field: '(body)', body })),
);

describe('POST /transfers with bad input', () => {
  it('answers 400 naming the field and the rule, and writes and starts nothing', async () => {
    await fc.assert(
      fc.asyncProperty(bodies, async ({ field, body }) => {
        const { deps, calls } = recordingDeps();

        const { status, problem } = await post(body, deps);

        expect(status).toBe(400);
        expect(problem.type).toBe('urn:fsx-transfer:problem:invalid-request');
        expect(problem.errors?.length, JSON.stringify(problem)).toBeGreaterThan(0);
        for (const error of problem.errors) {
          expect(error.rule.length).toBeGreaterThan(3);
          expect(error.rule).not.toMatch(/^Invalid input$/);
        }
        if (field !== '(body)')
          expect(problem.errors.map((e: { field: string }) => e.field)).toContain(field);
        expect(calls).toEqual([]);
      }),
      RUNS,
    );
  });

  it('refuses a bad Idempotency-Key header the same way', async () => {
    // Keys are hashed, never reach a shell: printable ASCII punctuation is fine, the rest is not.
    const unprintable = fc.constantFrom(' ', '\n', '\t', '\u0000', 'é', '\u202e', '😀', '\u007f');
    const keys = fc.oneof(
      fc
        .tuple(fc.string({ maxLength: 20 }), unprintable, fc.string({ maxLength: 20 }))
        .map((p) => p.join('')),
      fc.constant(''),
      fc.constant('k'.repeat(256)),
    );
    await fc.assert(
      fc.asyncProperty(keys, async (key) => {
        const { deps, calls } = recordingDeps();

        const { status, problem } = await post({ mapping: 'extdata', direction: 'stage-in' }, deps, key);

        expect(status).toBe(400);
        expect(problem.errors).toEqual([
          { field: 'Idempotency-Key', rule: expect.stringMatching(/printable ASCII/) },
        ]);
        expect(calls).toEqual([]);
      }),
      RUNS,
    );
  });
});

describe('GET and DELETE /transfers/{id} with a bad id', () => {
  it('refuses the id, naming the rule, before reading or stopping anything', async () => {
    await fc.assert(
      fc.asyncProperty(badName, async (id) => {
        const { deps, calls } = recordingDeps();

        for (const route of [getTransferRoute(deps, id), cancelTransferRoute(deps, id, 'fuzz')]) {
          await expect(route).rejects.toMatchObject({
            name: 'InvalidRequestError',
            details: { field: 'id', rule: expect.stringMatching(/transfer id/) },
          });
        }
        expect(calls).toEqual([]);
      }),
      RUNS,
    );
  });
});
