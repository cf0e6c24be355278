import { readFile, readdir, readlink } from 'node:fs/promises';
import { type Server, type Socket, createConnection, createServer } from 'node:net';

/** Names the member whose process opened a connection (`peerPort`: its local port), or undefined. */
export type ConnectionOwner = (peerPort: number, proxyPort: number) => Promise<string | undefined>;

interface Link {
  client: Socket;
  upstream: Socket | undefined;
  /** The member that dialled (undefined: not known yet, or not a member). */
  from: string | undefined;
  /** Cut: accepted, never forwarded again. */
  held: boolean;
}

/**
 * A TCP proxy in front of one member's peer listener, which the member advertises as its peer
 * URL, so that raft traffic between members can be cut without root or network namespaces.
 * Each connection belongs to the member that dialled it: etcd's rafthttp dials a peer for its
 * own streams and pipeline (a stream's answers flow back on the connection its reader dialled),
 * so holding every connection that member A dialled to B's proxy, and every one B dialled to
 * A's, cuts A and B apart both ways. The dialler is found by the kernel, not by the protocol:
 * rafthttp's `X-Server-From` header is on raft messages and stream dials, but not on its probes
 * or on lease renewals forwarded to the leader (`/leases`), which share the connection pools.
 */
export class PeerProxy {
  /** `http://127.0.0.1:<port>`: the peer URL the member advertises. */
  readonly url: string;
  private readonly links = new Set<Link>();
  private readonly cut = new Set<string>();

  private constructor(
    private readonly server: Server,
    readonly port: number,
    private readonly target: { host: string; port: number },
    private readonly owner: ConnectionOwner,
  ) {
    this.url = `http://127.0.0.1:${port}`;
  }

  /** Listens on a free loopback port, forwarding to `targetPort` on 127.0.0.1. */
  static async start(targetPort: number, owner: ConnectionOwner): Promise<PeerProxy> {
    let proxy: PeerProxy | undefined;
    const server = createServer({ pauseOnConnect: true }, (client) => proxy?.accept(client));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('the peer proxy has no port');
    proxy = new PeerProxy(server, address.port, { host: '127.0.0.1', port: targetPort }, owner);
    return proxy;
  }

  /** Members cut off from this one now. */
  get isolated(): ReadonlySet<string> {
    return this.cut;
  }

  /** Holds silent every connection from `members` (open ones and new ones) until `heal()`. */
  isolate(members: Iterable<string>): void {
    for (const name of members) this.cut.add(name);
    for (const link of this.links) if (link.from !== undefined && this.cut.has(link.from)) this.hold(link);
  }

  /** Ends the cut: connections held silent are reset (their member dials again), new ones pass. */
  heal(): void {
    this.cut.clear();
    for (const link of [...this.links]) if (link.held) this.end(link, true);
  }

  /** Resets every connection and stops listening. Idempotent. */
  async close(): Promise<void> {
    for (const link of [...this.links]) this.end(link, true);
    if (!this.server.listening) return;
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: Socket): void {
    const link: Link = { client, upstream: undefined, from: undefined, held: false };
    this.links.add(link);
    client.on('error', () => this.end(link, false)).on('close', () => this.end(link, false));
    // The connection waits, paused, until its dialler is known.
    this.owner(client.remotePort ?? 0, this.port).then(
      (from) => this.route(link, from),
      () => this.route(link, undefined),
    );
  }

  private route(link: Link, from: string | undefined): void {
    if (!this.links.has(link)) return;
    link.from = from;
    if (from !== undefined && this.cut.has(from)) {
      link.held = true; // accepted, never answered
      return;
    }
    const upstream = createConnection(this.target);
    link.upstream = upstream;
    upstream.on('error', () => this.end(link, false)).on('close', () => this.end(link, false));
    forward(link.client, upstream);
    forward(upstream, link.client);
  }

  /** Stops forwarding either way; the dialler sees a peer that went silent, not one that closed. */
  private hold(link: Link): void {
    link.held = true;
    link.client.removeAllListeners('data');
    link.client.pause();
    const { upstream } = link;
    link.upstream = undefined;
    if (upstream) {
      // Its end must not reach the dialler: detach it first.
      upstream.removeAllListeners();
      upstream.on('error', () => {});
      upstream.destroy();
    }
  }

  private end(link: Link, reset: boolean): void {
    if (!this.links.delete(link)) return;
    if (reset && link.client.remoteAddress !== undefined) link.client.resetAndDestroy();
    else link.client.destroy();
    link.upstream?.destroy();
  }
}

function forward(from: Socket, to: Socket): void {
  from.on('data', (chunk: Buffer) => to.write(chunk));
  from.resume();
}

/**
 * The `ConnectionOwner` of loopback connections on Linux: finds the socket whose local port is
 * `peerPort` and remote port `proxyPort` in /proc/net/tcp, then the process (among `members()`,
 * name by pid) that holds that socket among its file descriptors.
 */
export function procConnectionOwner(members: () => Array<{ name: string; pid: number | undefined }>): ConnectionOwner {
  return async (peerPort, proxyPort) => {
    const inode = await socketInode(peerPort, proxyPort);
    if (inode === undefined) return undefined;
    const link = `socket:[${inode}]`;
    for (const { name, pid } of members()) {
      if (pid === undefined) continue;
      let fds: string[];
      try {
        fds = await readdir(`/proc/${pid}/fd`);
      } catch {
        continue; // exited meanwhile
      }
      for (const fd of fds) {
        try {
          if ((await readlink(`/proc/${pid}/fd/${fd}`)) === link) return name;
        } catch {
          // closed meanwhile
        }
      }
    }
    return undefined;
  };
}

/** The inode of the TCP socket from local port `localPort` to remote port `remotePort`. */
async function socketInode(localPort: number, remotePort: number): Promise<string | undefined> {
  const local = `:${hexPort(localPort)}`;
  const remote = `:${hexPort(remotePort)}`;
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = await readFile(table, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n')) {
      // sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode
      const fields = line.trim().split(/\s+/);
      if (fields.length > 9 && fields[1].endsWith(local) && fields[2].endsWith(remote)) return fields[9];
    }
  }
  return undefined;
}

function hexPort(port: number): string {
  return port.toString(16).toUpperCase().padStart(4, '0');
}
