// Benchmarks of the workloads in shared/reference/benchmarks.md, printed as one JSON line each.
//
//   npm run bench -- [--clients nice-etcd,etcd3] [--workloads put-seq,put-conc,...] [--runs 1] [--etcd 3.4|3.5]
//
// Each client in each run gets a fresh etcd (data dir on /dev/shm, 8 GiB quota) and one client
// object; the order of the clients alternates between runs. Figures vary ±20% run to run on
// shared machines: compare clients only as ratios from the same run. These are measurements,
// not tests: nothing here asserts a speed.
import { setTimeout as sleep } from 'node:timers/promises';
import { Client } from '../src/index.js';
import { type EtcdServer, startEtcd } from '../test/harness/index.js';
import { type BenchClient, clients } from './clients.js';

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

function parseArgs(): { workloads: string[]; runs: number; clientNames: string[] } {
  const args = process.argv.slice(2);
  const get = (name: string) => {
    const i = args.indexOf(`--${name}`);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const version = get('etcd');
  if (version) process.env.NICE_ETCD_VERSION = version;
  const all = ['put-seq', 'put-conc', 'get-conc', 'get-serializable-conc', 'range-10k', 'txn-conc', 'watch-throughput', 'lease-keepalive', 'lease-keepalive-ttl5'];
  const clientNames = get('clients')?.split(',') ?? Object.keys(clients);
  for (const name of clientNames) if (!clients[name]) throw new Error(`unknown client ${name}; known: ${Object.keys(clients).join(', ')}`);
  return { workloads: get('workloads')?.split(',') ?? all, runs: Number(get('runs') ?? 1), clientNames };
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
  const cpu = process.cpuUsage();
  const started = performance.now();
  const out = await body();
  const wall = (performance.now() - started) / 1000;
  const used = process.cpuUsage(cpu);
  return { workload, ops, concurrency, wall_s: wall, cpu_s: (used.user + used.system) / 1e6, ...out };
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

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
  console.log(JSON.stringify(line));
}

const round = (n: number) => Math.round(n * 1000) / 1000;

async function benchOnce(run: number, name: string, workloads: string[]): Promise<void> {
  const etcd: EtcdServer = await startEtcd({ args: ['--quota-backend-bytes=8589934592'] });
  const client = clients[name](etcd.endpoint);
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

async function main(): Promise<void> {
  const { workloads, runs, clientNames } = parseArgs();
  for (let run = 1; run <= runs; run++) {
    const order = run % 2 === 1 ? clientNames : [...clientNames].reverse();
    for (const name of order) await benchOnce(run, name, workloads);
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
