import { type Server, type Socket, createConnection, createServer } from 'node:net';

/** What a `TcpProxy` does with the bytes of its connections (Go's integration bridge.go has the same). */
export type ProxyMode =
  /** Forward both ways (the default). */
  | 'pass'
  /** Forward nothing, either way; new connections are accepted and held silent. */
  | 'blackhole'
  /** Forward requests to the target but hold its answers: a request arrives, its answer never comes. */
  | 'blackhole-responses'
  /** Reset every connection at once, current and new (a member whose port is closed). */
  | 'refuse';

interface Pair {
  client: Socket;
  upstream: Socket;
}

/**
 * A TCP proxy on a loopback port in front of one target (e.g. an etcd endpoint), to make
 * network faults while the target stays up, without root or network namespaces:
 * `drop()` breaks every current connection (as a network failure would), `blackhole()` stops
 * forwarding bytes (a partition: nothing is refused, nothing answers), `blackhole('responses')`
 * forwards only requests, `refuse()` resets every connection, `delay(ms)` forwards every
 * chunk late, `restore()` forwards again.
 */
export class TcpProxy {
  /** `127.0.0.1:<port>` (or `unix:<path>`): point a client here instead of at the target. */
  readonly endpoint: string;
  private readonly pairs = new Set<Pair>();
  #mode: ProxyMode = 'pass';
  #delayMs = 0;
  #accepted = 0;

  private constructor(
    private readonly server: Server,
    endpoint: string,
  ) {
    this.endpoint = endpoint;
  }

  /**
   * Starts a proxy to `target` (`host:port`) on a free loopback port, or, with `unixPath`, on
   * a unix socket there (the endpoint is then `unix:<path>`).
   */
  static async start(target: string, options: { unixPath?: string } = {}): Promise<TcpProxy> {
    const [host, port] = splitHostPort(target);
    let proxy: TcpProxy | undefined;
    const server = createServer((client) => proxy?.accept(client, host, port));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      if (options.unixPath !== undefined) server.listen(options.unixPath, () => resolve());
      else server.listen(0, '127.0.0.1', () => resolve());
    });
    const address = server.address();
    if (address === null) throw new Error('the proxy has no address');
    proxy = new TcpProxy(server, typeof address === 'string' ? `unix:${address}` : `127.0.0.1:${address.port}`);
    return proxy;
  }

  /** Connections open right now. */
  get connections(): number {
    return this.pairs.size;
  }

  /** Connections accepted since the start. */
  get accepted(): number {
    return this.#accepted;
  }

  /** What the proxy does now. */
  get mode(): ProxyMode {
    return this.#mode;
  }

  /** Breaks every current connection (both sides reset); new connections are accepted. */
  drop(): void {
    for (const pair of this.pairs) {
      reset(pair.client);
      reset(pair.upstream);
    }
    this.pairs.clear();
  }

  /** Stops forwarding both ways (`'both'`), or only the target's answers (`'responses'`), until `restore()`. */
  blackhole(direction: 'both' | 'responses' = 'both'): void {
    this.#set(direction === 'both' ? 'blackhole' : 'blackhole-responses', 0);
  }

  /** Resets every connection, and each new one as it comes, until `restore()`. */
  refuse(): void {
    this.#set('refuse', 0);
    this.drop();
  }

  /** Forwards every chunk `ms` late, both ways (order kept), until `restore()`. */
  delay(ms: number): void {
    this.#set('pass', ms);
  }

  /** Forwards again, at once, after `blackhole()` or `delay()`. */
  restore(): void {
    this.#set('pass', 0);
  }

  /** Breaks every connection and stops listening. Idempotent. */
  async close(): Promise<void> {
    this.drop();
    if (!this.server.listening) return;
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  #set(mode: ProxyMode, delayMs: number): void {
    this.#mode = mode;
    this.#delayMs = delayMs;
    for (const pair of this.pairs) this.#apply(pair);
  }

  private accept(client: Socket, host: string, port: number): void {
    this.#accepted++;
    if (this.#mode === 'refuse') {
      client.on('error', () => {});
      reset(client);
      return;
    }
    const upstream = createConnection({ host, port });
    const pair = { client, upstream };
    this.pairs.add(pair);
    const end = () => {
      this.pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
    this.#apply(pair);
  }

  /** Makes one connection follow the mode: each direction flows (maybe late) or stalls. */
  #apply(pair: Pair): void {
    const { client, upstream } = pair;
    this.#flow(client, upstream, this.#mode === 'pass' || this.#mode === 'blackhole-responses');
    // ('refuse' drops every pair; none is left to apply it to.)
    this.#flow(upstream, client, this.#mode === 'pass');
  }

  // Not pipe(): a listener per socket that the mode switches, so stalling is certain (pipe()
  // resumes a paused source on drain) and a delay keeps the order of chunks.
  #flow(from: Socket, to: Socket, open: boolean): void {
    from.removeAllListeners('data');
    if (!open) {
      from.pause();
      return;
    }
    const delayMs = this.#delayMs;
    from.on('data', (chunk: Buffer) => {
      if (delayMs === 0) to.write(chunk);
      else setTimeout(() => to.destroyed || to.write(chunk), delayMs);
    });
    from.resume();
  }
}

/** Resets a TCP connection (RST, as a network failure would); a unix socket can only be closed. */
function reset(socket: Socket): void {
  if (socket.remoteAddress === undefined) socket.destroy();
  else socket.resetAndDestroy();
}

function splitHostPort(target: string): [string, number] {
  const index = target.lastIndexOf(':');
  const port = Number(target.slice(index + 1));
  if (index <= 0 || !Number.isInteger(port)) throw new Error(`not a host:port target: ${target}`);
  return [target.slice(0, index), port];
}
