// Go clientv3 as a bench client: the Go peer's `bench` subcommand (test/go-peer/bench.go) runs
// the same workloads with the same definitions in its own process, against the fresh etcd that
// bench/run.ts started for it, and prints one JSON line per workload in run.ts's schema. It does
// its own untimed warm-up, settling and setup, as run.ts does in-process for the Node clients,
// and measures its own process's CPU over each timed window.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { goPeerBuild } from '../test/harness/go-peer.js';
import type { EtcdServer } from '../test/harness/index.js';

/** The client's name in `--clients`. */
export const goClientName = 'go-clientv3';

/** The workloads the Go side implements (the memory workloads are Node-only). */
export const goWorkloads: readonly string[] = [
  'put-seq',
  'put-conc',
  'get-conc',
  'get-serializable-conc',
  'range-10k',
  'txn-conc',
  'watch-throughput',
  'lease-keepalive',
  'lease-keepalive-ttl5',
];

/** The Go peer's binary (built by scripts/build-go-peer if its sources changed), or why there is none. */
export function goBenchBinary(): { binary: string } | { skipReason: string } {
  const build = goPeerBuild();
  return 'binary' in build ? build : { skipReason: `${goClientName} skipped: ${build.skipReason.replace(/^Go interop tests skipped: /, '')}` };
}

/** The bound on one whole Go run (all workloads), after which it is killed and the run fails. */
const runTimeoutMs = 20 * 60_000;

/** Runs `workloads` with Go clientv3 against `etcd`; calls `onLine` with each result line. */
export async function runGoBench(binary: string, etcd: EtcdServer, run: number, workloads: string[], onLine: (line: Record<string, number | string>) => void): Promise<void> {
  const child = spawn(binary, ['bench', '--run', String(run), '--metrics', `${etcd.clientUrl}/metrics`, '--workloads', workloads.join(',')], {
    env: { ...process.env, ETCD_ENDPOINTS: etcd.endpoint },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const bad: string[] = [];
  createInterface({ input: child.stdout }).on('line', (line) => {
    try {
      onLine(JSON.parse(line) as Record<string, number | string>);
    } catch {
      bad.push(line);
    }
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), runTimeoutMs);
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve, reject) => {
    child.once('error', reject);
    // 'close' comes after stdout and stderr are read to their end.
    child.once('close', (c, s) => resolve([c, s]));
  }).finally(() => clearTimeout(timer));
  if (code !== 0 || bad.length > 0) {
    const why = code !== 0 ? `exited with ${code ?? signal}` : `printed ${bad.length} line(s) that are not JSON: ${bad[0]}`;
    throw new Error(`go-peer bench ${why}; stderr:\n${stderr}`);
  }
}
