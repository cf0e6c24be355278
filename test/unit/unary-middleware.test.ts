// The fused unary middleware (src/middleware/unary.ts) against an in-process nice-grpc server
// whose KV and Auth services fail on demand: retries, sent and unsent writes, deadlines,
// aborts, close, the onCall hook and the token refresh.
import { getEventListeners } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client as GrpcClient, type Metadata as GrpcMetadata } from '@grpc/grpc-js';
import { type CallContext, type Server, ServerError, Status, createServer } from 'nice-grpc';
import { Client } from '../../src/client.js';
import type { CallEvent } from '../../src/config.js';
import { AbortedError, ClientClosedError, DeadlineExceededError, UnavailableError } from '../../src/errors.js';
import { AuthDefinition, type AuthServiceImplementation, KVDefinition, type KVServiceImplementation, type PutRequest, type RangeRequest } from '../../src/proto.js';
import { freePort } from '../harness/ports.js';
import { waitFor } from '../harness/wait-for.js';

/** What the fake server does with the next calls of each method; by default it answers. */
type Behaviour = 'ok' | 'unavailable' | 'hang' | 'badToken';

class FakeEtcd {
  readonly calls: Record<string, number> = {};
  readonly tokens: Array<string | undefined> = [];
  /** Behaviours consumed one per call, then `then` for the rest. */
  readonly script: Record<string, { next: Behaviour[]; then: Behaviour }> = {};
  authenticated = 0;
  cancelled = 0;
  server: Server | undefined;

  fail(method: string, next: Behaviour[], then: Behaviour = 'ok'): void {
    this.script[method] = { next: [...next], then };
  }

  private async serve<T>(method: string, context: CallContext, answer: T): Promise<T> {
    this.calls[method] = (this.calls[method] ?? 0) + 1;
    this.tokens.push(context.metadata.get('token'));
    const script = this.script[method];
    const behaviour = script ? (script.next.shift() ?? script.then) : 'ok';
    switch (behaviour) {
      case 'unavailable':
        throw new ServerError(Status.UNAVAILABLE, 'etcdserver: leader changed');
      case 'badToken':
        throw new ServerError(Status.UNAUTHENTICATED, 'etcdserver: invalid auth token');
      case 'hang':
        await new Promise<void>((resolve) => context.signal.addEventListener('abort', () => resolve(), { once: true }));
        this.cancelled++;
        throw new ServerError(Status.CANCELLED, 'cancelled');
      default:
        return answer;
    }
  }

  async listen(port: number): Promise<void> {
    const server = createServer();
    // Only the RPCs these tests make; the others are never called.
    const kv: Pick<KVServiceImplementation, 'range' | 'put'> = {
      range: (request: RangeRequest, context) =>
        this.serve('range', context, { header: { revision: 1n }, kvs: [{ key: request.key, value: Buffer.from('v'), modRevision: 1n }], count: 1n }),
      put: (_request: PutRequest, context) => this.serve('put', context, { header: { revision: 2n } }),
    };
    const auth: Pick<AuthServiceImplementation, 'authenticate'> = {
      authenticate: async () => ({ header: {}, token: `token-${++this.authenticated}` }),
    };
    server.add(KVDefinition, complete(KVDefinition.methods, kv) as KVServiceImplementation);
    server.add(AuthDefinition, complete(AuthDefinition.methods, auth) as AuthServiceImplementation);
    await server.listen(`127.0.0.1:${port}`);
    this.server = server;
  }

  async close(): Promise<void> {
    this.server?.forceShutdown();
    this.server = undefined;
  }
}

/** nice-grpc's server wants every method: the ones a test does not use answer UNIMPLEMENTED. */
function complete(methods: object, implemented: object): object {
  const unimplemented = async () => {
    throw new ServerError(Status.UNIMPLEMENTED, 'not in this fake');
  };
  return Object.fromEntries(Object.keys(methods).map((key) => [key, (implemented as Record<string, unknown>)[key] ?? unimplemented]));
}

let fake: FakeEtcd;
let port: number;
const clients: Client[] = [];

function client(config: Partial<ConstructorParameters<typeof Client>[0]> = {}): Client {
  const c = new Client({ endpoints: [`127.0.0.1:${port}`], retry: { maxAttempts: 5, baseDelay: 5, maxDelay: 20 }, ...config });
  clients.push(c);
  return c;
}

beforeEach(async () => {
  fake = new FakeEtcd();
  port = await freePort();
  await fake.listen(port);
});

afterEach(async () => {
  for (const c of clients.splice(0)) await c.close();
  await fake.close();
});

describe('retries', () => {
  it('repeats a read that failed with UNAVAILABLE until it succeeds', async () => {
    fake.fail('range', ['unavailable', 'unavailable']);
    const { kvs } = await client().get('k');
    expect(kvs[0].value.toString()).toBe('v');
    expect(fake.calls.range).toBe(3);
  });

  it('gives up after maxAttempts attempts with UnavailableError', async () => {
    fake.fail('range', [], 'unavailable');
    await expect(client({ retry: { maxAttempts: 3, baseDelay: 1 } }).get('k')).rejects.toBeInstanceOf(UnavailableError);
    expect(fake.calls.range).toBe(3);
  });

  it('never repeats a write that reached the server', async () => {
    fake.fail('put', ['unavailable']);
    await expect(client().put('k', 'v')).rejects.toBeInstanceOf(UnavailableError);
    expect(fake.calls.put).toBe(1);
  });

  it('repeats a write that provably never left the client, and sends it once', async () => {
    await fake.close();
    const c = client({ retry: { maxAttempts: 100, baseDelay: 20, maxDelay: 50 } });
    const put = c.put('k', 'v', { timeout: 10_000 });
    await sleep(200);
    await fake.listen(port);
    await put;
    expect(fake.calls.put).toBe(1);
  });
});

