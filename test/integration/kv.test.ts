import { Client, InvalidArgumentError, op } from '../../src/index.js';
import { useEtcd } from '../harness/index.js';

const suite = useEtcd();

let n = 0;
/** A fresh key prefix per test, so tests never see each other's keys. */
const ns = () => `kv-test/${++n}/`;

describe('put and get', () => {
  it('writes a key and reads it back as Buffers with bigint revisions', async () => {
    const p = ns();
    const put = await suite.client.put(`${p}greeting`, 'hello');
    expect(put.header.revision).toBeGreaterThan(0n);
    const { kvs, count, more, header } = await suite.client.get(`${p}greeting`);
    expect(count).toBe(1n);
    expect(more).toBe(false);
    expect(kvs[0].key).toEqual(Buffer.from(`${p}greeting`));
    expect(kvs[0].value.toString()).toBe('hello');
    expect(kvs[0].createRevision).toBe(put.header.revision);
    expect(kvs[0].modRevision).toBe(put.header.revision);
    expect(kvs[0].version).toBe(1n);
    expect(kvs[0].lease).toBe(0n);
    expect(header.clusterId).not.toBe(0n);
    expect(header.memberId).not.toBe(0n);
    expect(header.raftTerm).toBeGreaterThan(0n);
  });

  it('stores binary keys and values byte for byte', async () => {
    const key = Buffer.concat([Buffer.from(ns()), Buffer.from([0, 0xff, 0x80, 10])]);
    const value = Buffer.from([0xde, 0xad, 0, 0xbe, 0xef]);
    await suite.client.put(key, value);
    const { kvs } = await suite.client.get(key);
    expect(kvs[0].key).toEqual(key);
    expect(kvs[0].value).toEqual(value);
  });

  it('returns an empty result for a missing key', async () => {
    const { kvs, count } = await suite.client.get(`${ns()}missing`);
    expect(kvs).toEqual([]);
    expect(count).toBe(0n);
  });

  it('returns the previous value with prevKv', async () => {
    const p = ns();
    await suite.client.put(`${p}k`, 'v1');
    const { prevKv } = await suite.client.put(`${p}k`, 'v2', { prevKv: true });
    expect(prevKv?.value.toString()).toBe('v1');
    expect((await suite.client.get(`${p}k`)).kvs[0].version).toBe(2n);
  });

  it('reads an older revision of a key', async () => {
    const p = ns();
    const first = await suite.client.put(`${p}k`, 'old');
    await suite.client.put(`${p}k`, 'new');
    const { kvs } = await suite.client.get(`${p}k`, { revision: first.header.revision });
    expect(kvs[0].value.toString()).toBe('old');
  });
});

describe('ranges', () => {
  async function fill(p: string) {
    for (const k of ['a', 'b', 'c', 'd']) await suite.client.put(`${p}${k}`, `value-${k}`);
  }

  it('reads every key under a prefix in key order', async () => {
    const p = ns();
    await fill(p);
    const { kvs, count } = await suite.client.get(p, { prefix: true });
    expect(count).toBe(4n);
    expect(kvs.map((kv) => kv.key.toString())).toEqual(['a', 'b', 'c', 'd'].map((k) => p + k));
  });

  it('reads [key, end) with end', async () => {
    const p = ns();
    await fill(p);
    const { kvs } = await suite.client.get(`${p}b`, { end: `${p}d` });
    expect(kvs.map((kv) => kv.key.toString())).toEqual([`${p}b`, `${p}c`]);
  });

  it('reads a key and everything after it with fromKey', async () => {
    const p = ns();
    await fill(p);
    const { kvs } = await suite.client.get(`${p}c`, { fromKey: true, limit: 2 });
    expect(kvs.map((kv) => kv.key.toString())).toEqual([`${p}c`, `${p}d`]);
  });

  it('limits, counts and reports more', async () => {
    const p = ns();
    await fill(p);
    const r = await suite.client.get(p, { prefix: true, limit: 2 });
    expect(r.kvs).toHaveLength(2);
    expect(r.count).toBe(4n);
    expect(r.more).toBe(true);
  });

  it('sorts by value descending', async () => {
    const p = ns();
    await fill(p);
    const { kvs } = await suite.client.get(p, { prefix: true, sort: { target: 'value', order: 'descend' } });
    expect(kvs.map((kv) => kv.value.toString())).toEqual(['value-d', 'value-c', 'value-b', 'value-a']);
  });

  it('returns keys only, or only the count', async () => {
    const p = ns();
    await fill(p);
    const keysOnly = await suite.client.get(p, { prefix: true, keysOnly: true });
    expect(keysOnly.kvs.every((kv) => kv.value.length === 0)).toBe(true);
    expect(keysOnly.kvs).toHaveLength(4);
    const countOnly = await suite.client.get(p, { prefix: true, countOnly: true });
    expect(countOnly.kvs).toEqual([]);
    expect(countOnly.count).toBe(4n);
  });

  it('serves serializable reads', async () => {
    const p = ns();
    await fill(p);
    expect((await suite.client.get(p, { prefix: true, serializable: true })).count).toBe(4n);
  });

  it('filters by mod and create revisions', async () => {
    const p = ns();
    const a = await suite.client.put(`${p}a`, '1');
    const b = await suite.client.put(`${p}b`, '1');
    await suite.client.put(`${p}a`, '2');
    const modAfterB = await suite.client.get(p, { prefix: true, minModRevision: b.header.revision + 1n });
    expect(modAfterB.kvs.map((kv) => kv.key.toString())).toEqual([`${p}a`]);
    const maxMod = await suite.client.get(p, { prefix: true, maxModRevision: b.header.revision });
    expect(maxMod.kvs.map((kv) => kv.key.toString())).toEqual([`${p}b`]);
    const createdFirst = await suite.client.get(p, { prefix: true, maxCreateRevision: a.header.revision });
    expect(createdFirst.kvs.map((kv) => kv.key.toString())).toEqual([`${p}a`]);
    const createdLater = await suite.client.get(p, { prefix: true, minCreateRevision: b.header.revision });
    expect(createdLater.kvs.map((kv) => kv.key.toString())).toEqual([`${p}b`]);
  });

  it('finds the first and last key by create revision, key and mod revision', async () => {
    const p = ns();
    await suite.client.put(`${p}z`, '1');
    await suite.client.put(`${p}a`, '1');
    await suite.client.put(`${p}m`, '1');
    const key = async (options: Parameters<Client['get']>[1]) => (await suite.client.get(p, options)).kvs.map((kv) => kv.key.toString());
    expect(await key({ first: 'createRevision' })).toEqual([`${p}z`]);
    expect(await key({ last: 'createRevision' })).toEqual([`${p}m`]);
    expect(await key({ first: 'key' })).toEqual([`${p}a`]);
    expect(await key({ last: 'key' })).toEqual([`${p}z`]);
    await suite.client.put(`${p}z`, '2');
    expect(await key({ last: 'modRevision' })).toEqual([`${p}z`]);
    expect(await key({ first: 'modRevision' })).toEqual([`${p}a`]);
  });
});

