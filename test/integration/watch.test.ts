import { setTimeout as sleep } from 'node:timers/promises';
import { Client, type WatchEvent, type WatchResponse, type Watcher } from '../../src/index.js';
import { ClientClosedError, CompactedError } from '../../src/errors.js';
import { WatchOverflowError, watchStreamsOf } from '../../src/watch.js';
import { type EtcdServer, TcpProxy, startEtcd, useEtcd } from '../harness/index.js';

const suite = useEtcd();

let n = 0;
const ns = () => `watch-test/${++n}/`;

/** Collects events from a watcher until `count` arrived. */
async function collect(watcher: Watcher, count: number): Promise<WatchEvent[]> {
  const events: WatchEvent[] = [];
  for await (const response of watcher) {
    events.push(...response.events);
    if (events.length >= count) break;
  }
  return events;
}

/** Puts `count` keys under `prefix`, `concurrency` at a time; values are the indexes. */
async function putMany(c: Client, prefix: string, count: number, concurrency = 64, from = 0): Promise<void> {
  let next = from;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < from + count) {
        const i = next++;
        await c.put(`${prefix}${String(i).padStart(6, '0')}`, String(i), { timeout: 30_000 });
      }
    }),
  );
}

/** Every event once, in revision order: strictly increasing mod revisions, no gaps in the set. */
function expectExactlyOnceInOrder(events: WatchEvent[], count: number): void {
  expect(events).toHaveLength(count);
  for (let i = 1; i < events.length; i++) expect(events[i].kv.modRevision).toBeGreaterThan(events[i - 1].kv.modRevision);
  expect(new Set(events.map((e) => e.kv.value.toString())).size).toBe(count);
}

const watchStreamsStarted = () => suite.etcd.metric('grpc_server_started_total', { grpc_method: 'Watch' });

describe('watching keys', () => {
  it('delivers puts and deletes of a key with bigint revisions', async () => {
    const p = ns();
    const watcher = suite.client.watch(`${p}k`);
    await watcher.created;
    const put = await suite.client.put(`${p}k`, 'v1');
    await suite.client.delete(`${p}k`);
    const [a, b] = await collect(watcher, 2);
    expect(a.type).toBe('put');
    expect(a.kv.key.toString()).toBe(`${p}k`);
    expect(a.kv.value.toString()).toBe('v1');
    expect(a.kv.modRevision).toBe(put.header.revision);
    expect(b.type).toBe('delete');
    expect(b.kv.modRevision).toBe(put.header.revision + 1n);
    await watcher.cancel();
    expect(watcher.done).toBe(true);
  });

  it('watches a prefix from a past revision', async () => {
    const p = ns();
    const first = await suite.client.put(`${p}a`, '1');
    await suite.client.put(`${p}b`, '2');
    const watcher = suite.client.watch(p, { prefix: true, startRevision: first.header.revision });
    const events = await collect(watcher, 2);
    expect(events.map((e) => e.kv.key.toString())).toEqual([`${p}a`, `${p}b`]);
    await watcher.cancel();
  });

  it('attaches the previous value with prevKv', async () => {
    const p = ns();
    await suite.client.put(`${p}k`, 'old');
    const watcher = suite.client.watch(`${p}k`, { prevKv: true });
    await watcher.created;
    await suite.client.put(`${p}k`, 'new');
    const [event] = await collect(watcher, 1);
    expect(event.prevKv?.value.toString()).toBe('old');
    await watcher.cancel();
  });

  it('leaves out puts or deletes with filters', async () => {
    const p = ns();
    const deletesOnly = suite.client.watch(p, { prefix: true, filters: ['noPut'] });
    const putsOnly = suite.client.watch(p, { prefix: true, filters: ['noDelete'] });
    await Promise.all([deletesOnly.created, putsOnly.created]);
    await suite.client.put(`${p}k`, 'v');
    await suite.client.delete(`${p}k`);
    await suite.client.put(`${p}k2`, 'v');
    expect((await collect(putsOnly, 2)).map((e) => e.type)).toEqual(['put', 'put']);
    expect((await collect(deletesOnly, 1)).map((e) => e.type)).toEqual(['delete']);
    await Promise.all([deletesOnly.cancel(), putsOnly.cancel()]);
  });

  it('delivers events through callbacks', async () => {
    const p = ns();
    const watcher = suite.client.watch(p, { prefix: true });
    const seen: string[] = [];
    const done = new Promise<void>((resolve) => {
      watcher.on('put', (e) => seen.push(`put ${e.kv.key}`));
      watcher.on('delete', (e) => {
        seen.push(`delete ${e.kv.key}`);
        resolve();
      });
    });
    await watcher.created;
    await suite.client.put(`${p}x`, '1');
    await suite.client.delete(`${p}x`);
    await done;
    expect(seen).toEqual([`put ${p}x`, `delete ${p}x`]);
    await watcher.cancel();
  });

  it('delivers the creation notice with createdNotify', async () => {
    const watcher = suite.client.watch(`${ns()}k`, { createdNotify: true });
    const first = await watcher[Symbol.asyncIterator]().next();
    expect(first.value).toMatchObject({ created: true, events: [] });
    await watcher.cancel();
  });

  it('delivers a progress notice on request', async () => {
    const p = ns();
    const watcher = suite.client.watch(`${p}k`);
    await watcher.created;
    const put = await suite.client.put(`${p}other`, 'v');
    suite.client.watchProgress();
    const { value } = await watcher[Symbol.asyncIterator]().next();
    expect(value?.progressNotify).toBe(true);
    expect(value?.header.revision).toBeGreaterThanOrEqual(put.header.revision);
    await watcher.cancel();
  });

  it('observes 10,000 puts under a prefix in order, none missing, none repeated', async () => {
    const p = ns();
    const watcher = suite.client.watch(p, { prefix: true });
    await watcher.created;
    const events = collect(watcher, 10_000);
    await putMany(suite.client, p, 10_000);
    expectExactlyOnceInOrder(await events, 10_000);
    await watcher.cancel();
  }, 60_000);
});

