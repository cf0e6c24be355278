// Benchmarks of the workloads in shared/reference/benchmarks.md, printed as one JSON line each.
//
//   npm run bench -- [--clients nice-etcd,etcd3] [--workloads put-seq,put-conc,...] [--runs 3] [--etcd 3.4|3.5]
//                    [--cpu-prof <dir>] [--cpu-prof-interval <µs>]
//
// `--clients ...,go-clientv3` adds Go's clientv3 (etcd 3.5.16), run as the Go peer's `bench`
// subcommand (bench/go-client.ts) on its own fresh etcd like the others; it is skipped with a
// one-line reason where the Go peer cannot be built.
//
// `--cpu-prof` writes one V8 CPU profile per client, run and workload, of the timed window only
// (warm-up and setup left out), to open in Chrome DevTools; the profiler's own cost then counts
// in the CPU figures, so read them from a run without it.
//
// Each client in each run gets a fresh etcd (data dir on /dev/shm, 8 GiB quota) and one client
// object; the order of the clients alternates between runs. Figures vary ±20% run to run on
// shared machines: compare clients only as ratios from the same run. At the end, a table gives
// each client's medians over the runs and its ratios to etcd3. These are measurements, not
// tests: nothing here asserts a speed.
//
// Memory workloads (not in the default list): `watchers-10k` opens 10,000 watchers and
// `leases-10k` keeps 10,000 leases alive on one client, printing RSS and CPU every second and
// the growth per watcher or lease.
import { mkdirSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client } from '../src/index.js';
import { type EtcdServer, startEtcd } from '../test/harness/index.js';
import { type BenchClient, clients } from './clients.js';
import { goBenchBinary, goClientName, goWorkloads, runGoBench } from './go-client.js';

interface Result {
  workload: string;
  ops: number;
  concurrency: number;
  wall_s: number;
  latencies?: number[];
  cpu_s: number;
  errors: number;
  extra?: Record<string, number>;
}

const value = Buffer.alloc(256, 'v');

/** Where `--cpu-prof` writes profiles (undefined: no profiling), and the sampling interval in µs. */
const profiling: { dir: string | undefined; interval: number; label: string } = { dir: undefined, interval: 1000, label: '' };

function parseArgs(): { workloads: string[]; runs: number; clientNames: string[] } {
  const args = process.argv.slice(2);
  const get = (name: string) => {
    const i = args.indexOf(`--${name}`);
    return i >= 0 ? args[i + 1] : undefined;
  };
  profiling.dir = get('cpu-prof');
  profiling.interval = Number(get('cpu-prof-interval') ?? 1000);
  if (profiling.dir) mkdirSync(profiling.dir, { recursive: true });
  const version = get('etcd');
  if (version) process.env.NICE_ETCD_VERSION = version;
  const all = ['put-seq', 'put-conc', 'get-conc', 'get-serializable-conc', 'range-10k', 'txn-conc', 'watch-throughput', 'lease-keepalive'];
  const clientNames = get('clients')?.split(',') ?? Object.keys(clients);
  for (const name of clientNames) if (!clients[name] && name !== goClientName) throw new Error(`unknown client ${name}; known: ${[...Object.keys(clients), goClientName].join(', ')}`);
  return { workloads: get('workloads')?.split(',') ?? all, runs: Number(get('runs') ?? 3), clientNames };
}

/** Runs `count` operations with `concurrency` in flight, timing each. */
async function pool(count: number, concurrency: number, fn: (i: number) => Promise<void>): Promise<{ latencies: number[]; errors: number }> {
  const latencies = new Array<number>(count);
  let next = 0;
  let errors = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, count) }, async () => {
      while (next < count) {
        const i = next++;
        const started = performance.now();
        try {
          await fn(i);
        } catch {
          errors++;
        }
        latencies[i] = performance.now() - started;
      }
    }),
  );
  return { latencies, errors };
}

async function measure(workload: string, ops: number, concurrency: number, body: () => Promise<{ latencies?: number[]; errors: number; extra?: Record<string, number> }>): Promise<Result> {
  // Each workload starts from a full collection (npm run bench exposes gc), so none pays for
  // the garbage an earlier one left in the old generation (txn-conc ran after range-10k's).
  global.gc?.();
  const profiler = profiling.dir ? await startProfiler() : undefined;
  const cpu = process.cpuUsage();
  const started = performance.now();
  const out = await body();
  const wall = (performance.now() - started) / 1000;
  const used = process.cpuUsage(cpu);
  if (profiler) await profiler.stop(join(profiling.dir as string, `${profiling.label}-${workload}.cpuprofile`.replace(/[/@]/g, '_')));
  return { workload, ops, concurrency, wall_s: wall, cpu_s: (used.user + used.system) / 1e6, ...out };
}

