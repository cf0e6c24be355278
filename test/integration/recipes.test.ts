import { AbortedError, Barrier, DoubleBarrier, InvalidArgumentError, KeyExistsError, PriorityQueue, Queue, RWMutex, Session, SessionExpiredError, TooManyClientsError } from '../../src/index.js';
import { useEtcd } from '../harness/index.js';
import { describeWithGoPeer, useGoPeer } from '../harness/go-peer.js';
import { waitForWatchers } from '../harness/wait-for.js';

// Each recipe shared by nice-etcd and Go's experimental/recipes (the Go peer, test/go-peer/recipes.go):
// one group, whichever side each participant is on.
const suite = useEtcd();
const go = useGoPeer(() => [suite.etcd.endpoint]);

let n = 0;
const name = (what: string) => `recipes-test/${++n}/${what}`;

/** Tracks whether a promise has settled, to check that a waiting call is still waiting. */
function track<T>(promise: Promise<T>): { promise: Promise<T>; settled: () => boolean } {
  let settled = false;
  promise.then(
    () => (settled = true),
    () => (settled = true),
  );
  return { promise, settled: () => settled };
}

async function keysUnder(prefix: string): Promise<string[]> {
  const { kvs } = await suite.client.get(prefix, { prefix: true });
  return kvs.map((kv) => kv.key.toString());
}

// Every test starts with no watcher left on etcd, so waitForWatchers counts only its own.
beforeEach(() => waitForWatchers(suite.etcd, 0));

describeWithGoPeer('Barrier (Go: recipe.Barrier)', () => {
  it('holds Go and nice-etcd waiters until Go releases it', async () => {
    const key = name('barrier');
    await new Barrier(suite.client, key).hold();
    const goWaiter = await go.start('barrier', key);
    goWaiter.send('wait');
    const tsWaiter = track(new Barrier(suite.client, key).wait());
    await waitForWatchers(suite.etcd, 2);
    expect(tsWaiter.settled()).toBe(false);
    expect(goWaiter.lines).toEqual(['ready']);

    const goHolder = await go.start('barrier', key);
    goHolder.send('release');
    expect(await goHolder.next()).toBe('released');
    await tsWaiter.promise;
    expect(await goWaiter.next()).toBe('waited');
    expect(await keysUnder(key)).toEqual([]);
  });

  it('lets a Go waiter through when nice-etcd releases what Go held, and refuses a second hold', async () => {
    const key = name('barrier');
    const goHolder = await go.start('barrier', key);
    goHolder.send('hold');
    expect(await goHolder.next()).toBe('held');
    const barrier = new Barrier(suite.client, key);
    await expect(barrier.hold()).rejects.toBeInstanceOf(KeyExistsError);

    const goWaiter = await go.start('barrier', key);
    goWaiter.send('wait');
    await waitForWatchers(suite.etcd, 1);
    expect(goWaiter.lines).toEqual(['ready']);
    await barrier.release();
    expect(await goWaiter.next()).toBe('waited');
  });

  it('returns at once when nothing holds it, and gives up waiting when the signal aborts', async () => {
    const key = name('barrier');
    const barrier = new Barrier(suite.client, key);
    await barrier.wait();
    await barrier.hold();
    const controller = new AbortController();
    const waiting = barrier.wait({ signal: controller.signal });
    await waitForWatchers(suite.etcd, 1);
    controller.abort();
    await expect(waiting).rejects.toBeInstanceOf(AbortedError);
    await waitForWatchers(suite.etcd, 0);
    await barrier.release();
  });
});

describeWithGoPeer('DoubleBarrier (Go: recipe.DoubleBarrier)', () => {
  it('lets a group of two Go and one nice-etcd participant enter together and leave together', async () => {
    const key = name('double');
    const session = await Session.create(suite.client, { ttl: 30 });
    const goA = await go.start('double-barrier', key, '3');
    const goB = await go.start('double-barrier', key, '3');
    goA.send('enter');
    goB.send('enter');
    // Both Go participants wait for <key>/ready until the third enters.
    await waitForWatchers(suite.etcd, 2);
    expect([goA.lines, goB.lines]).toEqual([['ready'], ['ready']]);
    expect(await keysUnder(`${key}/waiters/`)).toHaveLength(2);

    const barrier = new DoubleBarrier(session, key, 3);
    await barrier.enter();
    expect(await goA.next()).toBe('entered');
    expect(await goB.next()).toBe('entered');
    expect(await keysUnder(`${key}/`)).toHaveLength(4); // three waiters and ready

    // A fourth is one too many.
    const late = await Session.create(suite.client, { ttl: 30 });
    await expect(new DoubleBarrier(late, key, 3).enter()).rejects.toBeInstanceOf(TooManyClientsError);
    await late.close();

    goA.send('leave');
    await waitForWatchers(suite.etcd, 1);
    const leaving = track(barrier.leave());
    await waitForWatchers(suite.etcd, 2);
    expect(leaving.settled()).toBe(false);
    expect(goA.lines).toEqual(['ready', 'entered']);
    goB.send('leave');
    await leaving.promise;
    expect(await goA.next()).toBe('left');
    expect(await goB.next()).toBe('left');
    expect(await keysUnder(`${key}/`)).toEqual([]);
    await session.close();
  });
});

