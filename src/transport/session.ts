import { type ClientHttp2Session, type ClientHttp2Stream, type OutgoingHttpHeaders, connect, constants } from 'node:http2';
import { type Socket, connect as tcpConnect, isIP } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import type { EndpointState } from '../stats.js';
import type { Address } from './resolver.js';

/** Where one endpoint's connection is in its life cycle. @internal */
export type SessionState = EndpointState;

/** Settings of every session of one channel. @internal */
export interface SessionOptions {
  /** Use TLS (https). */
  secure: boolean;
  /** PEM material for TLS (the CA defaults to Node's roots); the name to verify instead of the endpoint's host; no verification at all. */
  tls: { ca?: Buffer; cert?: Buffer; key?: Buffer; serverName?: string; insecureSkipVerify?: boolean } | undefined;
  /** Bound of one connection attempt: TCP, TLS and the server's first SETTINGS frame, in ms. */
  dialTimeout: number;
  /** Interval of keepalive pings while calls are active, in ms; 0 disables them. */
  keepAliveTime: number;
  /** How long a ping may go unanswered before the connection is dropped, in ms. */
  keepAliveTimeout: number;
  /** Reconnect backoff bounds in ms (gRPC's connection-backoff.md: ×1.6 per failure, ±20% jitter). */
  backoff: { initial: number; max: number };
  /** Told of every state change of every session, after the channel's own handler (client events, logs). */
  onState?: (session: EndpointSession, previous: SessionState) => void;
}

// etcd's server refuses pings closer than --grpc-keepalive-min-time (5 s by default) with a
// GOAWAY ENHANCE_YOUR_CALM ("too_many_pings"), so pings are never sent more often.
const minKeepAliveInterval = 5_000;
const backoffMultiplier = 1.6;
const backoffJitter = 0.2;
// HTTP/2 flow-control windows we announce. Node's defaults (64 KiB per stream and for the
// connection) make etcd wait for a WINDOW_UPDATE round trip every 64 KiB of a large range;
// with 4 MiB per stream and 16 MiB per connection a 3 MB range arrives in one go. A paused
// reader (a slow watch consumer) still stops its stream: the server sends at most a window.
const streamWindowSize = 4 * 1024 * 1024;
const connectionWindowSize = 16 * 1024 * 1024;

/**
 * One endpoint's HTTP/2 connection: connects lazily when a call needs it, within
 * `dialTimeout`; after a failed attempt, refuses calls until its backoff has passed (a call
 * after that starts the next attempt); pings while calls are active; on GOAWAY or a lost
 * connection it lets the old session finish its streams and makes a new one for new calls.
 * Every call of the endpoint, unary or streaming, shares the current session.
 * @internal
 */