/** Profiles the main thread until `stop` writes the profile to `file`. */
async function startProfiler(): Promise<{ stop(file: string): Promise<void> }> {
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: profiling.interval });
  await session.post('Profiler.start');
  return {
    async stop(file) {
      const { profile } = await session.post('Profiler.stop');
      writeFileSync(file, JSON.stringify(profile));
      session.disconnect();
    },
  };
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

/** Every printed line, for the summary at the end. */
const lines: Array<Record<string, number | string>> = [];

function report(client: BenchClient, run: number, r: Result): void {
  const sorted = r.latencies ? [...r.latencies].sort((a, b) => a - b) : [];
  const line = {
    client: client.name,
    client_version: client.version,
    runtime: `node ${process.version}`,
    run,
    workload: r.workload,
    ops: r.ops,
    concurrency: r.concurrency,
    wall_s: round(r.wall_s),
    ops_per_s: round(r.ops / r.wall_s),
    p50_ms: round(percentile(sorted, 50)),
    p99_ms: round(percentile(sorted, 99)),
    client_cpu_s: round(r.cpu_s),
    client_cpu_util: round(r.cpu_s / r.wall_s),
    errors: r.errors,
    ...Object.fromEntries(Object.entries(r.extra ?? {}).map(([k, v]) => [k, round(v)])),
  };
  lines.push(line);
  console.log(JSON.stringify(line));
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

/** Medians over the runs per client and workload, and each client's ratio to etcd3's medians. */
function summary(clientNames: string[], workloads: string[]): void {
  const rate = (l: Record<string, number | string>) => Number(l.events_per_s ?? (l.ms_per_range !== undefined ? 1000 / Number(l.ms_per_range) : l.ops_per_s));
  const cpuPerOp = (l: Record<string, number | string>) =>
    String(l.workload).startsWith('lease-keepalive') ? Number(l.client_cpu_s) : (Number(l.client_cpu_s) / Number(l.ops)) * 1e6;
  const rows: string[] = [];
  rows.push('| workload | client | runs | rate/s (median) | x etcd3 | client CPU (µs/op; s for leases) | x etcd3 | p99 ms | x etcd3 |');
  rows.push('|---|---|---:|---:|---:|---:|---:|---:|---:|');
  for (const workload of workloads) {
    const of = (name: string) => lines.filter((l) => l.client === name && l.workload === workload);
    const ref = of('etcd3');
    for (const name of clientNames) {
      const mine = of(name);
      if (mine.length === 0) continue;
      const r = median(mine.map(rate));
      const c = median(mine.map(cpuPerOp));
      const p = median(mine.map((l) => Number(l.p99_ms)));
      const ratio = (x: number, y: (l: Record<string, number | string>) => number) => {
        const against = ref.length && name !== 'etcd3' ? median(ref.map(y)) : 0;
        return against > 0 ? (x / against).toFixed(2) : '';
      };
      rows.push(`| ${workload} | ${name} | ${mine.length} | ${r.toFixed(1)} | ${ratio(r, rate)} | ${c.toFixed(workload.startsWith('lease') ? 3 : 1)} | ${ratio(c, cpuPerOp)} | ${p.toFixed(2)} | ${ratio(p, (l) => Number(l.p99_ms))} |`);
    }
  }
  console.log(`\nMedians over the runs (rate: ops/s, events/s for watch, ranges/s for range-10k):\n${rows.join('\n')}`);
}

/** Samples RSS and CPU every second while `body` runs; prints one JSON line per sample. */
async function sampled<T>(client: BenchClient, workload: string, body: () => Promise<T>): Promise<T> {
  let cpu = process.cpuUsage();
  const timer = setInterval(() => {
    const used = process.cpuUsage(cpu);
    cpu = process.cpuUsage();
    const { rss, heapUsed } = process.memoryUsage();
    console.log(JSON.stringify({ client: client.name, workload, sample: 'per_second', rss_mb: round(rss / 2 ** 20), heap_mb: round(heapUsed / 2 ** 20), cpu_s: round((used.user + used.system) / 1e6) }));
  }, 1000);
  try {
    return await body();
  } finally {
    clearInterval(timer);
  }
}

/** Opens `count` watchers (or kept-alive leases) and holds them `holdMs`; reports growth per item. */
async function memoryWorkload(client: BenchClient, run: number, workload: string, count: number, holdMs: number, open: (i: number) => Promise<() => Promise<void> | void>): Promise<void> {
  global.gc?.();
  const before = process.memoryUsage();
  const closers: Array<() => Promise<void> | void> = [];
  const result = await measure(workload, count, 64, () =>
    sampled(client, workload, async () => {
      const out = await pool(count, 64, async (i) => {
        closers.push(await open(i));
      });
      const cpu = process.cpuUsage();
      await sleep(holdMs);
      const held = process.cpuUsage(cpu);
      global.gc?.();
      const after = process.memoryUsage();
      return {
        errors: out.errors,
        extra: {
          rss_growth_mb: (after.rss - before.rss) / 2 ** 20,
          heap_growth_mb: (after.heapUsed - before.heapUsed) / 2 ** 20,
          bytes_per_item_rss: (after.rss - before.rss) / count,
          bytes_per_item_heap: (after.heapUsed - before.heapUsed) / count,
          cpu_s_per_s_held: (held.user + held.system) / 1e6 / (holdMs / 1000),
        },
      };
    }),
  );
  report(client, run, result);
  await Promise.all(closers.map((close) => close()));
}

const round = (n: number) => Math.round(n * 1000) / 1000;

async function benchOnce(run: number, name: string, workloads: string[]): Promise<void> {
  const etcd: EtcdServer = await startEtcd({ args: ['--quota-backend-bytes=8589934592'] });
  const client = clients[name](etcd.endpoint);
  profiling.label = `${name}-run${run}`;
  // Untimed steps (settling, checking leases) go through a separate nice-etcd client.
  const admin = new Client({ endpoints: [etcd.endpoint], timeout: 60_000 });
  const base = `bench/${name}/${process.pid}-${Date.now()}`;
  const key = (group: string, i: number) => `${base}/${group}/${String(i).padStart(8, '0')}`;
  try {
    // Untimed warm-up: 1,000 puts and 1,000 gets at 64 in flight.
    await pool(1000, 64, (i) => client.put(key('warm', i), value).then(() => undefined));
    await pool(1000, 64, (i) => client.get(key('warm', i), false).then(() => undefined));
    const settle = async () => {
      const lease = await admin.lease.grant(10);
      await sleep(300);
      await lease.revoke();
      await sleep(300);
    };
    const modRevisions: bigint[] = [];
    for (const workload of workloads) {
      let result: Result;
      switch (workload) {
        case 'put-seq':
          result = await measure(workload, 2000, 1, () => pool(2000, 1, (i) => client.put(key('seq', i), value).then(() => undefined)));
          break;
        case 'put-conc':
          result = await measure(workload, 20000, 64, () =>
            pool(20000, 64, async (i) => {
              modRevisions[i] = await client.put(key('conc', i), value);
            }),
          );
          break;
        case 'get-conc':
        case 'get-serializable-conc': {
          await settle();
          const serializable = workload === 'get-serializable-conc';
          result = await measure(workload, 20000, 64, () =>
            pool(20000, 64, async (i) => {
              if ((await client.get(key('conc', i), serializable)) !== 256) throw new Error('bad value');
            }),
          );
          break;
        }
        case 'range-10k': {
          await pool(10000, 64, (i) => client.put(key('range', i), value).then(() => undefined));
          await settle();
          let bytes = 0;
          result = await measure(workload, 20, 1, () =>
            pool(20, 1, async () => {
              const r = await client.range(`${base}/range/`);
              if (r.count !== 10000) throw new Error(`got ${r.count} kvs`);
              bytes = r.bytes;
            }),
          );
          result.extra = { ms_per_range: (result.wall_s * 1000) / 20, mb_per_s: (bytes * 20) / 1e6 / result.wall_s };
          break;
        }
        case 'txn-conc': {
          if (modRevisions.length === 0) throw new Error('txn-conc needs put-conc first');
          result = await measure(workload, 10000, 64, () =>
            pool(10000, 64, async (i) => {
              if (!(await client.putIfModRevision(key('conc', i), modRevisions[i], value))) throw new Error('txn failed');
            }),
          );
          break;
        }
        case 'watch-throughput': {
          const issued = new Array<number>(20000);
          const seen: number[] = [];
          let allSeen: () => void = () => undefined;
          const done = new Promise<void>((resolve) => (allSeen = resolve));
          const watch = await client.watchPrefix(`${base}/watch/`, (k) => {
            seen.push(performance.now() - issued[Number(k.toString().slice(-8))]);
            if (seen.length === 20000) allSeen();
          });
          result = await measure(workload, 20000, 64, async () => {
            const { errors } = await pool(20000, 64, (i) => {
              issued[i] = performance.now();
              return client.put(key('watch', i), value).then(() => undefined);
            });
            await done;
            return { latencies: seen, errors };
          });
          await watch.cancel();
          result.extra = { events_per_s: 20000 / result.wall_s };
          break;
        }
        case 'lease-keepalive':
        case 'lease-keepalive-ttl5': {
          // The reference workload (TTL 30, held 10 s), and the Lease issue's check (TTL 5, 20 s):
          // with TTL 5 every lease is refreshed about every 1.7 s, so the window sees ~12 rounds.
          const [ttl, holdMs] = workload === 'lease-keepalive' ? [30, 10_000] : [5, 20_000];
          const metric = (name: string) => etcd.metric(name, { grpc_method: 'LeaseKeepAlive' });
          const sentBefore = await metric('grpc_server_msg_received_total');
          const streamsBefore = await metric('grpc_server_started_total');
          const leases: Array<{ id: bigint; stop(): void }> = [];
          result = await measure(workload, 1000, 64, async () => {
            const out = await pool(1000, 64, async () => {
              leases.push(await client.grantKeptAlive(ttl));
            });
            await sleep(holdMs);
            return { errors: out.errors };
          });
          const ttls = await Promise.all(leases.map((l) => admin.lease.timeToLive(l.id)));
          result.extra = {
            keepalive_sent: (await metric('grpc_server_msg_received_total')) - sentBefore,
            keepalive_streams: (await metric('grpc_server_started_total')) - streamsBefore,
            leases_lost: ttls.filter((t) => t.ttl <= 0).length,
          };
          for (const l of leases) l.stop();
          await Promise.all(leases.map((l) => admin.lease.revoke(l.id)));
          break;
        }
        case 'watchers-10k':
          await memoryWorkload(client, run, workload, 10_000, 10_000, async (i) => {
            const watch = await client.watchPrefix(`${base}/watchers/${String(i).padStart(8, '0')}/`, () => undefined);
            return () => watch.cancel();
          });
          continue;
        case 'leases-10k': {
          const ids: bigint[] = [];
          await memoryWorkload(client, run, workload, 10_000, 20_000, async () => {
            const lease = await client.grantKeptAlive(10);
            ids.push(lease.id);
            return () => lease.stop();
          });
          await pool(ids.length, 64, (i) => admin.lease.revoke(ids[i]).then(() => undefined));
          continue;
        }
        default:
          throw new Error(`unknown workload ${workload}`);
      }
      report(client, run, result);
    }
  } finally {
    await client.close();
    await admin.close();
    await etcd.destroy();
  }
}

/** The Go peer's binary, once go-clientv3 is known to be buildable here. */
let goBinary = '';

/** One run of Go clientv3 on a fresh etcd: its lines go into the summary like the others'. */
async function benchGoOnce(run: number, workloads: string[]): Promise<void> {
  const supported = workloads.filter((w) => goWorkloads.includes(w));
  const left = workloads.filter((w) => !goWorkloads.includes(w));
  if (left.length > 0) console.log(`${goClientName}: ${left.join(', ')} not implemented for Go, skipped`);
  if (supported.length === 0) return;
  const etcd: EtcdServer = await startEtcd({ args: ['--quota-backend-bytes=8589934592'] });
  try {
    await runGoBench(goBinary, etcd, run, supported, (line) => {
      lines.push(line);
      console.log(JSON.stringify(line));
    });
  } finally {
    await etcd.destroy();
  }
}

async function main(): Promise<void> {
  const { workloads, runs, clientNames: named } = parseArgs();
  let clientNames = named;
  if (clientNames.includes(goClientName)) {
    const go = goBenchBinary();
    if ('skipReason' in go) {
      console.log(go.skipReason.split('\n')[0]);
      clientNames = clientNames.filter((name) => name !== goClientName);
    } else {
      goBinary = go.binary;
    }
  }
  for (let run = 1; run <= runs; run++) {
    const order = run % 2 === 1 ? clientNames : [...clientNames].reverse();
    for (const name of order) await (name === goClientName ? benchGoOnce(run, workloads) : benchOnce(run, name, workloads));
  }
  summary(clientNames, workloads);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
