import { setTimeout as sleep } from 'node:timers/promises';
import { AbortedError, type CallEvent, Client, ClientClosedError, DeadlineExceededError, LeasingKV, InvalidArgumentError, compare, op } from '../../src/index.js';
import { describeWithGoPeer, useGoPeer } from '../harness/go-peer';
import { useEtcd } from '../harness/index.js';

// Leasing keys live under `leases/`; the cached keys are anywhere else.
const suite = useEtcd();
const pfx = 'leases/';

/** A client that counts its calls, so a test can tell a cached read from a round trip. */
function countingClient(): { client: Client; calls: CallEvent[] } {
  const calls: CallEvent[] = [];
  const client = new Client({ endpoints: [suite.etcd.endpoint], onCall: (e: CallEvent) => calls.push(e) });
  return { client, calls };
}

describe('LeasingKV', () => {
  it('serves repeated reads of a key it holds from its cache, with the leasing key in Go\'s layout', async () => {
    await suite.client.put('hot/config', 'v1');
    const { client, calls } = countingClient();
    await using _client = client;
    await using cached = await LeasingKV.create(client, pfx, { ttl: 30 });
    const first = await cached.get('hot/config');
    expect(first.kvs[0].value.toString()).toBe('v1');
    const before = calls.length;
    for (let i = 0; i < 10; i++) {
      const again = await cached.get('hot/config');
      expect(again.kvs[0].value.toString()).toBe('v1');
      expect(again.kvs[0].modRevision).toBe(first.kvs[0].modRevision);
    }
    expect(calls.length).toBe(before); // no round trip
    // The leasing key: <prefix><key>, an empty value, on the session's lease.
    const { kvs } = await suite.client.get(`${pfx}hot/config`);
    expect(kvs[0].value.toString()).toBe('');
    expect(kvs[0].lease).not.toBe(0n);
    // Options that a cached read can answer are applied to it, as etcd would.
    expect((await cached.get('hot/config', { keysOnly: true })).kvs[0].value.length).toBe(0);
    expect(await cached.get('hot/config', { countOnly: true })).toMatchObject({ kvs: [], count: 1n });
    expect(calls.length).toBe(before);
  });

  it('updates its cache with its own writes', async () => {
    const { client, calls } = countingClient();
    await using _client = client;
    await using cached = await LeasingKV.create(client, pfx);
    await cached.put('own/k', 'a');
    await cached.get('own/k'); // acquire
    const put = await cached.put('own/k', 'b');
    const before = calls.length;
    const { kvs } = await cached.get('own/k');
    expect(calls.length).toBe(before);
    expect(kvs[0]).toMatchObject({ modRevision: put.header.revision, version: 2n });
    expect(kvs[0].value.toString()).toBe('b');
    await cached.delete('own/k');
    expect((await cached.get('own/k')).kvs).toEqual([]);
    expect(calls.length).toBe(before + 1);
    expect((await suite.client.get('own/k')).count).toBe(0n);
  });

  it('sees a write made through another leasing KV: the writer revokes the holder first', async () => {
    await using holder = await LeasingKV.create(suite.client, pfx);
    await using writer = await LeasingKV.create(suite.client, pfx);
    await holder.put('shared/k', 'old');
    expect((await holder.get('shared/k')).kvs[0].value.toString()).toBe('old');
    await writer.put('shared/k', 'new');
    expect((await holder.get('shared/k')).kvs[0].value.toString()).toBe('new');
    // The holder gave its leasing key up.
    expect((await suite.client.get(`${pfx}shared/k`)).kvs.every((kv) => kv.value.toString() !== 'REVOKE')).toBe(true);
  });

  it('revokes holders of a range it deletes, and of the keys a transaction writes', async () => {
    await using holder = await LeasingKV.create(suite.client, pfx);
    await using writer = await LeasingKV.create(suite.client, pfx);
    await suite.client.put('range/a', '1');
    await suite.client.put('range/b', '2');
    await holder.get('range/a');
    await holder.get('range/b');
    expect((await writer.delete('range/', { prefix: true })).deleted).toBe(2n);
    expect((await holder.get('range/a')).kvs).toEqual([]);
    await holder.get('range/c');
    const r = await writer.txn().if(compare.missing('range/c')).then(op.put('range/c', 'txn')).commit();
    expect(r.succeeded).toBe(true);
    expect((await holder.get('range/c')).kvs[0].value.toString()).toBe('txn');
  });

  it('deletes its leasing keys when closed, and fails fast afterwards', async () => {
    const cached = await LeasingKV.create(suite.client, 'closing/');
    await suite.client.put('closing-k', 'v');
    await cached.get('closing-k');
    expect((await suite.client.get('closing/closing-k')).count).toBe(1n);
    await cached.close();
    expect((await suite.client.get('closing/closing-k')).count).toBe(0n);
    await expect(cached.get('closing-k')).rejects.toThrow('closed');
  });

  it('bounds a write waiting for a holder that does not answer by its timeout, and goes on once the holder is gone', async () => {
    // A holder whose process hangs: its leasing key stays until its lease ends.
    const stuck = await suite.client.lease.grant(60);
    await suite.client.put(`${pfx}stuck/k`, '', { lease: stuck.id });
    await using writer = await LeasingKV.create(suite.client, pfx);
    await expect(writer.put('stuck/k', 'v', { timeout: 500 })).rejects.toBeInstanceOf(DeadlineExceededError);
    const controller = new AbortController();
    const aborted = writer.put('stuck/k', 'v', { signal: controller.signal });
    controller.abort();
    await expect(aborted).rejects.toBeInstanceOf(AbortedError);
    const waiting = writer.put('stuck/k', 'v');
    await stuck.revoke(); // the holder's lease ends: its leasing key is deleted
    expect((await waiting).header.revision).toBeGreaterThan(0n);
    expect((await suite.client.get('stuck/k')).kvs[0].value.toString()).toBe('v');
  });

  it('drops its cache when its session lease is lost, and holds keys again on a new one', async () => {
    const { client, calls } = countingClient();
    await using _client = client;
    await using cached = await LeasingKV.create(client, pfx);
    await suite.client.put('lost/k', 'v1');
    await cached.get('lost/k');
    const first = (await suite.client.get(`${pfx}lost/k`)).kvs[0].lease;
    await suite.client.lease.revoke(first); // as if the lease expired: the leasing key goes with it
    await suite.client.put('lost/k', 'v2'); // a plain write: nobody holds the key any more
    // Until the new session is there, reads go to etcd; then the key is held on the new lease.
    let lease = 0n;
    while (lease === 0n || lease === first) {
      expect((await cached.get('lost/k')).kvs[0].value.toString()).toBe('v2');
      lease = (await suite.client.get(`${pfx}lost/k`)).kvs[0]?.lease ?? 0n;
    }
    const before = calls.length;
    expect((await cached.get('lost/k')).kvs[0].value.toString()).toBe('v2');
    expect(calls.length).toBe(before);
  });

  it('stops its background work when its client is closed first', async () => {
    const client = new Client({ endpoints: [suite.etcd.endpoint] });
    const cached = await LeasingKV.create(client, pfx);
    await suite.client.put('orphaned/k', 'v');
    await cached.get('orphaned/k'); // a watch of the held key now runs
    await client.close();
    await expect(cached.put('orphaned/k', 'w')).rejects.toBeInstanceOf(ClientClosedError);
    // `cached` is deliberately never closed: jest exits on its own only if no watch, retry loop
    // or session renewal of it is left running.
  });

  it('refuses an empty prefix', async () => {
    await expect(LeasingKV.create(suite.client, '')).rejects.toBeInstanceOf(InvalidArgumentError);
  });
});

