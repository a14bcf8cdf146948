/**
 * The network of an emulated transfer instance: a TCP proxy in front of the local cloud whose bytes
 * (both directions, all connections together) are paced at the instance type's network baseline,
 * so that the throughput of a transfer, and of N instances side by side (scale-out efficiency), is
 * a property of the instance types and not of this machine. The commands an instance runs get the
 * proxy as `AWS_ENDPOINT_URL`; the proxy forwards bytes unchanged, so SigV4 signatures (which
 * cover the Host header the client sent) still verify.
 *
 * The rate is the type's baseline bandwidth (the price table's EC2 specifications) times the
 * cloud's `instanceNetworkScale`: a test that shrinks its data by the same factor as the clock
 * (`timeScale`) passes that factor, so that a transfer takes the scaled time it would take on AWS;
 * burst credits are not modelled. Unknown instance types are not limited.
 */
import { createConnection, createServer, type Socket } from 'node:net';
import { Transform } from 'node:stream';
import { PRICE_TABLE } from '../../shared/cost/prices.js';

/** Bytes per second of an instance type's network baseline times `scale`; undefined when unknown. */
export function instanceBytesPerSecond(instanceType: string, scale: number): number | undefined {
  const price = PRICE_TABLE.ec2[instanceType];
  return price ? price.baselineGbps * 125e6 * scale : undefined;
}

/** Paces bytes at a fixed rate: each chunk is released when the link would have sent it. */
class Pacer {
  private free = 0;
  constructor(private readonly bytesPerMs: number) {}

  /** Milliseconds to hold a chunk of `bytes` back. */
  delay(bytes: number): number {
    const now = performance.now();
    const start = Math.max(now, this.free);
    this.free = start + bytes / this.bytesPerMs;
    return this.free - now;
  }
}

export interface InstanceLink {
  /** `http://127.0.0.1:<port>`, the endpoint the instance's commands use. */
  url: string;
  close(): Promise<void>;
}

/**
 * Starts a paced proxy to `target` (the local cloud's endpoint).
 * @returns its URL and a close function (which also ends open connections).
 */
export async function startInstanceLink(target: string, bytesPerSecond: number): Promise<InstanceLink> {
  const { hostname, port } = new URL(target);
  const pacer = new Pacer(bytesPerSecond / 1000);
  const paced = () =>
    new Transform({
      transform(chunk: Buffer, _encoding, done) {
        const wait = pacer.delay(chunk.length);
        if (wait < 1) done(null, chunk);
        else setTimeout(() => done(null, chunk), wait);
      },
    });
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = createConnection({ host: hostname, port: Number(port) });
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(paced()).pipe(upstream);
    upstream.pipe(paced()).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const boundPort = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${boundPort}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
