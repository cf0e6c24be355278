import { rm } from 'node:fs/promises';
import { type EtcdServer, TestDnsServer, etcdServerVersion, makeCerts, startEtcd, useEtcd } from '../harness/index.js';
import { etcdctl, niceEtcd } from './cli-run.js';

// `nice-etcd` beside etcdctl 3.5.16 (the reference, whatever etcd version the suite runs): the same command on the same data prints the same bytes.
// Reads are compared on one server, in the same state. Writes change the state, so they run on
// twin servers started fresh: etcdctl on one, nice-etcd on the other, the same commands in the
// same order, which gives the same revisions; only what differs between two servers by chance
// (the random cluster and member ids, lease ids) is replaced before comparing.
const suite = useEtcd();
/** etcd 3.4 has no AuthStatus RPC (`auth status` fails there with either tool). */
const hasAuthStatus = !etcdServerVersion().startsWith('3.4');

/** Runs etcdctl and nice-etcd with the same arguments and returns both results. */
async function both(etcd: EtcdServer, args: string[], input?: string) {
  const [go, ts] = [await etcdctl(etcd, args, { input }), await niceEtcd(etcd, args, { input })];
  return { go, ts };
}

/** Expects nice-etcd to print exactly what etcdctl prints (stdout, exit status) for `args`. */
async function expectSame(etcd: EtcdServer, args: string[], input?: string): Promise<string> {
  const { go, ts } = await both(etcd, args, input);
  expect({ args, etcdctl: go.code }).toEqual({ args, etcdctl: 0 });
  expect({ args, stdout: ts.stdout.toString('latin1'), failed: ts.code !== 0 }).toEqual({ args, stdout: go.stdout.toString('latin1'), failed: go.code !== 0 });
  return go.stdout.toString('latin1');
}

beforeAll(async () => {
  const put = (k: string, v: string) => etcdctl(suite.etcd, ['put', k, v]);
  await put('cli/a', '1');
  await put('cli/c', '3');
  await put('cli/b', '22');
  await put('cli/a', 'one');
  await put('cli/\u00e9t\u00e9', 'summer');
  await put('clj', 'outside');
});

describe('get', () => {
  const variants: string[][] = [
    ['cli/a'],
    ['cli/', '--prefix'],
    ['cli/', '--prefix', '--limit', '2'],
    ['cli/', '--prefix', '--sort-by', 'MODIFY', '--order', 'DESCEND'],
    ['cli/', '--prefix', '--sort-by', 'value'],
    ['cli/', '--prefix', '--sort-by', 'CREATE', '--order', 'ASCEND', '--limit', '1'],
    ['cli/', '--prefix', '--keys-only'],
    ['cli/', '--prefix', '--print-value-only'],
    ['cli/b', 'cli/d'],
    ['cli/c', '--from-key'],
    ['', '--prefix', '--limit', '3'],
    ['cli/a', '--rev', '2'],
    ['cli/', '--prefix', '--consistency', 's'],
    ['missing'],
  ];
  it.each(variants.map((args) => [args.join(' '), args] as const))('prints what etcdctl prints: get %s', async (_name, args) => {
    for (const format of [[], ['-w', 'json']]) {
      if (format.length > 0 && args.includes('--print-value-only')) continue;
      await expectSame(suite.etcd, ['get', ...args, ...format]);
    }
  });

  it('prints fields and counts as etcdctl does', async () => {
    await expectSame(suite.etcd, ['get', 'cli/', '--prefix', '-w', 'fields']);
    const fields = await expectSame(suite.etcd, ['get', 'cli/', '--prefix', '--count-only', '-w', 'fields']);
    expect(fields).toContain('"Count" : 4');
  });

  it('prints keys and values in hex with --hex', async () => {
    const out = await expectSame(suite.etcd, ['get', 'cli/a', '--hex']);
    expect(out).toBe('\\x63\\x6c\\x69\\x2f\\x61\n\\x6f\\x6e\\x65\n');
  });

  it('refuses bad usage with exit code 2 and one line on stderr', async () => {
    const usage = [['get'], ['get', 'a', '--prefix', '--from-key'], ['get', 'a', '--order', 'UP'], ['get', 'a', '--count-only'], ['get', 'a', '--endpoints', 'no-port'], ['get', 'a', '--nope'], ['lease', 'revoke', 'xyz']];
    for (const args of usage) {
      const { code, stderr, stdout } = await niceEtcd(suite.etcd, args);
      expect({ args, code, lines: stderr.trimEnd().split('\n').length, stdout: stdout.length }).toEqual({ args, code: 2, lines: 1, stdout: 0 });
      expect(stderr).toMatch(/^Error: /);
    }
  });
});

