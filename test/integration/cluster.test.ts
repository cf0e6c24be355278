import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { Client, SnapshotIntegrityError } from '../../src/index.js';
import { writeSnapshot } from '../../src/maintenance.js';
import { ConfigError, InvalidArgumentError, MemberNotFoundError, NoLeaderError, NoSpaceError, NotLeaderError, ServerTimeoutError, UnimplementedError } from '../../src/errors.js';
import { type EtcdCluster, type EtcdServer, etcdBinary, etcdServerVersion, startCluster, startEtcd } from '../harness/index.js';

let cluster: EtcdCluster;
let client: Client;

beforeAll(async () => {
  cluster = await startCluster(3);
  client = new Client({ endpoints: cluster.endpoints });
});

afterAll(async () => {
  await client?.close();
  await cluster?.destroy();
});

/** Repeats `fn` while it fails with the given reason (etcd's transient refusals), for up to 20 s. */
async function retryWhile<T>(reason: string, fn: () => Promise<T>): Promise<T> {
  for (let i = 0; ; i++) {
    try {
      return await fn();
    } catch (error) {
      if ((error as { reason?: string }).reason !== reason || i === 100) throw error;
      await sleep(200);
    }
  }
}

/** Polls `check` until it holds (every 100 ms, at most 20 s). */
async function waitFor(check: () => Promise<boolean>): Promise<void> {
  for (let i = 0; !(await check()); i++) {
    if (i === 200) throw new Error('the condition did not hold within 20 s');
    await sleep(100);
  }
}

describe('endpoints', () => {
  it('spreads calls over every endpoint, round robin', async () => {
    const seen = new Set<bigint>();
    for (let i = 0; i < 30; i++) seen.add((await client.get('endpoints/k', { serializable: true })).header.memberId);
    expect(seen.size).toBe(3);
  });

  it('moves new calls to a new endpoint list at run time', async () => {
    await using c = new Client({ endpoints: [cluster.members[0].endpoint] });
    const first = (await c.get('endpoints/k', { serializable: true })).header.memberId;
    c.setEndpoints([cluster.members[2].endpoint]);
    expect(c.endpoints).toEqual([cluster.members[2].endpoint]);
    const second = (await c.get('endpoints/k', { serializable: true })).header.memberId;
    expect(second).not.toBe(first);
    expect(second).toBe((await c.maintenance.status(cluster.members[2].endpoint)).header.memberId);
  });
});

describe('watch across a leader change', () => {
  it('delivers every event once, in order, while leadership moves', async () => {
    const { leader } = await client.maintenance.status();
    const { members } = await client.cluster.memberList();
    const followers = members.filter((m) => m.id !== leader);
    // Watch on a follower, on a requireLeader stream: etcd may end it while the leader moves.
    await using watching = new Client({ endpoints: [followers[0].clientUrls[0].replace('http://', '')] });
    const watcher = watching.watch('leader-change/', { prefix: true, requireLeader: true });
    await watcher.created;
    const seen: bigint[] = [];
    const reading = (async () => {
      for await (const batch of watcher) {
        seen.push(...batch.events.map((e) => e.kv.modRevision));
        if (seen.length >= 200) break;
      }
    })();
    for (let i = 0; i < 100; i++) await client.put(`leader-change/${i}`, String(i));
    await client.maintenance.moveLeader(followers[1].id);
    for (let i = 100; i < 200; i++) await retryWhile('LeaderChanged', () => client.put(`leader-change/${i}`, String(i)));
    await reading;
    expect(seen).toHaveLength(200);
    expect(new Set(seen).size).toBe(200);
    expect([...seen].sort((a, b) => (a < b ? -1 : 1))).toEqual(seen);
    expect((await client.maintenance.status()).leader).toBe(followers[1].id);
    await watcher.cancel();
  });
});

