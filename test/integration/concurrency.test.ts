import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client, Election, Mutex, Session, compare, op, stm, type Isolation } from '../../src/index.js';
import { AbortedError, ElectionNoLeaderError, ElectionNotLeaderError, LockReleasedError, LockedError, SessionExpiredError, StmConflictError } from '../../src/errors.js';
import { useEtcd } from '../harness/index.js';

const suite = useEtcd();

let n = 0;
const name = (what: string) => `conc-test/${++n}/${what}`;

/**
 * Resolves with the first line an etcdctl process prints. Its output keeps being read: a closed
 * pipe would kill etcdctl (SIGPIPE) before it could release its lock or resign.
 */
function firstLine(child: import('node:child_process').ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (chunk) => {
      out += String(chunk);
      if (out.includes('\n')) resolve(out.split('\n')[0]);
    });
    child.once('exit', () => reject(new Error(`etcdctl ended without output: ${out}`)));
  });
}

async function stopEtcdctl(child: import('node:child_process').ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  await once(child, 'exit');
}

describe('Session', () => {
  it('keeps its lease alive and revokes it on close', async () => {
    const session = await Session.create(suite.client, { ttl: 5 });
    expect(session.lease).toBeGreaterThan(0n);
    await suite.client.put(name('owned'), 'v', { lease: session.lease });
    await session.close();
    expect(await session.done).toBe('stopped');
    expect((await suite.client.lease.timeToLive(session.lease)).ttl).toBe(-1);
  });

  it('reports the end of its lease through done and signal', async () => {
    // The next keep-alive (TTL/3 after the last) learns that the lease is gone.
    const session = await Session.create(suite.client, { ttl: 6 });
    await suite.client.lease.revoke(session.lease);
    expect(await session.done).toBe('expired');
    expect(session.signal.aborted).toBe(true);
  }, 20_000);

  it('leaves the lease alive when orphaned', async () => {
    const session = await Session.create(suite.client, { ttl: 30 });
    session.orphan();
    expect((await suite.client.lease.timeToLive(session.lease)).ttl).toBeGreaterThan(0);
    await suite.client.lease.revoke(session.lease);
  });
});

