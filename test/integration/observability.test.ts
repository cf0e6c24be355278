import { SpanStatusCode, trace } from '@opentelemetry/api';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { openTelemetryClientMiddleware } from 'nice-grpc-opentelemetry';
import { prometheusClientMiddleware, registry } from 'nice-grpc-prometheus';
import { ClientError, type ClientMiddleware, Status } from 'nice-grpc-common';
import { Gauge, Registry } from 'prom-client';
import { type CallEvent, Client, type ClientEvents, LeaseNotFoundError, type Logger, UnavailableError } from '../../src/index.js';
import { useProxiedEtcd } from '../harness/index.js';
import { waitFor } from '../harness/wait-for.js';

const suite = useProxiedEtcd();

/** A logger that keeps every line, in console's shape. */
function memoryLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const at = (level: string) => (message: string, fields?: Record<string, unknown>) => {
    lines.push(`${level} ${message} ${JSON.stringify(fields ?? {})}`);
  };
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

/** Every event of `names` a client emits, in order. */
function record<K extends keyof ClientEvents>(client: Client, names: K[]): Array<{ name: K; event: ClientEvents[K] }> {
  const seen: Array<{ name: K; event: ClientEvents[K] }> = [];
  for (const name of names) client.on(name, (event) => seen.push({ name, event }));
  return seen;
}

it('Prometheus middleware: a scrape counts calls by method and status code', async () => {
  await using client = new Client({ endpoints: [suite.etcd.endpoint], middleware: [prometheusClientMiddleware()] });
  for (let i = 0; i < 3; i++) await client.put(`metrics/${i}`, 'v');
  await client.get('metrics/0');
  await client.get('metrics/', { prefix: true });
  // A lease that does not exist: etcd answers NOT_FOUND, which is not retried.
  await expect(client.lease.revoke(0x7fff_0000_1234n)).rejects.toBeInstanceOf(LeaseNotFoundError);

  const scrape = await registry.metrics();
  const handled = (method: string, code: string) => {
    const line = scrape.split('\n').find((l) => l.startsWith('grpc_client_handled_total{') && l.includes(`grpc_method="${method}"`) && l.includes(`grpc_code="${code}"`));
    return line === undefined ? 0 : Number(line.slice(line.lastIndexOf(' ') + 1));
  };
  expect(handled('Put', 'OK')).toBe(3);
  expect(handled('Range', 'OK')).toBe(2);
  expect(handled('LeaseRevoke', 'NOT_FOUND')).toBe(1);
  expect(handled('LeaseRevoke', 'OK')).toBe(0);
  expect(scrape).toMatch(/grpc_client_handling_seconds_count\{[^}]*grpc_method="Put"[^}]*grpc_code="OK"\} 3/);
  expect(scrape).toMatch(/grpc_client_handled_total\{grpc_type="unary",grpc_service="etcdserverpb.KV",grpc_method="Put"/);
});

