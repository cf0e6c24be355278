// A program that uses nice-etcd as a user does, from the packed tarball: scripts/check-package
// copies this one file into a consumer project twice, as app.mts (compiled as an ES module) and
// as app.cts (compiled as CommonJS), type-checks both strictly against the installed dist/
// declarations and runs both against a throwaway etcd (ETCD_ENDPOINTS). So the file must be
// valid in both module systems: no top-level await, imports only from 'nice-etcd' and node:.
// It exits non-zero on the first expectation that does not hold.
import { strict as assert } from 'node:assert';
import {
  Client,
  CompactedError,
  EmptyKeyError,
  EtcdError,
  InvalidArgumentError,
  Mutex,
  Session,
  compare,
  op,
  prefixEnd,
  type Bytes,
  type GetResponse,
  type KeepAliveResponse,
  type KeyValue,
  type NamespacedKV,
  type TxnResponse,
  type WatchEvent,
  type WatchResponse,
} from 'nice-etcd';

const text = (kv: KeyValue | undefined): string | undefined => kv?.value.toString();

async function main(): Promise<void> {
  const endpoints = (process.env.ETCD_ENDPOINTS ?? '127.0.0.1:2379').split(',');
  const root = `consumer/${process.pid}-${Date.now()}/`;
  await using client = new Client({ endpoints, timeout: 5_000 });

  // KV: strings or bytes in, Buffers and bigints out.
  const key: Bytes = `${root}greeting`;
  const put = await client.put(key, 'hello');
  const read: GetResponse = await client.get(key);
  assert.equal(text(read.kvs[0]), 'hello');
  assert.equal(typeof read.kvs[0]?.modRevision, 'bigint');
  assert.equal(read.header.revision, put.header.revision);
  assert.deepEqual(prefixEnd('a/'), Buffer.from('a0'));

  // A transaction with compares and ops as values, and a typed op run through `do`.
  const txn: TxnResponse = await client
    .txn()
    .if(compare.missing(`${root}config`))
    .then(op.put(`${root}config`, 'v1'), op.get(key))
    .else(op.get(`${root}config`))
    .commit();
  assert.equal(txn.succeeded, true);
  const page = await client.do(op.get(root, { prefix: true, limit: 10 }));
  assert.equal(page.count, 2n);

  // Watch: events after the watch was created, in order.
  const watcher = client.watch(`${root}jobs/`, { prefix: true });
  await watcher.created;
  for (const job of ['build', 'test']) await client.put(`${root}jobs/${job}`, 'queued');
  const seen: WatchEvent[] = [];
  for await (const batch of watcher) {
    const response: WatchResponse = batch;
    seen.push(...response.events);
    if (seen.length >= 2) break;
  }
  await watcher.cancel();
  assert.deepEqual(
    seen.map((e) => `${e.type} ${e.kv.key.toString().slice(root.length)}`),
    ['put jobs/build', 'put jobs/test'],
  );

  // A lease kept alive, then revoked: its key goes, the keep-alive says why it ended.
  const lease = await client.lease.grant(10);
  await client.put(`${root}session`, 'alive', { lease: lease.id });
  const keepAlive = client.lease.keepAlive(lease.id);
  for await (const answer of keepAlive) {
    const refreshed: KeepAliveResponse = answer;
    assert.equal(refreshed.ttl > 0, true);
    break;
  }
  await client.lease.revoke(lease.id);
  assert.equal(await keepAlive.ended, 'expired');
  assert.equal((await client.get(`${root}session`)).count, 0n);

  // A namespace: the same API with the prefix added and stripped.
  const app: NamespacedKV = client.namespace(`${root}app/`);
  await app.put('name', 'nice-etcd');
  assert.equal((await app.get('name')).kvs[0]?.key.toString(), 'name');
  assert.equal(text((await client.get(`${root}app/name`)).kvs[0]), 'nice-etcd');

  // Session and Mutex, on the client and on a namespace; a fenced write.
  for (const target of [client, app]) {
    await using session = await Session.create(target, { ttl: 10 });
    const mutex = new Mutex(session, 'locks/job');
    await mutex.lock();
    const fenced = await target.txn().if(mutex.isOwner()).then(op.put('job/state', 'running')).commit();
    assert.equal(fenced.succeeded, true);
    await mutex.unlock();
  }

  // Errors are classes, and they survive the package boundary.
  await assert.rejects(client.get(''), (error: unknown) => error instanceof EmptyKeyError && error instanceof InvalidArgumentError);
  await client.compact(put.header.revision + 1n);
  await assert.rejects(
    client.get(key, { revision: put.header.revision }),
    (error: unknown) => error instanceof CompactedError && error instanceof EtcdError && error.reason === 'Compacted',
  );

  await client.delete(root, { prefix: true });
  console.log(`consumer ok (${typeof require === 'function' ? 'CommonJS' : 'ES module'})`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