describe('cluster, maintenance and auth listings', () => {
  it('lists members as etcdctl does', async () => {
    for (const format of [[], ['-w', 'json'], ['-w', 'json', '--hex'], ['-w', 'fields']]) {
      await expectSame(suite.etcd, ['member', 'list', ...format]);
    }
  });

  it('prints endpoint status as etcdctl does', async () => {
    for (const format of [[], ['-w', 'json'], ['-w', 'fields']]) await expectSame(suite.etcd, ['endpoint', 'status', ...format]);
    await expectSame(suite.etcd, ['endpoint', 'status', '--cluster']);
  });

  it('prints endpoint health as etcdctl does, but for the time it took', async () => {
    const took = /took = [0-9.]+[µnm]?s|"took":"[^"]*"/g;
    for (const format of [[], ['-w', 'json']]) {
      const { go, ts } = await both(suite.etcd, ['endpoint', 'health', ...format]);
      expect(ts.code).toBe(0);
      expect(ts.stdout.toString().replace(took, '<took>')).toBe(go.stdout.toString().replace(took, '<took>'));
      expect(ts.stdout.toString()).toMatch(took);
    }
  });

  it('prints endpoint hashkv and alarm list as etcdctl does', async () => {
    for (const format of [[], ['-w', 'json']]) {
      await expectSame(suite.etcd, ['endpoint', 'hashkv', ...format]);
      await expectSame(suite.etcd, ['alarm', 'list', ...format]);
    }
  });

  it('lists users and roles as etcdctl does', async () => {
    const ctl = (...args: string[]) => etcdctl(suite.etcd, args);
    await ctl('user', 'add', 'alice:secret');
    await ctl('user', 'add', 'bob:secret');
    await ctl('role', 'add', 'reader');
    await ctl('role', 'add', 'writer');
    await ctl('role', 'grant-permission', 'reader', 'read', 'cli/', '--prefix');
    await ctl('role', 'grant-permission', 'writer', 'readwrite', 'a', 'b');
    await ctl('role', 'grant-permission', 'writer', 'write', 'z', '--from-key');
    await ctl('user', 'grant-role', 'alice', 'reader');
    await ctl('user', 'grant-role', 'alice', 'writer');
    for (const format of [[], ['-w', 'json']]) {
      for (const args of [['user', 'list'], ['role', 'list'], ['user', 'get', 'alice'], ['role', 'get', 'reader'], ['role', 'get', 'writer'], ...(hasAuthStatus ? [['auth', 'status']] : [])]) {
        await expectSame(suite.etcd, [...args, ...format]);
      }
    }
    await expectSame(suite.etcd, ['user', 'get', 'alice', '--detail']);
  });

  it('prints leases as etcdctl does', async () => {
    const granted = (await etcdctl(suite.etcd, ['lease', 'grant', '600'])).stdout.toString();
    const id = /lease ([0-9a-f]+) granted/.exec(granted)![1]!;
    await etcdctl(suite.etcd, ['put', 'cli/leased', 'x', '--lease', id]);
    for (const format of [[], ['-w', 'json']]) await expectSame(suite.etcd, ['lease', 'list', ...format]);
    // The remaining TTL counts down in whole seconds on the server: the one field that may differ.
    const remaining = /remaining\(\d+s\)|"ttl":\d+/;
    for (const format of [[], ['-w', 'json']]) {
      const { go, ts } = await both(suite.etcd, ['lease', 'timetolive', id, '--keys', ...format]);
      expect(ts.stdout.toString().replace(remaining, '<ttl>')).toBe(go.stdout.toString().replace(remaining, '<ttl>'));
    }
    await expectSame(suite.etcd, ['lease', 'timetolive', '1234']);
    await expectSame(suite.etcd, ['lease', 'timetolive', '1234', '-w', 'json']);
  });
});

