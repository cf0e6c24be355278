import { type Server, type Socket, createConnection, createServer } from 'node:net';

/**
 * A TCP proxy on a loopback port in front of one target (e.g. an etcd endpoint), to cut or
 * stall connections while the target stays up: `drop()` breaks every current connection (as
 * a network failure would), `blackhole()` stops forwarding bytes until `restore()`.
 */
export class TcpProxy {
  /** `127.0.0.1:<port>` (or `unix:<path>`): point a client here instead of at the target. */
  readonly endpoint: string;
  private readonly pairs = new Set<{ client: Socket; upstream: Socket }>();
  private paused = false;
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

  /** Breaks every current connection (both sides reset); new connections are accepted. */
  drop(): void {
    for (const pair of this.pairs) {
      reset(pair.client);
      reset(pair.upstream);
    }
    this.pairs.clear();
  }

  /** Stops forwarding in both directions (bytes wait in the sockets) until `restore()`. */
  blackhole(): void {
    this.paused = true;
    for (const pair of this.pairs) stall(pair);
  }

  /** Forwards again after `blackhole()`. */
  restore(): void {
    this.paused = false;
    for (const pair of this.pairs) forward(pair);
  }

  /** Breaks every connection and stops listening. Idempotent. */
  async close(): Promise<void> {
    this.drop();
    if (!this.server.listening) return;
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: Socket, host: string, port: number): void {
    this.#accepted++;
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
    if (!this.paused) forward(pair);
  }
}

// Unpiping (not just pausing) stalls a pair for sure: pipe() resumes a paused source on drain.
function forward(pair: { client: Socket; upstream: Socket }): void {
  pair.client.pipe(pair.upstream);
  pair.upstream.pipe(pair.client);
}

function stall(pair: { client: Socket; upstream: Socket }): void {
  pair.client.unpipe(pair.upstream);
  pair.upstream.unpipe(pair.client);
  pair.client.pause();
  pair.upstream.pause();
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
