import { type EtcdOptions, EtcdServer, tempDataDir } from './etcd';
import { freePort } from './ports';

let counter = 0;

/** A multi-member etcd cluster on loopback, for failover tests. */
export class EtcdCluster {
  constructor(readonly members: EtcdServer[]) {}

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

  /** Destroys every member. */
  async destroy(): Promise<void> {
    await Promise.all(this.members.map((m) => m.destroy()));
  }
}

/** Starts a cluster of `size` members (all at once: they need each other for a quorum). */
export async function startCluster(size = 3, options: EtcdOptions = {}): Promise<EtcdCluster> {
  const id = `c${process.pid}-${++counter}`;
  const specs = [];
  for (let i = 0; i < size; i++) {
    specs.push({ name: `${id}-m${i}`, clientPort: await freePort(), peerPort: await freePort(), dataDir: await tempDataDir(`${id}-m${i}`) });
  }
  const initialCluster = specs.map((s) => `${s.name}=http://127.0.0.1:${s.peerPort}`).join(',');
  const members = specs.map((s) => new EtcdServer(s.name, s.dataDir, s.clientPort, s.peerPort, initialCluster, `nice-etcd-${id}`, options));
  const cluster = new EtcdCluster(members);
  try {
    await Promise.all(members.map((m) => m.start()));
  } catch (error) {
    await cluster.destroy();
    throw error;
  }
  return cluster;
}
