import { setTimeout as sleep } from 'node:timers/promises';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Client, type CallEvent, type WatchResponse } from '../../src/index.js';
import {
  AuthFailedError,
  AuthNotEnabledError,
  AuthOldRevisionError,
  FailedPreconditionError,
  InvalidAuthTokenError,
  PermissionDeniedError,
  UnimplementedError,
} from '../../src/errors.js';
import { type EtcdServer, etcdServerVersion, startEtcd } from '../harness/index.js';

// Simple tokens that expire after 2 s idle, so the tests can watch the client refresh them.
let etcd: EtcdServer;
let root: Client;
const rootAuth = { username: 'root', password: 'root-pw' };
const appAuth = { username: 'app', password: 'app-pw' };

beforeAll(async () => {
  etcd = await startEtcd({ args: ['--auth-token=simple', '--auth-token-ttl=2'] });
  await enableAuth(etcd);
  root = new Client({ endpoints: [etcd.endpoint], auth: rootAuth });
});

/** Creates root and app (readwrite on app/) and enables auth, as an operator would. */
async function enableAuth(server: EtcdServer): Promise<void> {
  await using setup = new Client({ endpoints: [server.endpoint] });
  await setup.auth.userAdd('root', rootAuth.password);
  await setup.auth.roleAdd('root');
  await setup.auth.userGrantRole('root', 'root');
  await setup.auth.roleAdd('app-rw');
  await setup.auth.roleGrantPermission('app-rw', 'readwrite', 'app/', { prefix: true });
  await setup.auth.userAdd('app', appAuth.password);
  await setup.auth.userGrantRole('app', 'app-rw');
  await setup.auth.enable();
}

afterAll(async () => {
  await root?.close();
  await etcd?.destroy();
});

describe('users limited to a prefix', () => {
  it('read and write inside the prefix and get PermissionDeniedError outside it', async () => {
    await using app = new Client({ endpoints: [etcd.endpoint], auth: appAuth });
    await app.put('app/config', 'v');
    expect((await app.get('app/config')).kvs[0].value.toString()).toBe('v');
    await expect(app.put('other/config', 'v')).rejects.toBeInstanceOf(PermissionDeniedError);
    await expect(app.get('other/config')).rejects.toBeInstanceOf(PermissionDeniedError);
    await expect(app.get('', { prefix: true })).rejects.toBeInstanceOf(PermissionDeniedError);
  });

  it('work through a namespace on their prefix', async () => {
    await using app = new Client({ endpoints: [etcd.endpoint], auth: appAuth });
    const ns = app.namespace('app/');
    await ns.put('k', 'v');
    expect((await ns.get('', { prefix: true })).count).toBeGreaterThanOrEqual(1n);
  });

  it('cannot watch outside the prefix', async () => {
    await using app = new Client({ endpoints: [etcd.endpoint], auth: appAuth });
    const watcher = app.watch('other/', { prefix: true });
    await expect(watcher.created).rejects.toBeInstanceOf(PermissionDeniedError);
  });
});

describe('authentication', () => {
  it('fails with AuthFailedError on a wrong password, without retrying', async () => {
    const events: CallEvent[] = [];
    await using wrong = new Client({ endpoints: [etcd.endpoint], auth: { username: 'app', password: 'nope' }, onCall: (e: CallEvent) => events.push(e) });
    await expect(wrong.get('app/k')).rejects.toBeInstanceOf(AuthFailedError);
    expect(events.filter((e) => e.method === '/etcdserverpb.Auth/Authenticate')).toHaveLength(1);
  });

  it('authenticates once for many concurrent calls', async () => {
    const events: CallEvent[] = [];
    await using app = new Client({ endpoints: [etcd.endpoint], auth: appAuth, onCall: (e) => events.push(e) });
    await Promise.all(Array.from({ length: 20 }, (_, i) => app.put(`app/many/${i}`, 'v')));
    expect(events.filter((e) => e.method === '/etcdserverpb.Auth/Authenticate')).toHaveLength(1);
  });

  it('keeps calls and an open watch working after the token expires', async () => {
    await using app = new Client({ endpoints: [etcd.endpoint], auth: appAuth });
    const watcher = app.watch('app/ttl/', { prefix: true });
    await watcher.created;
    await app.put('app/ttl/a', '1');
    await sleep(3_500); // the 2 s token has expired
    await app.put('app/ttl/b', '2');
    expect((await app.get('app/ttl/b')).kvs[0].value.toString()).toBe('2');
    // A new watch after expiry authenticates again.
    const later = app.watch('app/ttl/', { prefix: true });
    await later.created;
    await sleep(3_500);
    await app.put('app/ttl/c', '3');
    const seen: string[] = [];
    for await (const batch of watcher) {
      seen.push(...batch.events.map((e) => e.kv.value.toString()));
      if (seen.length === 3) break;
    }
    expect(seen).toEqual(['1', '2', '3']);
    const next = await later[Symbol.asyncIterator]().next();
    expect((next.value as WatchResponse).events.map((e) => e.kv.value.toString())).toEqual(['3']);
    await Promise.all([watcher.cancel(), later.cancel()]);
  }, 30_000);

  it('keeps a lease alive across token expiry', async () => {
    await using app = new Client({ endpoints: [etcd.endpoint], auth: appAuth });
    const lease = await app.lease.grant(3);
    const keepAlive = lease.keepAlive();
    await sleep(5_000);
    expect(keepAlive.reason).toBeUndefined();
    expect((await app.lease.timeToLive(lease.id)).ttl).toBeGreaterThan(0);
    await lease.revoke();
  }, 20_000);

  it('rejects a bad static token with InvalidAuthTokenError', async () => {
    await using bad = new Client({ endpoints: [etcd.endpoint], auth: { token: 'not-a-token' } });
    await expect(bad.get('app/k')).rejects.toBeInstanceOf(InvalidAuthTokenError);
  });

});

