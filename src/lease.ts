import { delay, isAbortError } from 'abort-controller-x';
import { Metadata } from 'nice-grpc-common';
import type { CallOptions } from './call-options.js';
import type { Connection } from './connection.js';
import { type Int64, toBuffer, toInt64 } from './encoding.js';
import { invalidArgument, LeaseNotFoundError, toEtcdError } from './errors.js';
import { type ResponseHeader, decodeHeader } from './kv.js';
import type { LeaseKeepAliveRequest, LeaseKeepAliveResponse } from './proto.js';
import { RequestQueue } from './request-queue.js';

/** The result of `lease.grant`. */
export interface LeaseGrant {
  header: ResponseHeader;
  /** The lease id: a positive int64 chosen by etcd unless one was asked for. */
  id: bigint;
  /** The TTL etcd granted, in seconds (etcd raises TTLs below its minimum). */
  ttl: number;
}

/** The result of `lease.timeToLive`. */
export interface LeaseTimeToLive {
  header: ResponseHeader;
  id: bigint;
  /** Seconds left; -1 when the lease has expired or does not exist. */
  ttl: number;
  /** The TTL the lease was granted with, in seconds (0 when it does not exist). */
  grantedTtl: number;
  /** The keys attached to the lease, with `keys: true`. */
  keys: Buffer[];
}

/** One keep-alive answer from etcd. */
export interface KeepAliveResponse {
  header: ResponseHeader;
  id: bigint;
  /** The TTL the lease was refreshed to, in seconds. */
  ttl: number;
}

/**
 * Why a keep-alive ended:
 * - `stopped`: the caller called `stop()` (or aborted its signal);
 * - `expired`: etcd says the lease no longer exists (it expired or was revoked);
 * - `lost`: no keep-alive answer came within the lease's TTL, so it has expired by now;
 * - `closed`: the client was closed.
 */
export type KeepAliveEndReason = 'stopped' | 'expired' | 'lost' | 'closed';

const sendInterval = 500;
const reopenDelay = 500;
const responseBuffer = 16;

/** Options of `lease.keepAlive`. */
export interface KeepAliveOptions {
  /** Aborting it stops the keep-alive (reason `stopped`). */
  signal?: AbortSignal;
}

/**
 * Keeps one lease alive until stopped, and says why it ended. Iterate it to see each answer
 * (only the latest 16 are buffered); `ended` resolves once it ends, with the reason.
 */
export class KeepAlive implements AsyncIterable<KeepAliveResponse> {
  /** The reason it ended, once it has. */
  reason: KeepAliveEndReason | undefined;
  /** The latest answer from etcd. */
  lastResponse: KeepAliveResponse | undefined;
  /** Resolves with the reason when the keep-alive ends (it never rejects). */
  readonly ended: Promise<KeepAliveEndReason>;
  private resolveEnded!: (reason: KeepAliveEndReason) => void;
  private readonly buffer: KeepAliveResponse[] = [];
  private wake: (() => void) | undefined;
  private readonly abortListener: (() => void) | undefined;

  /** @internal */
  constructor(
    readonly id: bigint,
    private readonly owner: KeepAliveStream,
    private readonly signal: AbortSignal | undefined,
  ) {
    this.ended = new Promise((resolve) => (this.resolveEnded = resolve));
    if (signal) {
      this.abortListener = () => this.stop();
      signal.addEventListener('abort', this.abortListener);
    }
  }

  /** Stops keeping the lease alive; the lease itself lives on until its TTL runs out. */
  stop(): void {
    this.owner.remove(this);
    this.end('stopped');
  }

  /** @internal */
  deliver(response: KeepAliveResponse): void {
    this.lastResponse = response;
    if (this.buffer.length === responseBuffer) this.buffer.shift();
    this.buffer.push(response);
    this.wake?.();
  }

  /** @internal */
  end(reason: KeepAliveEndReason): void {
    if (this.reason) return;
    this.reason = reason;
    if (this.abortListener) this.signal?.removeEventListener('abort', this.abortListener);
    this.resolveEnded(reason);
    this.wake?.();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<KeepAliveResponse> {
    for (;;) {
      const next = this.buffer.shift();
      if (next) {
        yield next;
        continue;
      }
      if (this.reason) return;
      await new Promise<void>((resolve) => (this.wake = resolve));
      this.wake = undefined;
    }
  }
}

interface LeaseState {
  id: bigint;
  handles: Set<KeepAlive>;
  /** When the next keep-alive is due (ms, performance.now()). */
  nextSend: number;
  /** Past this without an answer the lease is lost (ms). */
  deadline: number;
}

/**
 * The one LeaseKeepAlive stream of a client, shared by every lease: every 500 ms it sends a
 * keep-alive for each lease that is due (the first at once, then TTL/3 after each answer), as
 * Go's clientv3 does; it reopens the stream after failures until the client closes.
 * @internal
 */
export class KeepAliveStream {
  private readonly leases = new Map<bigint, LeaseState>();
  private controller: AbortController | undefined;
  /** The requests of the current stream attempt. */
  private requests = new RequestQueue<LeaseKeepAliveRequest>();
  private timer: NodeJS.Timeout | undefined;
  /** Streams opened so far (for tests and metrics). */
  streamsOpened = 0;
  /** Keep-alive requests sent on earlier streams; `sent` adds the current one's. */
  private sentBefore = 0;

