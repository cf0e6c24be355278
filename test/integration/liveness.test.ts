import { setTimeout as sleep } from 'node:timers/promises';
import { Client, type ClientConfig, UnavailableError, type WatchEvent, type Watcher, compare, op } from '../../src/index.js';
import { type EtcdCluster, TcpProxy, startCluster, streamCarrier } from '../harness/index.js';
import { waitFor } from '../harness/wait-for.js';

// A member that stops answering without closing its connections (a blackholed connection, a
// process stopped with SIGSTOP) must not stall a watcher or a keep-alive for more than the
// liveness bound (README: Liveness). The tests check that nothing is lost (every event once
// and in order, the lease alive) and show how long the stall was; they do not time it.
jest.setTimeout(120_000);

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

const faults: Array<[string, (index: number) => unknown]> = [
  ['blackholed', (index) => proxies[index].blackhole()],
  ['stopped with SIGSTOP', (index) => cluster.members[index].pause()],
];

/** Prints how long a fault stalled a stream, next to the bound the README states. */
function show(what: string, stalledMs: number): void {
  console.log(`${what}: ${(stalledMs / 1000).toFixed(1)} s (README: Liveness)`);
}

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

/** A client that talks to the members other than `index`, directly. */
function clientAvoiding(index: number): Client {
  return new Client({ endpoints: cluster.members.filter((_, i) => i !== index).map((m) => m.endpoint) });
}

/** Every event `watcher` delivers, with when it arrived, up to and including a put of `lastKey`. */
async function eventsUntil(watcher: Watcher, lastKey: string): Promise<Array<{ event: WatchEvent; at: number }>> {
  const seen: Array<{ event: WatchEvent; at: number }> = [];
  for await (const batch of watcher) {
    for (const event of batch.events) seen.push({ event, at: performance.now() });
    if (seen.some((s) => s.event.kv.key.toString() === lastKey)) return seen;
  }
  throw new Error(`the watcher ended before ${lastKey}: ${String(watcher.error)}`);
}

describe.each<[string, (index: number) => unknown, Partial<ClientConfig>]>([
  [faults[0][0], faults[0][1], {}],
  [faults[1][0], faults[1][1], {}],
  // Without pings only the watch watchdog can notice the silence.
  [`${faults[0][0]}, with HTTP/2 pings off`, faults[0][1], { keepAliveTime: 0 }],
])('a watcher whose member is %s', (name, fault, config) => {
  it('gets every write made through the other members, once and in order', async () => {
    await using client = new Client({ endpoints: proxies.map((p) => p.endpoint), ...config });
    const prefix = `liveness/watch/${name}/`;
    const watcher = client.watch(prefix, { prefix: true });
    await watcher.created;
    const index = await carrier('Watch');
    await fault(index);
    const faultAt = performance.now();
    const events = eventsUntil(watcher, `${prefix}end`);
    await using writer = clientAvoiding(index);
    await putOnce(writer, `${prefix}00`, '0');
    const firstWrittenAt = performance.now();
    for (let i = 1; i < 20; i++) await putOnce(writer, `${prefix}${String(i).padStart(2, '0')}`, String(i));
    await putOnce(writer, `${prefix}end`, 'end');
    const seen = await events;
    expect(seen.map((s) => s.event.kv.value.toString())).toEqual([...Array.from({ length: 20 }, (_, i) => String(i)), 'end']);
    const revisions = seen.map((s) => s.event.kv.modRevision);
    expect(revisions).toEqual([...revisions].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
    expect(new Set(revisions).size).toBe(revisions.length);
    show(
      `watcher, member ${name}: first event delivered ${((seen[0].at - faultAt) / 1000).toFixed(1)} s after the fault, ${((seen[0].at - firstWrittenAt) / 1000).toFixed(1)} s after it was written; stall`,
      seen[0].at - faultAt,
    );
    expect(await carrier('Watch', index)).not.toBe(index);
  });
});

describe.each(faults)('a keep-alive of a lease with TTL 5 whose member is %s', (name, fault) => {
  it('moves to another member before the lease expires', async () => {
    await using client = new Client({ endpoints: proxies.map((p) => p.endpoint) });
    const lease = await client.lease.grant(5);
    const key = `liveness/lease/${name}`;
    await client.put(key, 'mine', { lease: lease.id });
    const keepAlive = lease.keepAlive();
    const answeredAt: number[] = [];
    const answers = (async () => {
      for await (const _ of keepAlive) answeredAt.push(performance.now());
    })();
    await waitFor('the first keep-alive answer', () => answeredAt.length > 0);
    const index = await carrier('LeaseKeepAlive');
    await fault(index);
    const faultAt = performance.now();
    // The stream opens on another member...
    expect(await carrier('LeaseKeepAlive', index)).not.toBe(index);
    // ...and refreshes the lease there: two TTLs after the fault, a lease that nobody
    // refreshed since would be gone, with its key.
    await sleep(Math.max(0, 10_000 - (performance.now() - faultAt)));
    await using observer = clientAvoiding(index);
    expect((await observer.lease.timeToLive(lease.id)).ttl).toBeGreaterThan(0);
    expect((await observer.get(key)).kvs.map((kv) => kv.value.toString())).toEqual(['mine']);
    expect(keepAlive.reason).toBeUndefined();
    keepAlive.stop();
    await answers;
    const gaps = answeredAt.slice(1).map((at, i) => at - answeredAt[i]);
    show(`keep-alive of a TTL-5 lease, member ${name}: longest wait between two answers`, Math.max(...gaps));
  });
});

it('an unanswered keepalive ping ends the session, and the client connects again', async () => {
  const proxy = proxies[0];
  // The watch watchdog off: only the pings can notice the silent connection.
  await using client = new Client({ endpoints: [proxy.endpoint], watchProgressInterval: 0 });
  const watcher = client.watch('liveness/ping');
  await watcher.created;
  const accepted = proxy.accepted;
  proxy.blackhole();
  // Without pings the silent connection would be kept for ever; with them the session is
  // declared dead and a new connection is made (which the proxy accepts, and holds).
  while (proxy.accepted === accepted) await sleep(100);
  proxy.restore();
  await using writer = clientAvoiding(0);
  await writer.put('liveness/ping', 'after');
  const { value } = await watcher[Symbol.asyncIterator]().next();
  expect(value?.events[0].kv.value.toString()).toBe('after');
});
