import { createServer, type Server } from 'nice-grpc';
import { Client, ConfigError, type WatchResponse } from '../../src/index.js';
import { watchStreamsOf } from '../../src/watch.js';
import { type DeepPartial, type WatchRequest, type WatchResponse as PbWatchResponse, WatchDefinition } from '../../src/proto.js';
import { type ScriptedCall, ScriptedStreams } from '../harness/scripted-stream.js';
import { waitFor } from '../harness/wait-for.js';

// The watch watchdog against an in-process Watch server whose answers the test scripts:
// a stream that answers its probes is kept; one that does not is given up, and its watches
// resume on the next stream without losing or repeating an event.
jest.setTimeout(20_000);

type Call = ScriptedCall<WatchRequest, DeepPartial<PbWatchResponse>>;

const quietMs = 100;
const answerMs = 400;
const put = (key: string, revision: bigint) => ({ type: 0, kv: { key: Buffer.from(key), value: Buffer.from(String(revision)), modRevision: revision } });

const probesOn = (call: Call) => call.requests.filter((r) => r.requestUnion?.$case === 'progressRequest').length;
const startRevisions = (call: Call) =>
  call.requests.flatMap((r) => (r.requestUnion?.$case === 'createRequest' ? [r.requestUnion.value.startRevision] : []));

/** How the fake etcd behaves on each call (1-based); set by each test. */
let behaviour: (call: number) => { creates: boolean; probes: boolean; progressRevision?: bigint };
let server: Server;
let client: Client;
let watch: ScriptedStreams<WatchRequest, DeepPartial<PbWatchResponse>>;

beforeEach(async () => {
  behaviour = () => ({ creates: true, probes: true });
  let nextId = 1n;
  watch = new ScriptedStreams((request, call) => {
    const { creates, probes, progressRevision = 10n } = behaviour(watch.calls.indexOf(call) + 1);
    if (request.requestUnion?.$case === 'createRequest' && creates) {
      call.send({ header: { revision: 10n }, watchId: nextId++, created: true });
    }
    if (request.requestUnion?.$case === 'progressRequest' && probes) {
      call.send({ header: { revision: progressRevision }, watchId: -1n });
    }
  });
  server = createServer();
  server.add(WatchDefinition, { watch: watch.method });
  const port = await server.listen('127.0.0.1:0');
  client = new Client({
    endpoints: [`127.0.0.1:${port}`],
    retry: { baseDelay: 5, maxDelay: 20 },
    watchProgressInterval: quietMs,
    watchProgressTimeout: answerMs,
  });
});

afterEach(async () => {
  await client.close();
  await server.forceShutdown();
});

describe('the watch watchdog', () => {
  it('probes a quiet stream and keeps it while etcd answers, delivering the answers to no watcher', async () => {
    const delivered: WatchResponse[] = [];
    const watcher = client.watch('k').on('response', (r) => delivered.push(r));
    await watcher.created;
    const call = await watch.call(1);
    await waitFor('three probes answered', () => probesOn(call) >= 3, 10_000);
    expect(watch.calls).toHaveLength(1);
    expect(watchStreamsOf(client).streamsAbandoned).toBe(0);
    expect(delivered).toEqual([]);
    await watcher.cancel();
  });

  it('gives up a stream that leaves its probes unanswered and resumes every watch after its last event, once', async () => {
    behaviour = (n) => ({ creates: true, probes: n > 1 });
    const watcher = client.watch('k');
    await watcher.created;
    const first = await watch.call(1);
    first.send({ header: { revision: 11n }, watchId: 1n, events: [put('k', 11n)] });
    const iterator = watcher[Symbol.asyncIterator]();
    expect((await iterator.next()).value.events.map((e: { kv: { modRevision: bigint } }) => e.kv.modRevision)).toEqual([11n]);
    const second = await watch.call(2);
    await second.received(1);
    expect(probesOn(first)).toBeGreaterThanOrEqual(1);
    expect(startRevisions(second)).toEqual([12n]);
    expect(watchStreamsOf(client).streamsAbandoned).toBe(1);
    // The new member replays revision 11 (it cannot know what was delivered) and goes on.
    second.send({ header: { revision: 12n }, watchId: 2n, events: [put('k', 11n), put('k', 12n)] });
    second.send({ header: { revision: 13n }, watchId: 2n, events: [put('k', 13n)] });
    const seen: bigint[] = [];
    while (seen.length < 2) seen.push(...(await iterator.next()).value.events.map((e: { kv: { modRevision: bigint } }) => e.kv.modRevision));
    expect(seen).toEqual([12n, 13n]);
    expect(watcher.done).toBe(false);
    await watcher.cancel();
  });

  it('gives up a stream whose member does not answer a create, and creates the watch on the next one', async () => {
    behaviour = (n) => ({ creates: n > 1, probes: true });
    const watcher = client.watch('k', { startRevision: 5n });
    await watcher.created;
    expect(watch.calls.length).toBeGreaterThanOrEqual(2);
    expect(probesOn(watch.calls[0])).toBe(0);
    expect(startRevisions(watch.calls[1])).toEqual([5n]);
    await watcher.cancel();
  });

  it('delivers the next stream-wide progress answer to every watcher after watchProgress(), without moving where they resume', async () => {
    behaviour = () => ({ creates: true, probes: true, progressRevision: 50n });
    const plain: WatchResponse[] = [];
    const notified: WatchResponse[] = [];
    const a = client.watch('a').on('response', (r) => plain.push(r));
    const b = client.watch('b', { progressNotify: true }).on('response', (r) => notified.push(r));
    await Promise.all([a.created, b.created]);
    const call = await watch.call(1);
    // Probe answers (revision 50) reach neither watcher, not even the one with progressNotify.
    await waitFor('two probes answered', () => probesOn(call) >= 2, 10_000);
    expect([plain, notified]).toEqual([[], []]);
    client.watchProgress();
    await waitFor('the requested notice delivered', () => plain.length === 1 && notified.length === 1, 10_000);
    for (const response of [plain[0], notified[0]]) {
      expect(response).toMatchObject({ progressNotify: true, events: [] });
      expect(response.header.revision).toBe(50n);
    }
    // One request, one notice: the probe answers after it reach no one again.
    const probes = probesOn(call);
    await waitFor('another probe answered', () => probesOn(call) > probes + 1, 10_000);
    expect([plain.length, notified.length]).toEqual([1, 1]);
    // Created at revision 10, nothing delivered since: they resume at 11, not 51.
    call.fail();
    const second = await watch.call(2);
    await second.received(2);
    expect(startRevisions(second)).toEqual([11n, 11n]);
    await Promise.all([a.cancel(), b.cancel()]);
  });

  it('moves a watch\'s resume point by its own progress notice (etcd sends it after the watch\'s events)', async () => {
    const watcher = client.watch('k', { progressNotify: true });
    await watcher.created;
    const call = await watch.call(1);
    call.send({ header: { revision: 30n }, watchId: 1n });
    const { value } = await watcher[Symbol.asyncIterator]().next();
    expect(value).toMatchObject({ progressNotify: true, events: [] });
    call.fail();
    const second = await watch.call(2);
    await second.received(1);
    expect(startRevisions(second)).toEqual([31n]);
    await watcher.cancel();
  });
});

describe('the watchdog settings', () => {
  it.each([
    ['watchProgressInterval', -1],
    ['watchProgressTimeout', 0],
    ['leaseAnswerTimeout', Number.NaN],
  ])('refuses %s: %p with a ConfigError', (name, value) => {
    expect(() => new Client({ endpoints: ['127.0.0.1:2379'], [name]: value })).toThrow(ConfigError);
  });
});
