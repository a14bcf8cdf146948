import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { dispatch, type OperationTable } from '../../../local/kit/dispatch.js';
import { randomHex, resourceId } from '../../../local/kit/ids.js';
import { pageAt, pageOf, pageTokens } from '../../../local/kit/next-token.js';
import { StateStore } from '../../../local/kit/persistence.js';
import { LocalAwsError } from '../../../local/types.js';

const tokens = pageTokens((token) => new LocalAwsError('InvalidNextToken', `bad token ${token}`));
const letters = [...'abcdefg'];

describe('the NextToken codec', () => {
  it('pages through a listing and ends without a token', () => {
    const pages: string[][] = [];
    let token: string | undefined;

    do {
      const page = pageOf(letters, { token, size: 3 }, tokens);
      pages.push(page.items);
      token = page.nextToken;
    } while (token);

    expect(pages).toEqual([['a', 'b', 'c'], ['d', 'e', 'f'], ['g']]);
  });

  it('starts at the first page for a missing token', () => {
    for (const token of [undefined, null, '']) {
      expect(pageOf(letters, { token, size: 2 }, tokens).items).toEqual(['a', 'b']);
    }
  });

  it("writes padded standard base64, the alphabet FSx's API model allows for NextToken", () => {
    const token = pageOf(letters, { token: undefined, size: 1, scope: { k: 'x' } }, tokens).nextToken;

    expect(token).toMatch(/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/);
  });

  it("throws the service's error for an unreadable token", () => {
    for (const token of ['bogus', 'x', Buffer.from('{"o":-1}').toString('base64'), 42]) {
      expect(() => tokens.decode(token)).toThrow(
        expect.objectContaining({ code: 'InvalidNextToken', message: `bad token ${token}` }),
      );
    }
  });

  it('refuses a token of another listing (its scope)', () => {
    const token = tokens.encode(2, { k: 'executions', m: 'machine-a', f: '' });

    expect(tokens.decode(token, { k: 'executions', m: 'machine-a', f: '' })).toBe(2);
    expect(() => tokens.decode(token, { k: 'executions', m: 'machine-b', f: '' })).toThrow(/bad token/);
    expect(() => tokens.decode(token, { k: 'machines' })).toThrow(/bad token/);
  });

  it('pages from a position decoded earlier', () => {
    const page = pageAt(letters, tokens.decode(tokens.encode(5)), 5, tokens);

    expect(page).toEqual({ items: ['f', 'g'] });
  });
});

describe('dispatch', () => {
  const table: OperationTable<{ n: number }, string> = {
    Double: (input, ctx) => `${ctx}:${input.n * 2}`,
  };
  const unknown = (name: string) => new LocalAwsError('UnknownOperationException', `no ${name}`);

  it('runs the handler the operation names', async () => {
    expect(await dispatch(table, 'Double', { n: 21 }, 'ctx', unknown)).toBe('ctx:42');
  });

  it("throws the service's error for an operation the table does not have, inherited names included", async () => {
    for (const name of ['Triple', 'toString', '__proto__', 'constructor']) {
      await expect(dispatch(table, name, { n: 1 }, 'ctx', unknown)).rejects.toMatchObject({
        code: 'UnknownOperationException',
        message: `no ${name}`,
      });
    }
  });
});

describe('ids', () => {
  it('shapes resource ids as EC2 and FSx do', () => {
    expect(resourceId('i')).toMatch(/^i-[0-9a-f]{17}$/);
    expect(resourceId('fs', 8)).toMatch(/^fs-[0-9a-f]{8}$/);
    expect(randomHex(5)).toMatch(/^[0-9a-f]{5}$/);
    expect(resourceId('i')).not.toBe(resourceId('i'));
  });
});

describe('StateStore', () => {
  let dir: string;

  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('writes the latest snapshot of each name on flush, and loads it back', () => {
    dir = mkdtempSync(join(tmpdir(), 'kit-store-'));
    const store = new StateStore(join(dir, 'state'), 10_000);
    let count = 1;

    store.save('queues', () => ({ count }));
    count = 2;
    store.flush();

    expect(JSON.parse(readFileSync(join(dir, 'state', 'queues.json'), 'utf8'))).toEqual({ count: 2 });
    expect(new StateStore(join(dir, 'state')).load('queues')).toEqual({ count: 2 });
  });

  it('writes within the debounce interval without a flush', async () => {
    dir = mkdtempSync(join(tmpdir(), 'kit-store-'));
    const store = new StateStore(dir, 5);

    store.save('agents', () => ['i-1']);
    await new Promise((resolve) => setTimeout(resolve, 50));

    expect(store.load('agents')).toEqual(['i-1']);
  });

  it('loads nothing for a missing or unreadable snapshot', () => {
    dir = mkdtempSync(join(tmpdir(), 'kit-store-'));
    writeFileSync(join(dir, 'broken.json'), '{not json');
    const store = new StateStore(dir);

    expect(store.load('missing')).toBeUndefined();
    expect(store.load('broken')).toBeUndefined();
  });
});