describe('cluster', () => {
  it('lists the members etcdctl lists', async () => {
    const { members } = await client.cluster.memberList();
    const { stdout } = await cluster.members[0].etcdctl(['member', 'list', '-w', 'json']);
    // etcdctl prints ids as JSON numbers, which lose precision: compare them as hex strings instead.
    const hex = await cluster.members[0].etcdctl(['member', 'list', '-w', 'simple']);
    const fromGo = JSON.parse(stdout) as { members: Array<{ name: string; peerURLs: string[]; clientURLs: string[] }> };
    expect(members.map((m) => m.name).sort()).toEqual(fromGo.members.map((m) => m.name).sort());
    expect(members.map((m) => m.clientUrls[0]).sort()).toEqual(cluster.members.map((m) => m.clientUrl).sort());
    for (const m of members) expect(hex.stdout).toContain(m.id.toString(16));
    expect(members.every((m) => !m.isLearner)).toBe(true);
    expect((await client.cluster.memberList({ serializable: true })).members).toHaveLength(3);
  });

  it('checks peer URLs before sending', async () => {
    await expect(client.cluster.memberAdd(['not a url'])).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(client.cluster.memberAdd(['ftp://127.0.0.1:1'])).rejects.toThrow(/expected http\(s\):\/\/host:port/);
  });

  it('fails to remove a member that does not exist with MemberNotFoundError', async () => {
    await expect(client.cluster.memberRemove(0x1234n)).rejects.toBeInstanceOf(MemberNotFoundError);
  });

  it('adds a learner, promotes it once it caught up, and removes it', async () => {
    const joining = await cluster.prepareMember(`learner-${process.pid}`);
    // etcd refuses membership changes until every member has been up for a while ("unhealthy cluster").
    const added = await retryWhile('Unhealthy', () => client.cluster.memberAdd([joining.peerUrl], { learner: true }));
    expect(added.member.isLearner).toBe(true);
    expect(added.members).toHaveLength(4);
    const learner = await joining.join(added.members);
    try {
      await client.put('cluster/learner', 'replicated');
      const promoted = await retryWhile('LearnerNotReady', () => client.cluster.memberPromote(added.member.id));
      expect(promoted.members.find((m) => m.id === added.member.id)?.isLearner).toBe(false);
      // etcd 3.4 serves MemberList from the member asked, which may not have applied the promotion yet.
      await waitFor(async () => (await client.cluster.memberList()).members.find((m) => m.id === added.member.id)?.isLearner === false);
      const status = await client.maintenance.status(learner.endpoint);
      expect(status.header.memberId).toBe(added.member.id);
      await client.cluster.memberUpdate(added.member.id, [joining.peerUrl]);
      const removed = await retryWhile('Unhealthy', () => client.cluster.memberRemove(added.member.id));
      expect(removed.members.map((m) => m.id)).not.toContain(added.member.id);
    } finally {
      cluster.members.splice(cluster.members.indexOf(learner), 1);
      await learner.destroy();
    }
  }, 60_000);
});

