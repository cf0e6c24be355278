import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { op } from '../../src/index.js';
import { etcdBinary, useEtcd } from '../harness/index.js';
import { collect, exited, niceEtcd, niceEtcdOnTerminal, spawnEtcdctl, spawnNiceEtcd, waitFor } from './cli-run.js';

// The CLI's long-running commands beside etcdctl's: watch, lock and elect, and snapshot save.
const suite = useEtcd();

async function revision(): Promise<bigint> {
  return (await suite.client.get('any')).header.revision;
}

async function keysUnder(prefix: string): Promise<number> {
  return Number((await suite.client.get(prefix, { prefix: true, countOnly: true })).count);
}

/**
 * Waits until every watcher is live (each has printed a ping written under `prefix`), then writes
 * `<prefix>start` and returns a function that cuts an output to what came from that write on.
 * From then on each write reaches every watcher as a response of its own; before, a watcher still
 * catching up may get several revisions in one response, which changes what it prints.
 */
async function live(outputs: Array<{ text: () => string }>, prefix: string): Promise<(text: string) => string> {
  await waitFor(async () => {
    await suite.client.put(`${prefix}ping`, 'ping');
    return outputs.every((o) => o.text().includes('ping') || o.text().includes(Buffer.from('ping').toString('base64')));
  }, 'every watcher to print a ping');
  await suite.client.put(`${prefix}start`, 'start');
  const markers = [`${prefix}start`, Buffer.from(`${prefix}start`).toString('base64')];
  return (text) => {
    const at = Math.min(...markers.map((m) => text.indexOf(m)).filter((i) => i >= 0));
    const line = text.lastIndexOf('\n', at) + 1;
    // A JSON response is one line; in the simple format the event starts at the PUT line above the key.
    return text.startsWith('{', line) ? text.slice(line) : text.slice(text.lastIndexOf('\n', line - 2) + 1);
  };
}

describe('watch', () => {
  it('prints exactly what etcdctl watch prints for the same writes', async () => {
    const procs = [
      { go: spawnEtcdctl(suite.etcd, ['watch', 'wa/', '--prefix', '--prev-kv']), ts: spawnNiceEtcd(suite.etcd, ['watch', 'wa/', '--prefix', '--prev-kv']) },
      { go: spawnEtcdctl(suite.etcd, ['watch', 'wa/', '--prefix', '-w', 'json']), ts: spawnNiceEtcd(suite.etcd, ['watch', 'wa/', '--prefix', '-w', 'json']) },
    ];
    const outputs = procs.map(({ go, ts }) => ({ go: collect(go), ts: collect(ts) }));
    try {
      const fromStart = await live(outputs.flatMap(({ go, ts }) => [go, ts]), 'wa/');
      await suite.client.put('wa/1', 'one');
      await suite.client.put('wa/1', 'uno');
      await suite.client.txn().then(op.put('wa/2', 'two events'), op.put('wa/3', 'in one response')).commit();
      await suite.client.delete('wa/1');
      await suite.client.put('wa/\u00e9', 'line\nbreak');
      await suite.client.put('wa/end', 'done');
      for (const { go, ts } of outputs) {
        await waitFor(() => go.text().includes('done') || go.text().includes('ZG9uZQ=='), 'etcdctl watch to print the last event');
        await waitFor(() => ts.text().includes('done') || ts.text().includes('ZG9uZQ=='), 'nice-etcd watch to print the last event').catch((error: Error) => {
          throw new Error(`${error.message}\netcdctl printed:\n${go.text()}\nnice-etcd printed:\n${ts.text()}\nnice-etcd's stderr: ${ts.errors()}`);
        });
        expect(fromStart(ts.text())).toBe(fromStart(go.text()));
      }
      expect(fromStart(outputs[0]!.ts.text())).toMatch(/^PUT\nwa\/start\nstart\nPUT\nwa\/1\none\nPUT\nwa\/1\none\nwa\/1\nuno\n/);
    } finally {
      for (const { go, ts } of procs) {
        go.kill('SIGINT');
        ts.kill('SIGINT');
      }
    }
    for (const { ts } of procs) expect(await exited(ts)).toBe(0);
  });

  it('runs a command per event with the same ETCD_WATCH_* variables as etcdctl', async () => {
    const print = ['--', 'sh', '-c', 'echo "[$ETCD_WATCH_REVISION] [$ETCD_WATCH_EVENT_TYPE] [$ETCD_WATCH_KEY] [$ETCD_WATCH_VALUE]"'];
    const go = spawnEtcdctl(suite.etcd, ['watch', 'wx/', '--prefix', ...print]);
    const ts = spawnNiceEtcd(suite.etcd, ['watch', 'wx/', '--prefix', ...print]);
    const [goOut, tsOut] = [collect(go), collect(ts)];
    try {
      const fromStart = await live([goOut, tsOut], 'wx/');
      await suite.client.put('wx/a', 'with "quotes"');
      await suite.client.delete('wx/a');
      const deleted = '["DELETE"] ["wx/a"] [""]';
      await waitFor(() => goOut.text().includes(deleted), 'etcdctl to run its command for the delete');
      await waitFor(() => tsOut.text().includes(deleted), 'nice-etcd to run its command for the delete');
      expect(fromStart(tsOut.text())).toBe(fromStart(goOut.text()));
      expect(tsOut.text()).toContain('["PUT"] ["wx/a"] ["with \\"quotes\\""]');
    } finally {
      go.kill('SIGINT');
      ts.kill('SIGINT');
    }
    expect(await exited(ts)).toBe(0);
  });

  it('exits cleanly on Ctrl-C', async () => {
    const ts = spawnNiceEtcd(suite.etcd, ['watch', 'wc/']);
    const out = collect(ts);
    let stderr = '';
    ts.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
    // Writes until the watch has seen one: then it is running.
    await waitFor(async () => {
      await suite.client.put('wc/', 'ping');
      return out.text().startsWith('PUT\nwc/\nping\n');
    }, 'the watch to print an event');
    ts.kill('SIGINT');
    expect(await exited(ts)).toBe(0);
    expect(stderr).toBe('');
  });
});

