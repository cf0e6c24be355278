import { createServer, type Server } from 'nice-grpc';
import { Client, type WatchResponse } from '../../src/index.js';
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

/**
 * A fake etcd Watch service: it creates every watch (ids 1, 2, ...) except on keys under
 * `secret`, which it refuses as etcd refuses a key the user may not read.
 */
function fakeWatch() {
  let nextId = 1n;
  return new ScriptedStreams<WatchRequest, DeepPartial<PbWatchResponse>>((request, call) => {
    if (request.requestUnion?.$case !== 'createRequest') return;
    const header = { revision: 10n };
    if (text(request.requestUnion.value.key).startsWith('secret')) {
      call.send({ header, watchId: -1n, created: true, canceled: true, cancelReason: 'etcdserver: permission denied' });
    } else {
      call.send({ header, watchId: nextId++, created: true });
    }
  });
}

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
