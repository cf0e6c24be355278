import { createSign, generateKeyPairSync } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuthOldRevisionError, type CallEvent, Client, ConfigError, InvalidAuthTokenError, PermissionDeniedError } from '../../src/index.js';
import { type EtcdServer, startEtcd } from '../harness/index.js';

// A ready token (Go 3.7's Config.Token): a JWT issued outside etcd, here signed by the test with
// the key pair etcd verifies JWTs with, and given to the client as `auth: { token }`.
let etcd: EtcdServer;
let keys: string;
let privateKey: string;
/** The auth store revision tokens must carry (read from a token etcd issued). */
let authRevision: number;
const rootAuth = { username: 'root', password: 'root-pw' };

beforeAll(async () => {
  keys = await mkdtemp(join(tmpdir(), 'nice-etcd-token-'));
  const pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
  privateKey = pair.privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
  await writeFile(join(keys, 'priv.pem'), privateKey);
  await writeFile(join(keys, 'pub.pem'), pair.publicKey.export({ type: 'spki', format: 'pem' }));
  etcd = await startEtcd({ args: [`--auth-token=jwt,pub-key=${join(keys, 'pub.pem')},priv-key=${join(keys, 'priv.pem')},sign-method=RS256,ttl=5m`] });
  await using setup = new Client({ endpoints: [etcd.endpoint] });
  await setup.auth.userAdd('root', rootAuth.password);
  await setup.auth.roleAdd('root');
  await setup.auth.userGrantRole('root', 'root');
  await setup.auth.roleAdd('app-rw');
  await setup.auth.roleGrantPermission('app-rw', 'readwrite', 'app/', { prefix: true });
  await setup.auth.userAdd('app', 'app-pw');
  await setup.auth.userGrantRole('app', 'app-rw');
  await setup.auth.enable();
  await using root = new Client({ endpoints: [etcd.endpoint], auth: rootAuth });
  const { token } = await root.auth.authenticate('app', 'app-pw');
  authRevision = (JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString()) as { revision: number }).revision;
});

afterAll(async () => {
  await etcd?.destroy();
  if (keys) await rm(keys, { recursive: true, force: true });
});

/** A JWT as etcd's own (RS256, claims username, revision, exp), signed here. */
function mint(username: string, claims: { revision?: number; exp?: number } = {}): string {
  const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const body = `${part({ alg: 'RS256', typ: 'JWT' })}.${part({ username, revision: claims.revision ?? authRevision, exp: claims.exp ?? Math.floor(Date.now() / 1000) + 300 })}`;
  return `${body}.${createSign('RSA-SHA256').update(body).sign(privateKey, 'base64url')}`;
}

it('calls, watches and keeps leases alive with a ready token, never authenticating', async () => {
  const calls: CallEvent[] = [];
  await using app = new Client({ endpoints: [etcd.endpoint], auth: { token: mint('app') }, onCall: (e: CallEvent) => calls.push(e) });
  const watcher = app.watch('app/', { prefix: true });
  await watcher.created;
  await app.put('app/k', 'v');
  for await (const { events } of watcher) {
    expect(events[0].kv.value.toString()).toBe('v');
    break;
  }
  await watcher.cancel();
  expect((await app.get('app/k')).kvs[0].value.toString()).toBe('v');
  const lease = await app.lease.grant(10);
  expect((await app.lease.keepAliveOnce(lease.id)).ttl).toBeGreaterThan(0);
  await app.lease.revoke(lease.id);
  await expect(app.get('other/k')).rejects.toBeInstanceOf(PermissionDeniedError);
  expect(calls.some((e) => e.method === '/etcdserverpb.Auth/Authenticate')).toBe(false);
});

it('fails with InvalidAuthTokenError on an expired token, and with AuthOldRevisionError once auth changed, without refreshing', async () => {
  const calls: CallEvent[] = [];
  await using expired = new Client({ endpoints: [etcd.endpoint], auth: { token: mint('app', { exp: Math.floor(Date.now() / 1000) - 60 }) } });
  await expect(expired.get('app/k')).rejects.toBeInstanceOf(InvalidAuthTokenError);
  await using old = new Client({ endpoints: [etcd.endpoint], auth: { token: mint('app', { revision: authRevision - 1 }) }, onCall: (e: CallEvent) => calls.push(e) });
  await expect(old.get('app/k')).rejects.toBeInstanceOf(AuthOldRevisionError);
  expect(calls.map((e) => e.method)).toEqual(['/etcdserverpb.KV/Range']);
});

it('is exclusive with a user name and password (ConfigError)', () => {
  const token = mint('app');
  expect(() => new Client({ endpoints: [etcd.endpoint], auth: { token, username: 'app', password: 'x' } as never })).toThrow(ConfigError);
  expect(() => new Client({ endpoints: [etcd.endpoint], auth: { token, password: 'x' } as never })).toThrow(ConfigError);
  expect(() => new Client({ endpoints: [etcd.endpoint], auth: { token: '' } })).toThrow(ConfigError);
});
