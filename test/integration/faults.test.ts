import { setTimeout as sleep } from 'node:timers/promises';
import { Client, EtcdError, type Watcher } from '../../src/index.js';
import { type EtcdCluster, TcpProxy, startCluster, streamCarrier } from '../harness/index.js';

// Faults on a 3-member cluster under load, each asserting that nothing is lost: every
// acknowledged write is there, nothing is there that was not written, a watcher sees every
// revision once and in order, and a lease kept alive throughout is still alive.
jest.setTimeout(180_000);

let cluster: EtcdCluster;

beforeAll(async () => {
  cluster = await startCluster(3);
});

afterAll(async () => {
  await cluster?.destroy();
});

/** Four writers putting unique keys until stopped; what each write's outcome was. */
function startWriters(client: Client, prefix: string) {
  const acknowledged = new Map<string, string>();
  const maybe = new Map<string, string>();
  const failures = new Map<string, number>();
  let running = true;
  const writer = async (w: number) => {
    for (let i = 0; running; i++) {
      const key = `${prefix}w${w}/${String(i).padStart(6, '0')}`;
      const value = `${w}:${i}`;
      try {
        await client.put(key, value, { timeout: 5_000 });
        acknowledged.set(key, value);
      } catch (error) {
        if (!(error instanceof EtcdError)) throw error;
        failures.set(error.reason, (failures.get(error.reason) ?? 0) + 1);
        if (error.outcomeUnknown) maybe.set(key, value);
        await sleep(50);
      }
    }
  };
  const done = Promise.all([0, 1, 2, 3].map(writer));
  return {
    acknowledged,
    maybe,
    failures,
    async stop() {
      running = false;
      await done;
    },
  };
}

/** Collects every event of a watcher; `until` resolves once it has seen `count` events. */
function collect(watcher: Watcher) {
  const events: Array<{ key: string; value: string; revision: bigint }> = [];
  const done = (async () => {
    for await (const batch of watcher) for (const e of batch.events) events.push({ key: e.kv.key.toString(), value: e.kv.value.toString(), revision: e.kv.modRevision });
  })();
  return {
    events,
    async until(count: number) {
      for (let i = 0; i < 600 && events.length < count; i++) await sleep(100);
    },
    done,
  };
}

async function checkNothingLost(client: Client, prefix: string, writers: ReturnType<typeof startWriters>, seen: ReturnType<typeof collect>) {
  const { kvs } = await client.get(prefix, { prefix: true });
  const stored = new Map(kvs.map((kv) => [kv.key.toString(), kv.value.toString()]));
  // Every acknowledged write is there, with its value.
  for (const [key, value] of writers.acknowledged) expect([key, stored.get(key)]).toEqual([key, value]);
  // Nothing is there that was not written (acknowledged, or failed with an unknown outcome).
  for (const [key, value] of stored) expect([key, value]).toEqual([key, writers.acknowledged.get(key) ?? writers.maybe.get(key)]);
  // The watcher saw every stored write, once, in revision order.
  await seen.until(stored.size);
  expect(seen.events).toHaveLength(stored.size);
  const revisions = seen.events.map((e) => e.revision);
  for (let i = 1; i < revisions.length; i++) expect(revisions[i]).toBeGreaterThan(revisions[i - 1]);
  expect(new Map(seen.events.map((e) => [e.key, e.value]))).toEqual(stored);
}

/** Runs `fault` under four writers, a watcher and a kept-alive lease, then checks that nothing was lost. */
async function underLoad(name: string, fault: () => Promise<void>, endpoints = cluster.endpoints) {
  const prefix = `faults/${name}/`;
  await using client = new Client({ endpoints });
  // TTL 20: a lease survives a silent member when 2/3 of its TTL exceed the liveness bound (README: Liveness).
  const lease = await client.lease.grant(20);
  const keepAlive = lease.keepAlive();
  const watcher = client.watch(prefix, { prefix: true });
  await watcher.created;
  const seen = collect(watcher);
  seen.done.catch(() => {}); // awaited at the end; a failed test must not leave it unhandled
  const writers = startWriters(client, prefix);
  try {
    await sleep(1_000);
    await fault();
    await sleep(2_000);
  } finally {
    await writers.stop();
  }
  expect(writers.acknowledged.size).toBeGreaterThan(0);
  await checkNothingLost(client, prefix, writers, seen);
  expect(keepAlive.reason).toBeUndefined();
  expect((await client.lease.timeToLive(lease.id)).ttl).toBeGreaterThan(0);
  keepAlive.stop();
  await watcher.cancel();
  await seen.done;
  return writers;
}

it('loses nothing when the leader is killed and restarted under four writers', async () => {
  await underLoad('kill-leader', async () => {
    const leader = await cluster.leader();
    await leader.kill();
    await sleep(2_000);
    await leader.start();
  });
});

it('loses nothing through a rolling restart of all three members under load', async () => {
  await underLoad('rolling', async () => {
    for (const member of cluster.members) {
      await member.restart();
      await sleep(1_000);
    }
  });
});

it('loses nothing while the member carrying the watch is blackholed, then SIGSTOPed, in turn', async () => {
  const proxies = await Promise.all(cluster.members.map((m) => TcpProxy.start(m.endpoint)));
  try {
    await underLoad(
      'silent-carrier',
      async () => {
        for (const kind of ['blackhole', 'sigstop', 'blackhole', 'sigstop']) {
          const index = await streamCarrier(cluster, 'Watch');
          if (kind === 'blackhole') proxies[index].blackhole();
          else await cluster.members[index].pause();
          // The watch (and the keep-alive, wherever it was) reopen on the other members.
          expect(await streamCarrier(cluster, 'Watch', index)).not.toBe(index);
          await streamCarrier(cluster, 'LeaseKeepAlive', index);
          proxies[index].restore();
          await cluster.members[index].resume();
        }
      },
      proxies.map((p) => p.endpoint),
    );
  } finally {
    for (const member of cluster.members) await member.resume();
    await Promise.all(proxies.map((p) => p.close()));
  }
});
