import { setTimeout as sleep } from 'node:timers/promises';
import { Client, InvalidArgumentError, type KV, type MirrorEvent, makeMirror, mirror, op } from '../../src/index.js';
import { describeWithGoPeer, useGoPeer } from '../harness/go-peer';
import { type EtcdServer, startEtcd } from '../harness/index.js';

// Two independent etcd servers: the source and the destination of a mirror.
let sourceEtcd: EtcdServer;
let destinationEtcd: EtcdServer;
let source: Client;
let destination: Client;

beforeAll(async () => {
  [sourceEtcd, destinationEtcd] = await Promise.all([startEtcd(), startEtcd()]);
  source = new Client({ endpoints: [sourceEtcd.endpoint] });
  destination = new Client({ endpoints: [destinationEtcd.endpoint] });
});

afterAll(async () => {
  await source?.close();
  await destination?.close();
  await Promise.all([sourceEtcd?.destroy(), destinationEtcd?.destroy()]);
});

/** Writes `count` keys `<prefix><n>` = `v<n>`, 128 per transaction. */
async function fill(kv: KV, prefix: string, count: number): Promise<void> {
  for (let i = 0; i < count; i += 128) {
    const ops = [];
    for (let j = i; j < Math.min(count, i + 128); j++) ops.push(op.put(`${prefix}${String(j).padStart(5, '0')}`, `v${j}`));
    await kv.txn().then(...ops).commit();
  }
}

/** The keys and values under a prefix, with the prefix cut off, as one comparable object. */
async function contents(kv: KV, prefix: string): Promise<Record<string, string>> {
  const { kvs } = await kv.get(prefix, { prefix: true });
  return Object.fromEntries(kvs.map((e) => [e.key.subarray(prefix.length).toString(), e.value.toString()]));
}

/** Waits until the destination's prefix holds what the source's does. */
async function converged(from: string, to: string, into: KV = destination): Promise<Record<string, string>> {
  for (;;) {
    const [a, b] = await Promise.all([contents(source, from), contents(into, to)]);
    if (JSON.stringify(a) === JSON.stringify(b)) return a;
    await sleep(100);
  }
}

describe('mirror', () => {
  it('gives the base state at one revision in key order, then every change after it', async () => {
    await fill(source, 'sync/', 2_500);
    const steps: MirrorEvent[] = [];
    let baseKeys = 0;
    let events = 0;
    for await (const step of mirror(source, 'sync/', { pageSize: 1_000 })) {
      steps.push(step);
      if (step.type === 'base') baseKeys += step.kvs.length;
      if (step.type === 'synced') {
        await source.put('sync/00001', 'changed');
        await source.delete('sync/00002');
      }
      if (step.type === 'update' && (events += step.events.length) === 2) break;
    }
    const bases = steps.filter((s) => s.type === 'base');
    expect(bases.map((s) => s.kvs.length)).toEqual([1_000, 1_000, 500]);
    expect(baseKeys).toBe(2_500);
    expect(new Set(bases.map((s) => s.revision)).size).toBe(1);
    const synced = steps.find((s) => s.type === 'synced');
    expect(synced?.revision).toBe(bases[0].revision);
    const updates = steps.flatMap((s) => (s.type === 'update' ? s.events : []));
    expect(updates.map((e) => [e.type, e.kv.key.toString()])).toEqual([
      ['put', 'sync/00001'],
      ['delete', 'sync/00002'],
    ]);
    expect(updates[0].kv.modRevision).toBe((synced?.revision ?? 0n) + 1n);
  });

  it('reads the base again when the changes it should resume from were compacted', async () => {
    await source.put('resync/a', '1');
    const first = await source.put('resync/b', '2');
    await source.delete('resync/a');
    await source.compact(first.header.revision + 1n);
    const steps: MirrorEvent[] = [];
    for await (const step of mirror(source, 'resync/', { startRevision: first.header.revision })) {
      steps.push(step);
      if (step.type === 'synced') break;
    }
    expect(steps.map((s) => s.type)).toEqual(['base', 'synced']);
    const [base] = steps;
    expect(base.type === 'base' && base.resync).toBe(true);
    expect(base.type === 'base' && base.kvs.map((kv) => kv.key.toString())).toEqual(['resync/b']);
  });

  it('stops its watch when the consumer stops iterating', async () => {
    for await (const step of mirror(source, 'early/', { startRevision: (await source.put('early/k', 'v')).header.revision })) {
      expect(step.type).toBe('update');
      break;
    }
    // Nothing is left running: the suite's clients close in afterAll and jest exits on its own.
  });
});