describe('Mutex', () => {
  it('writes the key Go writes: <prefix>/<lease id in hex>, empty, on the lease', async () => {
    await using session = await Session.create(suite.client);
    const lockName = name('layout');
    const mutex = await new Mutex(session, lockName).lock();
    const { kvs } = await suite.client.get(`${lockName}/`, { prefix: true });
    expect(kvs.map((kv) => kv.key.toString())).toEqual([`${lockName}/${session.lease.toString(16)}`]);
    expect(kvs[0].value.length).toBe(0);
    expect(kvs[0].lease).toBe(session.lease);
    await mutex.unlock();
  });

  it('keeps a counter exact under 10 clients incrementing it 50 times each', async () => {
    const lockName = name('counter-lock');
    const counter = name('counter');
    await suite.client.put(counter, '0');
    const clients = Array.from({ length: 10 }, () => new Client({ endpoints: [suite.etcd.endpoint] }));
    try {
      await Promise.all(
        clients.map(async (c) => {
          await using session = await Session.create(c, { ttl: 10 });
          const mutex = new Mutex(session, lockName);
          for (let i = 0; i < 50; i++) {
            await mutex.lock();
            // Read-modify-write with no transaction: only the lock keeps it correct.
            const value = Number((await c.get(counter)).kvs[0].value.toString());
            await c.put(counter, String(value + 1));
            await mutex.unlock();
          }
        }),
      );
    } finally {
      await Promise.all(clients.map((c) => c.close()));
    }
    expect((await suite.client.get(counter)).kvs[0].value.toString()).toBe('500');
  }, 60_000);

  it('fails tryLock at once with LockedError and leaves no key behind', async () => {
    const lockName = name('try');
    await using a = await Session.create(suite.client);
    await using b = await Session.create(suite.client);
    const held = await new Mutex(a, lockName).lock();
    await expect(new Mutex(b, lockName).tryLock()).rejects.toBeInstanceOf(LockedError);
    expect((await suite.client.get(`${lockName}/`, { prefix: true })).count).toBe(1n);
    await held.unlock();
    const mine = await new Mutex(b, lockName).tryLock();
    await mine.unlock();
  });

  it('fences writes with isOwner()', async () => {
    const lockName = name('fence');
    await using session = await Session.create(suite.client);
    const mutex = await new Mutex(session, lockName).lock();
    const fenced = () => suite.client.txn().if(mutex.isOwner()).then(op.put(name('fenced'), 'x')).commit();
    expect((await fenced()).succeeded).toBe(true);
    // Someone deletes our lock key (an operator, or our lease expired during a pause).
    await suite.client.delete(mutex.key);
    expect((await suite.client.txn().if(compare.createRevision(mutex.key, '=', mutex.revision)).commit()).succeeded).toBe(false);
    await expect(mutex.unlock()).rejects.toBeInstanceOf(LockReleasedError);
  });

  it('queues waiters in create-revision order', async () => {
    const lockName = name('fifo');
    const sessions = await Promise.all(Array.from({ length: 4 }, () => Session.create(suite.client)));
    const order: number[] = [];
    const first = await new Mutex(sessions[0], lockName).lock();
    const waiters = [];
    for (let i = 1; i < 4; i++) {
      const mutex = new Mutex(sessions[i], lockName);
      waiters.push(mutex.lock().then(async () => {
        order.push(i);
        await mutex.unlock();
      }));
      // Queue the next waiter only once this one's key exists, so the create order is known.
      while ((await suite.client.get(`${lockName}/`, { prefix: true, countOnly: true })).count < BigInt(i + 1)) await sleep(10);
    }
    await first.unlock();
    await Promise.all(waiters);
    expect(order).toEqual([1, 2, 3]);
    await Promise.all(sessions.map((s) => s.close()));
  });

  it('fails a waiting lock with SessionExpiredError when the session lease is revoked', async () => {
    const lockName = name('expire');
    await using holder = await Session.create(suite.client);
    const waiterSession = await Session.create(suite.client, { ttl: 6 });
    await new Mutex(holder, lockName).lock();
    const waiting = new Mutex(waiterSession, lockName).lock();
    await sleep(200);
    await suite.client.lease.revoke(waiterSession.lease);
    await expect(waiting).rejects.toBeInstanceOf(SessionExpiredError);
  }, 20_000);

  it('stops waiting when the signal aborts and removes its key', async () => {
    const lockName = name('abort');
    await using holder = await Session.create(suite.client);
    await using waiter = await Session.create(suite.client);
    await new Mutex(holder, lockName).lock();
    const controller = new AbortController();
    const waiting = new Mutex(waiter, lockName).lock({ signal: controller.signal });
    await sleep(100);
    controller.abort();
    await expect(waiting).rejects.toBeInstanceOf(AbortedError);
    expect((await suite.client.get(`${lockName}/`, { prefix: true })).count).toBe(1n);
  });

  it('is released at the end of an await using scope', async () => {
    const lockName = name('using');
    await using session = await Session.create(suite.client);
    {
      await using _held = await new Mutex(session, lockName).lock();
      expect((await suite.client.get(`${lockName}/`, { prefix: true })).count).toBe(1n);
    }
    expect((await suite.client.get(`${lockName}/`, { prefix: true })).count).toBe(0n);
  });

  it('works inside a namespace', async () => {
    const root = name('ns');
    const app = suite.client.namespace(`${root}/`);
    await using session = await Session.create(app);
    const mutex = await new Mutex(session, 'lock').lock();
    expect((await suite.client.get(`${root}/lock/`, { prefix: true })).count).toBe(1n);
    await mutex.unlock();
  });
});