it('client.stats() counts watchers, watch streams, leases kept alive and ready endpoints, and gauges scrape them', async () => {
  await using client = new Client({ endpoints: [suite.etcd.endpoint] });
  // The README's gauges, on a registry of their own.
  const registry = new Registry();
  new Gauge({ name: 'etcd_client_watchers', help: 'watchers', registers: [registry], collect() { this.set(client.stats().watchers); } });
  new Gauge({ name: 'etcd_client_leases_kept_alive', help: 'leases', registers: [registry], collect() { this.set(client.stats().leasesKeptAlive); } });
  new Gauge({
    name: 'etcd_client_endpoint_ready',
    help: 'ready',
    labelNames: ['endpoint', 'address'],
    registers: [registry],
    collect() {
      this.reset();
      for (const { endpoint, address, state } of client.stats().endpoints) this.set({ endpoint, address }, state === 'ready' ? 1 : 0);
    },
  });
  const scraped = async (name: string) => {
    const line = (await registry.metrics()).split('\n').find((l) => l.startsWith(`${name} `));
    return line === undefined ? undefined : Number(line.slice(name.length + 1));
  };

  // Nothing asked for yet: no connection, nothing held.
  expect(client.stats()).toEqual({ watchers: 0, watchStreams: 0, leasesKeptAlive: 0, endpoints: [expect.objectContaining({ state: 'idle' })] });

  const watchers = [client.watch('stats/a'), client.watch('stats/b'), client.watch('stats/', { prefix: true })];
  await Promise.all(watchers.map((w) => w.created));
  const leases = [await client.lease.grant(2), await client.lease.grant(2)];
  const keepAlives = leases.map((lease) => lease.keepAlive());
  await waitFor('both leases answered', () => keepAlives.every((k) => k.lastResponse !== undefined));

  const stats = client.stats();
  expect(stats).toMatchObject({ watchers: 3, watchStreams: 1, leasesKeptAlive: 2 });
  expect(stats.endpoints).toHaveLength(1);
  expect(stats.endpoints[0]).toMatchObject({ endpoint: suite.etcd.endpoint, state: 'ready' });
  if (client.connection.config.transport === 'http2') {
    // The watch stream and the keep-alive stream stay open on the connection (the grants' streams close a tick after their answer).
    await waitFor('only the two streams open', () => client.stats().endpoints[0].activeCalls === 2);
    expect(client.stats().endpoints[0]).toEqual({ endpoint: suite.etcd.endpoint, address: suite.etcd.endpoint, state: 'ready', activeCalls: 2 });
  } else {
    expect(stats.endpoints[0]).toEqual({ endpoint: suite.etcd.endpoint, address: suite.etcd.endpoint, state: 'ready' });
  }
  expect(await scraped('etcd_client_watchers')).toBe(3);
  expect(await scraped('etcd_client_leases_kept_alive')).toBe(2);
  expect(await scraped(`etcd_client_endpoint_ready{endpoint="${suite.etcd.endpoint}",address="${suite.etcd.endpoint}"}`)).toBe(1);

  await watchers[0].cancel();
  await suite.client.lease.revoke(leases[0].id);
  expect(await keepAlives[0].ended).toBe('expired');
  expect(client.stats()).toMatchObject({ watchers: 2, watchStreams: 1, leasesKeptAlive: 1 });
  expect(await scraped('etcd_client_watchers')).toBe(2);
  expect(await scraped('etcd_client_leases_kept_alive')).toBe(1);

  await Promise.all(watchers.slice(1).map((w) => w.cancel()));
  keepAlives[1].stop();
  await keepAlives[1].ended;
  expect(client.stats()).toMatchObject({ watchers: 0, watchStreams: 0, leasesKeptAlive: 0 });
  await client.close();
  expect(client.stats()).toMatchObject({ watchers: 0, watchStreams: 0, leasesKeptAlive: 0 });
  expect(client.stats().endpoints.every((e) => e.state !== 'ready')).toBe(true);
});

it('OpenTelemetry middleware: a span per call, named by etcd method, with its status', async () => {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  trace.setGlobalTracerProvider(provider);
  try {
    await using client = new Client({ endpoints: [suite.etcd.endpoint], middleware: [openTelemetryClientMiddleware()] });
    await client.put('traces/k', 'v');
    await expect(client.lease.revoke(0x7fff_0000_5678n)).rejects.toBeInstanceOf(LeaseNotFoundError);
    const spans = exporter.getFinishedSpans();
    const put = spans.find((s) => s.name === 'etcdserverpb.KV/Put');
    const revoke = spans.find((s) => s.name === 'etcdserverpb.Lease/LeaseRevoke');
    expect(put?.status.code).toBe(SpanStatusCode.UNSET);
    expect(put?.attributes['rpc.grpc.status_code']).toBe(0);
    expect(revoke?.status).toEqual({ code: SpanStatusCode.ERROR, message: expect.stringMatching(/^NOT_FOUND: .*lease not found/) });
    expect(revoke?.attributes['rpc.method']).toBe('LeaseRevoke');
  } finally {
    await provider.shutdown();
    trace.disable();
  }
});

