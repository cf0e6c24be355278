import { createServer, ServerError, type Server, Status } from 'nice-grpc';
import { Client } from '../../src/index.js';
import { DeadlineExceededError, LeaseNotFoundError, UnavailableError } from '../../src/errors.js';
import { type DeepPartial, type LeaseKeepAliveRequest, type LeaseKeepAliveResponse, LeaseDefinition } from '../../src/proto.js';
import { ScriptedStreams } from '../harness/scripted-stream.js';

jest.setTimeout(15_000);

type Answer = (request: LeaseKeepAliveRequest) => DeepPartial<LeaseKeepAliveResponse> | 'fail' | undefined;

/** When each request arrived (ms, performance.now()), over every stream. */
let arrivals: number[];
let server: Server;
let client: Client;
let keepAlive: ScriptedStreams<LeaseKeepAliveRequest, DeepPartial<LeaseKeepAliveResponse>>;
/** How the fake etcd answers a keep-alive; set by each test. */
let answer: Answer;

beforeEach(async () => {
  arrivals = [];
  answer = () => undefined;
  keepAlive = new ScriptedStreams((request, call) => {
    arrivals.push(performance.now());
    const response = answer(request);
    if (response === 'fail') call.fail();
    else if (response) call.send(response);
  });
  server = createServer();
  // Only LeaseKeepAlive is scripted; the other Lease RPCs are not used here.
  const unimplemented = () => {
    throw new ServerError(Status.UNIMPLEMENTED, 'not scripted');
  };
  const methods = Object.fromEntries(Object.keys(LeaseDefinition.methods).map((name) => [name, unimplemented]));
  server.add(LeaseDefinition, { ...methods, leaseKeepAlive: keepAlive.method } as never);
  const port = await server.listen('127.0.0.1:0');
  client = new Client({ endpoints: [`127.0.0.1:${port}`], retry: { baseDelay: 20, maxDelay: 100 } });
});

afterEach(async () => {
  await client.close();
  await server.forceShutdown();
});

const ttlAnswer =
  (ttl: bigint): Answer =>
  (request) => ({ header: { revision: 1n }, ID: request.ID, TTL: ttl });

describe('the keep-alive scheduler', () => {
  it('sends the first keep-alive at once', async () => {
    const started = performance.now();
    const handle = client.lease.keepAlive(42n, { ttl: 30 });
    const call = await keepAlive.call(1);
    await call.received(1);
    expect(call.requests[0].ID).toBe(42n);
    expect(arrivals[0] - started).toBeLessThan(400);
    expect(call.metadata.get('hasleader')).toBe('true');
    handle.stop();
  });

  it('sends the next keep-alive TTL/3 after each answer, and reports each answer', async () => {
    answer = ttlAnswer(3n);
    const handle = client.lease.keepAlive(42n, { ttl: 3 });
    await (await keepAlive.call(1)).received(3);
    // An answer at once sets the next send 1 s later, checked every 500 ms.
    for (const gap of [arrivals[1] - arrivals[0], arrivals[2] - arrivals[1]]) {
      expect(gap).toBeGreaterThanOrEqual(950);
      expect(gap).toBeLessThan(1_700);
    }
    expect(handle.lastResponse).toMatchObject({ id: 42n, ttl: 3 });
    const { value } = await handle[Symbol.asyncIterator]().next();
    expect(value).toMatchObject({ id: 42n, ttl: 3 });
    handle.stop();
    expect(await handle.ended).toBe('stopped');
    expect(handle.cause).toBeUndefined();
  });

  it('ends lost once the TTL passes without an answer, with the missed deadline as its cause', async () => {
    const started = performance.now();
    const handle = client.lease.keepAlive(42n, { ttl: 1 });
    expect(await handle.ended).toBe('lost');
    expect(performance.now() - started).toBeGreaterThanOrEqual(1_000);
    expect(handle.reason).toBe('lost');
    expect(handle.cause).toBeInstanceOf(DeadlineExceededError);
    expect(handle.cause?.message).toMatch(/lease 42/);
  });

  it('ends lost with the last stream error as its cause when the stream keeps failing', async () => {
    answer = () => 'fail';
    const handle = client.lease.keepAlive(42n, { ttl: 1 });
    expect(await handle.ended).toBe('lost');
    expect(handle.cause).toBeInstanceOf(UnavailableError);
    expect(keepAlive.calls.length).toBeGreaterThan(1);
  });

  it('ends expired when etcd answers TTL 0, with LeaseNotFoundError as its cause', async () => {
    answer = ttlAnswer(0n);
    const handle = client.lease.keepAlive(42n, { ttl: 30 });
    expect(await handle.ended).toBe('expired');
    expect(handle.cause).toBeInstanceOf(LeaseNotFoundError);
  });

  it('sends every lease again at once on a new stream', async () => {
    answer = ttlAnswer(30n);
    const handles = [client.lease.keepAlive(1n, { ttl: 30 }), client.lease.keepAlive(2n, { ttl: 30 })];
    const first = await keepAlive.call(1);
    await first.received(2);
    // Answered with TTL 30, neither is due for 10 s; a new stream must not wait that long.
    first.fail(Status.UNAVAILABLE);
    const second = await keepAlive.call(2);
    await second.received(2);
    expect(second.requests.map((r) => r.ID).sort()).toEqual([1n, 2n]);
    expect(handles.map((h) => h.reason)).toEqual([undefined, undefined]);
    for (const h of handles) h.stop();
  });

  it('ends every keep-alive with closed when the client closes', async () => {
    const handle = client.lease.keepAlive(42n, { ttl: 30 });
    await client.close();
    expect(await handle.ended).toBe('closed');
  });
});

