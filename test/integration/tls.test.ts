import { readFile, rm } from 'node:fs/promises';
import { Client } from '../../src/index.js';
import { ConfigError, DeadlineExceededError } from '../../src/errors.js';
import { type EtcdServer, type TestCerts, TestDnsServer, makeCerts, startEtcd } from '../harness/index.js';

let certs: TestCerts;
let etcd: EtcdServer;
let dns: TestDnsServer;

beforeAll(async () => {
  // The server certificate also names etcd.test: the SRV domain of the discovery test below.
  [certs, dns] = await Promise.all([makeCerts(['etcd.test']), TestDnsServer.start()]);
  etcd = await startEtcd({ tls: { certFile: certs.serverCert, keyFile: certs.serverKey, caFile: certs.ca, clientCertAuth: true } });
});

afterAll(async () => {
  await etcd?.destroy();
  await dns?.close();
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

it('skips verification with insecureSkipVerify: an unknown CA and a name the certificate lacks', async () => {
  // No CA given: the server's certificate is from a CA Node does not trust; the name is not in it either.
  await using client = new Client({
    endpoints: [`https://${etcd.endpoint}`],
    tls: { insecureSkipVerify: true, serverName: 'not-in-the-cert.test', cert: certs.clientCert, key: certs.clientKey },
    timeout: 5_000,
  });
  await client.put('tls/skip', 'v');
  expect((await client.get('tls/skip')).kvs[0].value.toString()).toBe('v');
});

it('verifies tls.serverName instead of the endpoint host', async () => {
  const material = { ca: certs.ca, cert: certs.clientCert, key: certs.clientKey };
  await using good = new Client({ endpoints: [`https://${etcd.endpoint}`], tls: { ...material, serverName: 'etcd.test' } });
  await good.put('tls/name', 'v');
  await using bad = new Client({ endpoints: [`https://${etcd.endpoint}`], tls: { ...material, serverName: 'other.test' }, timeout: 2_000 });
  const error = await bad.get('tls/name').catch((e: unknown) => e);
  expect(error).toBeInstanceOf(DeadlineExceededError);
  expect((error as Error).message).toMatch(/other\.test/);
});

it('discovers https endpoints in _etcd-client-ssl._tcp records and verifies the SRV domain', async () => {
  // The target's own name (m0.etcd.test) is not in the certificate: the domain (etcd.test) is what is verified.
  dns.setA('m0.etcd.test', '127.0.0.1');
  dns.setSrv('_etcd-client-ssl._tcp.etcd.test', [{ target: 'm0.etcd.test', port: etcd.clientPort }]);
  await using client = new Client({ discoverySrv: 'etcd.test', dnsServers: [dns.address], tls: { ca: certs.ca, cert: certs.clientCert, key: certs.clientKey } });
  await client.put('tls/srv', 'v');
  expect((await client.get('tls/srv')).kvs[0].value.toString()).toBe('v');
  expect(client.endpoints).toEqual([`m0.etcd.test:${etcd.clientPort}`]);
});
