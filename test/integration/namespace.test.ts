import { Session, compare, op } from '../../src/index.js';
import { EmptyKeyError } from '../../src/errors.js';
import { useEtcd } from '../harness/index.js';

const suite = useEtcd();

let n = 0;
const ns = () => `ns-test/${++n}/`;

it('prefixes keys on the way in and strips them on the way out', async () => {
  const root = ns();
  const app = suite.client.namespace(`${root}app/`);
  await app.put('k', 'v');
  expect((await suite.client.get(`${root}app/k`)).kvs[0].value.toString()).toBe('v');
  const { kvs } = await app.get('k');
  expect(kvs[0].key.toString()).toBe('k');
});

it('reads the whole namespace with an empty key and prefix or fromKey, and nothing outside it', async () => {
  const root = ns();
  await suite.client.put(`${root}app`, 'the prefix itself, without the slash');
  await suite.client.put(`${root}app0`, 'just after the prefix');
  await suite.client.put(`${root}apo`, 'just before');
  const app = suite.client.namespace(`${root}app/`);
  await app.put('a', '1');
  await app.put('b', '2');
  for (const options of [{ prefix: true }, { fromKey: true }]) {
    const { kvs } = await app.get('', options);
    expect(kvs.map((kv) => kv.key.toString())).toEqual(['a', 'b']);
  }
  expect((await app.delete('', { fromKey: true })).deleted).toBe(2n);
  expect((await suite.client.get(root, { prefix: true })).count).toBe(3n);
});

it('maps range ends into the namespace', async () => {
  const app = suite.client.namespace(ns());
  for (const k of ['a', 'b', 'c']) await app.put(k, k);
  const { kvs } = await app.get('a', { end: 'c' });
  expect(kvs.map((kv) => kv.key.toString())).toEqual(['a', 'b']);
});

it('rewrites compares, nested txns and prevKv', async () => {
  const root = ns();
  const app = suite.client.namespace(`${root}app/`);
  await suite.client.put(`${root}k`, 'outside');
  await app.put('k', 'inside');
  const r = await app
    .txn()
    .if(compare.value('k', '=', 'inside'))
    .then(op.txn([compare.exists('k')], [op.put('k', 'updated', { prevKv: true })]), op.get('k'))
    .commit();
  expect(r.succeeded).toBe(true);
  const nested = r.responses[0];
  expect(nested.type).toBe('txn');
  if (nested.type !== 'txn') return;
  const put = nested.responses[0];
  expect(put.type === 'put' && put.prevKv?.key.toString()).toBe('k');
  const get = r.responses[1];
  expect(get.type === 'get' && get.kvs[0].key.toString()).toBe('k');
  expect((await suite.client.get(`${root}k`)).kvs[0].value.toString()).toBe('outside');
});

it('nests namespaces', async () => {
  const root = ns();
  const inner = suite.client.namespace(root).namespace('inner/');
  await inner.put('k', 'v');
  expect((await suite.client.get(`${root}inner/k`)).count).toBe(1n);
  expect((await inner.get('k')).kvs[0].key.toString()).toBe('k');
});

it('refuses an empty key without a range, like the client does', async () => {
  await expect(suite.client.namespace(ns()).get('')).rejects.toBeInstanceOf(EmptyKeyError);
});

it('watches through nested namespaces, with each prefix stripped', async () => {
  const root = ns();
  const inner = suite.client.namespace(root).namespace('inner/');
  const watcher = inner.watch('', { prefix: true, prevKv: true });
  const seen: string[] = [];
  watcher.on('put', (e) => seen.push(`${e.kv.key} ${e.prevKv?.key ?? '-'}`));
  await watcher.created;
  await suite.client.put(`${root}outside`, 'x');
  await inner.put('k', '1');
  await inner.put('k', '2');
  while (seen.length < 2) await new Promise((resolve) => setTimeout(resolve, 20));
  expect(seen).toEqual(['k -', 'k k']);
  await watcher.cancel();
});

it('lists only the lease keys inside nested namespaces, stripped, also on a lease granted there', async () => {
  const root = ns();
  const outer = suite.client.namespace(root);
  const inner = outer.namespace('inner/');
  const lease = await inner.lease.grant(30);
  await inner.put('k', 'v', { lease: lease.id });
  await outer.put('beside', 'v', { lease: lease.id });
  expect((await lease.timeToLive({ keys: true })).keys.map(String)).toEqual(['k']);
  expect((await outer.lease.timeToLive(lease.id, { keys: true })).keys.map(String).sort()).toEqual(['beside', 'inner/k']);
  await lease.revoke();
});

it('runs etcd\'s Lock service inside a nested namespace: the lock key is stored under the prefix and returned without it', async () => {
  const root = ns();
  const app = suite.client.namespace(root).namespace('app/');
  await using session = await Session.create(suite.client);
  const held = await app.lockService.lock('job', { lease: session.lease });
  expect(held.key.toString()).toBe(`job/${session.lease.toString(16)}`);
  expect((await suite.client.get(`${root}app/job/`, { prefix: true })).kvs.map((kv) => kv.key.toString())).toEqual([`${root}app/${held.key}`]);
  await app.lockService.unlock(held.key);
  expect((await suite.client.get(`${root}app/job/`, { prefix: true })).count).toBe(0n);
});

it('runs etcd\'s Election service inside a namespace: names and leader keys carry the prefix only inside etcd', async () => {
  const root = ns();
  const app = suite.client.namespace(root);
  await using session = await Session.create(suite.client);
  const observed = app.electionService.observe('leader');
  const { leader } = await app.electionService.campaign('leader', 'one', { lease: session.lease });
  expect(leader.name.toString()).toBe('leader');
  expect(leader.key.toString()).toBe(`leader/${session.lease.toString(16)}`);
  const first = await observed.next();
  expect(first.done ? undefined : first.value.kv.key.toString()).toBe(leader.key.toString());
  await app.electionService.proclaim(leader, 'two');
  const seen = await app.electionService.leader('leader');
  expect([seen.kv.key.toString(), seen.kv.value.toString()]).toEqual([leader.key.toString(), 'two']);
  expect((await suite.client.get(`${root}${leader.key}`)).kvs[0].value.toString()).toBe('two');
  await app.electionService.resign(leader);
  expect((await suite.client.get(`${root}leader/`, { prefix: true })).count).toBe(0n);
  await observed.return(undefined);
});