describe('writes, on twin servers', () => {
  let twins: [EtcdServer, EtcdServer];
  beforeAll(async () => {
    twins = [await startEtcd(), await startEtcd()];
  });
  afterAll(async () => {
    await Promise.all(twins?.map((t) => t.destroy()) ?? []);
  });

  /** The random ids of a server, as etcdctl prints them (decimal, %x, %16x). */
  async function idsOf(etcd: EtcdServer): Promise<string[]> {
    const status = (await etcdctl(etcd, ['endpoint', 'status', '-w', 'json'])).stdout.toString();
    const ids = ['cluster_id', 'member_id'].map((field) => BigInt(new RegExp(`"${field}":(\\d+)`).exec(status)![1]!));
    return ids.flatMap((id) => [id.toString(), id.toString(16)]);
  }

  function normalize(text: string, ids: string[]): string {
    let out = text;
    ids.forEach((id, i) => (out = out.split(id).join(`<id${i}>`)));
    return out.replace(/lease [0-9a-f]{16}/g, 'lease <lease>').replace(/"(ID|id)":\d+/g, '"$1":<lease>').replace(/^[0-9a-f]{16}$/gm, '<lease>');
  }

  /** Runs one step with etcdctl on the first twin and nice-etcd on the second; expects the same output. */
  async function step(args: string[], input?: string): Promise<{ go: string; ts: string }> {
    const [goIds, tsIds] = [await idsOf(twins[0]), await idsOf(twins[1])];
    const go = await etcdctl(twins[0], args, { input });
    const ts = await niceEtcd(twins[1], args, { input });
    expect({ args, code: ts.code === 0 }).toEqual({ args, code: go.code === 0 });
    const expected = normalize(go.stdout.toString('latin1'), goIds);
    expect({ args, stdout: normalize(ts.stdout.toString('latin1'), tsIds) }).toEqual({ args, stdout: expected });
    // etcdctl logs its retries before the error; its last line is the error itself.
    if (go.code !== 0) expect({ args, stderr: ts.stderr }).toEqual({ args, stderr: go.stderr.trimEnd().split('\n').pop() + '\n' });
    return { go: go.stdout.toString('latin1'), ts: ts.stdout.toString('latin1') };
  }

  it('puts, deletes and compacts as etcdctl does', async () => {
    await step(['put', 'w/a', '1']);
    await step(['put', 'w/a', '2', '--prev-kv']);
    await step(['put', 'w/a', '3', '--prev-kv', '-w', 'json']);
    await step(['put', 'w/b'], 'from stdin\n');
    await step(['put', 'w/b', '--ignore-value', '--prev-kv', '-w', 'json']);
    await step(['put', 'w/c', 'x', '-w', 'fields']);
    await step(['del', 'w/c', '--prev-kv']);
    await step(['del', 'w/', '--prefix', '--prev-kv', '-w', 'json']);
    await step(['put', 'w/d', 'v']);
    await step(['del', 'w/', '--from-key']);
    await step(['del', 'nothing']);
    await step(['compaction', '3']);
    await step(['compaction', '3']);
  });

  it('runs transactions read from standard input as etcdctl does', async () => {
    await step(['put', 't/k', 'v']);
    const txn = 'value("t/k") = "v"\nmod("t/k") > "0"\n\nput t/k w --prev-kv\nget t/k\ndel t/none\n\nput t/failed x\n\n';
    await step(['txn'], txn);
    await step(['txn', '-w', 'json'], txn);
    await step(['txn', '-w', 'fields'], txn);
    await step(['txn', '--interactive'], 'ver("t/k") = "1"\n\n\nget t/ --prefix --keys-only\n\n');
    await step(['txn', '-w', 'json'], 'c("t/k") != "0"\nval("t/k") < "z"\n\nget "t/k"\nput \'t/quoted key\' "a b"\n\n\n');
  });

  it('manages users, roles and auth as etcdctl does', async () => {
    await step(['user', 'add', 'root:rootpw']);
    await step(['user', 'add', 'carol', '--new-user-password', 'pw', '-w', 'json']);
    await step(['user', 'add', 'dave', '--interactive=false'], 'typed\n');
    await step(['user', 'add', 'cert-only', '--no-password']);
    await step(['role', 'add', 'ops']);
    await step(['role', 'grant-permission', 'ops', 'readwrite', 'ops/', '--prefix']);
    await step(['role', 'grant-permission', 'ops', 'read', 'a', 'c', '-w', 'json']);
    await step(['role', 'grant-permission', 'ops', 'write', 'z', '--from-key']);
    await step(['role', 'revoke-permission', 'ops', 'a', 'c']);
    await step(['role', 'revoke-permission', 'ops', 'z', '--from-key']);
    await step(['role', 'get', 'ops']);
    await step(['user', 'grant-role', 'carol', 'ops']);
    await step(['user', 'revoke-role', 'carol', 'ops', '-w', 'json']);
    await step(['user', 'passwd', 'carol', '--interactive=false'], 'newpw\n');
    await step(['user', 'delete', 'dave']);
    await step(['role', 'delete', 'ops']);
    await step(['user', 'grant-role', 'root', 'root']);
    await step(['auth', 'enable']);
    if (hasAuthStatus) await step(['auth', 'status', '--user', 'root:rootpw']);
    await step(['put', 'secured', 'v', '--user', 'carol:newpw']);
    await step(['auth', 'disable', '--user', 'root:rootpw']);
    await step(['user', 'list', '-w', 'json']);
    // 22 steps of four processes each (two status reads, etcdctl, nice-etcd from source through
    // tsx): near a minute on a busy 2-core machine, so a bound of its own.
  }, 180_000);

  it('grants, keeps alive, lists and revokes leases as etcdctl does', async () => {
    const simple = await step(['lease', 'grant', '300']);
    await step(['lease', 'grant', '300', '-w', 'json']);
    const [goLease, tsLease] = [simple.go, simple.ts].map((out) => /lease ([0-9a-f]{16})/.exec(out)![1]!);
    await step(['lease', 'list']);
    const keptTs = await niceEtcd(twins[1], ['lease', 'keep-alive', '--once', tsLease!]);
    const keptGo = await etcdctl(twins[0], ['lease', 'keep-alive', '--once', goLease!]);
    expect(keptTs.stdout.toString().replace(tsLease!, '<lease>')).toBe(keptGo.stdout.toString().replace(goLease!, '<lease>'));
    const revokedTs = await niceEtcd(twins[1], ['lease', 'revoke', tsLease!, '-w', 'json']);
    const revokedGo = await etcdctl(twins[0], ['lease', 'revoke', goLease!, '-w', 'json']);
    expect(normalize(revokedTs.stdout.toString(), await idsOf(twins[1]))).toBe(normalize(revokedGo.stdout.toString(), await idsOf(twins[0])));
    const again = await niceEtcd(twins[1], ['lease', 'revoke', tsLease!]);
    expect({ code: again.code, stderr: again.stderr }).toEqual({ code: 1, stderr: 'Error: failed to revoke lease (etcdserver: requested lease not found)\n' });
  });
});

