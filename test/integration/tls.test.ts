import { readFile, rm } from 'node:fs/promises';
import { Client } from '../../src/index.js';
import { ConfigError, DeadlineExceededError } from '../../src/errors.js';
import { type EtcdServer, type TestCerts, makeCerts, startEtcd } from '../harness/index.js';

let certs: TestCerts;
let etcd: EtcdServer;

beforeAll(async () => {
  certs = await makeCerts();
  etcd = await startEtcd({ tls: { certFile: certs.serverCert, keyFile: certs.serverKey, caFile: certs.ca, clientCertAuth: true } });
});

afterAll(async () => {
  await etcd?.destroy();
  if (certs) await rm(certs.dir, { recursive: true, force: true });
});

it('connects over TLS with a client certificate given as file paths', async () => {
  await using client = new Client({ endpoints: [`https://${etcd.endpoint}`], tls: { ca: certs.ca, cert: certs.clientCert, key: certs.clientKey } });
  await client.put('tls/k', 'secret');
  expect((await client.get('tls/k')).kvs[0].value.toString()).toBe('secret');
  // etcdctl, over the same TLS, reads what we wrote.
  expect((await etcd.etcdctl(['get', 'tls/k', '--print-value-only'])).stdout).toBe('secret\n');
});

it('accepts the TLS material as Buffers, and bare endpoints with tls set', async () => {
  await using client = new Client({
    endpoints: [etcd.endpoint],
    tls: { ca: await readFile(certs.ca), cert: await readFile(certs.clientCert), key: await readFile(certs.clientKey) },
  });
  const watcher = client.watch('tls/w');
  await watcher.created;
  await client.put('tls/w', 'v');
  const { value } = await watcher[Symbol.asyncIterator]().next();
  expect(value?.events[0]?.kv.value.toString()).toBe('v');
  await watcher.cancel();
});

it('is refused without a client certificate, with the TLS alert in the error', async () => {
  await using client = new Client({ endpoints: [`https://${etcd.endpoint}`], tls: { ca: certs.ca }, timeout: 2_000 });
  const error = await client.get('tls/k').catch((e: unknown) => e);
  expect(error).toBeInstanceOf(DeadlineExceededError);
  // etcd 3.5 (TLS 1.3) says "certificate required", 3.4 (TLS 1.2) "bad certificate".
  expect((error as Error).message).toMatch(/alert (certificate required|bad certificate)/);
});

it('does not trust a server certificate from an unknown CA', async () => {
  await using client = new Client({ endpoints: [`https://${etcd.endpoint}`], timeout: 2_000 });
  const error = await client.put('tls/k', 'v').catch((e: unknown) => e);
  expect(error).toBeInstanceOf(DeadlineExceededError);
  expect((error as Error).message).toMatch(/verify the first certificate|self.signed|unable to get local issuer/);
});

it('rejects TLS config that cannot work before connecting', () => {
  expect(() => new Client({ endpoints: [etcd.endpoint], tls: { cert: certs.clientCert } })).toThrow(ConfigError);
  expect(() => new Client({ endpoints: [etcd.endpoint], tls: { ca: '/nonexistent/ca.pem' } })).toThrow(/cannot read/);
});
