// The clients the benchmark compares, behind one small interface: each operation is the
// idiomatic call of that client, so the figures show what a user of it would get.
import { Etcd3 } from 'etcd3';
import { Client, compare, op } from '../src/index.js';

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

/** nice-etcd, on its default transport or the one named. */
export function niceEtcd(endpoint: string, transport?: 'http2' | 'grpc-js'): BenchClient {
  const client = new Client({ endpoints: [endpoint], timeout: 60_000, transport });
  return {
    name: transport ? `nice-etcd-${transport}` : 'nice-etcd',
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

/** The clients by name. */
export const clients: Record<string, (endpoint: string) => BenchClient> = {
  'nice-etcd': (endpoint) => niceEtcd(endpoint),
  'nice-etcd-http2': (endpoint) => niceEtcd(endpoint, 'http2'),
  'nice-etcd-grpcjs': (endpoint) => niceEtcd(endpoint, 'grpc-js'),
  etcd3,
};
