import { createSocket } from 'node:dgram';
import { Client, ClientClosedError, DeadlineExceededError, UnavailableError } from '../../src/index.js';
import { type EtcdCluster, TestDnsServer, startCluster } from '../harness/index.js';
import { waitFor } from '../harness/wait-for.js';

jest.setTimeout(60_000);

let cluster: EtcdCluster;
let dns: TestDnsServer;

beforeAll(async () => {
  [cluster, dns] = await Promise.all([startCluster(3), TestDnsServer.start()]);
  // The SRV targets are host names: the same DNS server gives their addresses.
  for (let i = 0; i < 3; i++) dns.setA(`m${i}.etcd.test`, '127.0.0.1');
});

afterAll(async () => {
  await cluster?.destroy();
  await dns?.close();
});

const port = (i: number) => cluster.members[i]!.clientPort;

it('finds the members in _etcd-client._tcp records, in priority order, and calls through them', async () => {
  dns.setSrv('_etcd-client._tcp.etcd.test', [
    { target: 'm2.etcd.test', port: port(2), priority: 30 },
    { target: 'm0.etcd.test', port: port(0), priority: 10 },
    { target: 'm1.etcd.test', port: port(1), priority: 20 },
  ]);
  await using client = new Client({ discoverySrv: 'etcd.test', dnsServers: [dns.address] });
  // Made before DNS answered: the watch waits for the discovery, then for etcd to create it.
  const watcher = client.watch('srv/k');
  await watcher.created;
  await client.put('srv/k', 'v');
  expect((await client.get('srv/k')).kvs[0]?.value.toString()).toBe('v');
  expect(client.endpoints).toEqual([`m0.etcd.test:${port(0)}`, `m1.etcd.test:${port(1)}`, `m2.etcd.test:${port(2)}`]);
  const { value } = await watcher[Symbol.asyncIterator]().next();
  expect(value?.events[0]?.kv.value.toString()).toBe('v');
  await watcher.cancel();
});

it('looks up _etcd-client-<name>._tcp with discoverySrvName', async () => {
  dns.setSrv('_etcd-client-foo._tcp.named.test', [{ target: 'm1.etcd.test', port: port(1) }]);
  await using client = new Client({ discoverySrv: 'named.test', discoverySrvName: 'foo', dnsServers: [dns.address] });
  await client.put('srv/named', 'v');
  expect(client.endpoints).toEqual([`m1.etcd.test:${port(1)}`]);
  expect(dns.queries('_etcd-client-ssl-foo._tcp.named.test')).toBeGreaterThan(0);
});

it('fails with a typed error while DNS has no records, and works once they appear', async () => {
  await using client = new Client({ discoverySrv: 'late.test', dnsServers: [dns.address], discoverySrvInterval: 100 });
  const error = await client.get('srv/k').catch((e: unknown) => e);
  expect(error).toBeInstanceOf(UnavailableError);
  expect(error).toMatchObject({ reason: 'SrvDiscoveryFailed', message: expect.stringMatching(/no SRV records for _etcd-client-ssl._tcp.late.test or _etcd-client._tcp.late.test/) });
  dns.setSrv('_etcd-client._tcp.late.test', [{ target: 'm2.etcd.test', port: port(2) }]);
  await waitFor('a get once the records exist', async () => (await client.get('srv/k').then(() => true, () => false)));
  expect(client.endpoints).toEqual([`m2.etcd.test:${port(2)}`]);
});

it('bounds the wait for a DNS server that never answers by the call timeout, and close() ends it', async () => {
  const silent = createSocket('udp4');
  await new Promise<void>((resolve) => silent.bind(0, '127.0.0.1', () => resolve()));
  try {
    const client = new Client({ discoverySrv: 'silent.test', dnsServers: [`127.0.0.1:${silent.address().port}`], timeout: 500 });
    await expect(client.get('srv/k')).rejects.toBeInstanceOf(DeadlineExceededError);
    const pending = client.get('srv/k', { timeout: 30_000 }).catch((e: unknown) => e);
    await client.close();
    expect(await pending).toBeInstanceOf(ClientClosedError);
  } finally {
    silent.close();
  }
});

it('looks the records up again: follows them to other members, and keeps working when the old one stops', async () => {
  dns.setSrv('_etcd-client._tcp.moving.test', [{ target: 'm0.etcd.test', port: port(0) }]);
  await using client = new Client({ discoverySrv: 'moving.test', dnsServers: [dns.address], discoverySrvInterval: 100, timeout: 5_000 });
  await client.put('srv/moving', '1');
  expect(client.endpoints).toEqual([`m0.etcd.test:${port(0)}`]);
  const asked = dns.queries('_etcd-client._tcp.moving.test');

  dns.setSrv('_etcd-client._tcp.moving.test', [
    { target: 'm1.etcd.test', port: port(1), weight: 1 },
    { target: 'm2.etcd.test', port: port(2), weight: 1 },
  ]);
  await waitFor('the client to take the new records', () => client.endpoints.length === 2);
  expect([...client.endpoints].sort()).toEqual([`m1.etcd.test:${port(1)}`, `m2.etcd.test:${port(2)}`]);
  expect(dns.queries('_etcd-client._tcp.moving.test')).toBeGreaterThan(asked);

  await cluster.members[0]!.stop();
  try {
    await client.put('srv/moving', '2');
    expect((await client.get('srv/moving')).kvs[0]?.value.toString()).toBe('2');
  } finally {
    await cluster.members[0]!.start();
  }
});
