import { setTimeout as sleep } from 'node:timers/promises';
import { Client, UnavailableError, compare, op } from '../../src/index.js';
import { type EtcdCluster, TcpProxy, startCluster, streamCarrier } from '../harness/index.js';

// A member that stops answering must not stall a watcher or a keep-alive for more than the
// liveness bound (README: Liveness): keepAliveTime + keepAliveTimeout (12 s by default), plus
// a reconnect, within 15 s. The bound is the feature, so the watch tests check it, with twice
// the margin for a loaded machine: with the old defaults (30 s pings) they took 40 s.
jest.setTimeout(120_000);
const livenessBound = 15_000;

let cluster: EtcdCluster;
let proxies: TcpProxy[];

beforeAll(async () => {
  cluster = await startCluster(3);
  proxies = await Promise.all(cluster.members.map((m) => TcpProxy.start(m.endpoint)));
});

afterAll(async () => {
  await Promise.all((proxies ?? []).map((p) => p.close()));
  await cluster?.destroy();
});

afterEach(async () => {
  for (const proxy of proxies) proxy.restore();
  for (const member of cluster.members) await member.resume();
});

const carrier = (method: string, excluded?: number) => streamCarrier(cluster, method, excluded);

/**
 * Writes `key` once: the faulted member may have been the leader, so a write can time out
 * while the others elect a new one; a create-if-missing transaction is safe to repeat.
 */
async function putOnce(client: Client, key: string, value: string): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await client.txn().if(compare.missing(key)).then(op.put(key, value)).commit();
      return;
    } catch (error) {
      if (!(error instanceof UnavailableError) || attempt === 20) throw error;
      await sleep(200);
    }
  }
}

/** A client that writes through the members other than `index`, directly. */
function writerAvoiding(index: number): Client {
  return new Client({ endpoints: cluster.members.filter((_, i) => i !== index).map((m) => m.endpoint) });
}

describe.each([
  ['blackholed', (index: number) => proxies[index].blackhole()],
  ['stopped with SIGSTOP', (index: number) => cluster.members[index].pause()],
])('a watcher whose member is %s', (_name, fault) => {
  it('gets every write made through the other members, once and in order', async () => {
    await using client = new Client({ endpoints: proxies.map((p) => p.endpoint) });
    const prefix = `liveness/watch/${_name}/`;
    const watcher = client.watch(prefix, { prefix: true });
    await watcher.created;
    const index = await carrier('Watch');
    await fault(index);
    const faultAt = performance.now();
    await using writer = writerAvoiding(index);
    for (let i = 0; i < 20; i++) await putOnce(writer, `${prefix}${String(i).padStart(2, '0')}`, String(i));
    const seen: string[] = [];
    for await (const batch of watcher) {
      for (const event of batch.events) seen.push(event.kv.value.toString());
      if (seen.length >= 20) break;
    }
    expect(seen).toEqual(Array.from({ length: 20 }, (_, i) => String(i)));
    expect(performance.now() - faultAt).toBeLessThan(2 * livenessBound);
  });
});

describe.each([
  ['blackholed', (index: number) => proxies[index].blackhole()],
  ['stopped with SIGSTOP', (index: number) => cluster.members[index].pause()],
])('a keep-alive whose member is %s', (_name, fault) => {
  it('moves to another member before the lease expires', async () => {
    await using client = new Client({ endpoints: proxies.map((p) => p.endpoint) });
    const lease = await client.lease.grant(20);
    const keepAlive = lease.keepAlive();
    await keepAlive[Symbol.asyncIterator]().next();
    const index = await carrier('LeaseKeepAlive');
    await fault(index);
    const faultAt = performance.now();
    // The stream opens on another member...
    expect(await carrier('LeaseKeepAlive', index)).not.toBe(index);
    // ...and refreshes the lease there: 16 s after the fault, a lease of TTL 20 that nobody
    // refreshed since would have at most 4 s left; refreshed every TTL/3, it has over 10.
    await sleep(Math.max(0, 16_000 - (performance.now() - faultAt)));
    await using observer = writerAvoiding(index);
    expect((await observer.lease.timeToLive(lease.id)).ttl).toBeGreaterThan(10);
    expect(keepAlive.reason).toBeUndefined();
    keepAlive.stop();
  });
});

it('an unanswered keepalive ping ends the session, and the client connects again', async () => {
  const proxy = proxies[0];
  await using client = new Client({ endpoints: [proxy.endpoint] });
  const watcher = client.watch('liveness/ping');
  await watcher.created;
  const accepted = proxy.accepted;
  proxy.blackhole();
  // Without pings the silent connection would be kept for ever; with them the session is
  // declared dead and a new connection is made (which the proxy accepts, and holds).
  while (proxy.accepted === accepted) await sleep(100);
  proxy.restore();
  await using writer = writerAvoiding(0);
  await writer.put('liveness/ping', 'after');
  const { value } = await watcher[Symbol.asyncIterator]().next();
  expect(value?.events[0].kv.value.toString()).toBe('after');
});