  /** Keep-alive requests sent so far. */
  get sent(): number {
    return this.sentBefore + this.requests.sent;
  }

  constructor(private readonly connection: Connection) {}

  add(id: bigint, firstDeadlineMs: number, signal: AbortSignal | undefined): KeepAlive {
    const handle = new KeepAlive(id, this, signal);
    if (this.connection.closed.aborted) {
      handle.end('closed');
      return handle;
    }
    let state = this.leases.get(id);
    if (!state) {
      const now = performance.now();
      state = { id, handles: new Set(), nextSend: now, deadline: now + firstDeadlineMs };
      this.leases.set(id, state);
    }
    state.handles.add(handle);
    this.start();
    this.tick();
    return handle;
  }

  remove(handle: KeepAlive): void {
    const state = this.leases.get(handle.id);
    if (!state) return;
    state.handles.delete(handle);
    if (state.handles.size === 0) this.leases.delete(handle.id);
    if (this.leases.size === 0) this.stop();
  }

  /** Ends every keep-alive with `reason` and closes the stream. */
  close(reason: KeepAliveEndReason): void {
    const states = [...this.leases.values()];
    this.leases.clear();
    for (const state of states) for (const handle of state.handles) handle.end(reason);
    this.stop();
  }

  private start(): void {
    if (this.controller) return;
    const controller = new AbortController();
    this.controller = controller;
    this.timer = setInterval(() => this.tick(), sendInterval);
    void this.run(controller.signal);
  }

  private stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.controller?.abort();
    this.controller = undefined;
    this.requests.close();
  }

  /** Queues due keep-alives and ends leases whose deadline passed. */
  private tick(): void {
    const now = performance.now();
    for (const state of this.leases.values()) {
      if (now > state.deadline) {
        this.leases.delete(state.id);
        for (const handle of state.handles) handle.end('lost');
        continue;
      }
      if (now >= state.nextSend) {
        // Not again until an answer reschedules it, or a second if none comes.
        state.nextSend = now + 1_000;
        this.requests.push({ ID: state.id });
      }
    }
    if (this.leases.size === 0) this.stop();
  }

  private async run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      const requests = new RequestQueue<LeaseKeepAliveRequest>();
      this.sentBefore += this.requests.sent;
      this.requests = requests;
      try {
        this.streamsOpened++;
        // Every lease is due at once on a new stream: its answers may have been lost.
        for (const state of this.leases.values()) state.nextSend = 0;
        this.tick();
        const metadata = Metadata({ hasleader: 'true' });
        for await (const response of this.connection.services.lease.leaseKeepAlive(requests, { signal, metadata })) {
          this.onResponse(response);
        }
      } catch (error) {
        if (signal.aborted || isAbortError(error)) return;
      } finally {
        requests.close();
      }
      try {
        await delay(signal, reopenDelay);
      } catch {
        return;
      }
    }
  }

  private onResponse(response: LeaseKeepAliveResponse): void {
    const state = this.leases.get(response.ID);
    if (!state) return;
    const ttl = Number(response.TTL);
    if (ttl <= 0) {
      this.leases.delete(state.id);
      for (const handle of state.handles) handle.end('expired');
      if (this.leases.size === 0) this.stop();
      return;
    }
    const now = performance.now();
    state.nextSend = now + (ttl * 1000) / 3;
    state.deadline = now + ttl * 1000;
    const decoded: KeepAliveResponse = { header: decodeHeader(response.header), id: response.ID, ttl };
    for (const handle of state.handles) handle.deliver(decoded);
  }
}

/** A granted lease, with its calls bound to it. */
export class Lease {
  /** @internal */
  constructor(
    private readonly leases: LeaseClient,
    /** The lease id. */
    readonly id: bigint,
    /** The TTL etcd granted, in seconds. */
    readonly ttl: number,
    /** The response header of the grant. */
    readonly header: ResponseHeader,
  ) {}

  /** Keeps this lease alive until stopped; see `LeaseClient.keepAlive`. */
  keepAlive(options?: KeepAliveOptions): KeepAlive {
    return this.leases.keepAlive(this.id, { ...options, ttl: this.ttl });
  }

  /** Revokes the lease: keys attached to it are deleted at once. */
  revoke(options?: CallOptions): Promise<ResponseHeader> {
    return this.leases.revoke(this.id, options);
  }

  /** The lease's remaining TTL, and its keys with `keys: true`. */
  timeToLive(options?: { keys?: boolean } & CallOptions): Promise<LeaseTimeToLive> {
    return this.leases.timeToLive(this.id, options);
  }
}

