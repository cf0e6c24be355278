import { type EtcdOptions, EtcdServer, tempDataDir } from './etcd';
import { PeerProxy, procConnectionOwner } from './peer-proxy';
import { freePort } from './ports';

let counter = 0;

/** Options of `startCluster`: every member's `EtcdOptions`, and the cluster's own. */
export interface ClusterOptions extends EtcdOptions {
  /** Put a `PeerProxy` in front of each member's peer listener, so `partition()` can cut members apart. */
  peerProxies?: boolean;
}

/** A multi-member etcd cluster on loopback, for failover tests. */
export class EtcdCluster {
  constructor(
    readonly members: EtcdServer[],
    /** One per member, in the same order, with `peerProxies`; else none. */
    readonly peerProxies: PeerProxy[] = [],
  ) {}

  /** Every member's `host:port`. */
  get endpoints(): string[] {
    return this.members.map((m) => m.endpoint);
  }

  /** The member that is leader now (read from each member's etcd_server_is_leader metric). */
  async leader(): Promise<EtcdServer> {
    for (const member of this.members) {
      if (!member.pid) continue;
      try {
        if ((await member.metric('etcd_server_is_leader')) === 1) return member;
      } catch {
        // a stopped or paused member has no say
      }
    }
    throw new Error('the cluster has no leader');
  }

  /**
   * A member that can join this cluster: ports and a data dir, not started. Add its `peerUrl`
   * with `memberAdd`, then call `join(members)` with the member list memberAdd returned.
   */
  async prepareMember(name: string, options: EtcdOptions = {}): Promise<{ peerUrl: string; join(members: Array<{ name: string; peerUrls: string[] }>): Promise<EtcdServer> }> {
    const [clientPort, peerPort] = [await freePort(), await freePort()];
    const peerUrl = `http://127.0.0.1:${peerPort}`;
    const dataDir = await tempDataDir(name);
    const token = this.members[0].clusterToken;
    return {
      peerUrl,
      join: async (members) => {
        const initialCluster = members.map((m) => `${m.name || name}=${m.peerUrls[0]}`).join(',');
        const member = new EtcdServer(name, dataDir, clientPort, peerPort, initialCluster, token, { ...options, initialClusterState: 'existing' });
        this.members.push(member);
        await member.start();
        return member;
      },
    };
  }

  /**
   * Cuts `member` (or the member at that index) off from every other member, both ways, until
   * `heal()`: raft traffic between it and them is held silent, as a network partition would;
   * clients still reach every member. Needs `peerProxies`.
   */
  partition(member: EtcdServer | number): void {
    const index = typeof member === 'number' ? member : this.members.indexOf(member);
    if (this.peerProxies.length !== this.members.length) throw new Error('partition() needs a cluster started with peerProxies');
    if (index < 0 || index >= this.members.length) throw new Error('partition(): not a member of this cluster');
    const others = this.members.filter((_, i) => i !== index).map((m) => m.name);
    this.peerProxies[index].isolate(others);
    for (const [i, proxy] of this.peerProxies.entries()) if (i !== index) proxy.isolate([this.members[index].name]);
  }

  /** Ends every partition: members reach each other again (connections held silent are reset). */
  heal(): void {
    for (const proxy of this.peerProxies) proxy.heal();
  }

  /** Destroys every member (and peer proxy). */
  async destroy(): Promise<void> {
    await Promise.all(this.members.map((m) => m.destroy()));
    await Promise.all(this.peerProxies.map((p) => p.close()));
  }
}

/**
 * Starts a cluster of `size` members (all at once: they need each other for a quorum); with
 * `peerProxies`, each member advertises its peer proxy's URL instead of its own peer listener.
 */
export async function startCluster(size = 3, options: ClusterOptions = {}): Promise<EtcdCluster> {
  const { peerProxies: withProxies, ...memberOptions } = options;
  const id = `c${process.pid}-${++counter}`;
  let members: EtcdServer[] = [];
  const owner = procConnectionOwner(() => members.map((m) => ({ name: m.name, pid: m.pid })));
  const specs = [];
  const proxies: PeerProxy[] = [];
  try {
    for (let i = 0; i < size; i++) {
      const peerPort = await freePort();
      if (withProxies) proxies.push(await PeerProxy.start(peerPort, owner));
      const advertised = withProxies ? proxies[i].url : `http://127.0.0.1:${peerPort}`;
      specs.push({ name: `${id}-m${i}`, clientPort: await freePort(), peerPort, advertised, dataDir: await tempDataDir(`${id}-m${i}`) });
    }
  } catch (error) {
    await Promise.all(proxies.map((p) => p.close()));
    throw error;
  }
  const initialCluster = specs.map((s) => `${s.name}=${s.advertised}`).join(',');
  members = specs.map(
    (s) => new EtcdServer(s.name, s.dataDir, s.clientPort, s.peerPort, initialCluster, `nice-etcd-${id}`, withProxies ? { ...memberOptions, advertisePeerUrl: s.advertised } : memberOptions),
  );
  const cluster = new EtcdCluster(members, proxies);
  try {
    await Promise.all(members.map((m) => m.start()));
  } catch (error) {
    await cluster.destroy();
    throw error;
  }
  return cluster;
}
