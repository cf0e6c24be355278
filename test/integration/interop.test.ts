import { Client } from '../../src/index.js';
import { type EtcdServer, startEtcd } from '../harness/index.js';

// etcdctl is etcd's own Go client: whatever one client writes, the other must read byte for byte.
let etcd: EtcdServer;
let client: Client;

beforeAll(async () => {
  etcd = await startEtcd();
  client = new Client({ endpoints: [etcd.endpoint] });
});

afterAll(async () => {
  await client?.close();
  await etcd?.destroy();
});

/** Every byte value except newline (etcdctl's output separator). */
const binary = Buffer.from(Array.from({ length: 256 }, (_, i) => i).filter((i) => i !== 10));

it('reads with etcdctl what nice-etcd wrote, byte for byte', async () => {
  await client.put('interop/from-ts', binary);
  const { stdout, code } = await etcd.etcdctlRaw(['get', 'interop/from-ts', '--print-value-only']);
  expect(code).toBe(0);
  expect(stdout).toEqual(Buffer.concat([binary, Buffer.from('\n')]));
});

it('reads with nice-etcd what etcdctl wrote, byte for byte', async () => {
  // etcdctl takes the value from stdin when it is not given as an argument.
  const { code, stderr } = await etcd.etcdctlRaw(['put', 'interop/from-go'], { input: binary });
  expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
  const { kvs } = await client.get('interop/from-go');
  expect(kvs[0].value).toEqual(binary);
});

it('agrees with etcdctl on revisions and versions', async () => {
  await client.put('interop/rev', 'a');
  const put = await client.put('interop/rev', 'b');
  const { stdout } = await etcd.etcdctl(['get', 'interop/rev', '-w', 'json']);
  const json = JSON.parse(stdout) as { kvs: Array<{ mod_revision: number; version: number; key: string; value: string }> };
  expect(BigInt(json.kvs[0].mod_revision)).toBe(put.header.revision);
  expect(json.kvs[0].version).toBe(2);
  expect(Buffer.from(json.kvs[0].key, 'base64').toString()).toBe('interop/rev');
  expect(Buffer.from(json.kvs[0].value, 'base64').toString()).toBe('b');
});

it('sees the keys of a prefix that etcdctl wrote, in the same order', async () => {
  for (const k of ['c', 'a', 'b']) await etcd.etcdctl(['put', `interop/list/${k}`, k]);
  const { kvs } = await client.get('interop/list/', { prefix: true });
  const fromGo = (await etcd.etcdctl(['get', 'interop/list/', '--prefix', '--keys-only'])).stdout.split('\n').filter(Boolean);
  expect(kvs.map((kv) => kv.key.toString())).toEqual(fromGo);
});

it('deletes with nice-etcd what etcdctl wrote', async () => {
  await etcd.etcdctl(['put', 'interop/del', 'x']);
  expect((await client.delete('interop/del')).deleted).toBe(1n);
  expect((await etcd.etcdctl(['get', 'interop/del'])).stdout).toBe('');
});
