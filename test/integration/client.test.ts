import { execFile } from 'node:child_process';
import { getEventListeners } from 'node:events';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client, op } from '../../src/index.js';
import {
  AbortedError,
  ClientClosedError,
  ConfigError,
  DeadlineExceededError,
  EmptyKeyError,
  EtcdError,
  FutureRevisionError,
  KeyNotFoundError,
  LeaseNotFoundError,
  LeaseProvidedError,
  RequestTooLargeError,
  UnavailableError,
  ValueProvidedError,
} from '../../src/errors.js';
import { type EtcdServer, freePort, startEtcd } from '../harness/index.js';

const run = promisify(execFile);
let etcd: EtcdServer;

beforeAll(async () => {
  // 1 MiB server limit, so a request between it and the client's 2 MiB limit reaches etcd.
  etcd = await startEtcd({ args: ['--max-request-bytes=1048576'] });
});

afterAll(async () => {
  await etcd?.destroy();
});

describe('configuration', () => {
  it('rejects a config without endpoints', () => {
    expect(() => new Client({ endpoints: [] })).toThrow(ConfigError);
  });

  it('rejects a malformed endpoint', () => {
    expect(() => new Client({ endpoints: ['ftp://x:1'] })).toThrow(/invalid endpoint/);
  });

  it('refuses a string endpoint with no port at construction', () => {
    expect(() => new Client({ endpoints: 'x' })).toThrow(ConfigError);
    expect(() => new Client({ endpoints: 'x' })).toThrow(/invalid endpoint "x": no port/);
  });

  it('checks every endpoint of the list at construction', () => {
    expect(() => new Client({ endpoints: [etcd.endpoint, 'not a url'] })).toThrow(ConfigError);
    expect(() => new Client({ endpoints: `${etcd.endpoint},${etcd.endpoint}` })).toThrow(/as a list/);
  });

  it('accepts one endpoint given as a string', async () => {
    await using client = new Client({ endpoints: etcd.endpoint });
    await client.put('config/string', 'ok');
    expect((await client.get('config/string')).count).toBe(1n);
  });

  it('accepts http:// endpoints', async () => {
    await using client = new Client({ endpoints: [`http://${etcd.endpoint}`] });
    await client.put('config/http', 'ok');
    expect((await client.get('config/http')).count).toBe(1n);
  });
});

describe('close', () => {
  it('makes later calls fail at once with ClientClosedError', async () => {
    const client = new Client({ endpoints: [etcd.endpoint] });
    await client.put('close/k', 'v');
    await client.close();
    await client.close(); // idempotent
    expect(client.closed).toBe(true);
    await expect(client.get('close/k')).rejects.toBeInstanceOf(ClientClosedError);
  });

  it('cancels calls in flight', async () => {
    const client = new Client({ endpoints: [etcd.endpoint] });
    await client.get('close/warm');
    await etcd.pause();
    try {
      const pending = client.get('close/k', { timeout: 30_000 });
      await sleep(100);
      await client.close();
      await expect(pending).rejects.toBeInstanceOf(ClientClosedError);
    } finally {
      await etcd.resume();
    }
  });

  it('works with await using', async () => {
    let outer: Client;
    {
      await using client = new Client({ endpoints: [etcd.endpoint] });
      outer = client;
      await client.put('close/using', 'v');
    }
    expect(outer.closed).toBe(true);
  });
});