/** The grpc-timeout header of every unary call handed to grpc-js (its server strips it). */
function sentTimeouts(): { values: unknown[]; restore(): void } {
  const values: unknown[] = [];
  const original = GrpcClient.prototype.makeUnaryRequest;
  const spy = jest.spyOn(GrpcClient.prototype, 'makeUnaryRequest').mockImplementation(function (this: GrpcClient, ...args: unknown[]) {
    values.push((args[4] as GrpcMetadata).get('grpc-timeout')[0]);
    return (original as (...a: unknown[]) => ReturnType<typeof original>).apply(this, args);
  });
  return { values, restore: () => spy.mockRestore() };
}

describe('deadlines', () => {
  it('sends the time limit to the server as grpc-timeout', async () => {
    const sent = sentTimeouts();
    try {
      await client({ timeout: 1234 }).get('k');
    } finally {
      sent.restore();
    }
    expect(sent.values).toEqual(['1234m']);
  });

  it('fails a call the server never answers by its timeout, naming it, and cancels it on the server', async () => {
    fake.fail('range', [], 'hang');
    const started = performance.now();
    const error = await client().get('k', { timeout: 300 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DeadlineExceededError);
    expect((error as Error).message).toMatch(/within its 300 ms timeout/);
    const elapsed = performance.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(299);
    expect(elapsed).toBeLessThan(1_500);
    await waitFor('the server sees the cancel', () => fake.cancelled === 1, 5_000);
  });

  it('names the failure it was retrying when time runs out', async () => {
    fake.fail('range', [], 'unavailable');
    const sent = sentTimeouts();
    const error = await client({ retry: { maxAttempts: 1000, baseDelay: 10, maxDelay: 20 } })
      .get('k', { timeout: 200 })
      .catch((e: unknown) => e)
      .finally(() => sent.restore());
    expect(error).toBeInstanceOf(DeadlineExceededError);
    expect((error as Error).message).toMatch(/the last attempt failed with UNAVAILABLE: etcdserver: leader changed/);
    // Retries send the time that is left, not the whole limit again.
    expect(sent.values.length).toBeGreaterThan(2);
    expect(sent.values[0]).toBe('200m');
    expect(Number(String(sent.values.at(-1)).slice(0, -1))).toBeLessThan(200);
  });

  it('adds no listener to the close signal per call, and close still ends every call', async () => {
    fake.fail('range', [], 'hang');
    const c = client();
    const pending = Array.from({ length: 50 }, (_, i) => c.get(`k${i}`, { timeout: 30_000 }).catch((e: unknown) => e));
    await waitFor('every call reaches the server', () => fake.calls.range === 50, 10_000);
    // One listener: the shared deadline slots'; the calls themselves listen to their slot.
    expect(getEventListeners(c.connection.closed, 'abort').length).toBeLessThanOrEqual(1);
    await c.close();
    for (const error of await Promise.all(pending)) expect(error).toBeInstanceOf(ClientClosedError);
  });
});

describe('cancellation', () => {
  it('rejects with AbortedError when the caller aborts, and cancels the call on the server', async () => {
    fake.fail('range', [], 'hang');
    const controller = new AbortController();
    const pending = client().get('k', { signal: controller.signal }).catch((e: unknown) => e);
    await waitFor('the call reaches the server', () => fake.calls.range === 1, 5_000);
    controller.abort(new Error('user gave up'));
    const error = await pending;
    expect(error).toBeInstanceOf(AbortedError);
    expect((error as Error).message).toMatch(/user gave up/);
    await waitFor('the server sees the cancel', () => fake.cancelled === 1, 5_000);
  });

  it('interrupts the backoff between retries when the caller aborts', async () => {
    fake.fail('range', [], 'unavailable');
    const controller = new AbortController();
    const pending = client({ retry: { maxAttempts: 10, baseDelay: 10_000, maxDelay: 10_000 } }).get('k', { signal: controller.signal });
    await sleep(100);
    controller.abort();
    await expect(pending).rejects.toBeInstanceOf(AbortedError);
    expect(fake.calls.range).toBe(1);
  });

  it('rejects calls in flight and later calls with ClientClosedError on close', async () => {
    fake.fail('range', [], 'hang');
    const c = client();
    const pending = c.get('k').catch((e: unknown) => e);
    await waitFor('the call reaches the server', () => fake.calls.range === 1, 5_000);
    await c.close();
    expect(await pending).toBeInstanceOf(ClientClosedError);
    await expect(c.get('k')).rejects.toBeInstanceOf(ClientClosedError);
  });
});

describe('the onCall hook', () => {
  it('reports every call once, with its error, retries included in its duration', async () => {
    const events: CallEvent[] = [];
    const c = client({ onCall: (e) => events.push(e) });
    fake.fail('range', ['unavailable']);
    fake.fail('put', ['unavailable']);
    await c.get('k');
    await c.put('k', 'v').catch(() => undefined);
    expect(events.map((e) => [e.method, e.error?.constructor.name])).toEqual([
      ['/etcdserverpb.KV/Range', undefined],
      ['/etcdserverpb.KV/Put', 'UnavailableError'],
    ]);
    expect(events[0].durationMs).toBeGreaterThan(0);
  });
});

describe('auth', () => {
  it('sends the token, and on a rejected token authenticates again and repeats the call once', async () => {
    const c = client({ auth: { username: 'u', password: 'p' } });
    await c.get('k');
    fake.fail('range', ['badToken']);
    await c.get('k');
    expect(fake.authenticated).toBe(2);
    expect(fake.tokens.slice(-3)).toEqual(['token-1', 'token-1', 'token-2']);
  });
});