it('user middleware sees every attempt of a retried call, the first in the list outermost; onCall sees the call', async () => {
  const seen: string[] = [];
  const recorder = (name: string): ClientMiddleware =>
    async function* record(call, options) {
      seen.push(`${name} ${call.method.path}`);
      try {
        return yield* call.next(call.request, options);
      } catch (error) {
        seen.push(`${name} ${error instanceof ClientError ? Status[error.code] : String(error)}`);
        throw error;
      }
    };
  const calls: CallEvent[] = [];
  await using client = new Client({
    endpoints: [suite.proxy.endpoint],
    retry: { maxAttempts: 3, baseDelay: 1, maxDelay: 1 },
    middleware: [recorder('outer'), recorder('inner')],
    onCall: (event) => calls.push(event),
  });
  suite.proxy.refuse();
  try {
    await expect(client.get('attempts/k')).rejects.toBeInstanceOf(UnavailableError);
  } finally {
    suite.proxy.restore();
  }
  const attempt = ['outer /etcdserverpb.KV/Range', 'inner /etcdserverpb.KV/Range', 'inner UNAVAILABLE', 'outer UNAVAILABLE'];
  expect(seen).toEqual([...attempt, ...attempt, ...attempt]);
  expect(calls.map((c) => [c.method, c.error?.constructor.name])).toEqual([['/etcdserverpb.KV/Range', 'UnavailableError']]);
});

it('a dropped connection: disconnected and connected events, a log line, and the watch resumes from its revision', async () => {
  const logger = memoryLogger();
  await using client = new Client({ endpoints: [suite.proxy.endpoint], logger });
  const events = record(client, ['connected', 'disconnected', 'watchResumed']);
  const watcher = client.watch('drop/k');
  const watcherSeen: bigint[] = [];
  watcher.on('put', (event) => watcherSeen.push(event.kv.modRevision));
  await watcher.created;
  const { header } = await client.put('drop/k', 'one');
  await waitFor('the watch delivers the first put', () => watcherSeen.length === 1);
  expect(events.filter((e) => e.name === 'connected')).toHaveLength(1);

  suite.proxy.drop();
  await waitFor('a disconnected event', () => events.some((e) => e.name === 'disconnected'));
  const disconnected = events.find((e) => e.name === 'disconnected')?.event as ClientEvents['disconnected'];
  expect(disconnected.endpoint).toContain(suite.proxy.endpoint);
  expect(disconnected.cause).not.toBe('');
  expect(logger.lines).toContainEqual(expect.stringMatching(/^info disconnected .*"cause"/));

  // The watch's stream reopens by itself; it goes on from the revision after the one delivered.
  await waitFor('the watch resumes', () => events.some((e) => e.name === 'watchResumed'));
  const resumed = events.find((e) => e.name === 'watchResumed')?.event as ClientEvents['watchResumed'];
  expect(resumed.key.toString()).toBe('drop/k');
  expect(resumed.fromRevision).toBe(header.revision + 1n);
  expect(events.filter((e) => e.name === 'connected').length).toBeGreaterThanOrEqual(2);
  await client.put('drop/k', 'two');
  await waitFor('the watch delivers the second put', () => watcherSeen.length === 2);
  await watcher.cancel();

  client.reconnect();
  expect(logger.lines).toContainEqual(expect.stringMatching(/^debug reconnect\(\)/));
});

it('ETCD_CLIENT_DEBUG=1 logs a lost connection to stderr', async () => {
  const written: string[] = [];
  const saved = process.env.ETCD_CLIENT_DEBUG;
  process.env.ETCD_CLIENT_DEBUG = '1';
  const spy = jest.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    written.push(String(chunk));
    return true;
  });
  try {
    await using client = new Client({ endpoints: [suite.proxy.endpoint] });
    await client.put('debug/k', 'v');
    suite.proxy.drop();
    await waitFor('a stderr line about the lost connection', () => written.some((line) => / nice-etcd INFO disconnected endpoint=/.test(line)));
    await client.put('debug/k', 'v');
    expect(written.filter((line) => / nice-etcd INFO connected endpoint=/.test(line)).length).toBeGreaterThanOrEqual(2);
  } finally {
    spy.mockRestore();
    if (saved === undefined) delete process.env.ETCD_CLIENT_DEBUG;
    else process.env.ETCD_CLIENT_DEBUG = saved;
  }
});

