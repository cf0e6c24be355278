import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { etcdServerVersion, useEtcd } from '../harness/index.js';

// The fields etcd 3.6 adds to Status, HashKV and Snapshot answers are read when a server sends
// them (test/unit/newer-fields.test.ts); the servers CI runs (3.4, 3.5) do not, and then they are absent.
const suite = useEtcd();

it('leaves the 3.6 fields out of answers from an older server, and reads the rest as before', async () => {
  const status = await suite.client.maintenance.status(suite.etcd.endpoint);
  expect(status.version).toBe(etcdServerVersion());
  expect(status.dbSize).toBeGreaterThan(0n);
  expect('storageVersion' in status || 'dbSizeQuota' in status || 'downgradeInfo' in status).toBe(false);
  const hash = await suite.client.maintenance.hashKV(suite.etcd.endpoint);
  expect('hashRevision' in hash).toBe(false);
  const dir = await mkdtemp(join(tmpdir(), 'nice-etcd-newer-'));
  try {
    const saved = await suite.client.maintenance.saveSnapshot(join(dir, 'snap.db'));
    expect(saved.size).toBeGreaterThan(0);
    expect('version' in saved).toBe(false);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