/** Lease calls: `client.lease.grant/revoke/timeToLive/leases/keepAlive/keepAliveOnce`. */
export class LeaseClient {
  /** @internal */
  readonly stream: KeepAliveStream;
  private readonly keyFilter: ((key: Buffer) => Buffer | undefined) | undefined;

  /** @internal */
  constructor(
    private readonly connection: Connection,
    private readonly callOptions: (options: CallOptions) => CallOptions,
    keyFilter?: (key: Buffer) => Buffer | undefined,
    stream?: KeepAliveStream,
  ) {
    this.stream = stream ?? new KeepAliveStream(connection);
    this.keyFilter = keyFilter;
  }

  /** The same lease calls, with `timeToLive` keys mapped by `filter` (dropped when it returns undefined). @internal */
  withKeyFilter(filter: (key: Buffer) => Buffer | undefined): LeaseClient {
    const outer = this.keyFilter;
    const composed = outer ? (key: Buffer) => { const inner = outer(key); return inner && filter(inner); } : filter;
    return new LeaseClient(this.connection, this.callOptions, composed, this.stream);
  }

  /** Grants a lease of `ttl` seconds; etcd picks the id unless `id` is given. */
  async grant(ttl: number, options: { id?: Int64 } & CallOptions = {}): Promise<Lease> {
    if (!Number.isSafeInteger(ttl) || ttl <= 0) throw invalidArgument(`lease ttl must be a positive whole number of seconds, got ${String(ttl)}`);
    const id = options.id === undefined ? 0n : toInt64(options.id, 'lease id');
    const response = await this.connection.services.lease.leaseGrant({ TTL: BigInt(ttl), ID: id }, this.callOptions(options));
    if (response.error) throw toEtcdError(new Error(response.error));
    return new Lease(this, response.ID, Number(response.TTL), decodeHeader(response.header));
  }

  /** Revokes a lease: keys attached to it are deleted at once. */
  async revoke(id: Int64, options: CallOptions = {}): Promise<ResponseHeader> {
    const response = await this.connection.services.lease.leaseRevoke({ ID: toInt64(id, 'lease id') }, this.callOptions(options));
    return decodeHeader(response.header);
  }

  /** A lease's remaining TTL (-1 once expired), and with `keys: true` its attached keys. */
  async timeToLive(id: Int64, options: { keys?: boolean } & CallOptions = {}): Promise<LeaseTimeToLive> {
    const response = await this.connection.services.lease.leaseTimeToLive(
      { ID: toInt64(id, 'lease id'), keys: options.keys ?? false },
      this.callOptions(options),
    );
    const keys: Buffer[] = [];
    for (const key of response.keys) {
      const mapped = this.keyFilter ? this.keyFilter(toBuffer(key)) : toBuffer(key);
      if (mapped) keys.push(mapped);
    }
    return { header: decodeHeader(response.header), id: response.ID, ttl: Number(response.TTL), grantedTtl: Number(response.grantedTTL), keys };
  }

  /** The ids of every lease that exists. */
  async leases(options: CallOptions = {}): Promise<{ header: ResponseHeader; ids: bigint[] }> {
    const response = await this.connection.services.lease.leaseLeases({}, this.callOptions(options));
    return { header: decodeHeader(response.header), ids: response.leases.map((l) => l.ID) };
  }

  /**
   * Keeps a lease alive until stopped, over the client's one shared keep-alive stream; the
   * handle's `ended` says why it ended. `ttl` (seconds), when known, sets the first deadline.
   */
  keepAlive(id: Int64, options: KeepAliveOptions & { ttl?: number } = {}): KeepAlive {
    const leaseId = toInt64(id, 'lease id');
    const firstDeadline = options.ttl !== undefined ? options.ttl * 1000 : Math.max(this.connection.config.dialTimeout + 1_000, 5_000);
    return this.stream.add(leaseId, firstDeadline, options.signal);
  }

  /** Sends one keep-alive on a stream of its own; `LeaseNotFoundError` if the lease is gone. */
  async keepAliveOnce(id: Int64, options: CallOptions = {}): Promise<KeepAliveResponse> {
    const leaseId = toInt64(id, 'lease id');
    const controller = new AbortController();
    const call = this.callOptions({ timeout: this.connection.config.timeout, ...options });
    const onAbort = () => controller.abort();
    call.signal?.addEventListener('abort', onAbort);
    try {
      async function* once() {
        yield { ID: leaseId };
      }
      for await (const response of this.connection.services.lease.leaseKeepAlive(once(), { ...call, signal: controller.signal })) {
        if (response.TTL <= 0n) {
          throw new LeaseNotFoundError();
        }
        return { header: decodeHeader(response.header), id: response.ID, ttl: Number(response.TTL) };
      }
      throw new LeaseNotFoundError();
    } finally {
      call.signal?.removeEventListener('abort', onAbort);
      controller.abort();
    }
  }

  /** Ends every keep-alive (reason `closed`). @internal */
  close(): void {
    this.stream.close('closed');
  }
}