describe('makeMirror', () => {
  it('copies 10,000 keys to another cluster and keeps up with writes made during the copy', async () => {
    await fill(source, 'big/', 10_000);
    const controller = new AbortController();
    const copy = makeMirror(source, destination, { prefix: 'big/', destPrefix: 'copy/', signal: controller.signal });
    // Writes (puts, overwrites and deletes) go on while the base is being copied and after.
    let writes = 0;
    for (let i = 0; i < 300; i++) {
      const n = String(i * 31 % 10_000).padStart(5, '0');
      if (i % 3 === 2) await source.delete(`big/${n}`);
      else await source.put(i % 3 === 0 ? `big/new-${i}` : `big/${n}`, `during-${i}`);
      writes++;
    }
    const final = await converged('big/', 'copy/');
    controller.abort();
    const result = await copy.done;
    expect(writes).toBe(300);
    expect(Object.keys(final).length).toBe(10_000 + 100 - 100);
    expect(final['new-0']).toBe('during-0');
    expect(final['00031']).toBe('during-1');
    expect(final['00062']).toBeUndefined();
    // Every key of the base, plus each write after the base revision (writes before it are in the base).
    expect(result.applied).toBeGreaterThanOrEqual(10_000);
    expect(result.applied).toBe(copy.applied);
    expect(result.revision).toBeGreaterThan(0n);
  }, 120_000);

  it('keeps the prefix when no destPrefix is given, and says how far it got', async () => {
    await source.put('same/a', '1');
    const controller = new AbortController();
    const copy = makeMirror(source, destination, { prefix: 'same/', signal: controller.signal });
    await converged('same/', 'same/');
    const put = await source.put('same/b', '2');
    while (copy.revision < put.header.revision) await sleep(50);
    expect(await contents(destination, 'same/')).toEqual({ a: '1', b: '2' });
    controller.abort();
    expect(await copy.done).toEqual({ applied: 2, revision: put.header.revision });
  });

  it('deletes destination keys that vanished while the changes were compacted away', async () => {
    await source.put('gap/keep', 'k');
    const start = await source.put('gap/gone', 'g');
    await destination.put('gap/gone', 'g');
    await destination.put('gap/keep', 'old');
    await source.delete('gap/gone');
    await source.compact((await source.put('gap/keep', 'new')).header.revision);
    const controller = new AbortController();
    const copy = makeMirror(source, destination, { prefix: 'gap/', startRevision: start.header.revision + 1n, signal: controller.signal });
    expect(await converged('gap/', 'gap/')).toEqual({ keep: 'new' });
    controller.abort();
    await copy.done;
  });

  it('leaves its destination as etcdctl make-mirror leaves its own', async () => {
    const third = await startEtcd();
    await using etcdctlDestination = new Client({ endpoints: [third.endpoint] });
    try {
      await fill(source, 'ctl/', 300);
      const ctl = sourceEtcd.spawnEtcdctl(['make-mirror', '--prefix=ctl/', '--dest-prefix=out/', third.clientUrl]);
      const controller = new AbortController();
      const copy = makeMirror(source, destination, { prefix: 'ctl/', destPrefix: 'out/', signal: controller.signal });
      for (let i = 0; i < 60; i++) {
        const k = `ctl/${String(i * 7).padStart(5, '0')}`;
        if (i % 2) await source.delete(k);
        else await source.txn().then(op.put(k, `t${i}`), op.put(`ctl/extra-${i}`, 'x')).commit();
      }
      const ours = await converged('ctl/', 'out/');
      const theirs = await converged('ctl/', 'out/', etcdctlDestination);
      expect(ours).toEqual(theirs);
      expect([ours['00000'], ours['00007'], ours['extra-58']]).toEqual(['t0', undefined, 'x']);
      controller.abort();
      await copy.done;
      ctl.kill();
    } finally {
      await third.destroy();
    }
  });

  it('rejects a bad maxTxnOps before doing anything', () => {
    expect(() => makeMirror(source, destination, { maxTxnOps: 0 })).toThrow(InvalidArgumentError);
  });
});

describeWithGoPeer('mirror with Go on the source', () => {
  const peers = useGoPeer(() => [sourceEtcd.endpoint]);

  it('copies what a Go client writes and deletes', async () => {
    await source.put('go/existing', 'e');
    const controller = new AbortController();
    const copy = makeMirror(source, destination, { prefix: 'go/', destPrefix: 'from-go/', signal: controller.signal });
    const go = await peers.start('mirror');
    go.send('put go/written by-go');
    expect(await go.next()).toMatch(/^put go\/written \d+$/);
    go.send('delete go/existing');
    expect(await go.next()).toBe('deleted go/existing 1');
    expect(await converged('go/', 'from-go/')).toEqual({ written: 'by-go' });
    controller.abort();
    expect((await copy.done).applied).toBeGreaterThanOrEqual(2);
    await go.finish();
  });

  it('reads the same base as Go\'s mirror.Syncer', async () => {
    await fill(source, 'go-base/', 1_500);
    await source.delete('go-base/00007');
    const go = await peers.start('mirror');
    go.send('base go-base/');
    const [, , json] = /^base (\d+) (.*)$/.exec(await go.next()) ?? [];
    const ours: string[] = [];
    for await (const step of mirror(source, 'go-base/')) {
      if (step.type === 'base') ours.push(...step.kvs.map((kv) => kv.key.toString()));
      if (step.type === 'synced') break;
    }
    expect(ours).toEqual(JSON.parse(json) as string[]);
    expect(ours).toHaveLength(1_499);
    await go.finish();
  });
});
