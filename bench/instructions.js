// One workload of a built nice-etcd (dist/), for counting instructions under valgrind:
// bench/instructions runs it twice with different op counts and prints the slope per op, which
// leaves out start-up and warm-up. Plain JavaScript on a build, so that no compiler runs inside
// the count.
//
//   node bench/instructions.js <dist dir> <endpoint> <ops> <put|get|txn|watch|range>
'use strict';
const [dist, endpoint, opsArg, mode] = process.argv.slice(2);
const { Client, compare, op } = require(`${dist}/cjs/src/index.js`);

const ops = Number(opsArg);
const value = Buffer.alloc(256, 'v');
const base = `instructions/${process.pid}`;

async function pool(count, fn) {
  let next = 0;
  await Promise.all(
    Array.from({ length: 64 }, async () => {
      while (next < count) await fn(next++);
    }),
  );
}

async function main() {
  // Under valgrind everything runs ~50x slower: generous limits, or a slow connect (or, on a
  // loaded machine, a keepalive ping answered late: "Connection dropped") fails the run.
  const client = new Client({ endpoints: [endpoint], timeout: 600_000, dialTimeout: 600_000, keepAliveTimeout: 600_000 });
  try {
    // Warm-up, the same for every count; `range` also needs its keys.
    await pool(200, (i) => client.put(`${base}/warm/${i}`, value));
    switch (mode) {
      case 'put':
        await pool(ops, (i) => client.put(`${base}/put/${i}`, value));
        break;
      case 'get':
        await pool(ops, (i) => client.get(`${base}/warm/${i % 200}`));
        break;
      case 'txn':
        await pool(ops, (i) => {
          const key = `${base}/warm/${i % 200}`;
          return client.txn().if(compare.modRevision(key, '>', 0)).then(op.put(key, value)).commit();
        });
        break;
      case 'range':
        // ops ranges of the 200 warm-up keys, one at a time.
        for (let i = 0; i < ops; i++) await client.get(`${base}/warm/`, { prefix: true });
        break;
      case 'watch': {
        let seen = 0;
        let allSeen;
        const done = new Promise((resolve) => (allSeen = resolve));
        const watcher = client.watch(`${base}/watch/`, { prefix: true, maxBufferedEvents: 1_000_000 });
        watcher.on('put', () => {
          if (++seen === ops) allSeen();
        });
        await watcher.created;
        await pool(ops, (i) => client.put(`${base}/watch/${i}`, value));
        await done;
        await watcher.cancel();
        break;
      }
      default:
        throw new Error(`unknown workload ${mode}`);
    }
  } finally {
    await client.close();
  }
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
