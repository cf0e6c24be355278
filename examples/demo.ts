// A tour of nice-etcd against a running etcd: `npm run demo` starts one and runs this file.
// Endpoints come from ETCD_ENDPOINTS (comma-separated), default 127.0.0.1:2379.
import { Client, CompactedError, compare, op } from 'nice-etcd';

async function main(): Promise<void> {
  const endpoints = (process.env.ETCD_ENDPOINTS ?? '127.0.0.1:2379').split(',');
  await using client = new Client({ endpoints, timeout: 5_000 });

  // Keys and values: strings or bytes in, Buffers out; revisions are bigint.
  const put = await client.put('demo/greeting', 'hello, etcd');
  const { kvs } = await client.get('demo/greeting');
  console.log(`get demo/greeting = ${kvs[0].value} (mod revision ${kvs[0].modRevision}, written at ${put.header.revision})`);

  // A transaction: create the key only if it does not exist yet.
  const created = await client
    .txn()
    .if(compare.missing('demo/config'))
    .then(op.put('demo/config', '{"replicas":3}'))
    .else(op.get('demo/config'))
    .commit();
  console.log(`txn created demo/config: ${created.succeeded}`);

  // A watch on a prefix, while another part of the program writes.
  const watcher = client.watch('demo/jobs/', { prefix: true });
  await watcher.created;
  for (const job of ['build', 'test', 'deploy']) await client.put(`demo/jobs/${job}`, 'queued');
  let seen = 0;
  for await (const batch of watcher) {
    for (const event of batch.events) console.log(`watch: ${event.type} ${event.kv.key} = ${event.kv.value}`);
    seen += batch.events.length;
    if (seen >= 3) break;
  }
  await watcher.cancel();

  // A lease: keys attached to it go away when it is revoked or expires.
  const lease = await client.lease.grant(10);
  await client.put('demo/session', 'alive', { lease: lease.id });
  const keepAlive = lease.keepAlive();
  console.log(`lease ${lease.id.toString(16)} granted for ${lease.ttl} s`);
  await lease.revoke();
  console.log(`after revoke, demo/session exists: ${(await client.get('demo/session')).count > 0n}; keep-alive ended: ${await keepAlive.ended}`);

  // A namespace: the same API with every key under a prefix.
  const app = client.namespace('demo/app/');
  await app.put('name', 'nice-etcd');
  console.log(`namespaced get name = ${(await app.get('name')).kvs[0].value}; stored as demo/app/name`);

  // Errors are classes: reading a compacted revision.
  await client.compact(put.header.revision + 1n);
  try {
    await client.get('demo/greeting', { revision: put.header.revision });
  } catch (error) {
    if (error instanceof CompactedError) console.log(`compacted revision: ${error.message}`);
    else throw error;
  }

  await client.delete('demo/', { prefix: true });
  console.log('demo done');
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