describe('interoperability with etcdctl lock', () => {
  it('excludes etcdctl while nice-etcd holds the lock', async () => {
    const lockName = name('ctl-a');
    await using session = await Session.create(suite.client);
    const mutex = await new Mutex(session, lockName).lock();
    const ctl = suite.etcd.spawnEtcdctl(['lock', lockName]);
    try {
      const acquired = firstLine(ctl);
      let acquiredYet = false;
      void acquired.then(() => (acquiredYet = true), () => undefined);
      await sleep(1_500);
      expect(acquiredYet).toBe(false);
      await mutex.unlock();
      expect(await acquired).toMatch(new RegExp(`^${lockName}/[0-9a-f]+$`));
    } finally {
      await stopEtcdctl(ctl);
    }
  });

  it('is excluded while etcdctl holds the lock', async () => {
    const lockName = name('ctl-b');
    const ctl = suite.etcd.spawnEtcdctl(['lock', lockName]);
    try {
      const key = await firstLine(ctl);
      await using session = await Session.create(suite.client);
      await expect(new Mutex(session, lockName).tryLock()).rejects.toBeInstanceOf(LockedError);
      const waiting = new Mutex(session, lockName).lock();
      let acquired = false;
      void waiting.then(() => (acquired = true));
      await sleep(1_000);
      expect(acquired).toBe(false);
      // etcdctl deletes its key when it gets SIGTERM.
      await stopEtcdctl(ctl);
      const mutex = await waiting;
      expect(mutex.key.toString()).not.toBe(key);
      await mutex.unlock();
    } finally {
      await stopEtcdctl(ctl);
    }
  });

  it('excludes and is excluded by etcd\'s Lock service', async () => {
    const lockName = name('service');
    await using session = await Session.create(suite.client);
    await using other = await Session.create(suite.client);
    const held = await suite.client.lockService.lock(lockName, { lease: other.lease });
    await expect(new Mutex(session, lockName).tryLock()).rejects.toBeInstanceOf(LockedError);
    await suite.client.lockService.unlock(held.key);
    const mutex = await new Mutex(session, lockName).tryLock();
    await expect(suite.client.lockService.lock(lockName, { lease: other.lease, timeout: 500 })).rejects.toMatchObject({ reason: 'DeadlineExceeded' });
    await mutex.unlock();
  });
});

describe('Election', () => {
  it('elects the first candidate and passes leadership on resign, as observe() shows', async () => {
    const electionName = name('election');
    await using a = await Session.create(suite.client);
    await using b = await Session.create(suite.client);
    const first = new Election(a, electionName);
    const second = new Election(b, electionName);
    await first.campaign('alpha');
    const observer = new AbortController();
    const seen: string[] = [];
    const observing = (async () => {
      for await (const leader of new Election(a, electionName).observe({ signal: observer.signal })) {
        seen.push(leader.kv.value.toString());
        if (seen.length === 3) observer.abort();
      }
    })().catch(() => undefined);
    const campaigning = second.campaign('beta');
    await sleep(200);
    expect((await first.leader()).kv.value.toString()).toBe('alpha');
    await first.proclaim('alpha-2');
    await first.resign();
    await campaigning;
    expect((await second.leader()).kv.value.toString()).toBe('beta');
    await observing;
    expect(seen).toEqual(['alpha', 'alpha-2', 'beta']);
    await second.resign();
    await expect(second.leader()).rejects.toBeInstanceOf(ElectionNoLeaderError);
  });

  it('refuses proclaim from a candidate that does not lead', async () => {
    await using session = await Session.create(suite.client);
    await expect(new Election(session, name('nobody')).proclaim('x')).rejects.toBeInstanceOf(ElectionNotLeaderError);
  });

  it('agrees with etcdctl elect on the leader, both ways', async () => {
    const electionName = name('ctl-elect');
    const ctl = suite.etcd.spawnEtcdctl(['elect', electionName, 'from-go']);
    try {
      const key = await firstLine(ctl);
      await using session = await Session.create(suite.client);
      const mine = new Election(session, electionName);
      const leader = await mine.leader();
      expect(leader.kv.key.toString()).toBe(key);
      expect(leader.kv.value.toString()).toBe('from-go');
      const campaigning = mine.campaign('from-ts');
      await sleep(500);
      await stopEtcdctl(ctl); // etcdctl resigns on SIGTERM
      await campaigning;
      const observer = suite.etcd.spawnEtcdctl(['elect', '-l', electionName]);
      try {
        const line = await firstLine(observer);
        expect(line).toBe(`${electionName}/${session.lease.toString(16)}`);
      } finally {
        await stopEtcdctl(observer);
      }
      await mine.resign();
    } finally {
      await stopEtcdctl(ctl);
    }
  });

  it('works through etcd\'s Election service', async () => {
    const electionName = name('service-election');
    await using session = await Session.create(suite.client);
    const { leader } = await suite.client.electionService.campaign(electionName, 'svc', { lease: session.lease });
    expect(leader.key.toString()).toBe(`${electionName}/${session.lease.toString(16)}`);
    expect((await new Election(session, electionName).leader()).kv.value.toString()).toBe('svc');
    await suite.client.electionService.proclaim(leader, 'svc-2');
    expect((await suite.client.electionService.leader(electionName)).kv.value.toString()).toBe('svc-2');
    await suite.client.electionService.resign(leader);
  });
});

