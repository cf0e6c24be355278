import { existsSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type EtcdOptions, EtcdServer } from './etcd';
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

  /** Destroys every member. */
  async destroy(): Promise<void> {
    await Promise.all(this.members.map((m) => m.destroy()));
  }
}

/** Starts a cluster of `size` members (all at once: they need each other for a quorum). */
export async function startCluster(size = 3, options: EtcdOptions = {}): Promise<EtcdCluster> {
  const id = `c${process.pid}-${++counter}`;
  const base = existsSync('/dev/shm') ? '/dev/shm' : tmpdir();
  const specs = [];
  for (let i = 0; i < size; i++) {
    specs.push({ name: `${id}-m${i}`, clientPort: await freePort(), peerPort: await freePort(), dataDir: await mkdtemp(join(base, `nice-etcd-${id}-m${i}-`)) });
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
