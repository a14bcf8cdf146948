import { afterEach, describe, expect, it } from 'vitest';
import { LambdaRegistry } from '../../../local/lambda.js';
import { getS3, resetClients } from '../../../shared/aws/clients.js';
import { FIXTURE } from './sfn-helpers.js';

/** Resolves once `count` callers have arrived, so handlers really run at the same time. */
function barrier(count: number): () => Promise<void> {
  let arrived = 0;
  let open!: () => void;
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return () => {
    arrived += 1;
    if (arrived === count) open();
    return opened;
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

afterEach(() => {
  resetClients();
});

describe('the environment of a local Lambda invocation', () => {
  it('is its own: two concurrent invocations with different environments each see their own values', async () => {
    const lambdas = new LambdaRegistry({ rootDir: FIXTURE, environment: { SHARED_BY_ALL: 'cloud' } });
    const bothStarted = barrier(2);
    const bothWrote = barrier(2);
    const handler = async () => {
      const before = process.env.TRANSFER_ROLE;
      await bothStarted();
      process.env.WRITTEN_BY = process.env.TRANSFER_ROLE;
      await bothWrote();
      return {
        before,
        after: process.env.TRANSFER_ROLE,
        written: process.env.WRITTEN_BY,
        shared: process.env.SHARED_BY_ALL,
        path: process.env.PATH,
      };
    };
    lambdas.register('stage-in', handler, { environment: { TRANSFER_ROLE: 'stage-in' } });
    lambdas.register('export', handler, { environment: { TRANSFER_ROLE: 'export' } });

    const [stageIn, exported] = await Promise.all([
      lambdas.invoke('stage-in', {}),
      lambdas.invoke('export', {}),
    ]);

    expect(stageIn).toEqual({
      before: 'stage-in',
      after: 'stage-in',
      written: 'stage-in',
      shared: 'cloud',
      path: process.env.PATH,
    });
    expect(exported).toEqual({
      before: 'export',
      after: 'export',
      written: 'export',
      shared: 'cloud',
      path: process.env.PATH,
    });
  });

  it('does not change the environment of the process or of later invocations', async () => {
    const lambdas = new LambdaRegistry({ rootDir: FIXTURE });
    lambdas.register(
      'writer',
      async () => {
        process.env.LEFT_BEHIND = 'by the writer';
        delete process.env.HOME;
        return process.env.TRANSFER_ROLE;
      },
      { environment: { TRANSFER_ROLE: 'writer' } },
    );
    lambdas.register('reader', async () => ({
      role: process.env.TRANSFER_ROLE ?? null,
      leftBehind: process.env.LEFT_BEHIND ?? null,
      home: process.env.HOME ?? null,
    }));
    const home = process.env.HOME;

    const role = await lambdas.invoke('writer', {});
    const seen = await lambdas.invoke('reader', {});

    expect(role).toBe('writer');
    expect(seen).toEqual({ role: null, leftBehind: null, home: home ?? null });
    expect(process.env.TRANSFER_ROLE).toBeUndefined();
    expect(process.env.LEFT_BEHIND).toBeUndefined();
    expect(process.env.HOME).toBe(home);
  });

  it('gives each invocation SDK clients built for its own endpoint, even when they overlap', async () => {
    const lambdas = new LambdaRegistry({ rootDir: FIXTURE });
    // Reads the cached client's endpoint, waits (another invocation may start meanwhile), reads again.
    const handler = async () => {
      const first = await getS3().config.endpoint!();
      await sleep(50);
      const second = await getS3().config.endpoint!();
      return [first.port, second.port];
    };
    lambdas.register('one', handler, { environment: { AWS_ENDPOINT_URL: 'http://127.0.0.1:4101' } });
    lambdas.register('two', handler, { environment: { AWS_ENDPOINT_URL: 'http://127.0.0.1:4102' } });

    const [one, two] = await Promise.all([lambdas.invoke('one', {}), lambdas.invoke('two', {})]);

    expect(one).toEqual([4101, 4101]);
    expect(two).toEqual([4102, 4102]);
  });

  it('rebuilds the clients of code outside invocations after its environment changed', async () => {
    const lambdas = new LambdaRegistry({ rootDir: FIXTURE });
    lambdas.register('port', async () => (await getS3().config.endpoint!()).port, {
      environment: { AWS_ENDPOINT_URL: 'http://127.0.0.1:4201' },
    });
    const before = process.env.AWS_ENDPOINT_URL;

    const first = await lambdas.invoke('port', {});
    process.env.AWS_ENDPOINT_URL = 'http://127.0.0.1:4202';
    resetClients();
    const outside = (await getS3().config.endpoint!()).port;
    const second = await lambdas.invoke('port', {});
    if (before === undefined) delete process.env.AWS_ENDPOINT_URL;
    else process.env.AWS_ENDPOINT_URL = before;

    expect([first, outside, second]).toEqual([4201, 4202, 4201]);
  });
});
