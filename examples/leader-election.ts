// A leader-elected worker: two workers campaign in one election; only the leader works, and each
// piece of work is a write fenced by its leadership (it happens only while its election key is
// still the leader's). When the leader resigns, the other takes over at once; when a leader's
// session ends (its process hangs or dies, so its lease is no longer kept alive), the other
// takes over once the lease has expired, and the old leader's late writes are refused.
//
// Runs against ETCD_ENDPOINTS (default 127.0.0.1:2379), e.g. `npx tsx examples/leader-election.ts`
// (`bash scripts/examples` starts a throwaway etcd and runs every example). Exits non-zero if
// leadership did not move as described or work was done by a worker that was not leading.
import { strict as assert } from 'node:assert';
import { AbortedError, Client, Election, Session, compare, op } from 'nice-etcd';

const election = 'examples/leader/election';
const journal = 'examples/leader/journal/';

/** A worker with its own client and session, as it would have in its own process. */
class Worker {
  readonly name: string;
  readonly session: Session;
  readonly election: Election;
  private readonly client: Client;

  private constructor(name: string, client: Client, session: Session) {
    this.name = name;
    this.client = client;
    this.session = session;
    this.election = new Election(session, election);
  }

  static async start(name: string, endpoints: string[]): Promise<Worker> {
    const client = new Client({ endpoints, timeout: 5_000 });
    // The TTL bounds how long the others wait when this worker dies without resigning.
    const session = await Session.create(client, { ttl: 2 });
    return new Worker(name, client, session);
  }

  /** Campaigns and resolves once this worker leads. */
  async campaign(): Promise<void> {
    await this.election.campaign(this.name);
    console.log(`leader: ${this.name} leads (election key created at revision ${this.election.revision})`);
  }

  /** Does one piece of work if, and only if, this worker still leads; says whether it did. */
  async work(item: number): Promise<boolean> {
    const key = this.election.key;
    if (!key) return false;
    const { succeeded } = await this.client
      .txn()
      .if(compare.createRevision(key, '=', this.election.revision))
      .then(op.put(`${journal}${String(item).padStart(4, '0')}`, this.name))
      .commit();
    return succeeded;
  }

  async close(): Promise<void> {
    await this.session.close();
    await this.client.close();
  }
}

async function main(): Promise<void> {
  const endpoints = (process.env.ETCD_ENDPOINTS ?? '127.0.0.1:2379').split(',');
  await using observer = new Client({ endpoints, timeout: 5_000 });
  await observer.delete('examples/leader/', { prefix: true });

  // Who leads, as anyone can see it: Election.observe() reports each new leader.
  const stopObserving = new AbortController();
  const leaders: string[] = [];
  const observing = (async () => {
    await using session = await Session.create(observer, { ttl: 5 });
    try {
      for await (const leader of new Election(session, election).observe({ signal: stopObserving.signal })) {
        const name = leader.kv.value.toString();
        if (leaders.at(-1) !== name) leaders.push(name);
      }
    } catch (error) {
      if (!(error instanceof AbortedError)) throw error; // stopped while it was reading
    }
  })();

  const a = await Worker.start('worker-a', endpoints);
  const b = await Worker.start('worker-b', endpoints);
  let item = 0;
  try {
    await a.campaign();
    const bLeads = b.campaign(); // waits behind worker-a
    for (let i = 0; i < 3; i++) assert.ok(await a.work(++item), 'the leader may work');

    // Failover 1: the leader resigns, the other one takes over at once.
    await a.election.resign();
    console.log('leader: worker-a resigned');
    await bLeads;
    for (let i = 0; i < 3; i++) assert.ok(await b.work(++item), 'the new leader may work');

    // Failover 2: the leader's session ends (its keep-alive stops, as when the process hangs or
    // dies); worker-a, campaigning again, leads once worker-b's lease has expired.
    const aLeadsAgain = a.campaign();
    b.session.orphan();
    console.log('leader: worker-b stopped keeping its session alive');
    await aLeadsAgain;
    assert.equal(await b.work(++item), false, "worker-b's late work is refused: it no longer leads");
    console.log('leader: worker-b tried to work after losing leadership and was refused');
    for (let i = 0; i < 3; i++) assert.ok(await a.work(++item), 'worker-a leads again and may work');
    // Give the observer up to 10 s to see the last change while worker-a still leads.
    for (let waited = 0; leaders.length < 3 && waited < 10_000; waited += 50) await new Promise((resolve) => setTimeout(resolve, 50));
  } finally {
    await a.close();
    await b.close();
  }
  stopObserving.abort();
  await observing;

  const { kvs } = await observer.get(journal, { prefix: true });
  const done = kvs.map((kv) => `${kv.key.toString().slice(journal.length)} ${kv.value}`);
  console.log(`leader: journal of work done: ${done.join(', ')}`);
  assert.deepEqual(
    kvs.map((kv) => kv.value.toString()),
    ['worker-a', 'worker-a', 'worker-a', 'worker-b', 'worker-b', 'worker-b', 'worker-a', 'worker-a', 'worker-a'],
    'only the leader of the moment worked',
  );
  assert.deepEqual(leaders, ['worker-a', 'worker-b', 'worker-a'], 'observers saw leadership move twice');
  console.log('leader: leaders observed:', leaders.join(' -> '));
  await observer.delete('examples/leader/', { prefix: true });
  console.log('leader-election ok');
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
