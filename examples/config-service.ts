// A configuration service: keeps an in-memory copy of every key under a prefix, current to the
// revision, by listing once and then watching from the list's revision + 1. When the revision it
// would resume from has been compacted (it was down while etcd compacted), the watch ends with
// CompactedError and the service lists and watches again, so it never misses a change.
//
// Runs against ETCD_ENDPOINTS (default 127.0.0.1:2379), e.g. `npx tsx examples/config-service.ts`
// (`bash scripts/examples` starts a throwaway etcd and runs every example). Exits non-zero if the
// copy ends up different from etcd's data.
import { strict as assert } from 'node:assert';
import { Client, CompactedError, type KeyValue } from 'nice-etcd';

const prefix = 'examples/config/';

/** A live copy of the keys under a prefix, with the revision it is current to. */
class ConfigCache {
  readonly values = new Map<string, string>();
  /** Every change up to this revision has been applied. */
  revision = 0n;
  /** How often the service had to list again because its resume revision was compacted. */
  relists = 0;
  private waiters: Array<() => void> = [];
  private readonly client: Client;
  private readonly prefix: string;

  constructor(client: Client, prefix: string) {
    this.client = client;
    this.prefix = prefix;
  }

  /** Follows etcd until `signal` aborts: lists first if it has no revision yet, then watches. */
  async run(signal: AbortSignal): Promise<void> {
    if (this.revision === 0n) await this.list();
    while (!signal.aborted) {
      const watcher = this.client.watch(this.prefix, { prefix: true, startRevision: this.revision + 1n, signal });
      try {
        for await (const batch of watcher) {
          for (const event of batch.events) {
            const name = this.name(event.kv);
            if (event.type === 'put') this.values.set(name, event.kv.value.toString());
            else this.values.delete(name);
            this.revision = event.kv.modRevision;
          }
          this.changed();
        }
      } catch (error) {
        if (!(error instanceof CompactedError)) throw error;
        console.log(`config: revision ${this.revision + 1n} is compacted (history starts at ${error.compactRevision}); listing again`);
        this.relists++;
        await this.list();
      }
    }
  }

  /** Resolves once `predicate` holds for the copy. */
  async until(predicate: (values: Map<string, string>) => boolean): Promise<void> {
    while (!predicate(this.values)) await new Promise<void>((resolve) => this.waiters.push(resolve));
  }

  private async list(): Promise<void> {
    const { kvs, header } = await this.client.get(this.prefix, { prefix: true });
    this.values.clear();
    for (const kv of kvs) this.values.set(this.name(kv), kv.value.toString());
    this.revision = header.revision;
    this.changed();
  }

  private name(kv: KeyValue): string {
    return kv.key.toString().slice(this.prefix.length);
  }

  private changed(): void {
    for (const wake of this.waiters.splice(0)) wake();
  }
}

/** Runs `cache` while `body` runs, then stops it (rethrowing what it failed with, if it failed). */
async function serving(cache: ConfigCache, body: () => Promise<void>): Promise<void> {
  const stop = new AbortController();
  const running = cache.run(stop.signal);
  try {
    await Promise.race([body(), running]);
  } finally {
    stop.abort();
    await running;
  }
}

async function main(): Promise<void> {
  const endpoints = (process.env.ETCD_ENDPOINTS ?? '127.0.0.1:2379').split(',');
  await using admin = new Client({ endpoints, timeout: 5_000 });
  await using service = new Client({ endpoints, timeout: 5_000 });
  await admin.delete(prefix, { prefix: true });

  await admin.put(`${prefix}replicas`, '3');
  await admin.put(`${prefix}log-level`, 'info');
  const cache = new ConfigCache(service, prefix);
  await serving(cache, async () => {
    await cache.until((c) => c.get('replicas') === '3' && c.get('log-level') === 'info');
    await admin.put(`${prefix}replicas`, '5');
    await cache.until((c) => c.get('replicas') === '5');
    console.log(`config: running copy at revision ${cache.revision}:`, Object.fromEntries(cache.values));
  });

  // The service is down: configuration changes, and etcd compacts away the history it missed.
  await admin.put(`${prefix}log-level`, 'debug');
  await admin.delete(`${prefix}replicas`);
  const { header } = await admin.put(`${prefix}region`, 'eu-west');
  await admin.compact(header.revision);
  console.log(`config: while the service was down, etcd compacted to revision ${header.revision}`);

  // It comes back with the copy it had and resumes from its revision: compacted, so it lists again.
  await serving(cache, async () => {
    await cache.until((c) => c.get('region') === 'eu-west');
    await admin.put(`${prefix}timeout`, '30s');
    await cache.until((c) => c.has('timeout'));
  });

  const { kvs } = await admin.get(prefix, { prefix: true });
  const expected = Object.fromEntries(kvs.map((kv) => [kv.key.toString().slice(prefix.length), kv.value.toString()]));
  assert.deepEqual(Object.fromEntries(cache.values), expected, 'the copy equals what etcd holds');
  assert.deepEqual(expected, { 'log-level': 'debug', region: 'eu-west', timeout: '30s' });
  assert.equal(cache.relists, 1, 'the service listed again once, after the compaction');
  console.log(`config: copy after compaction and one re-list:`, Object.fromEntries(cache.values));
  await admin.delete(prefix, { prefix: true });
  console.log('config-service ok');
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
