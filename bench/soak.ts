// Soak benchmark (not a test): the fault scenarios of test/integration/faults.test.ts in a loop
// on one 3-member cluster for a set time, each under four writers, a watcher and a kept-alive
// lease, printing one line per round and a summary of ops, failures by error class, and lost or
// duplicated writes, events and leases (all expected 0).
//
//   npm run bench:soak -- [--minutes 10] [--transport http2|grpc-js] [--etcd 3.5|3.4] [--scenarios kill-leader,sigstop-0,...]
//
// Scenarios (test/harness/fault-scenarios.ts): kill-leader, rolling-restart, blackhole-0..2 and
// sigstop-0..2 (that member carries the watch and keep-alive streams), partition-leader (the
// leader cut off from the followers through peer proxies). Exits 1 if anything was lost,
// duplicated or invented, or if a round could not run as planned (a wait timed out, a cut-off
// member that did not answer "no leader"). Ctrl-C ends it after the current round.
import { FaultCluster, type LoadReport, etcdServerVersion } from '../test/harness/index.js';

interface Args {
  minutes: number;
  transport: 'http2' | 'grpc-js' | undefined;
  scenarios: string[] | undefined;
}

function parseArgs(): Args {
  const args = process.argv.slice(2);
  const get = (name: string) => {
    const i = args.indexOf(`--${name}`);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const version = get('etcd');
  if (version) process.env.NICE_ETCD_VERSION = version;
  const minutes = Number(get('minutes') ?? 10);
  if (!(minutes > 0)) throw new Error('--minutes must be a positive number');
  const transport = get('transport');
  if (transport !== undefined && transport !== 'http2' && transport !== 'grpc-js') throw new Error('--transport must be http2 or grpc-js');
  return { minutes, transport, scenarios: get('scenarios')?.split(',') };
}

/** Sums of every round's report; the counts of loss must all stay 0. */
class Totals {
  rounds = new Map<string, number>();
  ops = 0;
  acknowledged = 0;
  unknown = 0;
  lateEvents = 0;
  failures = new Map<string, number>();
  lost = 0;
  unexpected = 0;
  missedEvents = 0;
  phantomEvents = 0;
  duplicateEvents = 0;
  outOfOrderEvents = 0;
  watchersEnded = 0;
  leasesLost = 0;
  untyped = 0;
  roundErrors: string[] = [];

  add(name: string, report: LoadReport): void {
    this.rounds.set(name, (this.rounds.get(name) ?? 0) + 1);
    this.ops += report.ops;
    this.acknowledged += report.acknowledged;
    this.unknown += report.unknown;
    this.lateEvents += report.lateEvents;
    for (const [kind, n] of Object.entries(report.failures)) this.failures.set(kind, (this.failures.get(kind) ?? 0) + n);
    this.lost += report.lost.length;
    this.unexpected += report.unexpected.length;
    this.missedEvents += report.missedEvents.length;
    this.phantomEvents += report.phantomEvents.length;
    this.duplicateEvents += report.duplicateEvents;
    this.outOfOrderEvents += report.outOfOrderEvents;
    if (report.watchEnded) this.watchersEnded++;
    if (report.leaseLost) this.leasesLost++;
    this.untyped += report.untyped.length;
  }

  /** The loss counters, by name; every one must be 0. */
  get losses(): Record<string, number> {
    return {
      'lost writes': this.lost,
      'unexpected keys': this.unexpected,
      'missed events': this.missedEvents,
      'phantom events': this.phantomEvents,
      'duplicated events': this.duplicateEvents,
      'out-of-order events': this.outOfOrderEvents,
      'watchers ended': this.watchersEnded,
      'leases lost': this.leasesLost,
      'untyped errors': this.untyped,
      'rounds that could not run': this.roundErrors.length,
    };
  }
}

function list(entries: Iterable<[string, number]>): string {
  const items = [...entries].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} ${n}`);
  return items.length ? items.join(', ') : 'none';
}

function clock(ms: number): string {
  const s = Math.floor(ms / 1000);
  return `${String(Math.floor(s / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
}

/** What a round's report says in one line. */
function roundLine(report: LoadReport): string {
  const problems = [
    ...report.lost.slice(0, 3).map((k) => `lost ${k}`),
    ...report.unexpected.slice(0, 3).map((k) => `unexpected ${k}`),
    ...report.missedEvents.slice(0, 3).map((k) => `missed event ${k}`),
    ...report.phantomEvents.slice(0, 3).map((k) => `phantom event ${k}`),
    ...(report.duplicateEvents ? [`${report.duplicateEvents} duplicated events`] : []),
    ...(report.outOfOrderEvents ? [`${report.outOfOrderEvents} events out of order`] : []),
    ...(report.watchEnded ? [report.watchEnded] : []),
    ...(report.leaseLost ? [report.leaseLost] : []),
    ...report.untyped.slice(0, 3).map((e) => `untyped error ${e}`),
  ];
  return (
    `${report.ops} ops, ${report.acknowledged} acknowledged, ${report.unknown} unknown outcome; failures: ${list(Object.entries(report.failures))}; ` +
    `${report.stored} stored, ${report.events} events (${report.lateEvents} late); ${problems.length ? `PROBLEMS: ${problems.join('; ')}` : 'nothing lost'}`
  );
}

async function main(): Promise<number> {
  const args = parseArgs();
  const faults = await FaultCluster.start(args.transport ? { transport: args.transport } : {});
  const totals = new Totals();
  const started = performance.now();
  let deadline = started + args.minutes * 60_000;
  process.once('SIGINT', () => {
    console.log('SIGINT: stopping after this round');
    deadline = 0;
  });
  try {
    const version = etcdServerVersion();
    const scenarios = args.scenarios ? args.scenarios.map((name) => faults.scenario(name)) : faults.scenarios;
    console.log(`soak: ${args.minutes} min on a 3-member etcd ${version} cluster, transport ${args.transport ?? 'http2'}, scenarios ${scenarios.map((s) => s.name).join(', ')}`);
    for (let round = 0; performance.now() < deadline; round++) {
      const scenario = scenarios[round % scenarios.length];
      const at = clock(performance.now() - started);
      try {
        const report = await faults.run(scenario, `soak/${round}-${scenario.name}/`);
        totals.add(scenario.name, report);
        console.log(`[${at}] round ${round} ${scenario.name}: ${roundLine(report)}`);
      } catch (error) {
        totals.roundErrors.push(`${scenario.name}: ${(error as Error).message}`);
        console.log(`[${at}] round ${round} ${scenario.name}: COULD NOT RUN: ${(error as Error).message}`);
        await recover(faults);
      }
    }
  } finally {
    await faults.destroy();
  }
  const minutes = (performance.now() - started) / 60_000;
  const rounds = [...totals.rounds.values()].reduce((a, b) => a + b, 0) + totals.roundErrors.length;
  const lossy = Object.entries(totals.losses).filter(([, n]) => n > 0);
  console.log('');
  console.log(`soak summary: ${minutes.toFixed(1)} min, ${rounds} rounds (${list(totals.rounds)})`);
  console.log(`ops ${totals.ops}, acknowledged ${totals.acknowledged}, unknown outcome ${totals.unknown} (applied after the final read: ${totals.lateEvents})`);
  console.log(`failures by error class: ${list(totals.failures)}`);
  console.log(Object.entries(totals.losses).map(([k, n]) => `${k} ${n}`).join(', '));
  for (const error of totals.roundErrors) console.log(`  could not run: ${error}`);
  console.log(lossy.length === 0 ? 'result: nothing lost' : `result: FAILED (${lossy.map(([k, n]) => `${k} ${n}`).join(', ')})`);
  return lossy.length === 0 ? 0 : 1;
}

/** After a round that failed midway: every member running and resumed, every cut healed. */
async function recover(faults: FaultCluster): Promise<void> {
  faults.cluster.heal();
  for (const proxy of faults.proxies) proxy.restore();
  for (const member of faults.cluster.members) {
    await member.resume();
    await member.start().catch((error: Error) => console.log(`  restarting ${member.name} failed: ${error.message}`));
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  },
);
