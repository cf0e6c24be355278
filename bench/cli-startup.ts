// Wall time of one CLI run, nice-etcd beside etcdctl: `version` (start-up alone) and `get k`
// (start-up, connect, one read, exit), against a throwaway etcd.
//
//   bash scripts/build && npx tsx bench/cli-startup.ts [--runs 20] [--etcd 3.4|3.5] [--baseline <main.js>]
//
// It runs the built bin (dist/cjs/src/cli/main.js), as users get it, alternating the tools run
// by run, and prints the median and the fastest run of each in milliseconds: wall time, and CPU
// time (user + system, read with bash's `times`), which a busy machine inflates far less than
// wall time. `--baseline` adds another build of the bin (e.g. an older commit's
// dist/cjs/src/cli/main.js) to compare before and after. A measurement, not a test: nothing here
// asserts a speed.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { etcdBinary, startEtcd } from '../test/harness/index.js';

const args = process.argv.slice(2);
const option = (name: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};
if (option('etcd')) process.env.NICE_ETCD_VERSION = option('etcd');
const runs = Number(option('runs') ?? 20);
const bin = join(__dirname, '../dist/cjs/src/cli/main.js');
const baseline = option('baseline');

function wallMs(command: string, commandArgs: string[]): number {
  const start = process.hrtime.bigint();
  const result = spawnSync(command, commandArgs, { stdio: ['ignore', 'ignore', 'pipe'] });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (result.status !== 0) throw new Error(`${command} ${commandArgs.join(' ')} failed: ${result.stderr.toString()}`);
  return ms;
}

/** User + system CPU time of one run, in ms: bash's `times` prints its children's on its last line. */
function cpuMs(command: string, commandArgs: string[]): number {
  const script = '"$@" >/dev/null 2>&1 || exit 1; times';
  const result = spawnSync('bash', ['-c', script, 'bash', command, ...commandArgs], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`${command} ${commandArgs.join(' ')} failed`);
  const children = result.stdout.trim().split('\n').pop()!;
  return children
    .split(' ')
    .map((t) => /^(\d+)m([\d.]+)s$/.exec(t)!)
    .reduce((ms, [, minutes, seconds]) => ms + (Number(minutes) * 60 + Number(seconds)) * 1000, 0);
}

function summary(samples: number[]): { median: number; min: number } {
  const sorted = [...samples].sort((a, b) => a - b);
  return { median: Math.round(sorted[Math.floor(sorted.length / 2)]!), min: Math.round(sorted[0]!) };
}

async function main(): Promise<void> {
  if (!existsSync(bin)) throw new Error(`${bin} is missing: run bash scripts/build first`);
  const etcd = await startEtcd();
  try {
    await etcd.etcdctl(['put', 'k', 'v']);
    const endpoints = `--endpoints=${etcd.clientUrl}`;
    const cases: Array<[string, string, string[]]> = [
      ['nice-etcd version', process.execPath, [bin, 'version']],
      ['etcdctl version', etcdBinary('etcdctl'), ['version']],
      ['nice-etcd get k', process.execPath, [bin, endpoints, 'get', 'k']],
      ['etcdctl get k', etcdBinary('etcdctl'), [endpoints, 'get', 'k']],
    ];
    if (baseline) {
      cases.push(['baseline version', process.execPath, [baseline, 'version']], ['baseline get k', process.execPath, [baseline, endpoints, 'get', 'k']]);
    }
    const wall = new Map<string, number[]>(cases.map(([name]) => [name, []]));
    const cpu = new Map<string, number[]>(cases.map(([name]) => [name, []]));
    for (const [, command, commandArgs] of cases) wallMs(command, commandArgs); // warm the file cache
    for (let run = 0; run < runs; run++) {
      const order = run % 2 === 0 ? cases : [...cases].reverse();
      for (const [name, command, commandArgs] of order) {
        wall.get(name)!.push(wallMs(command, commandArgs));
        cpu.get(name)!.push(cpuMs(command, commandArgs));
      }
    }
    console.log(`node ${process.version}, ${runs} runs each, in ms`);
    console.log('command              wall median   min   cpu median   min');
    for (const [name] of cases) {
      const w = summary(wall.get(name)!);
      const c = summary(cpu.get(name)!);
      console.log(`${name.padEnd(20)} ${String(w.median).padStart(11)} ${String(w.min).padStart(5)} ${String(c.median).padStart(12)} ${String(c.min).padStart(5)}`);
    }
  } finally {
    await etcd.destroy();
  }
}

void main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