export class EndpointSession {
  /** The state the balancer reads; `onChange` is told of every transition. */
  state: SessionState = 'idle';
  /** Why the last attempt or connection failed, in words for an UNAVAILABLE status. */
  lastError: string | undefined;
  private session: ClientHttp2Session | undefined;
  /** Sessions that stopped taking calls (GOAWAY, endpoint removed) but still carry some. */
  private readonly draining = new Set<ClientHttp2Session>();
  private active = 0;
  private nextAttemptAt = 0;
  private backoff: number;
  private keepAliveTimer: NodeJS.Timeout | undefined;
  private dialTimer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    /** Where this session connects, and the endpoint (as written) it serves. */
    readonly address: Address,
    private readonly options: SessionOptions,
    private readonly onChange: (session: EndpointSession) => void,
  ) {
    this.backoff = options.backoff.initial;
  }

  /** True when a call could be started on this endpoint now or after a connection attempt. */
  get usable(): boolean {
    return this.state === 'ready' || this.state === 'connecting' || this.state === 'idle' || (this.state === 'failed' && Date.now() >= this.nextAttemptAt);
  }

  /** Starts a connection attempt if none is under way and the backoff allows one. */
  connect(): void {
    if (this.closed || this.state === 'ready' || this.state === 'connecting') return;
    if (this.state === 'failed' && Date.now() < this.nextAttemptAt) return;
    const { address, options } = this;
    const { endpoint, target } = address;
    // The :authority and the TLS server name are the endpoint as the user wrote it, not the
    // address it resolved to (a certificate names the host, and etcd may check the authority).
    const authority = `${options.secure ? 'https' : 'http'}://${endpoint.path === undefined ? endpoint.address : 'localhost'}`;
    // Our own socket: Node's session does not always notice a socket error (a TLS 1.3 alert
    // that refuses our certificate arrives after the handshake and left it hanging).
    const socket: Socket = options.secure
      ? tlsConnect({
          ...target,
          ca: options.tls?.ca,
          cert: options.tls?.cert,
          key: options.tls?.key,
          ALPNProtocols: ['h2'],
          servername: options.tls?.serverName ?? (isIP(endpoint.host) ? undefined : endpoint.host),
          rejectUnauthorized: options.tls?.insecureSkipVerify !== true,
        })
      : tcpConnect(target);
    socket.setNoDelay(true);
    const session = connect(authority, { createConnection: () => socket, settings: { enablePush: false, initialWindowSize: streamWindowSize } });
    this.session = session;
    socket.on('error', (error: Error) => {
      if (this.session === session && this.state === 'connecting') fail(error);
      else {
        if (this.session === session) this.lastError = error.message;
        session.destroy(error);
      }
    });
    this.setState('connecting');
    const timer = setTimeout(() => fail(new Error(`Connection attempt timed out after ${options.dialTimeout}ms`)), options.dialTimeout);
    this.dialTimer = timer;
    const fail = (error: Error) => {
      if (this.session !== session || this.state !== 'connecting') return;
      clearTimeout(timer);
      this.session = undefined;
      session.destroy();
      socket.destroy();
      this.lastError = error.message;
      this.nextAttemptAt = Date.now() + this.backoff * (1 + backoffJitter * (Math.random() * 2 - 1));
      this.backoff = Math.min(this.backoff * backoffMultiplier, options.backoff.max);
      this.setState('failed');
    };
    session.on('error', (error: Error) => {
      if (this.state === 'connecting' && this.session === session) fail(error);
      else if (this.session === session) this.lastError = error.message;
    });
    // The server's first SETTINGS frame, not the TCP/TLS connect, proves an HTTP/2 peer.
    session.once('remoteSettings', () => {
      if (this.session !== session || this.state !== 'connecting') return;
      clearTimeout(timer);
      session.setLocalWindowSize(connectionWindowSize);
      this.backoff = options.backoff.initial;
      this.lastError = undefined;
      if (this.active === 0) session.unref();
      this.startKeepAlive();
      this.setState('ready');
    });
    session.once('close', () => {
      clearTimeout(timer);
      this.draining.delete(session);
      if (this.session !== session) return;
      if (this.state === 'connecting') {
        fail(new Error(this.lastError ?? 'connection closed before the HTTP/2 handshake'));
        return;
      }
      this.detach();
    });
    // Node closes the session itself after a GOAWAY: gracefully (streams below the server's
    // last stream id finish) or, for an error code, at once. New calls need a new session.
    session.once('goaway', (code: number) => {
      if (this.session === session) {
        this.lastError ??= `the server sent GOAWAY (HTTP/2 error code ${code})`;
        this.draining.add(session);
        this.detach();
      }
    });
  }

  /** Forgets the backoff of a failed attempt and connects now (unless connected or connecting). */
  reconnect(): void {
    this.nextAttemptAt = 0;
    this.backoff = this.options.backoff.initial;
    this.connect();
  }

  /**
   * Opens a stream on the ready session. The caller checked `state === 'ready'`.
   */
  request(headers: OutgoingHttpHeaders): ClientHttp2Stream {
    const session = this.session as ClientHttp2Session;
    const stream = session.request(headers);
    if (this.active++ === 0) session.ref();
    stream.once('close', () => {
      if (--this.active === 0 && !session.destroyed) session.unref();
    });
    return stream;
  }

  /** Streams (calls) open on this endpoint's sessions now, draining ones included. */
  get activeCalls(): number {
    return this.active;
  }

  /** The peer's address, as grpc-js's getPeer reports it. */
  get peer(): string {
    return this.address.peer;
  }

  /**
   * Stops taking calls: the sessions close once their streams are done (calls in flight
   * finish), and no new connection is made. Idempotent.
   */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.dialTimer);
    if (this.state === 'ready') this.lastError = 'the client stopped using this endpoint (closed, or endpoint removed)';
    const session = this.session;
    if (session && this.state === 'connecting') {
      this.session = undefined;
      session.destroy();
    } else if (session) {
      this.draining.add(session);
      this.detach();
    }
    for (const old of this.draining) old.close();
    this.setState('idle');
  }

  /** Forgets the current session (lost or draining); the next call connects again. */
  private detach(): void {
    this.session = undefined;
    this.stopKeepAlive();
    if (this.state === 'ready') this.setState('idle');
  }

  private startKeepAlive(): void {
    const { keepAliveTime, keepAliveTimeout } = this.options;
    if (keepAliveTime <= 0) return;
    const session = this.session as ClientHttp2Session;
    let pending = false;
    // One timer per connection, not per call; pings only while calls are active (etcd's
    // server policy does not permit pings without streams).
    this.keepAliveTimer = setInterval(() => {
      if (this.active === 0 || pending || session.destroyed) return;
      pending = true;
      const deadline = setTimeout(() => {
        this.lastError = `keepalive ping not answered within ${keepAliveTimeout}ms`;
        session.destroy(new Error(this.lastError), constants.NGHTTP2_CANCEL);
      }, keepAliveTimeout);
      deadline.unref();
      const sent = session.ping(() => {
        pending = false;
        clearTimeout(deadline);
      });
      if (!sent) {
        pending = false;
        clearTimeout(deadline);
      }
    }, Math.max(keepAliveTime, minKeepAliveInterval));
    this.keepAliveTimer.unref();
  }

  private stopKeepAlive(): void {
    if (this.keepAliveTimer !== undefined) clearInterval(this.keepAliveTimer);
    this.keepAliveTimer = undefined;
  }

  private setState(state: SessionState): void {
    if (this.state === state) return;
    const previous = this.state;
    this.state = state;
    this.onChange(this);
    this.options.onState?.(this, previous);
  }
}
