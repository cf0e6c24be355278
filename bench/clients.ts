// The clients the benchmark compares, behind one small interface: each operation is the
// idiomatic call of that client, so the figures show what a user of it would get.
import { Etcd3 } from 'etcd3';
import { resolve } from 'node:path';
import * as current from '../src/index.js';
import type { ClientConfig } from '../src/config.js';

/** What a benchmark workload needs from a client. */
export interface BenchClient {
  readonly name: string;
  readonly version: string;
  /** Writes a key; resolves with the write's revision. */
  put(key: string, value: Buffer): Promise<bigint>;
  /** Reads a key; resolves with the value's length. */
  get(key: string, serializable: boolean): Promise<number>;
  /** Reads a prefix; resolves with the number of keys and their key+value bytes. */
  range(prefix: string): Promise<{ count: number; bytes: number }>;
  /** If the key's mod revision is `revision`, writes it; resolves with whether it did. */
  putIfModRevision(key: string, revision: bigint, value: Buffer): Promise<boolean>;
  /** Watches a prefix; resolves once etcd confirmed the watch. */
  watchPrefix(prefix: string, onEvent: (key: Buffer) => void): Promise<{ cancel(): Promise<void> }>;
  /** Grants a lease and keeps it alive; resolves with its id once granted. */
  grantKeptAlive(ttl: number): Promise<{ id: bigint; stop(): void }>;
  close(): Promise<void>;
}

/** What the bench uses of a nice-etcd build (this tree's, or another checkout's src/). */
type NiceEtcd = Pick<typeof current, 'Client' | 'compare' | 'op'>;

/** nice-etcd, from this tree or `lib` (another build), with extra config (e.g. a transport). */
export function niceEtcd(endpoint: string, name = 'nice-etcd', extra: Partial<ClientConfig> = {}, lib: NiceEtcd = current): BenchClient {
  const { Client, compare, op } = lib;
  const client = new Client({ endpoints: [endpoint], timeout: 60_000, ...extra });
  return {
    name,
    version: '0.1.0',
    put: async (key, value) => (await client.put(key, value)).header.revision,
    get: async (key, serializable) => (await client.get(key, { serializable })).kvs[0]?.value.length ?? -1,
    range: async (prefix) => {
      const { kvs } = await client.get(prefix, { prefix: true });
      return { count: kvs.length, bytes: kvs.reduce((n, kv) => n + kv.key.length + kv.value.length, 0) };
    },
    putIfModRevision: async (key, revision, value) =>
      (await client.txn().if(compare.modRevision(key, '=', revision)).then(op.put(key, value)).commit()).succeeded,
    watchPrefix: async (prefix, onEvent) => {
      const watcher = client.watch(prefix, { prefix: true, maxBufferedEvents: 1_000_000 });
      watcher.on('put', (event) => onEvent(event.kv.key));
      await watcher.created;
      return { cancel: () => watcher.cancel() };
    },
    grantKeptAlive: async (ttl) => {
      const lease = await client.lease.grant(ttl);
      const keepAlive = lease.keepAlive();
      return { id: lease.id, stop: () => keepAlive.stop() };
    },
    close: () => client.close(),
  };
}

/** etcd3 from npm (microsoft/etcd3), the most used Node client. */
export function etcd3(endpoint: string): BenchClient {
  const client = new Etcd3({ hosts: `http://${endpoint}` });
  return {
    name: 'etcd3',
    version: (require('etcd3/package.json') as { version: string }).version,
    put: async (key, value) => BigInt((await client.put(key).value(value).exec()).header.revision),
    get: async (key, serializable) => (await client.get(key).serializable(serializable).buffer())?.length ?? -1,
    range: async (prefix) => {
      const kvs = await client.getAll().prefix(prefix).buffers();
      return { count: Object.keys(kvs).length, bytes: Object.entries(kvs).reduce((n, [k, v]) => n + Buffer.byteLength(k) + v.length, 0) };
    },
    putIfModRevision: async (key, revision, value) =>
      (await client.if(key, 'Mod', '==', revision.toString()).then(client.put(key).value(value)).commit()).succeeded,
    watchPrefix: async (prefix, onEvent) => {
      const watcher = await client.watch().prefix(prefix).create();
      watcher.on('put', (kv) => onEvent(kv.key));
      return { cancel: () => watcher.cancel() };
    },
    grantKeptAlive: async (ttl) => {
      const lease = client.lease(ttl);
      const id = BigInt(await lease.grant());
      // release() stops the keep-alive without revoking, like nice-etcd's stop().
      return { id, stop: () => lease.release() };
    },
    close: async () => client.close(),
  };
}

/**
 * The clients by name. To compare another variant, add an entry: a nice-etcd with other config
 * is `(e) => niceEtcd(e, 'nice-etcd/<variant>', { ...config })`.
 */
export const clients: Record<string, (endpoint: string) => BenchClient> = { 'nice-etcd': (e) => niceEtcd(e), etcd3 };

// The transport dimension: the default (http2) above, and grpc-js's own channel.
clients['nice-etcd/grpc-js'] = (e) => niceEtcd(e, 'nice-etcd/grpc-js', { transport: 'grpc-js' });

// Observability configured but silent: a logger whose methods do nothing and an empty
// middleware list (bench/ab.ts --clients nice-etcd,nice-etcd+logger shows what that costs).
const silentLogger = { debug() {}, info() {}, warn() {}, error() {} };
clients['nice-etcd+logger'] = (e) => niceEtcd(e, 'nice-etcd+logger', { logger: silentLogger, middleware: [] });

// Before/after in one run: BENCH_BASE=<dir with another checkout's src/> adds `nice-etcd@base`
// e.g. `git archive <commit> src generated tsconfig.json | tar -x -C /tmp/base` with a
// node_modules symlink beside it.
if (process.env.BENCH_BASE) {
  const base = require(resolve(process.env.BENCH_BASE, 'src/index.ts')) as NiceEtcd;
  clients['nice-etcd@base'] = (e) => niceEtcd(e, 'nice-etcd@base', {}, base);
}
