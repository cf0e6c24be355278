import { Client, type ClientConfig, NoLeaderError } from '../../src/index.js';
import { type EtcdCluster, startCluster } from './cluster';
import { Load, type LoadReport } from './load';
import { TcpProxy } from './proxy';
import { openStreams, streamCarrier } from './streams';
import { waitFor } from './wait-for';

/** A fault made while a `Load` runs; `carrier` is the member that carried its streams, if pinned. */
export type Fault = (load: Load, carrier: number | undefined) => Promise<void>;

/** A named fault, and which member should carry the client's streams when it starts. */
export interface Scenario {
  name: string;
  /** A member index, `'leader'` (the leader when the scenario starts), or none (wherever the client puts them). */
  carrier?: number | 'leader';
  fault: Fault;
}

/**
 * A 3-member cluster built for faults: clients reach each member through a `TcpProxy` (to
 * blackhole it) and members reach each other through peer proxies (to partition them). Runs
 * the scenarios of issue 11 under a `Load` and returns what the load found; shared by
 * test/integration/faults.test.ts and bench/soak.ts.
 */
export class FaultCluster {
  private constructor(
    readonly cluster: EtcdCluster,
    readonly proxies: TcpProxy[],
    private readonly clientConfig: Partial<ClientConfig>,
  ) {}

  /** Starts the cluster and its proxies; `clientConfig` applies to every client the scenarios make. */
  static async start(clientConfig: Partial<ClientConfig> = {}): Promise<FaultCluster> {
    const cluster = await startCluster(3, { peerProxies: true });
    try {
      const proxies = await Promise.all(cluster.members.map((m) => TcpProxy.start(m.endpoint)));
      return new FaultCluster(cluster, proxies, clientConfig);
    } catch (error) {
      await cluster.destroy();
      throw error;
    }
  }

  /** The client endpoints: every member's proxy. */
  get endpoints(): string[] {
    return this.proxies.map((p) => p.endpoint);
  }

  /** Every scenario: leader killed, rolling restart, each member blackholed and SIGSTOPed while it carries the streams, leader partitioned. */
  get scenarios(): Scenario[] {
    return [
      { name: 'kill-leader', fault: (load) => this.killLeader(load) },
      { name: 'rolling-restart', fault: (load) => this.rollingRestart(load) },
      ...[0, 1, 2].flatMap((i): Scenario[] => [
        { name: `blackhole-${i}`, carrier: i, fault: (load) => this.blackhole(load, i) },
        { name: `sigstop-${i}`, carrier: i, fault: (load) => this.sigstop(load, i) },
      ]),
      { name: 'partition-leader', carrier: 'leader', fault: (load, carrier) => this.partition(load, carrier ?? 0) },
    ];
  }

  /** The scenario called `name`. */
  scenario(name: string): Scenario {
    const found = this.scenarios.find((s) => s.name === name);
    if (!found) throw new Error(`no scenario ${name}`);
    return found;
  }

  /**
   * Runs `scenario` under four writers, a watcher and a kept-alive lease (keys under `prefix`)
   * on one client of every member, then stops the load and reports what it found. With a
   * carrier, the watch and keep-alive streams are opened while the client knows that member
   * alone, so that it carries them when the fault starts. Throws when the scenario could not
   * run as planned (a wait timed out, a minority that did not answer "no leader").
   */
  async run(scenario: Scenario, prefix: string): Promise<LoadReport> {
    await this.settled();
    const all = this.endpoints;
    const carrier = scenario.carrier === 'leader' ? this.cluster.members.indexOf(await this.cluster.leader()) : scenario.carrier;
    await using client = new Client({ ...this.clientConfig, endpoints: carrier === undefined ? all : [all[carrier]] });
    const load = await Load.open(client, prefix);
    try {
      if (carrier !== undefined) {
        client.setEndpoints(all);
        for (const method of ['Watch', 'LeaseKeepAlive']) {
          const found = await streamCarrier(this.cluster, method);
          if (found !== carrier) throw new Error(`the ${method} stream is on member ${found}, not ${carrier}`);
        }
      }
      load.write();
      await load.progress(20);
      await scenario.fault(load, carrier);
      // Writes go on after the fault.
      await load.progress(20);
    } catch (error) {
      await load.close();
      throw error;
    }
    return await load.finish();
  }

