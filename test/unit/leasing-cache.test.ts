import { LeaseCache } from '../../src/leasing/cache.js';
import type { GetResponse, ResponseHeader } from '../../src/kv.js';
import { op } from '../../src/op.js';

// The leasing KV's cache on its own: what a held key's cached answer looks like to each kind
// of get, and how our own writes and deletes change it.

const header = (revision: bigint): ResponseHeader => ({ clusterId: 1n, memberId: 2n, revision, raftTerm: 3n });
const key = Buffer.from('k');

function held(cache: LeaseCache, value: string | undefined, revision = 10n): GetResponse {
  const kvs = value === undefined ? [] : [{ key, value: Buffer.from(value), createRevision: 5n, modRevision: 8n, version: 2n, lease: 0n }];
  return cache.add(key, { header: header(revision), kvs, more: false, count: BigInt(kvs.length) }, op.get(key).request);
}

it('answers a get of a held key, applying keysOnly, countOnly and the revision filters as etcd would', async () => {
  const cache = new LeaseCache();
  expect(await cache.get(op.get(key).request)).toBeUndefined();
  held(cache, 'v');
  expect(cache.rev(key)).toBe(10n);
  const plain = await cache.get(op.get(key).request);
  expect(plain?.kvs[0].value.toString()).toBe('v');
  expect(plain?.header.revision).toBe(10n);
  expect((await cache.get(op.get(key, { keysOnly: true }).request))?.kvs[0].value.length).toBe(0);
  expect(await cache.get(op.get(key, { countOnly: true }).request)).toMatchObject({ kvs: [], count: 1n });
  expect((await cache.get(op.get(key, { minModRevision: 9 }).request))?.kvs).toEqual([]);
  expect((await cache.get(op.get(key, { maxCreateRevision: 4 }).request))?.kvs).toEqual([]);
  expect((await cache.get(op.get(key, { maxModRevision: 8 }).request))?.kvs).toHaveLength(1);
  // Answers are copies: changing one does not change the cache.
  plain!.kvs[0].value[0] = 0x78;
  expect((await cache.get(op.get(key).request))?.kvs[0].value.toString()).toBe('v');
});

it('applies our own puts and deletes, and ignores a delete older than what it holds', async () => {
  const cache = new LeaseCache();
  held(cache, undefined);
  cache.update(key, Buffer.from('new'), undefined, header(11n));
  expect((await cache.get(op.get(key).request))?.kvs[0]).toMatchObject({ createRevision: 11n, modRevision: 11n, version: 1n });
  cache.update(key, undefined, 7n, header(12n)); // ignoreValue: only the lease changes
  expect((await cache.get(op.get(key).request))?.kvs[0]).toMatchObject({ modRevision: 12n, version: 2n, lease: 7n });
  expect((await cache.get(op.get(key).request))?.kvs[0].value.toString()).toBe('new');
  cache.delete(key, header(9n));
  expect((await cache.get(op.get(key).request))?.kvs).toHaveLength(1);
  cache.delete(key, header(13n));
  expect(await cache.get(op.get(key).request)).toMatchObject({ kvs: [], count: 0n });
});

it('makes reads of a key wait for our write in flight on it', async () => {
  const cache = new LeaseCache();
  held(cache, 'old');
  const release = cache.lock(key, new Uint8Array(0));
  let read: GetResponse | undefined;
  const reading = cache.get(op.get(key).request).then((r) => (read = r));
  await new Promise((resolve) => setImmediate(resolve));
  expect(read).toBeUndefined();
  cache.update(key, Buffer.from('new'), undefined, header(11n));
  release();
  await reading;
  expect(read?.kvs[0].value.toString()).toBe('new');
});

it('does not let an evicted key be acquired again for 2 s', () => {
  jest.useFakeTimers({ now: 1_000_000 });
  try {
    const cache = new LeaseCache();
    held(cache, 'v');
    expect(cache.evict(key)).toBe(10n);
    expect(cache.rev(key)).toBe(0n);
    expect(cache.mayAcquire(key)).toBe(false);
    jest.setSystemTime(1_000_000 + 2_001);
    expect(cache.mayAcquire(key)).toBe(true);
    expect(cache.mayAcquire(Buffer.from('other'))).toBe(true);
  } finally {
    jest.useRealTimers();
  }
});

it('evicts and deletes by range, with "\\x00" as an open end', async () => {
  const cache = new LeaseCache();
  for (const k of ['a', 'b', 'c']) cache.add(Buffer.from(k), { header: header(10n), kvs: [{ key: Buffer.from(k), value: Buffer.from(k), createRevision: 1n, modRevision: 1n, version: 1n, lease: 0n }], more: false, count: 1n }, op.get(k).request);
  cache.deleteRange(Buffer.from('b'), Buffer.from([0]), header(11n));
  expect((await cache.get(op.get('a').request))?.kvs).toHaveLength(1);
  expect((await cache.get(op.get('c').request))?.kvs).toEqual([]);
  cache.evictRange(Buffer.from('a'), Buffer.from('b'));
  expect(await cache.get(op.get('a').request)).toBeUndefined();
  expect(cache.rev(Buffer.from('b'))).toBe(10n);
});