describe('resuming', () => {
  it('resumes after a forced stream reset without losing or repeating events', async () => {
    const p = ns();
    const watcher = suite.client.watch(p, { prefix: true });
    await watcher.created;
    const streamsBefore = await watchStreamsStarted();
    const events = collect(watcher, 10_000);
    const writing = putMany(suite.client, p, 10_000);
    for (let i = 0; i < 5; i++) {
      await sleep(100);
      const opened = await watchStreamsStarted();
      watchStreamsOf(suite.client).reset();
      // The next reset breaks the reopened stream, not the pause before it.
      while ((await watchStreamsStarted()) === opened) await sleep(10);
    }
    await writing;
    expectExactlyOnceInOrder(await events, 10_000);
    // Each reset made the client open a new stream and re-create the watch on it.
    expect((await watchStreamsStarted()) - streamsBefore).toBe(5);
    await watcher.cancel();
  }, 60_000);

  it('resumes across an etcd restart on the same data dir', async () => {
    const p = ns();
    const writer = new Client({ endpoints: [suite.etcd.endpoint], retry: { maxAttempts: 1_000, baseDelay: 50, maxDelay: 200 } });
    const watcher = suite.client.watch(p, { prefix: true });
    await watcher.created;
    const events = collect(watcher, 10_000);
    await putMany(writer, p, 5_000);
    // The watcher may still be catching up when etcd goes down; the writer's calls after the
    // restart retry until it is back.
    await suite.etcd.restart();
    await putMany(writer, p, 5_000, 64, 5_000);
    expectExactlyOnceInOrder(await events, 10_000);
    await watcher.cancel();
    await writer.close();
  }, 60_000);
});

