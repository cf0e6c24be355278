import { setTimeout as sleep } from 'node:timers/promises';
import type { EtcdCluster } from './cluster';
import type { EtcdServer } from './etcd';

/** Streams of gRPC `method` (e.g. `Watch`) open on `member` now, by etcd's metrics; 0 if it does not answer. */
export async function openStreams(member: EtcdServer, method: string): Promise<number> {
  try {
    const started = await member.metric('grpc_server_started_total', { grpc_method: method });
    const handled = await member.metric('grpc_server_handled_total', { grpc_method: method });
    return started - handled;
  } catch {
    return 0; // a stopped member does not answer; it carries nothing that works
  }
}

/**
 * The index of the one member that carries a `method` stream, among the members other than
 * `excluded` (a blackholed member still counts the stream it lost touch with). Waits up to
 * 20 s for exactly one to carry it.
 */
export async function streamCarrier(cluster: EtcdCluster, method: string, excluded = -1): Promise<number> {
  let open: number[] = [];
  for (let i = 0; i < 200; i++) {
    open = await Promise.all(cluster.members.map((m) => openStreams(m, method)));
    const carriers = open.flatMap((n, index) => (n > 0 && index !== excluded ? [index] : []));
    if (carriers.length === 1) return carriers[0];
    await sleep(100);
  }
  throw new Error(`no single member carries the ${method} stream (open per member: ${open.join(', ')}; excluded: ${excluded})`);
}