describe('timeouts and cancellation', () => {
  it('fails a call to a stopped (SIGSTOP) server by its timeout', async () => {
    await using client = new Client({ endpoints: [etcd.endpoint] });
    await client.get('timeout/warm');
    await etcd.pause();
    try {
      const started = Date.now();
      const error = await client.get('timeout/k', { timeout: 500 }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(DeadlineExceededError);
      expect((error as EtcdError).message).toMatch(/500 ms/);
      expect(Date.now() - started).toBeLessThan(5_000);
      // A write too: it is never retried, and still bounded by its timeout.
      await expect(client.put('timeout/k', 'v', { timeout: 300 })).rejects.toBeInstanceOf(DeadlineExceededError);
    } finally {
      await etcd.resume();
    }
  });

  it('applies the client-wide default timeout', async () => {
    await using client = new Client({ endpoints: [etcd.endpoint], timeout: 300 });
    await client.get('timeout/warm');
    await etcd.pause();
    try {
      await expect(client.get('timeout/k')).rejects.toBeInstanceOf(DeadlineExceededError);
    } finally {
      await etcd.resume();
    }
  });

  it('rejects promptly when the signal aborts', async () => {
    await using client = new Client({ endpoints: [etcd.endpoint] });
    await client.get('abort/warm');
    await etcd.pause();
    try {
      const controller = new AbortController();
      const pending = client.get('abort/k', { signal: controller.signal, timeout: 30_000 });
      await sleep(50);
      const started = Date.now();
      controller.abort(new Error('user gave up'));
      const error = await pending.catch((e: unknown) => e);
      expect(error).toBeInstanceOf(AbortedError);
      expect((error as Error).message).toMatch(/user gave up/);
      expect(Date.now() - started).toBeLessThan(1_000);
    } finally {
      await etcd.resume();
    }
  });

  it('shares one listener on a signal among 50 concurrent calls, and aborts them all with it', async () => {
    await using client = new Client({ endpoints: [etcd.endpoint] });
    const listeners = (signal: AbortSignal) => getEventListeners(signal, 'abort').length;
    const request = new AbortController();
    await Promise.all(Array.from({ length: 50 }, (_, i) => client.put(`shared-signal/${i}`, 'v', { signal: request.signal })));
    expect(listeners(request.signal)).toBe(0);

    await etcd.pause();
    try {
      const pending = Array.from({ length: 50 }, (_, i) =>
        client.get(`shared-signal/${i}`, { signal: request.signal, timeout: 30_000 }).catch((e: unknown) => e),
      );
      await sleep(100);
      expect(listeners(request.signal)).toBe(1);
      request.abort(new Error('request cancelled'));
      const errors = await Promise.all(pending);
      expect(errors.filter((e) => !(e instanceof AbortedError))).toEqual([]);
      expect(listeners(request.signal)).toBe(0);
    } finally {
      await etcd.resume();
    }
  });

  it('shares one listener on a signal among 20 watchers and 20 keep-alives, and ends them all with it', async () => {
    await using client = new Client({ endpoints: [etcd.endpoint] });
    const listeners = (signal: AbortSignal) => getEventListeners(signal, 'abort').length;
    const request = new AbortController();
    const watchers = Array.from({ length: 20 }, (_, i) => client.watch(`shared-signal/w${i}`, { signal: request.signal }));
    await Promise.all(watchers.map((w) => w.created));
    const lease = await client.lease.grant(30);
    const keepAlives = Array.from({ length: 20 }, () => client.lease.keepAlive(lease.id, { signal: request.signal }));
    expect(listeners(request.signal)).toBe(1);
    request.abort();
    expect(await Promise.all(watchers.map((w) => w.ended))).toEqual(watchers.map(() => undefined));
    expect(await Promise.all(keepAlives.map((k) => k.ended))).toEqual(keepAlives.map(() => 'stopped'));
    expect(listeners(request.signal)).toBe(0);
    await lease.revoke();
  });

  it('does not keep a lease alive for a signal aborted before the call', async () => {
    await using client = new Client({ endpoints: [etcd.endpoint] });
    const lease = await client.lease.grant(30);
    const keepAlive = client.lease.keepAlive(lease.id, { signal: AbortSignal.abort() });
    expect(keepAlive.reason).toBe('stopped');
    await sleep(200);
    expect(keepAlive.lastResponse).toBeUndefined();
    await lease.revoke();
  });

  it('prints no MaxListenersExceededWarning in a program whose calls, watchers and keep-alives share a signal', async () => {
    // jest gives tests a copy of `process` that Node's own warnings never reach: run a program.
    const program = join(__dirname, 'programs', 'shared-signal.ts');
    const { stderr } = await run(join(__dirname, '..', '..', 'node_modules', '.bin', 'tsx'), [program, etcd.endpoint], { timeout: 30_000 });
    expect(stderr).not.toMatch(/Warning/);
  });

  it('rejects at once with an already aborted signal', async () => {
    await using client = new Client({ endpoints: [etcd.endpoint] });
    await expect(client.get('abort/k', { signal: AbortSignal.abort() })).rejects.toBeInstanceOf(AbortedError);
  });

  it('rejects a non-positive timeout', async () => {
    await using client = new Client({ endpoints: [etcd.endpoint] });
    await expect(client.get('k', { timeout: 0 })).rejects.toThrow(/timeout must be a positive number/);
  });
});

describe('unavailable servers', () => {
  it('fails with UnavailableError when nothing listens, after retrying reads', async () => {
    const port = await freePort();
    await using client = new Client({ endpoints: [`127.0.0.1:${port}`], retry: { maxAttempts: 3, baseDelay: 10 } });
    await expect(client.get('k', { timeout: 5_000 })).rejects.toBeInstanceOf(UnavailableError);
  });

  it('retries an unsent write once the server is back, and applies it once', async () => {
    await etcd.stop();
    await using client = new Client({ endpoints: [etcd.endpoint], retry: { maxAttempts: 100, baseDelay: 50, maxDelay: 200 } });
    const put = client.put('retry/k', 'v', { timeout: 20_000 });
    await sleep(300);
    await etcd.restart();
    await put;
    const { kvs } = await client.get('retry/k');
    expect(kvs[0].version).toBe(1n);
  });
});

describe('validation before sending', () => {
  let client: Client;
  beforeAll(() => {
    client = new Client({ endpoints: [etcd.endpoint] });
  });
  afterAll(() => client.close());

  it('rejects an empty key', async () => {
    await expect(client.put('', 'v')).rejects.toBeInstanceOf(EmptyKeyError);
  });

  it('rejects a request over maxCallSendMsgSize without sending it', async () => {
    await using small = new Client({ endpoints: [etcd.endpoint], maxCallSendMsgSize: 1024 });
    await expect(small.put('big', Buffer.alloc(2048))).rejects.toThrow(/exceeds maxCallSendMsgSize/);
    await expect(small.put('big', Buffer.alloc(2048))).rejects.toBeInstanceOf(RequestTooLargeError);
    expect((await client.get('big')).count).toBe(0n);
  });

  it('rejects a key that is neither string nor bytes', async () => {
    await expect(client.put(42 as never, 'v')).rejects.toThrow(/must be a string or a Uint8Array/);
  });
});

describe('server errors arrive as typed errors', () => {
  let client: Client;
  beforeAll(() => {
    client = new Client({ endpoints: [etcd.endpoint] });
  });
  afterAll(() => client.close());

  it('RequestTooLargeError from the server', async () => {
    const error = await client.put('server/big', Buffer.alloc(1_100_000)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RequestTooLargeError);
    expect((error as EtcdError).details).toBe('etcdserver: request is too large');
  });

  it('FutureRevisionError', async () => {
    await expect(client.get('server/k', { revision: 1_000_000_000 })).rejects.toBeInstanceOf(FutureRevisionError);
  });

  it('KeyNotFoundError for ignoreValue on a missing key', async () => {
    await expect(client.put('server/missing', '', { ignoreValue: true })).rejects.toBeInstanceOf(KeyNotFoundError);
  });

  it('ValueProvidedError for ignoreValue with a value', async () => {
    await client.put('server/k', 'v');
    await expect(client.put('server/k', 'x', { ignoreValue: true })).rejects.toBeInstanceOf(ValueProvidedError);
  });

  it('LeaseProvidedError for ignoreLease with a lease', async () => {
    await client.put('server/k', 'v');
    await expect(client.put('server/k', 'x', { ignoreLease: true, lease: 1 })).rejects.toBeInstanceOf(LeaseProvidedError);
  });

  it('LeaseNotFoundError for a put on a lease that does not exist', async () => {
    await expect(client.do(op.put('server/k', 'v', { lease: 0x7777 }))).rejects.toBeInstanceOf(LeaseNotFoundError);
  });
});
