import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client } from '../../src/index.js';
import { type EtcdCluster, type EtcdServer, TcpProxy, type TestCerts, freePort, makeCerts, startCluster, startEtcd } from '../harness/index.js';

jest.setTimeout(60_000);

let cluster: EtcdCluster;

beforeAll(async () => {
  cluster = await startCluster(3);
});

afterAll(async () => {
  await cluster?.destroy();
});

const ports = () => cluster.members.map((m) => m.clientPort);
const ranges = (member: EtcdServer) => member.metric('grpc_server_started_total', { grpc_method: 'Range' });

it('takes three localhost:PORT endpoints, as a new user writes them', async () => {
  await using client = new Client({ endpoints: ports().map((p) => `localhost:${p}`) });
  await client.put('endpoints/localhost', 'v');
  expect((await client.get('endpoints/localhost')).kvs[0].value.toString()).toBe('v');
  expect(client.endpoints).toEqual(ports().map((p) => `localhost:${p}`));
});

it('balances over a mix of a host name, an http:// URL with an IP address and a unix socket', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'nice-etcd-sock-'));
  const proxy = await TcpProxy.start(cluster.members[2].endpoint, { unixPath: join(dir, 'etcd.sock') });
  try {
    const [p0, p1] = ports();
    await using client = new Client({ endpoints: [`localhost:${p0}`, `http://127.0.0.1:${p1}`, proxy.endpoint] });
    const before = await Promise.all(cluster.members.map(ranges));
    for (let i = 0; i < 30; i++) await client.get('endpoints/mix', { serializable: true });
    const after = await Promise.all(cluster.members.map(ranges));
    // Every member served some of the reads: each form of endpoint is in use.
    for (let i = 0; i < 3; i++) expect(after[i]).toBeGreaterThan(before[i]);
    expect(proxy.connections).toBeGreaterThan(0);
  } finally {
    await proxy.close();
    await rm(dir, { recursive: true, force: true });
  }
});

it('works with a dead endpoint and a name that does not resolve in the list', async () => {
  const dead = await freePort();
  await using client = new Client({ endpoints: [`localhost:${dead}`, 'no-such-member.invalid:2379', `localhost:${ports()[0]}`] });
  for (let i = 0; i < 5; i++) await client.put(`endpoints/dead/${i}`, 'v');
  expect((await client.get('endpoints/dead/', { prefix: true, countOnly: true })).count).toBe(5n);
});

it('fails a call at once, as unsent, when no endpoint resolves', async () => {
  await using client = new Client({ endpoints: ['no-such-member.invalid:2379'], retry: { maxAttempts: 1 } });
  await expect(client.put('endpoints/none', 'v')).rejects.toMatchObject({ code: 14 });
});

describe('over TLS', () => {
  let certs: TestCerts;
  let etcd: EtcdServer;

  beforeAll(async () => {
    certs = await makeCerts();
    etcd = await startEtcd({ tls: { certFile: certs.serverCert, keyFile: certs.serverKey, caFile: certs.ca } });
  });

  afterAll(async () => {
    await etcd?.destroy();
    if (certs) await rm(certs.dir, { recursive: true, force: true });
  });

  it('verifies the host name as written (the certificate names localhost)', async () => {
    await using client = new Client({ endpoints: [`https://localhost:${etcd.clientPort}`], tls: { ca: certs.ca, cert: certs.clientCert, key: certs.clientKey } });
    await client.put('endpoints/tls', 'v');
    expect((await client.get('endpoints/tls')).kvs[0].value.toString()).toBe('v');
  });
});

describe('member sync', () => {
  const memberEndpoints = () => cluster.members.map((m) => m.endpoint).sort();

  it('sync() from one seed endpoint finds every member, and calls go on after the seed is gone', async () => {
    const seed = await TcpProxy.start(cluster.members[0].endpoint);
    await using client = new Client({ endpoints: [seed.endpoint] });
    expect(await client.sync()).toEqual(expect.arrayContaining(memberEndpoints()));
    expect([...client.endpoints].sort()).toEqual(memberEndpoints());
    await seed.close();
    await client.put('sync/after-seed', 'v');
    expect((await client.get('sync/after-seed')).kvs).toHaveLength(1);
  });

  it('skips a learner that has not started (no name, no client URL)', async () => {
    await using client = new Client({ endpoints: cluster.endpoints });
    const peerUrl = `http://127.0.0.1:${await freePort()}`;
    const added = await retryWhileUnhealthy(() => client.cluster.memberAdd([peerUrl], { learner: true }));
    try {
      expect((await client.cluster.memberList()).members).toHaveLength(4);
      expect([...(await client.sync())].sort()).toEqual(memberEndpoints());
    } finally {
      await retryWhileUnhealthy(() => client.cluster.memberRemove(added.member.id));
    }
  });

  it('autoSyncInterval refreshes the endpoints by itself', async () => {
    const seed = await TcpProxy.start(cluster.members[1].endpoint);
    try {
      await using client = new Client({ endpoints: [seed.endpoint], autoSyncInterval: 200 });
      for (let i = 0; i < 200 && client.endpoints.includes(seed.endpoint); i++) await sleep(50);
      expect([...client.endpoints].sort()).toEqual(memberEndpoints());
    } finally {
      await seed.close();
    }
  });
});

/** etcd refuses membership changes until every member has been up a while ("unhealthy cluster"). */
async function retryWhileUnhealthy<T>(fn: () => Promise<T>): Promise<T> {
  for (let i = 0; ; i++) {
    try {
      return await fn();
    } catch (error) {
      if ((error as { reason?: string }).reason !== 'Unhealthy' || i === 100) throw error;
      await sleep(200);
    }
  }
}