describe('user and role management', () => {
  it('adds, reads, changes and deletes users and roles', async () => {
    await root.auth.roleAdd('reader');
    await root.auth.roleGrantPermission('reader', 'read', 'docs/', { prefix: true });
    await root.auth.roleGrantPermission('reader', 'write', 'docs/inbox');
    const { permissions } = await root.auth.roleGet('reader');
    expect(permissions.map((p) => [p.type, p.key.toString(), p.rangeEnd.toString()])).toEqual([
      ['read', 'docs/', 'docs0'],
      ['write', 'docs/inbox', ''],
    ]);
    await root.auth.userAdd('alice', 'pw1');
    await root.auth.userGrantRole('alice', 'reader');
    expect((await root.auth.userGet('alice')).roles).toEqual(['reader']);
    expect((await root.auth.userList()).users).toEqual(expect.arrayContaining(['alice', 'app', 'root']));
    expect((await root.auth.roleList()).roles).toEqual(expect.arrayContaining(['reader', 'app-rw', 'root']));
    await root.auth.userChangePassword('alice', 'pw2');
    await using alice = new Client({ endpoints: [etcd.endpoint], auth: { username: 'alice', password: 'pw2' } });
    expect((await alice.get('docs/x')).count).toBe(0n);
    await expect(alice.put('docs/x', 'v')).rejects.toBeInstanceOf(PermissionDeniedError);
    await alice.put('docs/inbox', 'letter');
    await root.auth.roleRevokePermission('reader', 'docs/inbox');
    await expect(alice.put('docs/inbox', 'v')).rejects.toBeInstanceOf(PermissionDeniedError);
    await root.auth.userRevokeRole('alice', 'reader');
    expect((await root.auth.userGet('alice')).roles).toEqual([]);
    await root.auth.userDelete('alice');
    await root.auth.roleDelete('reader');
    expect((await root.auth.userList()).users).not.toContain('alice');
  });

  it('adds a user without a password', async () => {
    await root.auth.userAdd('cert-only', undefined);
    expect((await root.auth.userGet('cert-only')).roles).toEqual([]);
    await root.auth.userDelete('cert-only');
  });

  it('reports auth status (etcd 3.5+; older servers say UnimplementedError)', async () => {
    if (etcdServerVersion().startsWith('3.4')) {
      await expect(root.auth.status()).rejects.toBeInstanceOf(UnimplementedError);
      return;
    }
    const status = await root.auth.status();
    expect(status.enabled).toBe(true);
    expect(status.authRevision).toBeGreaterThan(0n);
  });

  it('fails with a FailedPreconditionError naming the reason for a duplicate user', async () => {
    const error = await root.auth.userAdd('app', 'x').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FailedPreconditionError);
    expect(error).toMatchObject({ reason: 'UserAlreadyExist' });
  });
});

describe('JWT tokens', () => {
  // JWTs carry the auth revision they were issued at; after an auth change etcd refuses them.
  let jwt: EtcdServer;
  let keys: string;

  beforeAll(async () => {
    keys = await mkdtemp(join(tmpdir(), 'nice-etcd-jwt-'));
    const run = promisify(execFile);
    await run('openssl', ['genrsa', '-out', join(keys, 'priv.pem'), '2048']);
    await run('openssl', ['rsa', '-in', join(keys, 'priv.pem'), '-pubout', '-out', join(keys, 'pub.pem')]);
    jwt = await startEtcd({ args: [`--auth-token=jwt,pub-key=${join(keys, 'pub.pem')},priv-key=${join(keys, 'priv.pem')},sign-method=RS256,ttl=5m`] });
    await enableAuth(jwt);
  });

  afterAll(async () => {
    await jwt?.destroy();
    await rm(keys, { recursive: true, force: true });
  });

  it('rejects a static token older than the auth store with AuthOldRevisionError', async () => {
    await using admin = new Client({ endpoints: [jwt.endpoint], auth: rootAuth });
    const { token } = await admin.auth.authenticate(appAuth.username, appAuth.password);
    await using fixed = new Client({ endpoints: [jwt.endpoint], auth: { token } });
    await fixed.put('app/static', '1');
    await admin.auth.roleAdd('bump-1'); // any auth change raises the auth revision
    await expect(fixed.put('app/static', '2')).rejects.toBeInstanceOf(AuthOldRevisionError);
  });

  it('refreshes a token made stale by an auth change, once', async () => {
    const events: CallEvent[] = [];
    await using admin = new Client({ endpoints: [jwt.endpoint], auth: rootAuth });
    await using app = new Client({ endpoints: [jwt.endpoint], auth: appAuth, onCall: (e: CallEvent) => events.push(e) });
    await app.put('app/stale', '1');
    await admin.auth.roleAdd('bump-2');
    await app.put('app/stale', '2');
    expect((await app.get('app/stale')).kvs[0].value.toString()).toBe('2');
    expect(events.filter((e) => e.method === '/etcdserverpb.Auth/Authenticate')).toHaveLength(2);
  });
});

describe('a cluster without auth', () => {
  it('ignores credentials, and says AuthNotEnabledError to an explicit authenticate', async () => {
    const plain = await startEtcd();
    try {
      await using c = new Client({ endpoints: [plain.endpoint], auth: appAuth });
      await c.put('k', 'v');
      await expect(c.auth.authenticate('app', 'x')).rejects.toBeInstanceOf(AuthNotEnabledError);
    } finally {
      await plain.destroy();
    }
  });
});
