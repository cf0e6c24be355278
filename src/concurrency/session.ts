import type { KeepAlive, KeepAliveEndReason } from '../lease.js';
import type { Int64 } from '../encoding.js';
import { toInt64 } from '../encoding.js';
import type { Namespaceable } from '../namespace/kv.js';

/** Options of `Session.create`. */
export interface SessionOptions {
  /** Lease TTL in seconds (Go's default: 60). Locks and leadership end this long after the process dies. */
  ttl?: number;
  /** Use this existing lease instead of granting one. */
  lease?: Int64;
  /** Aborting it stops keeping the lease alive (as `orphan()` does). */
  signal?: AbortSignal;
}

/**
 * A lease kept alive for as long as the session lives: the owner of the keys that Mutex and
 * Election write. When the lease is lost, `done` resolves and `signal` aborts.
 *
 * @example
 * ```ts
 * await using session = await Session.create(client, { ttl: 10 }); // seconds
 * session.done.then((reason) => console.error('session ended:', reason));
 * ```
 */
export class Session implements AsyncDisposable {
  /** Resolves with the reason when the lease is no longer kept alive. */
  readonly done: Promise<KeepAliveEndReason>;
  /** Aborted when the session ends, for passing to calls that must stop with it. */
  readonly signal: AbortSignal;

  private constructor(
    /** The client (or namespace) the session's recipes use. */
    readonly client: Namespaceable,
    /** The lease id. */
    readonly lease: bigint,
    /** The lease TTL in seconds. */
    readonly ttl: number,
    private readonly keepAlive: KeepAlive,
  ) {
    this.done = keepAlive.ended;
    const controller = new AbortController();
    this.signal = controller.signal;
    void this.done.then((reason) => controller.abort(new Error(`the session's lease ended: ${reason}`)));
  }

  /** Grants a lease (or takes `options.lease`) and keeps it alive. */
  static async create(client: Namespaceable, options: SessionOptions = {}): Promise<Session> {
    const ttl = options.ttl ?? 60;
    let lease: bigint;
    let granted = ttl;
    if (options.lease !== undefined) {
      lease = toInt64(options.lease, 'session lease');
    } else {
      const grant = await client.lease.grant(ttl, { signal: options.signal });
      lease = grant.id;
      granted = grant.ttl;
    }
    const keepAlive = client.lease.keepAlive(lease, { signal: options.signal, ttl: granted });
    return new Session(client, lease, granted, keepAlive);
  }

  /** True once the lease is no longer kept alive. */
  get ended(): boolean {
    return this.keepAlive.reason !== undefined;
  }

  /** Stops keeping the lease alive without revoking it: it expires after its TTL. */
  orphan(): void {
    this.keepAlive.stop();
  }

  /** Stops the keep-alive and revokes the lease, deleting every key the session owns. */
  async close(): Promise<void> {
    const alive = this.keepAlive.reason === undefined;
    this.orphan();
    if (alive) await this.client.lease.revoke(this.lease, { timeout: this.ttl * 1000 }).catch(() => undefined);
  }

  /** `await using session = await Session.create(...)` closes it at the end of the scope. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