describe('maintenance', () => {
  it('reaches each member by its endpoint: status, hashKV, hash, defragment', async () => {
    const { members } = await client.cluster.memberList();
    const put = await client.put('maint/k', 'v');
    const hashes = new Set<number>();
    for (const server of cluster.members) {
      const status = await client.maintenance.status(server.endpoint);
      const member = members.find((m) => m.clientUrls.includes(server.clientUrl));
      expect(status.header.memberId).toBe(member?.id);
      expect(status.version).toBe(etcdServerVersion());
      expect(status.leader).not.toBe(0n);
      expect(status.dbSize).toBeGreaterThan(0n);
      const { hash } = await client.maintenance.hashKV(server.endpoint, put.header.revision);
      hashes.add(hash);
      expect((await client.maintenance.hash(server.endpoint)).header.memberId).toBe(member?.id);
      await client.maintenance.defragment(server.endpoint);
    }
    expect(hashes.size).toBe(1);
  });

  it('refuses an endpoint that is not one at once, with ConfigError, instead of waiting out the timeout', async () => {
    const started = Date.now();
    const timeout = 30_000;
    await expect(client.maintenance.status('not a url', { timeout })).rejects.toBeInstanceOf(ConfigError);
    await expect(client.maintenance.hashKV('x', 0, { timeout })).rejects.toThrow(/no port/);
    await expect(client.maintenance.defragment('http://', { timeout })).rejects.toBeInstanceOf(ConfigError);
    await expect(client.maintenance.hash('10.0.0.1:99999', { timeout })).rejects.toBeInstanceOf(ConfigError);
    await expect(client.maintenance.moveLeader(1n, { endpoint: 'not a url', timeout })).rejects.toBeInstanceOf(ConfigError);
    // Four refusals together took far less than one timeout: nothing was dialled.
    expect(Date.now() - started).toBeLessThan(timeout / 3);
  });

  it('lists no alarms on a healthy cluster, and disarming none is a no-op', async () => {
    expect((await client.maintenance.alarms()).alarms).toEqual([]);
    expect((await client.maintenance.disarm()).alarms).toEqual([]);
  });

  it('moves the leader to another member', async () => {
    const { leader } = await client.maintenance.status();
    const { members } = await client.cluster.memberList();
    const target = members.find((m) => m.id !== leader)!;
    const follower = members.find((m) => m.id !== leader && m.id !== target.id)!;
    await expect(client.maintenance.moveLeader(target.id, { endpoint: follower.clientUrls[0] })).rejects.toBeInstanceOf(NotLeaderError);
    // A loaded etcd 3.4 may give up on a transfer (its election timeout is short); asking again is safe.
    await retryWhile('TimeoutLeaderTransfer', () => client.maintenance.moveLeader(target.id));
    expect((await client.maintenance.status(target.clientUrls[0])).leader).toBe(target.id);
  });

  it('saves a snapshot that etcd\'s own tools accept', async () => {
    await client.put('maint/snap', 'in the snapshot');
    const dir = await mkdtemp(join(tmpdir(), 'nice-etcd-snap-'));
    try {
      // Snapshots come from one member: use a client with exactly one endpoint.
      await using single = new Client({ endpoints: [cluster.members[0].endpoint] });
      const path = join(dir, 'backup.db');
      const { size } = await single.maintenance.saveSnapshot(path);
      expect((await stat(path)).size).toBe(size);
      const tool = etcdServerVersion().startsWith('3.4') ? [etcdBinary('etcdctl'), ['snapshot', 'status', path, '-w', 'json']] as const : [etcdBinary('etcdutl'), ['snapshot', 'status', path, '-w', 'json']] as const;
      const { stdout } = await promisify(execFile)(tool[0], [...tool[1]], { env: { ...process.env, ETCDCTL_API: '3' } });
      const status = JSON.parse(stdout) as { totalKey: number; revision: number };
      expect(status.totalKey).toBeGreaterThan(0);
      expect(status.revision).toBeGreaterThan(0);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('snapshot integrity', () => {
  it('refuses to save a snapshot whose sha256 does not match, leaving no file behind', async () => {
    await using single = new Client({ endpoints: [cluster.members[1].endpoint] });
    const chunks: Buffer[] = [];
    for await (const chunk of single.maintenance.snapshot()) chunks.push(chunk);
    const bytes = Buffer.concat(chunks);
    bytes[100] ^= 0xff; // one flipped bit in the database part
    const dir = await mkdtemp(join(tmpdir(), 'nice-etcd-snap-'));
    try {
      const path = join(dir, 'corrupt.db');
      const feed = async function* () {
        yield bytes.subarray(0, 4096);
        yield bytes.subarray(4096);
      };
      await expect(writeSnapshot(path, feed())).rejects.toBeInstanceOf(SnapshotIntegrityError);
      await expect(writeSnapshot(path, (async function* () { yield bytes.subarray(0, 1000); })())).rejects.toThrow(/no trailing sha256/);
      expect(await readdir(dir)).toEqual([]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('alarms and downgrades', () => {
  let small: EtcdServer;
  beforeAll(async () => {
    small = await startEtcd({ args: ['--quota-backend-bytes=4194304'] });
  });
  afterAll(() => small?.destroy());

  it('raises NOSPACE when the quota is reached, with NoSpaceError, until compacted, defragmented and disarmed', async () => {
    await using c = new Client({ endpoints: [small.endpoint] });
    let error: unknown;
    for (let i = 0; i < 100 && !error; i++) error = await c.put(`big/${i}`, Buffer.alloc(500_000)).then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(NoSpaceError);
    const { alarms } = await c.maintenance.alarms();
    expect(alarms).toEqual([{ memberId: (await c.maintenance.status()).header.memberId, alarm: 'nospace' }]);
    const { header } = await c.delete('big/', { prefix: true });
    await c.compact(header.revision, { physical: true });
    await c.maintenance.defragment(small.endpoint);
    await c.maintenance.disarm();
    expect((await c.maintenance.alarms()).alarms).toEqual([]);
    await c.put('after/alarm', 'writable again');
  });

  it('validates a downgrade target (etcd 3.5+; older servers say UnimplementedError)', async () => {
    await using c = new Client({ endpoints: [small.endpoint] });
    if (etcdServerVersion().startsWith('3.4')) {
      await expect(c.maintenance.downgrade('validate', '3.3')).rejects.toBeInstanceOf(UnimplementedError);
      return;
    }
    const minor = etcdServerVersion().split('.').slice(0, 2).join('.');
    const previous = `3.${Number(minor.split('.')[1]) - 1}`;
    expect((await c.maintenance.downgrade('validate', previous)).version).toMatch(/^3\.\d+\.\d+$/);
    await expect(c.maintenance.downgrade('validate', 'x')).rejects.toMatchObject({ reason: 'WrongDowngradeVersionFormat' });
    await expect(c.maintenance.downgrade('cancel', previous)).rejects.toMatchObject({ reason: 'NoInflightDowngrade' });
  });
});

describe('a cluster that lost its quorum', () => {
  it('fails writes on the old leader with ServerTimeoutError and requireLeader calls with NoLeaderError', async () => {
    const small = await startCluster(3);
    try {
      const leader = await small.leader();
      await using c = new Client({ endpoints: [leader.endpoint], retry: { maxAttempts: 1 }, timeout: 20_000 });
      await c.put('quorum/k', 'v');
      await Promise.all(small.members.filter((m) => m !== leader).map((m) => m.stop()));
      // The leader accepts the write but can never commit it: etcd gives up after its request timeout.
      await expect(c.put('quorum/k', 'lost')).rejects.toBeInstanceOf(ServerTimeoutError);
      // By now it has stepped down, and has no leader to follow.
      await expect(c.get('quorum/k', { requireLeader: true, serializable: true })).rejects.toBeInstanceOf(NoLeaderError);
      // Without requireLeader a serializable read is still served from the member's own data.
      expect((await c.get('quorum/k', { serializable: true })).kvs[0].value.toString()).toBe('v');
    } finally {
      await small.destroy();
    }
  }, 60_000);
});