describe('delete', () => {
  it('deletes one key', async () => {
    const p = ns();
    await suite.client.put(`${p}k`, 'v');
    expect((await suite.client.delete(`${p}k`)).deleted).toBe(1n);
    expect((await suite.client.get(`${p}k`)).count).toBe(0n);
  });

  it('deletes a prefix and returns what it deleted', async () => {
    const p = ns();
    await suite.client.put(`${p}a`, '1');
    await suite.client.put(`${p}b`, '2');
    await suite.client.put(`${p.slice(0, -1)}x`, 'outside');
    const r = await suite.client.delete(p, { prefix: true, prevKv: true });
    expect(r.deleted).toBe(2n);
    expect(r.prevKvs.map((kv) => kv.value.toString()).sort()).toEqual(['1', '2']);
    expect((await suite.client.get(`${p.slice(0, -1)}x`)).count).toBe(1n);
  });
});

describe('missing and empty values', () => {
  it('refuses a put without a value instead of writing an empty one', async () => {
    const p = ns();
    await suite.client.put(`${p}k`, 'kept');
    const missing: { value?: string } = {};
    await expect(suite.client.put(`${p}k`, missing.value as string)).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(suite.client.put(`${p}k`, null as never)).rejects.toThrow(/no value given/);
    expect(() => op.put(`${p}k`, missing.value as string)).toThrow(InvalidArgumentError);
    expect((await suite.client.get(`${p}k`)).kvs[0].value.toString()).toBe('kept');
  });

  it("writes an empty value when given '' or an empty buffer", async () => {
    const p = ns();
    await suite.client.put(`${p}a`, '');
    await suite.client.put(`${p}b`, Buffer.alloc(0));
    const { kvs } = await suite.client.get(p, { prefix: true });
    expect(kvs.map((kv) => [kv.key.toString(), kv.value.length])).toEqual([
      [`${p}a`, 0],
      [`${p}b`, 0],
    ]);
  });

  it('takes no value with ignoreValue, which keeps the stored one', async () => {
    const p = ns();
    const lease = await suite.client.lease.grant(60);
    await suite.client.put(`${p}k`, 'v1');
    await suite.client.put(`${p}k`, undefined as unknown as string, { ignoreValue: true, lease: lease.id });
    const [kv] = (await suite.client.get(`${p}k`)).kvs;
    expect([kv.value.toString(), kv.lease]).toEqual(['v1', lease.id]);
    await suite.client.lease.revoke(lease.id);
  });
});

describe('leases on keys', () => {
  it('keeps the lease with ignoreLease and the value with ignoreValue', async () => {
    const p = ns();
    await suite.client.put(`${p}k`, 'v1');
    await suite.client.put(`${p}k`, '', { ignoreValue: true });
    expect((await suite.client.get(`${p}k`)).kvs[0].value.toString()).toBe('v1');
    await suite.client.put(`${p}k`, 'v2', { ignoreLease: true });
    expect((await suite.client.get(`${p}k`)).kvs[0].value.toString()).toBe('v2');
  });
});

describe('compact', () => {
  it('makes older revisions unreadable, physically when asked', async () => {
    const p = ns();
    const old = await suite.client.put(`${p}k`, 'v1');
    const latest = await suite.client.put(`${p}k`, 'v2');
    await suite.client.compact(latest.header.revision, { physical: true });
    await expect(suite.client.get(`${p}k`, { revision: old.header.revision })).rejects.toMatchObject({ reason: 'Compacted' });
    expect((await suite.client.get(`${p}k`, { revision: latest.header.revision })).kvs[0].value.toString()).toBe('v2');
  });
});

describe('do', () => {
  it('runs ops built ahead of time', async () => {
    const p = ns();
    const write = op.put(`${p}k`, 'v');
    const read = op.get(`${p}k`);
    expect((await suite.client.do(write)).type).toBe('put');
    const r = await suite.client.do(read);
    expect(r.kvs[0].value.toString()).toBe('v');
  });
});