describe('stm', () => {
  async function transfers(isolation: Isolation): Promise<bigint> {
    const p = name(`bank-${isolation}`);
    const accounts = Array.from({ length: 10 }, (_, i) => `${p}/${i}`);
    for (const a of accounts) await suite.client.put(a, '100');
    const clients = Array.from({ length: 5 }, () => new Client({ endpoints: [suite.etcd.endpoint] }));
    try {
      await Promise.all(
        clients.map(async (c, w) => {
          for (let t = 0; t < 20; t++) {
            const from = accounts[(w * 7 + t * 3) % 10];
            const to = accounts[(w * 3 + t * 7 + 1) % 10];
            if (from === to) continue;
            await stm(
              c,
              async (tx) => {
                const a = Number((await tx.get(from))!.toString());
                const b = Number((await tx.get(to))!.toString());
                tx.put(from, String(a - 7));
                tx.put(to, String(b + 7));
              },
              { isolation, maxAttempts: 1_000 },
            );
          }
        }),
      );
    } finally {
      await Promise.all(clients.map((c) => c.close()));
    }
    const { kvs } = await suite.client.get(`${p}/`, { prefix: true });
    return kvs.reduce((sum, kv) => sum + BigInt(kv.value.toString()), 0n);
  }

  it.each(['serializableSnapshot', 'serializable', 'repeatableReads'] as const)(
    'keeps the sum of 10 accounts constant under concurrent transfers (%s)',
    async (isolation) => {
      expect(await transfers(isolation)).toBe(1000n);
    },
    60_000,
  );

  it('reads prefetched keys and returns the function result', async () => {
    const k = name('stm-result');
    await suite.client.put(k, '41');
    const result = await stm(suite.client, async (tx) => {
      const v = Number((await tx.get(k))!.toString()) + 1;
      tx.put(k, String(v));
      return v;
    }, { prefetch: [k] });
    expect(result).toBe(42);
    expect((await suite.client.get(k)).kvs[0].value.toString()).toBe('42');
  });

  it('sees its own buffered writes and deletes', async () => {
    const k = name('stm-own');
    await stm(suite.client, async (tx) => {
      tx.put(k, 'a');
      expect((await tx.get(k))?.toString()).toBe('a');
      tx.delete(k);
      expect(await tx.get(k)).toBeUndefined();
    });
    expect((await suite.client.get(k)).count).toBe(0n);
  });

  it('gives up with StmConflictError when every attempt conflicts', async () => {
    const k = name('stm-conflict');
    await suite.client.put(k, '0');
    let runs = 0;
    const error = await stm(suite.client, async (tx) => {
      const v = Number((await tx.get(k))!.toString());
      await suite.client.put(k, String(v + 100)); // another writer gets in between, every time
      runs++;
      tx.put(k, String(v + 1));
    }, { maxAttempts: 3 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StmConflictError);
    expect(runs).toBe(3);
    expect((await suite.client.get(k)).kvs[0].value.toString()).toBe('300');
  });

  it('works inside a namespace', async () => {
    const root = name('stm-ns');
    const app = suite.client.namespace(`${root}/`);
    await stm(app, async (tx) => tx.put('k', 'v'));
    expect((await suite.client.get(`${root}/k`)).kvs[0].value.toString()).toBe('v');
  });
});