describe('lease keep-alive', () => {
  it('keeps a lease alive until it is revoked, then says so as etcdctl does', async () => {
    // Long enough that the lease outlives the CLI's start on a loaded machine.
    const lease = await suite.client.lease.grant(60);
    const id = lease.id.toString(16).padStart(16, '0');
    const ts = spawnNiceEtcd(suite.etcd, ['lease', 'keep-alive', id]);
    const out = collect(ts);
    await waitFor(() => out.text().includes(`lease ${id} keepalived with TTL(60)\n`), 'a keep-alive to be answered').catch((error: Error) => {
      throw new Error(`${error.message}; nice-etcd printed ${JSON.stringify(out.text())} and on stderr ${JSON.stringify(out.errors())}`);
    });
    await suite.client.lease.revoke(lease.id);
    expect(await exited(ts)).toBe(0);
    expect(out.text()).toMatch(new RegExp(`^(lease ${id} keepalived with TTL\\(60\\)\\n)+lease ${id} expired or revoked\\.\\n$`));
  });

  it('stops on Ctrl-C and leaves the lease to its TTL', async () => {
    const lease = await suite.client.lease.grant(60);
    const ts = spawnNiceEtcd(suite.etcd, ['lease', 'keep-alive', lease.id.toString(16)]);
    const out = collect(ts);
    await waitFor(() => out.text().includes('keepalived'), 'a keep-alive to be answered');
    ts.kill('SIGINT');
    expect(await exited(ts)).toBe(0);
    expect((await suite.client.lease.timeToLive(lease.id)).ttl).toBeGreaterThan(0);
  });
});

describe('lock', () => {
  it('excludes etcdctl lock, and is excluded by it', async () => {
    // etcdctl holds the lock; nice-etcd waits until etcdctl lets go.
    const go = suite.etcd.spawnEtcdctl(['lock', 'locks/one']);
    const goOut = collect(go);
    await waitFor(() => goOut.text().startsWith('locks/one/'), 'etcdctl to hold the lock');
    const ts = spawnNiceEtcd(suite.etcd, ['lock', 'locks/one']);
    const tsOut = collect(ts);
    await waitFor(async () => (await keysUnder('locks/one/')) === 2, 'nice-etcd to queue for the lock');
    expect(tsOut.text()).toBe('');
    go.kill('SIGINT');
    await waitFor(() => tsOut.text().startsWith('locks/one/'), 'nice-etcd to hold the lock');
    expect(await keysUnder('locks/one/')).toBe(1);

    // And the other way round.
    const go2 = suite.etcd.spawnEtcdctl(['lock', 'locks/one']);
    const go2Out = collect(go2);
    await waitFor(async () => (await keysUnder('locks/one/')) === 2, 'etcdctl to queue for the lock');
    expect(go2Out.text()).toBe('');
    ts.kill('SIGINT');
    expect(await exited(ts)).toBe(0);
    await waitFor(() => go2Out.text().startsWith('locks/one/'), 'etcdctl to hold the lock');
    go2.kill('SIGINT');
    await waitFor(async () => (await keysUnder('locks/one/')) === 0, 'the lock to be free');
  });

  it('runs a command while holding the lock, with ETCD_LOCK_KEY and ETCD_LOCK_REV, and exits with its code', async () => {
    const run = await niceEtcd(suite.etcd, ['lock', 'locks/two', '--', 'sh', '-c', 'echo "$ETCD_LOCK_KEY $ETCD_LOCK_REV"; exit 3']);
    expect(run.code).toBe(3);
    const [key, rev] = run.stdout.toString().trim().split(' ');
    expect(key).toMatch(/^locks\/two\/[0-9a-f]+$/);
    expect(BigInt(rev!)).toBeGreaterThan(0n);
    expect(await keysUnder('locks/two/')).toBe(0);
  });
});