describeWithGoPeer('Queue (Go: recipe.Queue)', () => {
  it('dequeues in order what Go enqueued, through a namespace', async () => {
    const prefix = name('queue');
    const goQueue = await go.start('queue', `ns/${prefix}`);
    for (const item of ['a', 'b', 'c']) {
      goQueue.send(`enqueue ${item}`);
      expect(await goQueue.next()).toBe(`enqueued ${item}`);
    }
    const queue = new Queue(suite.client.namespace('ns/'), prefix);
    const items = [await queue.dequeue(), await queue.dequeue(), await queue.dequeue()];
    expect(items.map(String)).toEqual(['a', 'b', 'c']);
    expect(await keysUnder(`ns/${prefix}`)).toEqual([]);
  });

  it('is dequeued in order by Go after nice-etcd enqueued', async () => {
    const prefix = name('queue');
    const queue = new Queue(suite.client, prefix);
    for (const item of ['x', 'y', 'z']) await queue.enqueue(item);
    expect(await keysUnder(`${prefix}/`)).toHaveLength(3);
    const goQueue = await go.start('queue', prefix);
    for (const item of ['x', 'y', 'z']) {
      goQueue.send('dequeue');
      expect(await goQueue.next()).toBe(`dequeued ${item}`);
    }
    await goQueue.finish(); // exits 0 once its stdin closes
  });

  it('gives each item to exactly one of several Go and nice-etcd readers', async () => {
    const prefix = name('queue');
    const items = Array.from({ length: 12 }, (_, i) => `item-${i}`);
    const queue = new Queue(suite.client, prefix);
    for (const item of items) await queue.enqueue(item);
    const goReader = await go.start('queue', prefix);
    for (let i = 0; i < 4; i++) goReader.send('dequeue');
    const fromTs = await Promise.all(Array.from({ length: 8 }, () => new Queue(suite.client, prefix).dequeue()));
    const fromGo = [];
    for (let i = 0; i < 4; i++) fromGo.push((await goReader.next()).replace(/^dequeued /, ''));
    expect([...fromTs.map(String), ...fromGo].sort()).toEqual([...items].sort());
    expect(await keysUnder(`${prefix}/`)).toEqual([]);
  });

  it('waits on an empty queue for the item Go enqueues, and gives up when the signal aborts', async () => {
    const prefix = name('queue');
    const queue = new Queue(suite.client, prefix);
    const waiting = track(queue.dequeue());
    await waitForWatchers(suite.etcd, 1);
    const goQueue = await go.start('queue', prefix);
    goQueue.send('enqueue late');
    expect(await goQueue.next()).toBe('enqueued late');
    expect(String(await waiting.promise)).toBe('late');

    const controller = new AbortController();
    const aborted = queue.dequeue({ signal: controller.signal });
    await waitForWatchers(suite.etcd, 1);
    controller.abort();
    await expect(aborted).rejects.toBeInstanceOf(AbortedError);
  });
});

describeWithGoPeer('PriorityQueue (Go: recipe.PriorityQueue)', () => {
  it('dequeues by priority, then arrival, what Go enqueued', async () => {
    const prefix = name('pq');
    const goQueue = await go.start('priority-queue', prefix);
    for (const [priority, item] of [
      [5, 'low'],
      [1, 'high-1'],
      [3, 'mid'],
      [1, 'high-2'],
    ] as const) {
      goQueue.send(`enqueue ${priority} ${item}`);
      expect(await goQueue.next()).toBe(`enqueued ${item}`);
    }
    expect(await keysUnder(`${prefix}/`)).toEqual([`${prefix}/00001/0000000000000000`, `${prefix}/00001/0000000000000001`, `${prefix}/00003/0000000000000000`, `${prefix}/00005/0000000000000000`]);
    const queue = new PriorityQueue(suite.client, prefix);
    const items = [];
    for (let i = 0; i < 4; i++) items.push(String(await queue.dequeue()));
    expect(items).toEqual(['high-1', 'high-2', 'mid', 'low']);
  });

  it('is dequeued by priority by Go after nice-etcd enqueued, and refuses a priority Go cannot hold', async () => {
    const prefix = name('pq');
    const queue = new PriorityQueue(suite.client, prefix);
    await queue.enqueue('later', 65535);
    await queue.enqueue('first', 0);
    await queue.enqueue('second', 0);
    await expect(queue.enqueue('bad', 65536)).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(queue.enqueue('bad', 1.5)).rejects.toBeInstanceOf(InvalidArgumentError);
    const goQueue = await go.start('priority-queue', prefix);
    for (const item of ['first', 'second', 'later']) {
      goQueue.send('dequeue');
      expect(await goQueue.next()).toBe(`dequeued ${item}`);
    }
  });
});