describe('streams', () => {
  it('shares one gRPC stream among 100 watchers', async () => {
    const p = ns();
    const before = await watchStreamsStarted();
    const own = new Client({ endpoints: [suite.etcd.endpoint] });
    const watchers = Array.from({ length: 100 }, (_, i) => own.watch(`${p}${i}`));
    await Promise.all(watchers.map((w) => w.created));
    expect((await watchStreamsStarted()) - before).toBe(1);
    await own.put(`${p}42`, 'v');
    const [event] = await collect(watchers[42], 1);
    expect(event.kv.key.toString()).toBe(`${p}42`);
    await own.close();
    for (const w of watchers) expect(await w.ended).toBeInstanceOf(ClientClosedError);
  });

  it('ends every watcher with ClientClosedError when the client closes', async () => {
    const own = new Client({ endpoints: [suite.etcd.endpoint] });
    const watcher = own.watch(`${ns()}k`);
    await watcher.created;
    await own.close();
    await expect(collect(watcher, 1)).rejects.toBeInstanceOf(ClientClosedError);
    expect(own.watch('k').done).toBe(true);
  });
});

describe('ending', () => {
  it('ends a watch started at a compacted revision with CompactedError and the compact revision', async () => {
    const p = ns();
    const old = await suite.client.put(`${p}k`, '1');
    const latest = await suite.client.put(`${p}k`, '2');
    await suite.client.compact(latest.header.revision);
    const watcher = suite.client.watch(`${p}k`, { startRevision: old.header.revision });
    const error = await collect(watcher, 1).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CompactedError);
    expect((error as CompactedError).compactRevision).toBe(latest.header.revision);
  });

  it('cancels when its signal aborts', async () => {
    const controller = new AbortController();
    const watcher = suite.client.watch(`${ns()}k`, { signal: controller.signal });
    await watcher.created;
    controller.abort();
    expect(await watcher.ended).toBeUndefined();
    expect(await collect(watcher, 1)).toEqual([]);
  });

  it('ends a consumer that falls behind by more than maxBufferedEvents, and says where to resume', async () => {
    const p = ns();
    const watcher = suite.client.watch(p, { prefix: true, maxBufferedEvents: 100 });
    await watcher.created;
    const first = await suite.client.put(`${p}0`, 'v');
    await putMany(suite.client, p, 500, 8, 1);
    const error = await watcher.ended;
    expect(error).toBeInstanceOf(WatchOverflowError);
    const next = (error as WatchOverflowError).nextRevision;
    expect(next).toBeGreaterThan(first.header.revision);
    // Everything buffered is still delivered, and resuming from nextRevision loses nothing.
    const buffered: WatchEvent[] = [];
    await expect(
      (async () => {
        for await (const r of watcher) buffered.push(...r.events);
      })(),
    ).rejects.toBeInstanceOf(WatchOverflowError);
    expect(buffered.length).toBeLessThanOrEqual(100);
    expect(buffered[buffered.length - 1].kv.modRevision + 1n).toBe(next);
    const resumed = suite.client.watch(p, { prefix: true, startRevision: next });
    const rest = await collect(resumed, 501 - buffered.length);
    expect(rest[0].kv.modRevision).toBe(next);
    await resumed.cancel();
  });
});

describe('namespaces', () => {
  it('watches inside the prefix and strips it from event keys', async () => {
    const root = ns();
    const app = suite.client.namespace(`${root}app/`);
    const watcher = app.watch('', { prefix: true, prevKv: true });
    await watcher.created;
    await suite.client.put(`${root}outside`, 'x');
    await app.put('k', '1');
    await app.put('k', '2');
    const events = await collect(watcher, 2);
    expect(events.map((e) => e.kv.key.toString())).toEqual(['k', 'k']);
    expect(events[1].prevKv?.key.toString()).toBe('k');
    await watcher.cancel();
  });
});

describe('progress notifications', () => {
  it('delivers periodic progress notices to a watcher with progressNotify while it is idle', async () => {
    // etcd sends them every 10 minutes by default; the experimental flag makes that 300 ms.
    const fast = await startEtcd({ args: ['--experimental-watch-progress-notify-interval=300ms'] });
    const own = new Client({ endpoints: [fast.endpoint] });
    try {
      const put = await own.put('progress/other', 'v');
      const watcher = own.watch('progress/k', { progressNotify: true });
      const { value } = await watcher[Symbol.asyncIterator]().next();
      expect(value).toMatchObject({ progressNotify: true, events: [] });
      expect((value as WatchResponse).header.revision).toBeGreaterThanOrEqual(put.header.revision);
      await watcher.cancel();
    } finally {
      await own.close();
      await fast.destroy();
    }
  });
});