describe('elect', () => {
  it('agrees with etcdctl elect on who leads', async () => {
    const goLeader = suite.etcd.spawnEtcdctl(['elect', 'elections/e', 'go-proposal']);
    const goLeaderOut = collect(goLeader);
    await waitFor(() => goLeaderOut.text().includes('go-proposal'), 'etcdctl to lead');
    const goWatch = suite.etcd.spawnEtcdctl(['elect', '-l', 'elections/e']);
    const tsWatch = spawnNiceEtcd(suite.etcd, ['elect', '-l', 'elections/e']);
    const [goWatchOut, tsWatchOut] = [collect(goWatch), collect(tsWatch)];
    const ts = spawnNiceEtcd(suite.etcd, ['elect', 'elections/e', 'ts-proposal']);
    const tsOut = collect(ts);
    try {
      await waitFor(() => goWatchOut.text().includes('go-proposal') && tsWatchOut.text() === goWatchOut.text(), 'both observers to see etcdctl lead');
      await waitFor(async () => (await keysUnder('elections/e/')) === 2, 'nice-etcd to campaign');
      expect(tsOut.text()).toBe('');
      goLeader.kill('SIGINT');
      await waitFor(() => tsOut.text().includes('ts-proposal'), 'nice-etcd to lead');
      expect(tsOut.text()).toMatch(/^elections\/e\/[0-9a-f]+\nts-proposal\n$/);
      await waitFor(() => goWatchOut.text().includes('ts-proposal') && tsWatchOut.text() === goWatchOut.text(), 'both observers to see nice-etcd lead');
      expect(tsWatchOut.text()).toBe(goWatchOut.text());
    } finally {
      for (const child of [goWatch, tsWatch, ts, goLeader]) child.kill('SIGINT');
    }
    expect(await exited(ts)).toBe(0);
    expect(await exited(tsWatch)).toBe(0);
  });
});

describe('snapshot save', () => {
  it('writes a file that etcdutl snapshot status accepts', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'nice-etcd-cli-snap-'));
    try {
      await suite.client.put('snap/k', 'v');
      const path = join(dir, 'backup.db');
      const saved = await niceEtcd(suite.etcd, ['snapshot', 'save', path]);
      // Not a terminal: no progress line, as a script wants it.
      expect({ code: saved.code, stdout: saved.stdout.toString(), stderr: saved.stderr }).toEqual({ code: 0, stdout: `Snapshot saved at ${path}\n`, stderr: '' });
      expect((await stat(path)).size).toBeGreaterThan(0);
      // etcd 3.4 has no etcdutl: its etcdctl reads snapshots itself.
      const [tool, args] = existsSync(etcdBinary('etcdutl')) ? [etcdBinary('etcdutl'), ['snapshot', 'status', path, '-w', 'json']] : [etcdBinary('etcdctl'), ['snapshot', 'status', path, '-w', 'json']];
      const status = await new Promise<string>((resolve, reject) =>
        execFile(tool, args, { env: { ...process.env, ETCDCTL_API: '3' } }, (error, stdout) => (error ? reject(error) : resolve(stdout))),
      );
      const { revision: rev, totalKey } = JSON.parse(status) as { revision: number; totalKey: number };
      expect(BigInt(rev)).toBe(await revision());
      expect(totalKey).toBeGreaterThan(0);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('draws a progress line of the bytes received on a terminal', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'nice-etcd-cli-snap-'));
    try {
      const path = join(dir, 'tty.db');
      const { output, code } = await niceEtcdOnTerminal(suite.etcd, ['snapshot', 'save', path]);
      expect(code).toBe(0);
      const size = (await stat(path)).size;
      // The last drawing of the line gives the whole file's size, then the usual last line.
      expect(output).toContain(`Received `);
      expect(output).toMatch(new RegExp(`\\(${size} bytes\\)\\r?\\n`));
      expect(output).toContain(`Snapshot saved at ${path}`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