describe('the keep-alive watchdog', () => {
  /** Answers with `ttl` on every call but the first, whose member has gone silent. */
  const silentFirstCall =
    (ttl: bigint): Answer =>
    (request) =>
      keepAlive.calls.length > 1 ? { header: { revision: 1n }, ID: request.ID, TTL: ttl } : undefined;

  it('moves the stream when a keep-alive goes unanswered for TTL/6, and keeps the lease on the new one', async () => {
    answer = silentFirstCall(3n);
    // TTL 3: a keep-alive unanswered for 500 ms moves the stream, well before the lease is lost.
    const handle = client.lease.keepAlive(42n, { ttl: 3 });
    const second = await keepAlive.call(2);
    await second.received(1);
    expect(second.requests[0].ID).toBe(42n);
    const { value } = await handle[Symbol.asyncIterator]().next();
    expect(value).toMatchObject({ id: 42n, ttl: 3 });
    expect(handle.reason).toBeUndefined();
    expect(keepAlive.calls[0].closed).toBe(true);
    handle.stop();
  });

  it('moves again when the new stream is silent too (round robin can pick the same member)', async () => {
    answer = (request) => (keepAlive.calls.length > 2 ? { header: { revision: 1n }, ID: request.ID, TTL: 3n } : undefined);
    const handle = client.lease.keepAlive(42n, { ttl: 3 });
    const { value } = await handle[Symbol.asyncIterator]().next();
    expect(value).toMatchObject({ id: 42n, ttl: 3 });
    expect(keepAlive.calls).toHaveLength(3);
    expect(handle.reason).toBeUndefined();
    handle.stop();
  });

  it('names the unanswered keep-alive as the cause when the lease is lost all the same', async () => {
    const handle = client.lease.keepAlive(42n, { ttl: 2 });
    expect(await handle.ended).toBe('lost');
    expect(keepAlive.calls.length).toBeGreaterThan(1);
    expect(handle.cause).toBeInstanceOf(DeadlineExceededError);
    expect(handle.cause?.message).toMatch(/no keep-alive answer for lease 42 within \d+ ms/);
  });

  it('stays on its stream with leaseAnswerTimeout: 0 (only the TTL ends it)', async () => {
    const port = new URL(`http://${client.endpoints[0]}`).port;
    await using patient = new Client({ endpoints: [`127.0.0.1:${port}`], leaseAnswerTimeout: 0 });
    const handle = patient.lease.keepAlive(42n, { ttl: 2 });
    expect(await handle.ended).toBe('lost');
    expect(keepAlive.calls).toHaveLength(1);
    expect(handle.cause?.message).toMatch(/within its TTL/);
  });
});
