import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Client, OrderingKV, OrderingViolationError, type OrderingViolation, switchEndpointOnViolation } from '../../src/index.js';
import { EtcdServer, tempDataDir } from '../harness/etcd';
import { describeWithGoPeer, useGoPeer } from '../harness/go-peer';
import { etcdBinary, etcdServerVersion, freePort, startEtcd } from '../harness/index.js';

// A stale member: `old` is restored from a snapshot of `current` taken before more writes, so it
// serves the same keys at an older revision, as a member restored from a backup would.
let current: EtcdServer;
let old: EtcdServer;
let snapshotRevision: bigint;
let newestRevision: bigint;
let scratch: string;

beforeAll(async () => {
  current = await startEtcd();
  scratch = await mkdtemp(join(tmpdir(), 'nice-etcd-ordering-'));
  await using writer = new Client({ endpoints: [current.endpoint] });
  snapshotRevision = (await writer.put('ordered/k', 'old')).header.revision;
  await writer.maintenance.saveSnapshot(join(scratch, 'snap.db'));
  for (let i = 0; i < 5; i++) newestRevision = (await writer.put('ordered/k', `new-${i}`)).header.revision;
  old = await restore(join(scratch, 'snap.db'));
});

afterAll(async () => {
  await Promise.all([current?.destroy(), old?.destroy()]);
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

/** Starts a single-member etcd from a snapshot file (etcdutl; etcdctl on 3.4). */
async function restore(snapshot: string): Promise<EtcdServer> {
  const name = `restored-${process.pid}`;
  const [clientPort, peerPort] = [await freePort(), await freePort()];
  const dataDir = await tempDataDir(name);
  await rm(dataDir, { recursive: true }); // restore creates it
  const peer = `http://127.0.0.1:${peerPort}`;
  const tool = etcdServerVersion().startsWith('3.4') ? etcdBinary('etcdctl') : etcdBinary('etcdutl');
  await promisify(execFile)(tool, ['snapshot', 'restore', snapshot, `--data-dir=${dataDir}`, `--name=${name}`, `--initial-cluster=${name}=${peer}`, `--initial-advertise-peer-urls=${peer}`], {
    env: { ...process.env, ETCDCTL_API: '3' },
  });
  const server = new EtcdServer(name, dataDir, clientPort, peerPort, `${name}=${peer}`, `restored-${process.pid}`, {});
  await server.start();
  return server;
}

it('the restored member really is behind', async () => {
  await using stale = new Client({ endpoints: [old.endpoint] });
  const { header, kvs } = await stale.get('ordered/k');
  expect(header.revision).toBe(snapshotRevision);
  expect(kvs[0].value.toString()).toBe('old');
  expect(newestRevision).toBeGreaterThan(snapshotRevision);
});

it('rejects a read from a member behind what it has seen with OrderingViolationError', async () => {
  await using client = new Client({ endpoints: [current.endpoint] });
  const ordered = new OrderingKV(client);
  expect((await ordered.get('ordered/k')).kvs[0].value.toString()).toBe('new-4');
  expect(ordered.revision).toBe(newestRevision);
  client.setEndpoints([old.endpoint]); // the client moves to the stale member
  const error = await ordered.get('ordered/k', { serializable: true }).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(OrderingViolationError);
  expect(error).toMatchObject({ revision: snapshotRevision, previousRevision: newestRevision, reason: 'NoGreaterRev' });
  // Transactions are checked too; writes are not (they go through the leader of their cluster).
  await expect(ordered.txn().then().commit()).rejects.toBeInstanceOf(OrderingViolationError);
  expect(ordered.revision).toBe(newestRevision);
});

it('sends a stale read again to reach a member that is up to date, with switchEndpointOnViolation', async () => {
  await using client = new Client({ endpoints: [current.endpoint, old.endpoint] });
  const violations: OrderingViolation[] = [];
  const handler = switchEndpointOnViolation(client);
  const ordered = new OrderingKV(client, (violation) => {
    violations.push(violation);
    return handler(violation);
  });
  // Until it has seen the newest revision, an answer from either member is in order.
  while (ordered.revision < newestRevision) await ordered.get('ordered/k');
  for (let i = 0; i < 10; i++) {
    const { header, kvs } = await ordered.get('ordered/k', { serializable: true });
    expect(kvs[0].value.toString()).toBe('new-4');
    expect(header.revision).toBe(newestRevision);
  }
  // Round robin takes some of the reads to the stale member; each came back and was sent again.
  expect(violations.length).toBeGreaterThan(0);
  expect(violations.every((v) => v.response.header.revision === snapshotRevision && v.previousRevision === newestRevision)).toBe(true);
});

it('gives up with OrderingViolationError when every member stays behind', async () => {
  await using client = new Client({ endpoints: [current.endpoint] });
  let attempts = 0;
  const handler = switchEndpointOnViolation(client);
  const ordered = new OrderingKV(client, (violation) => {
    attempts = violation.attempt;
    return handler(violation);
  });
  await ordered.get('ordered/k');
  client.setEndpoints([old.endpoint]);
  await expect(ordered.get('ordered/k')).rejects.toBeInstanceOf(OrderingViolationError);
  expect(attempts).toBe(6); // 5 per endpoint, then the sixth stale answer fails the read
});

describeWithGoPeer('Go\'s ordering.NewKV on the same members', () => {
  const peers = useGoPeer(() => [current.endpoint, old.endpoint]);

  it('also never reads back in time once it has seen the newest revision', async () => {
    const go = await peers.start('ordering');
    const read = async (): Promise<string> => {
      go.send('get ordered/k');
      return go.next();
    };
    // Either member may answer first; once Go has seen the newest revision, every read is new.
    while ((await read()) !== `value ${newestRevision} new-4`);
    for (let i = 0; i < 10; i++) expect(await read()).toBe(`value ${newestRevision} new-4`);
    await go.finish();
  });
});