describeWithGoPeer('RWMutex (Go: recipe.RWMutex)', () => {
  it('keeps a nice-etcd writer out while Go readers hold it', async () => {
    const prefix = name('rw');
    const [readerA, readerB] = [await go.start('rwmutex', prefix), await go.start('rwmutex', prefix)];
    readerA.send('rlock');
    expect(await readerA.next()).toBe('rlocked');
    readerB.send('rlock');
    expect(await readerB.next()).toBe('rlocked'); // readers share

    const session = await Session.create(suite.client, { ttl: 30 });
    const writer = new RWMutex(session, prefix);
    const locking = track(writer.lock());
    await waitForWatchers(suite.etcd, 1);
    readerA.send('runlock');
    expect(await readerA.next()).toBe('runlocked');
    // Still excluded by reader B: the writer moves on to wait for it.
    await waitForWatchers(suite.etcd, 1);
    expect(locking.settled()).toBe(false);
    readerB.send('runlock');
    expect(await readerB.next()).toBe('runlocked');
    await locking.promise;

    // Now a Go reader waits for the nice-etcd writer.
    readerA.send('rlock');
    await waitForWatchers(suite.etcd, 1);
    expect(readerA.lines).toEqual(['ready', 'rlocked', 'runlocked']);
    await writer.unlock();
    expect(await readerA.next()).toBe('rlocked');
    await session.close();
  });

  it('serves in arrival order: a nice-etcd reader queued behind a Go writer waits for it, through a namespace', async () => {
    const prefix = name('rw');
    const session = await Session.create(suite.client.namespace('ns/'), { ttl: 30 });
    const first = new RWMutex(session, prefix);
    await first.rLock();
    expect(await keysUnder(`ns/${prefix}/read/`)).toHaveLength(1);
    const goWriter = await go.start('rwmutex', `ns/${prefix}`);
    goWriter.send('lock');
    await waitForWatchers(suite.etcd, 1);
    const reader = track(new RWMutex(session, prefix).rLock());
    await waitForWatchers(suite.etcd, 2);
    expect(reader.settled()).toBe(false);
    await first.rUnlock();
    expect(await goWriter.next()).toBe('locked');
    expect(reader.settled()).toBe(false);
    goWriter.send('unlock');
    expect(await goWriter.next()).toBe('unlocked');
    await reader.promise;
    await session.close();
  });

  it('stops waiting with SessionExpiredError when its session ends', async () => {
    const prefix = name('rw');
    const goWriter = await go.start('rwmutex', prefix);
    goWriter.send('lock');
    expect(await goWriter.next()).toBe('locked');
    const session = await Session.create(suite.client, { ttl: 6 });
    const waiting = new RWMutex(session, prefix).rLock();
    await waitForWatchers(suite.etcd, 1);
    await suite.client.lease.revoke(session.lease);
    await expect(waiting).rejects.toBeInstanceOf(SessionExpiredError);
  });

  it('gives up waiting when the signal aborts, leaving no key behind, and refuses an unlock it does not hold', async () => {
    const prefix = name('rw');
    const session = await Session.create(suite.client, { ttl: 30 });
    const holder = new RWMutex(session, prefix);
    await holder.lock();
    const controller = new AbortController();
    const waiter = new RWMutex(session, prefix);
    const waiting = waiter.rLock({ signal: controller.signal });
    await waitForWatchers(suite.etcd, 1);
    controller.abort();
    await expect(waiting).rejects.toBeInstanceOf(AbortedError);
    expect(await keysUnder(`${prefix}/`)).toHaveLength(1);
    await expect(waiter.rUnlock()).rejects.toThrow('rwmutex: not locked');
    await holder.unlock();
    expect(await keysUnder(`${prefix}/`)).toEqual([]);
    await session.close();
  });
});
