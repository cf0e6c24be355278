import { setTimeout as sleep } from 'node:timers/promises';
import { Client, op } from '../../src/index.js';
import { EtcdError, LeaseExistsError, LeaseNotFoundError, LeaseTTLTooLargeError } from '../../src/errors.js';
import { useEtcd } from '../harness/index.js';

const suite = useEtcd();

const keepAliveStreams = () => suite.etcd.metric('grpc_server_started_total', { grpc_method: 'LeaseKeepAlive' });

describe('grant, timeToLive, leases and revoke', () => {
  it('grants a lease with a server-chosen positive id', async () => {
    const lease = await suite.client.lease.grant(30);
    expect(lease.id).toBeGreaterThan(0n);
    expect(lease.ttl).toBe(30);
    const ttl = await lease.timeToLive();
    expect(ttl.grantedTtl).toBe(30);
    expect(ttl.ttl).toBeGreaterThan(0);
    expect((await suite.client.lease.leases()).ids).toContain(lease.id);
    await lease.revoke();
    expect((await suite.client.lease.timeToLive(lease.id)).ttl).toBe(-1);
  });

  it('grants a lease with the id asked for, once', async () => {
    const id = 0x1234_5678_9abc_def0n;
    const lease = await suite.client.lease.grant(10, { id });
    expect(lease.id).toBe(id);
    await expect(suite.client.lease.grant(10, { id })).rejects.toBeInstanceOf(LeaseExistsError);
    await lease.revoke();
  });

  it('lists attached keys with keys: true', async () => {
    const lease = await suite.client.lease.grant(30);
    await suite.client.put('lease/keys/a', '1', { lease: lease.id });
    await suite.client.do(op.put('lease/keys/b', '2', { lease: lease.id }));
    const { keys } = await lease.timeToLive({ keys: true });
    expect(keys.map(String).sort()).toEqual(['lease/keys/a', 'lease/keys/b']);
    await lease.revoke();
  });

  it('filters and strips attached keys in a namespace', async () => {
    const app = suite.client.namespace('lease/ns/');
    const lease = await app.lease.grant(30);
    await app.put('inside', '1', { lease: lease.id });
    await suite.client.put('lease/outside', '2', { lease: lease.id });
    expect((await app.lease.timeToLive(lease.id, { keys: true })).keys.map(String)).toEqual(['inside']);
    await lease.revoke();
  });

  it('deletes attached keys when revoked', async () => {
    const lease = await suite.client.lease.grant(30);
    await suite.client.put('lease/revoked', 'v', { lease: lease.id });
    expect((await suite.client.get('lease/revoked')).kvs[0].lease).toBe(lease.id);
    await lease.revoke();
    expect((await suite.client.get('lease/revoked')).count).toBe(0n);
  });

  it('deletes attached keys when the lease expires', async () => {
    const lease = await suite.client.lease.grant(2);
    await suite.client.put('lease/expiring', 'v', { lease: lease.id });
    await sleep(3_500);
    expect((await suite.client.get('lease/expiring')).count).toBe(0n);
  });

  it('rejects a TTL above the server maximum with LeaseTTLTooLargeError', async () => {
    await expect(suite.client.lease.grant(9_000_000_001)).rejects.toBeInstanceOf(LeaseTTLTooLargeError);
  });

  it('rejects a TTL that is not a positive whole number before sending', async () => {
    await expect(suite.client.lease.grant(0)).rejects.toThrow(/positive whole number/);
  });
});

describe('keepAliveOnce', () => {
  it('refreshes a lease once', async () => {
    const lease = await suite.client.lease.grant(20);
    const r = await suite.client.lease.keepAliveOnce(lease.id);
    expect(r.id).toBe(lease.id);
    expect(r.ttl).toBe(20);
    await lease.revoke();
  });

  it('rejects a missing lease with LeaseNotFoundError', async () => {
    await expect(suite.client.lease.keepAliveOnce(0x4242n)).rejects.toBeInstanceOf(LeaseNotFoundError);
  });
});

