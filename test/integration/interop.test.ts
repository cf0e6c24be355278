import { useEtcd } from '../harness/index.js';

// etcdctl is etcd's own Go client: whatever one client writes, the other must read byte for byte.
const suite = useEtcd();

/** Every byte value except newline (etcdctl's output separator). */
const binary = Buffer.from(Array.from({ length: 256 }, (_, i) => i).filter((i) => i !== 10));

it('reads with etcdctl what nice-etcd wrote, byte for byte', async () => {
  await suite.client.put('interop/from-ts', binary);
  const { stdout, code } = await suite.etcd.etcdctlRaw(['get', 'interop/from-ts', '--print-value-only']);
  expect(code).toBe(0);
  expect(stdout).toEqual(Buffer.concat([binary, Buffer.from('\n')]));
});

it('reads with nice-etcd what etcdctl wrote, byte for byte', async () => {
  // etcdctl takes the value from stdin when it is not given as an argument.
  const { code, stderr } = await suite.etcd.etcdctlRaw(['put', 'interop/from-go'], { input: binary });
  expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
  const { kvs } = await suite.client.get('interop/from-go');
  expect(kvs[0].value).toEqual(binary);
});

it('agrees with etcdctl on revisions and versions', async () => {
  await suite.client.put('interop/rev', 'a');
  const put = await suite.client.put('interop/rev', 'b');
  const { stdout } = await suite.etcd.etcdctl(['get', 'interop/rev', '-w', 'json']);
  const json = JSON.parse(stdout) as { kvs: Array<{ mod_revision: number; version: number; key: string; value: string }> };
  expect(BigInt(json.kvs[0].mod_revision)).toBe(put.header.revision);
  expect(json.kvs[0].version).toBe(2);
  expect(Buffer.from(json.kvs[0].key, 'base64').toString()).toBe('interop/rev');
  expect(Buffer.from(json.kvs[0].value, 'base64').toString()).toBe('b');
});

it('sees the keys of a prefix that etcdctl wrote, in the same order', async () => {
  for (const k of ['c', 'a', 'b']) await suite.etcd.etcdctl(['put', `interop/list/${k}`, k]);
  const { kvs } = await suite.client.get('interop/list/', { prefix: true });
  const fromGo = (await suite.etcd.etcdctl(['get', 'interop/list/', '--prefix', '--keys-only'])).stdout.split('\n').filter(Boolean);
  expect(kvs.map((kv) => kv.key.toString())).toEqual(fromGo);
});

it('deletes with nice-etcd what etcdctl wrote', async () => {
  await suite.etcd.etcdctl(['put', 'interop/del', 'x']);
  expect((await suite.client.delete('interop/del')).deleted).toBe(1n);
  expect((await suite.etcd.etcdctl(['get', 'interop/del'])).stdout).toBe('');
});