it('keepAliveLost fires when another client revokes the lease, and when no answer comes within the TTL', async () => {
  const logger = memoryLogger();
  await using client = new Client({ endpoints: [suite.proxy.endpoint], logger });
  const lost = record(client, ['keepAliveLost']);

  const revoked = await client.lease.grant(5);
  const keepAlive = client.lease.keepAlive(revoked.id);
  await suite.client.lease.revoke(revoked.id);
  expect(await keepAlive.ended).toBe('expired');
  expect(lost).toEqual([{ name: 'keepAliveLost', event: { id: revoked.id, reason: 'expired', cause: expect.any(LeaseNotFoundError) } }]);
  expect(logger.lines).toContainEqual(expect.stringMatching(new RegExp(`^warn keep-alive ended.*"lease":"${revoked.id}"`)));

  // A partition: the proxy forwards nothing, so no keep-alive answer comes within the TTL.
  const silent = await client.lease.grant(2);
  const kept = client.lease.keepAlive(silent.id);
  await waitFor('a first keep-alive answer', () => kept.lastResponse !== undefined);
  suite.proxy.blackhole();
  try {
    expect(await kept.ended).toBe('lost');
  } finally {
    suite.proxy.restore();
    suite.proxy.drop();
  }
  expect(lost[1]).toEqual({ name: 'keepAliveLost', event: { id: silent.id, reason: 'lost', cause: expect.anything() } });
});

it('endpointsChanged tells setEndpoints from sync', async () => {
  await using client = new Client({ endpoints: [suite.proxy.endpoint] });
  const changes = record(client, ['endpointsChanged']);
  client.setEndpoints([suite.proxy.endpoint]);
  expect(changes).toEqual([]);
  client.setEndpoints([suite.proxy.endpoint, suite.etcd.endpoint]);
  // The member list names etcd's own client URL, not the proxy's.
  expect(await client.sync()).toEqual([suite.etcd.endpoint]);
  await client.sync();
  expect(changes.map((c) => c.event)).toEqual([
    { endpoints: [suite.proxy.endpoint, suite.etcd.endpoint], previous: [suite.proxy.endpoint], source: 'setEndpoints' },
    { endpoints: [suite.etcd.endpoint], previous: [suite.proxy.endpoint, suite.etcd.endpoint], source: 'sync' },
  ]);
});

it('tokenRefreshed fires for the first token and for a replacement of a rejected one', async () => {
  const root = { username: 'root', password: 'root-pw' };
  await suite.client.auth.userAdd(root.username, root.password);
  await suite.client.auth.roleAdd('root');
  await suite.client.auth.userGrantRole('root', 'root');
  await suite.client.auth.enable();
  await using admin = new Client({ endpoints: [suite.etcd.endpoint], auth: root });
  try {
    await using client = new Client({ endpoints: [suite.etcd.endpoint], auth: root });
    const refreshed = record(client, ['tokenRefreshed']);
    await client.put('auth/k', 'v');
    expect(refreshed.map((r) => r.event)).toEqual([{ username: 'root', reason: 'initial' }]);
    // Turning auth off and on again drops every simple token etcd issued: the next call's is rejected.
    await admin.auth.disable();
    await admin.auth.enable();
    await client.put('auth/k', 'v2');
    expect(refreshed.map((r) => r.event)).toEqual([
      { username: 'root', reason: 'initial' },
      { username: 'root', reason: 'rejected' },
    ]);
  } finally {
    await admin.auth.disable();
  }
});