describe('fragments', () => {
  it('joins fragmented responses before delivering them', async () => {
    // etcd fragments a response above --max-request-bytes + 512 KiB of gRPC overhead; with a
    // 64 KiB limit, 20 events of 60 KB (1.2 MB, sent as one batch when watched from the past) do.
    const small = await startEtcd({ args: ['--max-request-bytes=65536'] });
    const own = new Client({ endpoints: [small.endpoint] });
    try {
      const p = ns();
      const value = Buffer.alloc(60_000, 'x');
      const values = Array.from({ length: 20 }, (_, i) => Buffer.concat([value, Buffer.from(String(i))]));
      const start = await own.put(`${p}0`, values[0]);
      for (let i = 1; i < values.length; i++) await own.put(`${p}${i}`, values[i]);
      const watcher = own.watch(p, { prefix: true, startRevision: start.header.revision, fragment: true });
      const batches: number[] = [];
      const events: WatchEvent[] = [];
      for await (const r of watcher) {
        batches.push(r.events.length);
        events.push(...r.events);
        if (events.length >= 20) break;
      }
      expect(events.map((e) => e.kv.value)).toEqual(values);
      expect(batches).toEqual([20]);
      expect(watchStreamsOf(own).fragmentsReceived).toBeGreaterThan(0);
      await watcher.cancel();
    } finally {
      await own.close();
      await small.destroy();
    }
  });
});

describe('a refused watch cancelled while etcd creates it', () => {
  // A client with a fixed token cannot refresh it, so a refused create ends that watch; the
  // connection is cut by a proxy (etcd stays up) so the token stays valid across the reconnect.
  let secured: EtcdServer;
  let admin: Client;

  beforeAll(async () => {
    secured = await startEtcd();
    await using setup = new Client({ endpoints: [secured.endpoint] });
    await setup.auth.userAdd('root', 'root-pw');
    await setup.auth.roleAdd('root');
    await setup.auth.userGrantRole('root', 'root');
    await setup.auth.roleAdd('live-reader');
    await setup.auth.roleGrantPermission('live-reader', 'read', 'live/', { prefix: true });
    await setup.auth.userAdd('reader', 'reader-pw');
    await setup.auth.userGrantRole('reader', 'live-reader');
    await setup.auth.enable();
    admin = new Client({ endpoints: [secured.endpoint], auth: { username: 'root', password: 'root-pw' } });
  });

  afterAll(async () => {
    await admin?.close();
    await secured?.destroy();
  });

  it('does not cost another watcher its resume after the connection drops', async () => {
    const { token } = await admin.auth.authenticate('reader', 'reader-pw');
    const proxy = await TcpProxy.start(secured.endpoint);
    const reader = new Client({ endpoints: [proxy.endpoint], auth: { token } });
    try {
      const live = reader.watch('live/', { prefix: true });
      await live.created;
      const refused = reader.watch('secret/k');
      await refused.cancel();
      expect(refused.done).toBe(true);
      proxy.drop();
      await admin.put('live/after-drop', 'v');
      const waiting = new AbortController();
      const timeout = sleep(10_000, 'timed out' as const, { signal: waiting.signal }).catch(() => 'cancelled' as const);
      const result = await Promise.race([collect(live, 1), timeout, live.ended.then((error) => ({ ended: error }))]);
      waiting.abort();
      expect(result).not.toBe('timed out');
      expect((result as WatchEvent[]).map((e) => e.kv.key.toString())).toEqual(['live/after-drop']);
      await live.cancel();
    } finally {
      await reader.close();
      await proxy.close();
    }
  }, 30_000);
});
