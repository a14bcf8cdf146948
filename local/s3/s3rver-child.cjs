// Runs s3rver in a child process started with `node --openssl-legacy-provider`: s3rver encrypts
// ListObjectsV2 continuation tokens with DES, which OpenSSL 3 only offers through the legacy
// provider, and Node cannot load that provider after start. The parent (local/s3/service.ts)
// forwards unsigned requests here and receives s3rver's object events over IPC.
'use strict';

const S3rver = require('s3rver');

const directory = process.env.S3RVER_DIRECTORY;
const buckets = JSON.parse(process.env.S3RVER_BUCKETS || '[]');

const server = new S3rver({
  address: '127.0.0.1',
  port: 0,
  silent: true,
  directory,
  vhostBuckets: false,
  configureBuckets: buckets.map((name) => ({ name })),
});

server.on('event', (event) => {
  if (process.connected) process.send({ type: 'event', event });
});

server.run().then(
  (address) => {
    process.send({ type: 'ready', port: address.port });
  },
  (error) => {
    process.send({ type: 'error', message: String(error?.stack ?? error) });
    process.exit(1);
  },
);

// The parent owns our life: exit when it goes away or asks us to.
process.on('disconnect', () => process.exit(0));
process.on('message', (message) => {
  if (message && message.type === 'stop') {
    server.close().finally(() => process.exit(0));
  }
});
