import { FaultCluster } from '../harness/index.js';

// Faults on one 3-member cluster under load (test/harness/fault-scenarios.ts makes them; bench/
// soak.ts repeats them for a set time), each asserting that nothing is lost: every acknowledged
// write is there, nothing is there that was not written (or whose outcome was unknown), the
// watcher saw every stored write once and in revision order, and a lease kept alive throughout
// is still alive (test/harness/load.ts checks all of it).
jest.setTimeout(240_000);

let faults: FaultCluster;

beforeAll(async () => {
  faults = await FaultCluster.start();
});

afterAll(async () => {
  await faults?.destroy();
});

/** Runs scenario `name` under four writers, a watcher and a kept-alive lease, and expects nothing lost. */
async function expectNothingLost(name: string): Promise<void> {
  const report = await faults.run(faults.scenario(name), `faults/${name}/`);
  expect(report.acknowledged).toBeGreaterThan(0);
  expect({
    lost: report.lost,
    unexpected: report.unexpected,
    missedEvents: report.missedEvents,
    phantomEvents: report.phantomEvents,
    duplicateEvents: report.duplicateEvents,
    outOfOrderEvents: report.outOfOrderEvents,
    watchEnded: report.watchEnded,
    leaseLost: report.leaseLost,
    untyped: report.untyped,
  }).toEqual({ lost: [], unexpected: [], missedEvents: [], phantomEvents: [], duplicateEvents: 0, outOfOrderEvents: 0, watchEnded: undefined, leaseLost: undefined, untyped: [] });
  // Every stored write was seen (missedEvents), and nothing else but writes of unknown outcome
  // that etcd applied after the read at the end.
  expect(report.events).toBe(report.stored + report.lateEvents);
}

it('loses nothing when the leader is killed and restarted under four writers', async () => {
  await expectNothingLost('kill-leader');
});

it('loses nothing through a rolling restart of all three members under load', async () => {
  await expectNothingLost('rolling-restart');
});

describe.each([0, 1, 2])('member %i, while it carries the watch and keep-alive streams', (index) => {
  it('blackholed (its client proxy silent): the streams move, writes go on, nothing is lost', async () => {
    await expectNothingLost(`blackhole-${index}`);
  });

  it('SIGSTOPed: the streams move, writes go on, nothing is lost', async () => {
    await expectNothingLost(`sigstop-${index}`);
  });
});

// The minority side refuses a put and a get that require a leader with NoLeaderError, and its
// watch and keep-alive streams are ended and reopen on the majority (the scenario throws if not).
it('partitions the leader from the followers: it answers "no leader", the majority takes writes, nothing is lost after healing', async () => {
  await expectNothingLost('partition-leader');
});
