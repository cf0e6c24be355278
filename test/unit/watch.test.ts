import { createServer, type Server, Status } from 'nice-grpc';
import { Client, type WatchResponse } from '../../src/index.js';
import { CompactedError, PermissionDeniedError } from '../../src/errors.js';
import { WatchOverflowError } from '../../src/watch.js';
import { type DeepPartial, type WatchRequest, type WatchResponse as PbWatchResponse, WatchDefinition } from '../../src/proto.js';
import { type ScriptedCall, ScriptedStreams } from '../harness/scripted-stream.js';

type Call = ScriptedCall<WatchRequest, DeepPartial<PbWatchResponse>>;

/** Rejects with `message` unless `promise` settles within `ms`. */
async function within<T>(ms: number, promise: Promise<T>, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([promise, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(message)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

const text = (bytes: Uint8Array) => Buffer.from(bytes).toString();

/** The keys of the create requests received on a call, in order. */
const createdKeys = (call: Call) =>
  call.requests.flatMap((r) => (r.requestUnion?.$case === 'createRequest' ? [text(r.requestUnion.value.key)] : []));

/** The ids in the cancel requests received on a call, in order. */
const cancelledIds = (call: Call) =>
  call.requests.flatMap((r) => (r.requestUnion?.$case === 'cancelRequest' ? [r.requestUnion.value.watchId] : []));

/** The start revisions of the create requests received on a call, in order. */
const startRevisions = (call: Call) =>
  call.requests.flatMap((r) => (r.requestUnion?.$case === 'createRequest' ? [r.requestUnion.value.startRevision] : []));

/** A put event on `key` at `revision`, as etcd sends it. */
const put = (key: string, revision: bigint) => ({ type: 0, kv: { key: Buffer.from(key), value: Buffer.from('v'), modRevision: revision } });

/** Lets the client's pending promise callbacks and socket I/O run. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 50));

/**
 * A fake etcd Watch service: it creates every watch (ids 1, 2, ...) at revision 10 except on
 * keys under `secret`, which it refuses as etcd refuses a key the user may not read; keys under
 * `held` get no answer, so that the test answers their create itself.
 */
function fakeWatch() {
  let nextId = 1n;
  return new ScriptedStreams<WatchRequest, DeepPartial<PbWatchResponse>>((request, call) => {
    if (request.requestUnion?.$case !== 'createRequest') return;
    if (text(request.requestUnion.value.key).startsWith('held')) return;
    const header = { revision: 10n };
    if (text(request.requestUnion.value.key).startsWith('secret')) {
      call.send({ header, watchId: -1n, created: true, canceled: true, cancelReason: 'etcdserver: permission denied' });
    } else {
      call.send({ header, watchId: nextId++, created: true });
    }
  });
}

jest.setTimeout(10_000);

let server: Server;
let client: Client;
let watch: ReturnType<typeof fakeWatch>;

beforeEach(async () => {
  watch = fakeWatch();
  server = createServer();
  server.add(WatchDefinition, { watch: watch.method });
  const port = await server.listen('127.0.0.1:0');
  client = new Client({ endpoints: [`127.0.0.1:${port}`], retry: { baseDelay: 5, maxDelay: 20 } });
});

afterEach(async () => {
  await client.close();
  await server.forceShutdown();
});

describe('a watch whose create is refused after it was cancelled', () => {
  it('leaves every other watcher to resume after the stream breaks', async () => {
    const live = client.watch('live/', { prefix: true });
    await live.created;
    const refused = client.watch('secret/k');
    const cancelled = refused.cancel();
    await cancelled;
    expect(refused.done).toBe(true);
    (await watch.call(1)).fail();
    const second = await within(5_000, watch.call(2), 'the client never reopened the stream for the live watcher');
    await within(5_000, second.received(1), 'the live watcher was not re-created');
    expect(createdKeys(second)).toEqual(['live/']);
    second.send({ header: { revision: 11n }, watchId: 2n, events: [{ type: 0, kv: { key: Buffer.from('live/a'), value: Buffer.from('1'), modRevision: 11n } }] });
    const next = await within(5_000, live[Symbol.asyncIterator]().next(), 'the live watcher received nothing after the reconnect');
    expect((next.value as WatchResponse).events.map((e) => e.kv.key.toString())).toEqual(['live/a']);
    await live.cancel();
  });
});

describe('the watch life cycle on one stream', () => {
  it('creates a watch, delivers its events, and sends a cancel for its id', async () => {
    // The stream closes with its last watch (which cancels them all), so keep one more open.
    const other = client.watch('other');
    const watcher = client.watch('k');
    await watcher.created;
    const call = await watch.call(1);
    expect(createdKeys(call)).toEqual(['other', 'k']);
    call.send({ header: { revision: 11n }, watchId: 2n, events: [put('k', 11n)] });
    const { value } = await watcher[Symbol.asyncIterator]().next();
    expect((value as WatchResponse).events.map((e) => e.kv.modRevision)).toEqual([11n]);
    await watcher.cancel();
    await call.received(3);
    expect(cancelledIds(call)).toEqual([2n]);
    expect(watcher.done).toBe(true);
    expect(await watcher.ended).toBeUndefined();
    await other.cancel();
  });

  it('ends a watch whose create etcd refuses with the error etcd gave', async () => {
    const watcher = client.watch('secret/k');
    await expect(watcher.created).rejects.toBeInstanceOf(PermissionDeniedError);
    expect(await watcher.ended).toBeInstanceOf(PermissionDeniedError);
  });

  it('creates watches one at a time, in the order they were asked for', async () => {
    const held = client.watch('held/1');
    const next = client.watch('k');
    const call = await watch.call(1);
    await call.received(1);
    await settle();
    expect(createdKeys(call)).toEqual(['held/1']);
    call.send({ header: { revision: 10n }, watchId: 7n, created: true });
    await next.created;
    expect(createdKeys(call)).toEqual(['held/1', 'k']);
    await held.created;
    await Promise.all([held.cancel(), next.cancel()]);
  });

  it('sends the cancel of a watch cancelled while creating once etcd answers its create', async () => {
    const other = client.watch('other');
    await other.created;
    const watcher = client.watch('held/k');
    const call = await watch.call(1);
    await call.received(2);
    const cancelled = watcher.cancel();
    await settle();
    expect(watcher.done).toBe(false);
    call.send({ header: { revision: 10n }, watchId: 7n, created: true });
    await cancelled;
    await call.received(3);
    expect(cancelledIds(call)).toEqual([7n]);
    await expect(watcher.created).rejects.toThrow(/cancelled/);
    await other.cancel();
  });

  it('ends a watch that etcd cancels for compaction with CompactedError and the compact revision', async () => {
    const watcher = client.watch('k', { startRevision: 2n });
    await watcher.created;
    (await watch.call(1)).send({ header: { revision: 11n }, watchId: 1n, canceled: true, compactRevision: 5n });
    const error = await watcher.ended;
    expect(error).toBeInstanceOf(CompactedError);
    expect((error as CompactedError).compactRevision).toBe(5n);
  });

  it('ends a consumer that falls behind with WatchOverflowError and cancels the watch on the server', async () => {
    const other = client.watch('other');
    const watcher = client.watch('k', { maxBufferedEvents: 2 });
    await watcher.created;
    const call = await watch.call(1);
    for (const revision of [11n, 12n, 13n]) call.send({ header: { revision }, watchId: 2n, events: [put('k', revision)] });
    const error = await watcher.ended;
    expect(error).toBeInstanceOf(WatchOverflowError);
    expect((error as WatchOverflowError).nextRevision).toBe(13n);
    await call.received(3);
    expect(cancelledIds(call)).toEqual([2n]);
    await other.cancel();
    const delivered: bigint[] = [];
    await expect(
      (async () => {
        for await (const r of watcher) delivered.push(...r.events.map((e) => e.kv.modRevision));
      })(),
    ).rejects.toBeInstanceOf(WatchOverflowError);
    expect(delivered).toEqual([11n, 12n]);
  });

  it('ends every watch of a stream that fails for good with that error', async () => {
    const a = client.watch('a');
    const b = client.watch('b');
    await Promise.all([a.created, b.created]);
    (await watch.call(1)).fail(Status.PERMISSION_DENIED, 'etcdserver: permission denied');
    expect(await a.ended).toBeInstanceOf(PermissionDeniedError);
    expect(await b.ended).toBeInstanceOf(PermissionDeniedError);
  });

  it('requires a leader by default, and gives requireLeader: false watches a stream of their own', async () => {
    const plain = client.watch('a', { requireLeader: false });
    const leader = client.watch('b');
    await Promise.all([plain.created, leader.created]);
    expect(watch.calls.map((c) => [createdKeys(c), c.metadata.get('hasleader')])).toEqual(
      expect.arrayContaining([
        [['a'], undefined],
        [['b'], 'true'],
      ]),
    );
    await Promise.all([plain.cancel(), leader.cancel()]);
  });
});

describe('reconnecting', () => {
  it('re-creates active, creating and pending watches from their next revision, in order', async () => {
    const active = client.watch('k');
    await active.created;
    const first = await watch.call(1);
    first.send({ header: { revision: 11n }, watchId: 1n, events: [put('k', 11n)] });
    await active[Symbol.asyncIterator]().next();
    const creating = client.watch('held/c', { startRevision: 5n });
    const pending = client.watch('p');
    await first.received(2);
    first.fail();
    const second = await watch.call(2);
    await second.received(2);
    expect(createdKeys(second)).toEqual(['k', 'held/c']);
    expect(startRevisions(second)).toEqual([12n, 5n]);
    second.send({ header: { revision: 12n }, watchId: 9n, created: true });
    await pending.created;
    expect(createdKeys(second)).toEqual(['k', 'held/c', 'p']);
    await Promise.all([active.cancel(), creating.cancel(), pending.cancel()]);
  });

  it('ends, rather than re-creates, a watch cancelled while creating and one cancelled while pending', async () => {
    const active = client.watch('k');
    await active.created;
    const first = await watch.call(1);
    const cancelling = client.watch('held/c');
    const dropped = client.watch('p');
    void cancelling.cancel();
    void dropped.cancel();
    await first.received(2);
    first.fail();
    expect(await cancelling.ended).toBeUndefined();
    expect(await dropped.ended).toBeUndefined();
    const second = await watch.call(2);
    await second.received(1);
    await settle();
    expect(createdKeys(second)).toEqual(['k']);
    await active.cancel();
  });

  it('does not deliver an event twice after resuming', async () => {
    const watcher = client.watch('k');
    await watcher.created;
    const first = await watch.call(1);
    first.send({ header: { revision: 11n }, watchId: 1n, events: [put('k', 11n)] });
    await watcher[Symbol.asyncIterator]().next();
    first.fail();
    const second = await watch.call(2);
    await second.received(1);
    second.send({ header: { revision: 12n }, watchId: 2n, events: [put('k', 11n), put('k', 12n)] });
    const { value } = await watcher[Symbol.asyncIterator]().next();
    expect((value as WatchResponse).events.map((e) => e.kv.modRevision)).toEqual([12n]);
    await watcher.cancel();
  });
});
