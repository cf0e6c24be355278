// A distributed lock around a job, with fencing. A lock holder can lose the lock without noticing
// in time (a long pause, a partition longer than its session's TTL: its lease expires and the
// next waiter takes the lock), so the lock alone does not stop a stale holder's late writes.
// Fencing does: the lock's revision (the create revision of the holder's lock key, which grows
// with each new holder) is the token, and the protected resource checks it on every write:
//   - a resource in etcd: a transaction that writes only if the holder's lock key still has that
//     revision (`mutex.isOwner()`), so a stale holder's write is refused atomically;
//   - a resource elsewhere: it remembers the highest token it has accepted and refuses lower ones.
//
// Runs against ETCD_ENDPOINTS (default 127.0.0.1:2379), e.g. `npx tsx examples/fenced-lock.ts`
// (`bash scripts/examples` starts a throwaway etcd and runs every example). Exits non-zero if a
// stale holder's write got through or the job did not run under the lock.
import { strict as assert } from 'node:assert';
import { Client, Mutex, Session, op } from 'nice-etcd';

const lockName = 'examples/lock/report-job';
const report = 'examples/lock/report';

/** A store outside etcd that refuses writes carrying an older fencing token than one it accepted. */
class FencedStore {
  private highest = 0n;
  readonly contents: string[] = [];

  write(token: bigint, line: string): boolean {
    if (token < this.highest) return false;
    this.highest = token;
    this.contents.push(line);
    return true;
  }
}

/** A job runner: its own client and session, as it would have in its own process. */
async function runner(name: string, endpoints: string[]): Promise<{ client: Client; session: Session; mutex: Mutex }> {
  const client = new Client({ endpoints, timeout: 5_000 });
  // The TTL bounds how long others wait for the lock after this runner dies or hangs.
  const session = await Session.create(client, { ttl: 2 });
  console.log(`lock: ${name} has session lease ${session.lease.toString(16)}`);
  return { client, session, mutex: new Mutex(session, lockName) };
}

/** Writes the job's result to etcd, fenced: only while `mutex` still holds the lock. */
async function publish(client: Client, mutex: Mutex, result: string): Promise<boolean> {
  const { succeeded } = await client.txn().if(mutex.isOwner()).then(op.put(report, result)).commit();
  return succeeded;
}

async function main(): Promise<void> {
  const endpoints = (process.env.ETCD_ENDPOINTS ?? '127.0.0.1:2379').split(',');
  await using admin = new Client({ endpoints, timeout: 5_000 });
  await admin.delete('examples/lock/', { prefix: true });
  const store = new FencedStore();

  const one = await runner('runner-1', endpoints);
  const two = await runner('runner-2', endpoints);
  try {
    await one.mutex.lock();
    const token1 = one.mutex.revision;
    console.log(`lock: runner-1 holds the lock, fencing token ${token1}`);
    assert.ok(store.write(token1, 'runner-1: started'), 'the holder writes to the store');

    // runner-2 waits for the lock. runner-1 stalls (here: it stops keeping its session alive, as
    // a process stuck in a long pause would), so its lease expires and runner-2 gets the lock.
    const twoLocks = two.mutex.lock();
    one.session.orphan();
    await twoLocks;
    const token2 = two.mutex.revision;
    console.log(`lock: runner-1 stalled; its lease expired and runner-2 holds the lock, fencing token ${token2}`);
    assert.ok(token2 > token1, 'a later holder has a higher token');
    assert.ok(store.write(token2, 'runner-2: done'), "the new holder's write is accepted");
    assert.ok(await publish(two.client, two.mutex, 'report by runner-2'), "the new holder's etcd write is accepted");

    // runner-1 wakes up, still believing it holds the lock, and finishes its job: both writes are refused.
    assert.equal(store.write(token1, 'runner-1: done'), false, 'the store refuses the stale token');
    assert.equal(await publish(one.client, one.mutex, 'report by runner-1'), false, 'etcd refuses the stale holder');
    console.log('lock: runner-1 woke up and tried to finish its job; both of its writes were refused');
    await two.mutex.unlock();
  } finally {
    for (const { session, client } of [one, two]) {
      await session.close();
      await client.close();
    }
  }

  const { kvs } = await admin.get(report);
  assert.equal(kvs[0]?.value.toString(), 'report by runner-2', 'the report is the current holder');
  assert.deepEqual(store.contents, ['runner-1: started', 'runner-2: done']);
  console.log(`lock: report in etcd = '${kvs[0].value}'; store contents:`, store.contents);
  await admin.delete('examples/lock/', { prefix: true });
  console.log('fenced-lock ok');
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