describeWithGoPeer('LeasingKV with Go\'s leasing.NewKV on the same prefix', () => {
  const peers = useGoPeer(() => [suite.etcd.endpoint]);

  it('drops a read served from its cache when a Go leasing client writes the key', async () => {
    const { client, calls } = countingClient();
    await using _client = client;
    await using cached = await LeasingKV.create(client, pfx);
    await suite.client.put('go/k', 'from-ts');
    await cached.get('go/k');
    const before = calls.length;
    expect((await cached.get('go/k')).kvs[0].value.toString()).toBe('from-ts');
    expect(calls.length).toBe(before); // served from the cache
    const go = await peers.start('leasing', pfx);
    go.send('put go/k from-go');
    expect(await go.next()).toMatch(/^put go\/k \d+$/);
    expect((await cached.get('go/k')).kvs[0].value.toString()).toBe('from-go');
    await go.finish();
  });

  it('makes Go give up a key it holds when nice-etcd writes it', async () => {
    await suite.client.put('go/held', 'v1');
    const go = await peers.start('leasing', pfx);
    go.send('get go/held');
    expect(await go.next()).toMatch(/^value go\/held v1 /);
    const goHolds = (await suite.client.get(`${pfx}go/held`)).kvs[0];
    expect(goHolds.value.toString()).toBe('');
    await using cached = await LeasingKV.create(suite.client, pfx);
    await cached.put('go/held', 'v2');
    go.send('get go/held');
    expect(await go.next()).toMatch(/^value go\/held v2 /);
    await go.finish();
  });

  it('every reader sees each completed write, whoever of two nice-etcd and one Go leasing clients made it', async () => {
    await using a = await LeasingKV.create(suite.client, pfx);
    await using b = await LeasingKV.create(suite.client, pfx);
    const go = await peers.start('leasing', pfx);
    const goGet = async (): Promise<string> => {
      go.send('get mixed/k');
      const line = await go.next();
      return /^value mixed\/k (\S+) /.exec(line)?.[1] ?? line;
    };
    for (let round = 0; round < 30; round++) {
      const value = `round-${round}`;
      const writer = round % 3;
      if (writer === 0) await a.put('mixed/k', value);
      else if (writer === 1) await b.put('mixed/k', value);
      else {
        go.send(`put mixed/k ${value}`);
        expect(await go.next()).toMatch(/^put mixed\/k \d+$/);
      }
      // Whether a reader answers from its cache or from etcd, it must see the write.
      expect([(await a.get('mixed/k')).kvs[0]?.value.toString(), (await b.get('mixed/k')).kvs[0]?.value.toString(), await goGet()]).toEqual([value, value, value]);
      // Readers that lost the key may hold it again after Go's 2 s backoff: let them, now and then,
      // so that later writes must revoke all three.
      if (round % 10 === 9) await sleep(2_100);
    }
    await go.finish();
  }, 60_000);
});
