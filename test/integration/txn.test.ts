import { compare, op } from '../../src/index.js';
import { DuplicateKeyError, TooManyOpsError } from '../../src/errors.js';
import { useEtcd } from '../harness/index.js';

const suite = useEtcd();

let n = 0;
const ns = () => `txn-test/${++n}/`;

it('runs the then branch when every compare holds', async () => {
  const p = ns();
  await suite.client.put(`${p}k`, 'v');
  const r = await suite.client
    .txn()
    .if(compare.value(`${p}k`, '=', 'v'))
    .then(op.put(`${p}k`, 'v2'), op.get(`${p}k`))
    .else(op.get(`${p}other`))
    .commit();
  expect(r.succeeded).toBe(true);
  expect(r.responses.map((x) => x.type)).toEqual(['put', 'get']);
  const get = r.responses[1];
  expect(get.type === 'get' && get.kvs[0].value.toString()).toBe('v2');
});

it('runs the else branch when a compare fails', async () => {
  const p = ns();
  await suite.client.put(`${p}k`, 'v');
  const r = await suite.client.txn().if(compare.value(`${p}k`, '=', 'x')).then(op.put(`${p}k`, 'never')).else(op.get(`${p}k`)).commit();
  expect(r.succeeded).toBe(false);
  expect((await suite.client.get(`${p}k`)).kvs[0].value.toString()).toBe('v');
});

it('compares version, create revision, mod revision and lease', async () => {
  const p = ns();
  const put = await suite.client.put(`${p}k`, 'v');
  const rev = put.header.revision;
  const r = await suite.client
    .txn()
    .if(
      compare.version(`${p}k`, '=', 1),
      compare.createRevision(`${p}k`, '=', rev),
      compare.modRevision(`${p}k`, '<', rev + 1n),
      compare.lease(`${p}k`, '=', 0),
      compare.exists(`${p}k`),
      compare.missing(`${p}nope`),
      compare.value(`${p}k`, '!=', 'w'),
      compare.value(`${p}k`, '>', 'u'),
    )
    .commit();
  expect(r.succeeded).toBe(true);
});

it('treats a missing key as version 0 (create if absent)', async () => {
  const p = ns();
  const create = () => suite.client.txn().if(compare.createRevision(`${p}lock`, '=', 0)).then(op.put(`${p}lock`, 'me')).commit();
  expect((await create()).succeeded).toBe(true);
  expect((await create()).succeeded).toBe(false);
});

it('compares every key of a prefix', async () => {
  const p = ns();
  await suite.client.put(`${p}a`, '1');
  await suite.client.put(`${p}b`, '1');
  const allOnes = () => suite.client.txn().if(compare.value(p, '=', '1', { prefix: true })).commit();
  expect((await allOnes()).succeeded).toBe(true);
  await suite.client.put(`${p}b`, '2');
  expect((await allOnes()).succeeded).toBe(false);
});

it('nests transactions', async () => {
  const p = ns();
  await suite.client.put(`${p}k`, 'v');
  const inner = suite.client.txn().if(compare.missing(`${p}k`)).then(op.put(`${p}inner`, 'then')).else(op.put(`${p}inner`, 'else')).toOp();
  const r = await suite.client.txn().if(compare.exists(`${p}k`)).then(inner, op.get(`${p}inner`)).commit();
  expect(r.succeeded).toBe(true);
  const nested = r.responses[0];
  expect(nested.type === 'txn' && nested.succeeded).toBe(false);
  expect((await suite.client.get(`${p}inner`)).kvs[0].value.toString()).toBe('else');
});

it('deletes inside a transaction', async () => {
  const p = ns();
  await suite.client.put(`${p}a`, '1');
  const r = await suite.client.txn().then(op.delete(p, { prefix: true, prevKv: true })).commit();
  const del = r.responses[0];
  expect(del.type === 'delete' && del.deleted).toBe(1n);
});

it('enforces the clause order if → then → else', () => {
  expect(() => suite.client.txn().then().if()).toThrow(/cannot follow/);
  expect(() => suite.client.txn().else().then()).toThrow(/cannot follow/);
});

it('rejects two writes to one key with DuplicateKeyError', async () => {
  const p = ns();
  await expect(suite.client.txn().then(op.put(`${p}k`, '1'), op.put(`${p}k`, '2')).commit()).rejects.toBeInstanceOf(DuplicateKeyError);
});

it('rejects more than 128 operations with TooManyOpsError', async () => {
  const p = ns();
  const ops = Array.from({ length: 129 }, (_, i) => op.put(`${p}${i}`, 'v'));
  await expect(suite.client.txn().then(...ops).commit()).rejects.toBeInstanceOf(TooManyOpsError);
});