  /** Every member up, healthy and following one leader (the faults before have healed). */
  async settled(): Promise<void> {
    await waitFor(
      'every member healthy, with a leader',
      async () =>
        (
          await Promise.all(this.cluster.members.map(async (m) => (await m.healthy(2_000)) && (await m.metric('etcd_server_has_leader').catch(() => 0)) === 1))
        ).every(Boolean),
      60_000,
    );
  }

  /**
   * Waits until exactly one member other than the one at `index` carries the `method` stream,
   * and, when that member still answers (`answering`), until it carries none itself (a silent
   * member still counts the streams it lost touch with, so its count is not asked then).
   */
  async movedAway(index: number, method: string, answering = false): Promise<void> {
    await waitFor(
      `the ${method} stream to leave member ${index}`,
      async () => {
        const open = await Promise.all(this.cluster.members.map((m, i) => (i === index && !answering ? Promise.resolve(0) : openStreams(m, method))));
        return open[index] === 0 && open.filter((n) => n > 0).length === 1;
      },
      90_000,
    );
  }

  /** Kills the leader (SIGKILL), waits for writes through the other two, starts it again. */
  async killLeader(load: Load): Promise<void> {
    const leader = await this.cluster.leader();
    await leader.kill();
    await load.progress(20);
    await leader.start();
  }

  /** Restarts each member in turn (SIGTERM, start), waiting for the cluster and for writes between. */
  async rollingRestart(load: Load): Promise<void> {
    for (const member of this.cluster.members) {
      await member.restart();
      await this.settled();
      await load.progress(10);
    }
  }

  /** Blackholes member `index`'s client proxy until its streams have moved and writes go on. */
  async blackhole(load: Load, index: number): Promise<void> {
    this.proxies[index].blackhole();
    try {
      await this.movedAway(index, 'Watch');
      await this.movedAway(index, 'LeaseKeepAlive');
      await load.progress(20);
    } finally {
      this.proxies[index].restore();
    }
  }

  /** SIGSTOPs member `index` until its streams have moved and writes go on. */
  async sigstop(load: Load, index: number): Promise<void> {
    const member = this.cluster.members[index];
    await member.pause();
    try {
      await this.movedAway(index, 'Watch');
      await this.movedAway(index, 'LeaseKeepAlive');
      await load.progress(20);
    } finally {
      await member.resume();
    }
  }

  /**
   * Cuts member `index` (the leader) off from the two others until: it has no leader; it
   * refuses a put and a get that require a leader with `NoLeaderError`; the watch and keep-alive
   * streams have left it (etcd ends streams that require a leader); the two others have a
   * leader and take writes. Then heals and waits for the cluster.
   */
  async partition(load: Load, index: number): Promise<void> {
    const member = this.cluster.members[index];
    this.cluster.partition(index);
    try {
      await waitFor('the partitioned member to lose its leader', async () => (await member.metric('etcd_server_has_leader')) === 0, 60_000);
      {
        await using minority = new Client({ ...this.clientConfig, endpoints: [this.proxies[index].endpoint] });
        await expectNoLeader('a put', minority.put(`${load.prefix}minority`, 'x', { requireLeader: true, timeout: 30_000 }));
        await expectNoLeader('a get', minority.get(load.prefix, { prefix: true, requireLeader: true, timeout: 30_000 }));
      }
      await this.movedAway(index, 'Watch', true);
      await this.movedAway(index, 'LeaseKeepAlive', true);
      await waitFor('a leader among the majority', async () => (await this.cluster.leader().catch(() => member)) !== member, 60_000);
      await load.progress(20);
    } finally {
      this.cluster.heal();
    }
    await this.settled();
  }

  /** Stops the proxies and the cluster (resuming any paused member first). */
  async destroy(): Promise<void> {
    for (const member of this.cluster.members) await member.resume();
    await Promise.all(this.proxies.map((p) => p.close()));
    await this.cluster.destroy();
  }
}

/** Throws unless `call` fails with `NoLeaderError`. */
async function expectNoLeader(what: string, call: Promise<unknown>): Promise<void> {
  const outcome = await call.then(
    () => 'it succeeded',
    (error: unknown) => (error instanceof NoLeaderError ? undefined : `it failed with ${String(error)}`),
  );
  if (outcome !== undefined) throw new Error(`${what} that requires a leader, on a member cut off from the others: expected NoLeaderError, but ${outcome}`);
}