describe('global flags and environment', () => {
  it('takes the endpoints from ETCDCTL_ENDPOINTS, and a flag over the variable', async () => {
    const fromEnv = await niceEtcd(undefined, ['get', 'cli/a'], { env: { ETCDCTL_ENDPOINTS: suite.etcd.clientUrl } });
    expect(fromEnv.stdout.toString()).toBe('cli/a\none\n');
    const flagWins = await niceEtcd(suite.etcd, ['get', 'cli/a', '--print-value-only'], { env: { ETCDCTL_ENDPOINTS: '127.0.0.1:1' } });
    expect(flagWins.stdout.toString()).toBe('one\n');
    const format = await niceEtcd(suite.etcd, ['get', 'cli/a'], { env: { ETCDCTL_WRITE_OUT: 'json' } });
    expect(format.stdout.toString()).toMatch(/^\{"header"/);
  });

  it('fails within its timeouts, with exit code 1, when no etcd answers', async () => {
    const { code, stderr, stdout } = await niceEtcd(undefined, ['get', 'k', '--endpoints', '127.0.0.1:1', '--dial-timeout', '200ms', '--command-timeout', '1s']);
    expect({ code, stdout: stdout.toString(), lines: stderr.trimEnd().split('\n').length }).toEqual({ code: 1, stdout: '', lines: 1 });
    expect(stderr).toMatch(/^Error: /);
  });

  it('logs in with --user and refuses bad passwords', async () => {
    const auth = await startEtcd();
    try {
      await etcdctl(auth, ['user', 'add', 'root:rootpw']);
      await etcdctl(auth, ['auth', 'enable']);
      await etcdctl(auth, ['--user', 'root:rootpw', 'put', 'secret', 's']);
      const ok = await niceEtcd(auth, ['get', 'secret', '--user', 'root', '--password', 'rootpw']);
      expect(ok.stdout.toString()).toBe('secret\ns\n');
      const fromEnv = await niceEtcd(auth, ['get', 'secret', '--print-value-only'], { env: { ETCDCTL_USER: 'root:rootpw' } });
      expect(fromEnv.stdout.toString()).toBe('s\n');
      const bad = await niceEtcd(auth, ['get', 'secret', '--user', 'root:wrong']);
      const badGo = await etcdctl(auth, ['get', 'secret', '--user', 'root:wrong']);
      expect(bad.code).toBe(1);
      expect(bad.stderr).toBe(badGo.stderr.split('\n').filter((l) => l.startsWith('Error:')).join('\n') + '\n');
    } finally {
      await auth.destroy();
    }
  });

  it('speaks TLS with --cacert, --cert and --key, or their variables', async () => {
    const certs = await makeCerts();
    const tls = await startEtcd({ tls: { certFile: certs.serverCert, keyFile: certs.serverKey, caFile: certs.ca, clientCertAuth: true } });
    try {
      const flags = [`--cacert=${certs.ca}`, `--cert=${certs.clientCert}`, `--key=${certs.clientKey}`];
      const put = await niceEtcd(tls, ['put', 'tls/k', 'secret', ...flags]);
      expect({ code: put.code, stderr: put.stderr, stdout: put.stdout.toString() }).toEqual({ code: 0, stderr: '', stdout: 'OK\n' });
      const env = { ETCDCTL_CACERT: certs.ca, ETCDCTL_CERT: certs.clientCert, ETCDCTL_KEY: certs.clientKey };
      const get = await niceEtcd(tls, ['get', 'tls/k', '--print-value-only'], { env });
      expect(get.stdout.toString()).toBe('secret\n');
      // No CA: the server's certificate cannot be verified, unless verification is skipped, as etcdctl does.
      const withoutCa = [`--cert=${certs.clientCert}`, `--key=${certs.clientKey}`, '--command-timeout=2s'];
      const refused = await niceEtcd(tls, ['get', 'tls/k', ...withoutCa]);
      expect(refused.code).toBe(1);
      const skipArgs = ['get', 'tls/k', '--insecure-skip-tls-verify', ...withoutCa];
      const [skip, goSkip] = [await niceEtcd(tls, skipArgs), await etcdctl(tls, skipArgs)];
      expect({ code: skip.code, stderr: skip.stderr, stdout: skip.stdout.toString() }).toEqual({ code: 0, stderr: '', stdout: goSkip.stdout.toString() });
      const skipEnv = await niceEtcd(tls, ['get', 'tls/k', ...withoutCa], { env: { ETCDCTL_INSECURE_SKIP_TLS_VERIFY: 'true' } });
      expect({ code: skipEnv.code, stdout: skipEnv.stdout.toString() }).toEqual({ code: 0, stdout: 'tls/k\nsecret\n' });
    } finally {
      await tls.destroy();
      await rm(certs.dir, { recursive: true, force: true });
    }
  });

  it('finds the endpoints with --discovery-srv (and ETCDCTL_DISCOVERY_SRV, --discovery-srv-name) in DNS SRV records', async () => {
    const dns = await TestDnsServer.start();
    try {
      dns.setA('m0.etcd.test', '127.0.0.1');
      dns.setSrv('_etcd-client._tcp.etcd.test', [{ target: 'm0.etcd.test', port: suite.etcd.clientPort }]);
      dns.setSrv('_etcd-client-foo._tcp.named.test', [{ target: 'm0.etcd.test', port: suite.etcd.clientPort }]);
      const dnsFlag = `--dns-servers=${dns.address}`;
      // No --endpoints at all: the records name the member.
      const get = await niceEtcd(undefined, [dnsFlag, '--discovery-srv=etcd.test', 'get', 'cli/', '--prefix', '-w', 'json']);
      const go = await etcdctl(suite.etcd, ['get', 'cli/', '--prefix', '-w', 'json']);
      expect({ code: get.code, stderr: get.stderr, stdout: get.stdout.toString() }).toEqual({ code: 0, stderr: '', stdout: go.stdout.toString() });
      const named = await niceEtcd(undefined, ['get', 'cli/a', '--print-value-only'], {
        env: { ETCDCTL_DISCOVERY_SRV: 'named.test', ETCDCTL_DISCOVERY_SRV_NAME: 'foo', NICE_ETCD_DNS_SERVERS: dns.address },
      });
      expect({ code: named.code, stdout: named.stdout.toString() }).toEqual({ code: 0, stdout: 'one\n' });
      // Per-endpoint commands work on the discovered endpoints, as etcdctl prints them (URLs).
      const status = await niceEtcd(undefined, [dnsFlag, '-d', 'etcd.test', 'endpoint', 'health', '-w', 'json']);
      expect(status.code).toBe(0);
      expect(JSON.parse(status.stdout.toString())).toEqual([expect.objectContaining({ endpoint: `http://m0.etcd.test:${suite.etcd.clientPort}`, health: true })]);
      const none = await niceEtcd(undefined, [dnsFlag, '--discovery-srv=missing.test', '--command-timeout=2s', 'get', 'k']);
      expect({ code: none.code, stderr: none.stderr }).toEqual({ code: 1, stderr: expect.stringMatching(/^Error: DNS SRV discovery of missing\.test found no endpoints \(no SRV records for _etcd-client-ssl\._tcp\.missing\.test or _etcd-client\._tcp\.missing\.test\)\n$/) });
    } finally {
      await dns.close();
    }
  });

  it('prints its version and help, and a completion script', async () => {
    const version = await niceEtcd(undefined, ['version']);
    expect(version.stdout.toString()).toMatch(/^nice-etcd version: \d+\.\d+\.\d+\nAPI version: 3\.5\n$/);
    for (const args of [['--help'], ['get', '--help'], ['lease', 'grant', '--help'], ['txn', '--help']]) {
      const help = await niceEtcd(undefined, args);
      expect({ args, code: help.code }).toEqual({ args, code: 0 });
      expect(help.stdout.toString()).toMatch(/^Usage: nice-etcd/);
    }
    const completion = await niceEtcd(undefined, ['completion', 'bash']);
    expect(completion.stdout.toString()).toContain('complete -F _nice_etcd nice-etcd');
    expect(completion.stdout.toString()).toContain('"lease") words="grant revoke timetolive list keep-alive');
  });
});