describe('keepAlive', () => {
  it('keeps a lease alive past its TTL and reports each answer', async () => {
    const lease = await suite.client.lease.grant(2);
    await suite.client.put('lease/kept', 'v', { lease: lease.id });
    const keepAlive = lease.keepAlive();
    const answers: number[] = [];
    const reading = (async () => {
      for await (const r of keepAlive) answers.push(r.ttl);
    })();
    await sleep(4_000);
    expect((await suite.client.get('lease/kept')).count).toBe(1n);
    keepAlive.stop();
    await reading;
    expect(await keepAlive.ended).toBe('stopped');
    expect(answers.length).toBeGreaterThanOrEqual(3);
    expect(answers.every((ttl) => ttl === 2)).toBe(true);
    await lease.revoke();
  });

  it('ends with "expired" when another client revokes the lease', async () => {
    const lease = await suite.client.lease.grant(6);
    const keepAlive = lease.keepAlive();
    await keepAlive[Symbol.asyncIterator]().next();
    await using other = new Client({ endpoints: [suite.etcd.endpoint] });
    await other.lease.revoke(lease.id);
    // The next keep-alive (TTL/3 = 2 s later at the latest) learns the lease is gone.
    expect(await keepAlive.ended).toBe('expired');
    expect(keepAlive.cause).toBeInstanceOf(LeaseNotFoundError);
  }, 20_000);

  it('ends with "stopped" when its signal aborts', async () => {
    const lease = await suite.client.lease.grant(30);
    const controller = new AbortController();
    const keepAlive = suite.client.lease.keepAlive(lease.id, { signal: controller.signal });
    controller.abort();
    expect(await keepAlive.ended).toBe('stopped');
    await lease.revoke();
  });

  it('keeps 1,000 leases alive over one stream', async () => {
    const before = await keepAliveStreams();
    const leases = [];
    for (let i = 0; i < 1000; i += 100) {
      leases.push(...(await Promise.all(Array.from({ length: 100 }, () => suite.client.lease.grant(5)))));
    }
    const handles = leases.map((l) => l.keepAlive());
    await sleep(20_000);
    const alive = await Promise.all(leases.map((l) => l.timeToLive()));
    expect(alive.filter((t) => t.ttl <= 0)).toEqual([]);
    expect(handles.filter((h) => h.reason !== undefined)).toEqual([]);
    expect((await keepAliveStreams()) - before).toBe(1);
    for (const h of handles) h.stop();
    await Promise.all(leases.map((l) => l.revoke()));
  }, 60_000);

  it('ends with "lost" when etcd is unreachable for longer than the TTL', async () => {
    const lease = await suite.client.lease.grant(3);
    const keepAlive = lease.keepAlive();
    await keepAlive[Symbol.asyncIterator]().next();
    await suite.etcd.stop();
    try {
      expect(await keepAlive.ended).toBe('lost');
      // Why: the stream's last failure while etcd was down.
      expect(keepAlive.cause).toBeInstanceOf(EtcdError);
    } finally {
      await suite.etcd.start();
    }
    // etcd counts lease TTLs again from the restart (plus an election), so the lease lives up to
    // one more TTL: wait for it to expire, then check that it is gone for good.
    let ttl = Infinity;
    for (let i = 0; i < 60 && ttl !== -1; i++) {
      ttl = (await suite.client.lease.timeToLive(lease.id)).ttl;
      if (ttl !== -1) await sleep(250);
    }
    expect(ttl).toBe(-1);
  }, 30_000);

  it('ends every keep-alive with "closed" when the client closes', async () => {
    const own = new Client({ endpoints: [suite.etcd.endpoint] });
    const lease = await own.lease.grant(30);
    const keepAlive = lease.keepAlive();
    await own.close();
    expect(await keepAlive.ended).toBe('closed');
    await suite.client.lease.revoke(lease.id);
  });
});
