import { Client, NoLeaderError } from '../../src/index.js';
import { type EtcdCluster, Load, type LoadReport, TcpProxy, openStreams, startCluster, streamCarrier, waitFor } from '../harness/index.js';

// Faults on one 3-member cluster under load, each asserting that nothing is lost: every
// acknowledged write is there, nothing is there that was not written (or whose outcome was
// unknown), the watcher saw every stored write once and in revision order, and a lease kept
// alive throughout is still alive (test/harness/load.ts checks all of it). Clients reach each
// member through a TcpProxy (to blackhole it), and members reach each other through peer
// proxies (to partition them).
jest.setTimeout(240_000);

let cluster: EtcdCluster;
let proxies: TcpProxy[] = [];

beforeAll(async () => {
  cluster = await startCluster(3, { peerProxies: true });
  proxies = await Promise.all(cluster.members.map((m) => TcpProxy.start(m.endpoint)));
});

afterAll(async () => {
  for (const member of cluster?.members ?? []) await member.resume();
  await Promise.all(proxies.map((p) => p.close()));
  await cluster?.destroy();
});

/** Every member up, healthy and following one leader (faults of the test before have healed). */
async function settled(): Promise<void> {
  await waitFor(
    'every member healthy, with a leader',
    async () =>
      (await Promise.all(cluster.members.map(async (m) => (await m.healthy(2_000)) && (await m.metric('etcd_server_has_leader').catch(() => 0)) === 1))).every(Boolean),
    60_000,
  );
}

/** Expects a report with nothing lost, duplicated or invented, and some writes acknowledged. */
function expectNothingLost(report: LoadReport): void {
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
  expect(report.events).toBe(report.stored);
}

/**
 * Runs `fault` under four writers, a watcher and a kept-alive lease on one client of every
 * member (through the proxies), then checks that nothing was lost. With `carrier`, the watch
 * and keep-alive streams are opened while the client knows that member alone, so it carries
 * them when the fault starts.
 */
async function underLoad(name: string, fault: (load: Load) => Promise<void>, carrier?: number): Promise<LoadReport> {
  await settled();
  const all = proxies.map((p) => p.endpoint);
  await using client = new Client({ endpoints: carrier === undefined ? all : [all[carrier]] });
  const load = await Load.open(client, `faults/${name}/`);
  try {
    if (carrier !== undefined) {
      client.setEndpoints(all);
      expect(await streamCarrier(cluster, 'Watch')).toBe(carrier);
      expect(await streamCarrier(cluster, 'LeaseKeepAlive')).toBe(carrier);
    }
    load.write();
    await load.progress(20);
    await fault(load);
    // Writes go on after the fault.
    await load.progress(20);
  } catch (error) {
    await load.close();
    throw error;
  }
  const report = await load.finish();
  expectNothingLost(report);
  return report;
}

/**
 * Waits until exactly one member other than the one at `index` carries the `method` stream,
 * and, when that member still answers (`answering`), until it carries none itself (a silent
 * member still counts the streams it lost touch with, so its count is not asked then).
 */
async function movedAway(index: number, method: string, answering = false): Promise<void> {
  await waitFor(
    `the ${method} stream to leave member ${index}`,
    async () => {
      const open = await Promise.all(cluster.members.map((m, i) => (i === index && !answering ? Promise.resolve(0) : openStreams(m, method))));
      return open[index] === 0 && open.filter((n) => n > 0).length === 1;
    },
    90_000,
  );
}

it('loses nothing when the leader is killed and restarted under four writers', async () => {
  await underLoad('kill-leader', async (load) => {
    const leader = await cluster.leader();
    await leader.kill();
    await load.progress(20); // the two others elect a leader and take writes
    await leader.start();
  });
});

it('loses nothing through a rolling restart of all three members under load', async () => {
  await underLoad('rolling', async (load) => {
    for (const member of cluster.members) {
      await member.restart();
      await settled();
      await load.progress(10);
    }
  });
});

describe.each([0, 1, 2])('member %i, while it carries the watch and keep-alive streams', (index) => {
  it('blackholed: the streams move, nothing is lost', async () => {
    await underLoad(
      `blackhole-${index}`,
      async (load) => {
        proxies[index].blackhole();
        try {
          // The streams reopen on the other members, and writes go on.
          await movedAway(index, 'Watch');
          await movedAway(index, 'LeaseKeepAlive');
          await load.progress(20);
        } finally {
          proxies[index].restore();
        }
      },
      index,
    );
  });

  it('SIGSTOPed: the streams move, nothing is lost', async () => {
    await underLoad(
      `sigstop-${index}`,
      async (load) => {
        await cluster.members[index].pause();
        try {
          await movedAway(index, 'Watch');
          await movedAway(index, 'LeaseKeepAlive');
          await load.progress(20);
        } finally {
          await cluster.members[index].resume();
        }
      },
      index,
    );
  });
});

it('partitions the leader from the followers: it answers "no leader", the majority takes writes, nothing is lost after healing', async () => {
  await settled();
  const leader = await cluster.leader();
  const index = cluster.members.indexOf(leader);
  await underLoad(
    'partition',
    async (load) => {
      cluster.partition(index);
      try {
        await waitFor('the old leader to lose its leader', async () => (await leader.metric('etcd_server_has_leader')) === 0, 60_000);
        // The minority side refuses calls that require a leader, with a typed error.
        {
          await using minority = new Client({ endpoints: [proxies[index].endpoint] });
          await expect(minority.put(`${load.prefix}minority`, 'x', { requireLeader: true, timeout: 30_000 })).rejects.toBeInstanceOf(NoLeaderError);
          await expect(minority.get(load.prefix, { prefix: true, requireLeader: true, timeout: 30_000 })).rejects.toBeInstanceOf(NoLeaderError);
        }
        // Its watch and keep-alive streams (which require a leader) are ended and move to the
        // majority, which elects a leader and takes writes.
        await movedAway(index, 'Watch', true);
        await movedAway(index, 'LeaseKeepAlive', true);
        await waitFor('a leader among the majority', async () => (await cluster.leader().catch(() => leader)) !== leader, 60_000);
        await load.progress(20);
      } finally {
        cluster.heal();
      }
      await settled();
    },
    index,
  );
});
