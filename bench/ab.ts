// Paired before/after: this tree's nice-etcd against another checkout's (BENCH_BASE), on one
// etcd, in alternating blocks, so both see the same machine load. Prints client CPU µs per op of
// each block and the medians. On a shared machine this separates a few percent where
// `npm run bench` (a fresh etcd per client, minutes apart) cannot.
//
//   BENCH_BASE=/tmp/base npx tsx bench/ab.ts [--workload put|get|txn|range] [--blocks 12] [--ops 2000]
//
// `range` reads 10,000 keys of 256 bytes (range-10k of bench/run.ts), one at a time; its
// --ops defaults to 10 per block, and it prints ms of client CPU and wall time per range.
//
// `--clients a,b,...` compares other clients of bench/clients.ts the same way (default
// nice-etcd,nice-etcd@base), each block order rotated per round; e.g. the cost of observability
// left unused: `--clients nice-etcd,nice-etcd+logger,nice-etcd@base` (README: Observability).
//
// (BENCH_BASE as for bench/run.ts: `git archive <commit> src generated | tar -x -C /tmp/base`
// and a node_modules symlink beside it.)
import { startEtcd } from '../test/harness/index.js';
import { type BenchClient, clients } from './clients.js';

const args = process.argv.slice(2);
const arg = (name: string, fallback: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : fallback;
};
const workload = arg('workload', 'put');
const blocks = Number(arg('blocks', '12'));
const ops = Number(arg('ops', workload === 'range' ? '10' : '2000'));
const value = Buffer.alloc(256, 'v');
const names = arg('clients', 'nice-etcd,nice-etcd@base').split(',');

async function pool(count: number, fn: (i: number) => Promise<unknown>, concurrency = 64): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) await fn(next++);
    }),
  );
}

/** Wall ms per op of each block, beside the CPU figures. */
const walls: number[][] = names.map(() => []);

async function block(client: BenchClient, revisions: Map<string, bigint>, side: number): Promise<number> {
  const key = (i: number) => `ab/${client.name}/${i % 1000}`;
  const cpu = process.cpuUsage();
  const started = performance.now();
  if (workload === 'range') {
    await pool(
      ops,
      async () => {
        const { count } = await client.range(`ab/${client.name}/range/`);
        if (count !== 10_000) throw new Error(`got ${count} keys`);
      },
      1,
    );
    walls[side].push((performance.now() - started) / ops);
    const used = process.cpuUsage(cpu);
    return (used.user + used.system) / ops / 1000;
  }
  await pool(ops, async (i) => {
    if (workload === 'put') revisions.set(key(i), await client.put(key(i), value));
    else if (workload === 'get') await client.get(key(i), false);
    else if (workload === 'txn') {
      // Only the first txn on a key finds its recorded revision; a failed compare is still one
      // full txn round trip, and both sides run the same sequence.
      await client.putIfModRevision(key(i), revisions.get(key(i)) ?? 0n, value);
    } else throw new Error(`unknown workload ${workload}`);
  });
  const used = process.cpuUsage(cpu);
  walls[side].push((performance.now() - started) / ops);
  return (used.user + used.system) / ops;
}

async function main(): Promise<void> {
  if (names.includes('nice-etcd@base') && !process.env.BENCH_BASE) throw new Error('set BENCH_BASE to another checkout (see the comment at the top)');
  for (const name of names) if (!clients[name]) throw new Error(`unknown client ${name}: one of ${Object.keys(clients).join(', ')}`);
  const etcd = await startEtcd({ args: ['--quota-backend-bytes=8589934592'] });
  const pair = names.map((name) => clients[name](etcd.endpoint));
  const revisions = pair.map(() => new Map<string, bigint>());
  const results: number[][] = pair.map(() => []);
  try {
    for (const [i, c] of pair.entries()) {
      for (let k = 0; k < 1000; k++) revisions[i].set(`ab/${c.name}/${k}`, await c.put(`ab/${c.name}/${k}`, value));
      if (workload === 'range') await pool(10_000, (k) => c.put(`ab/${c.name}/range/${String(k).padStart(8, '0')}`, value));
    }
    for (let round = 0; round < blocks; round++) {
      const order = pair.map((_, i) => (i + round) % pair.length);
      for (const i of order) results[i].push(await block(pair[i], revisions[i], i));
    }
  } finally {
    await Promise.all(pair.map((c) => c.close()));
    await etcd.destroy();
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const unit = workload === 'range' ? 'ms' : 'µs';
  for (const [i, c] of pair.entries()) {
    console.log(`${c.name.padEnd(16)} ${workload} CPU ${unit}/op median ${median(results[i]).toFixed(1)}, wall ms/op median ${median(walls[i]).toFixed(2)}  blocks ${results[i].map((x) => x.toFixed(0)).join(' ')}`);
  }
  for (let i = 1; i < pair.length; i++) {
    console.log(`ratio ${pair[0].name}/${pair[i].name}: CPU ${(median(results[0]) / median(results[i])).toFixed(3)}, wall ${(median(walls[0]) / median(walls[i])).toFixed(3)}`);
  }
  console.log(`(the first block of each warms up; ${blocks} blocks of ${ops} ops, ${workload === 'range' ? 1 : 64} in flight)`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
