import { compare } from '../compare.js';
import { type Bytes, toBytes } from '../encoding.js';
import { LockedError, LockReleasedError, SessionExpiredError } from '../errors.js';
import type { ResponseHeader, TxnResponse } from '../kv.js';
import { op } from '../op.js';
import type { Condition } from '../compare.js';
import type { Session } from './session.js';
import { throwIfEnded, waitDeletes } from './wait.js';

/** Options of `Mutex.lock`. */
export interface LockOptions {
  /** Aborting it gives up waiting (the queued key is removed) and rejects with `AbortedError`. */
  signal?: AbortSignal;
}

/**
 * A distributed lock with the key layout and protocol of Go's `concurrency.Mutex`, so it
 * excludes, and is excluded by, Go programs, `etcdctl lock` and etcd's Lock service. Each
 * session writes `<prefix>/<lease id in hex>`; the key with the lowest create revision holds
 * the lock, and waiters queue in create-revision order, each watching only the key ahead.
 *
 * @example
 * ```ts
 * import { Mutex, Session, op } from 'nice-etcd';
 *
 * await using session = await Session.create(client, { ttl: 60 });
 * {
 *   await using lock = await new Mutex(session, 'locks/job').lock({ signal });
 *   // Fenced write: applied only while this session still holds the lock.
 *   await client.txn().if(lock.isOwner()).then(op.put('job/state', 'running')).commit();
 * } // unlocked here
 * ```
 */
export class Mutex implements AsyncDisposable {
  private readonly pfx: Buffer;
  private myKey: Buffer | undefined;
  private myRev = -1n;
  private hdr: ResponseHeader | undefined;

  /** A lock named `prefix` (Go's NewMutex): keys live under `prefix + '/'`. */
  constructor(
    private readonly session: Session,
    prefix: Bytes,
  ) {
    this.pfx = Buffer.concat([toBytes(prefix, 'mutex prefix'), Buffer.from('/')]);
  }

  /** This session's key: `<prefix>/<lease id in hex>` (as Go's `%x`). */
  get key(): Buffer {
    return this.myKey ?? Buffer.concat([this.pfx, Buffer.from(this.session.lease.toString(16))]);
  }

  /** The header of the response that acquired the lock. */
  get header(): ResponseHeader | undefined {
    return this.hdr;
  }

  /** The create revision of this session's key while held: use it to fence writes. */
  get revision(): bigint {
    return this.myRev;
  }

  /**
   * Waits until this session holds the lock. Rejects with `SessionExpiredError` if the session
   * ends first, or `AbortedError` when the signal aborts (the queued key is then deleted).
   */
  async lock(options: LockOptions = {}): Promise<this> {
    const { signal } = options;
    throwIfEnded(this.session, signal);
    const response = await this.tryAcquire();
    const owner = response.responses[1];
    if (owner.type === 'get' && (owner.kvs.length === 0 || owner.kvs[0].createRevision === this.myRev)) {
      this.hdr = response.header;
      return this;
    }
    try {
      this.hdr = await waitDeletes(this.session, this.pfx, this.myRev - 1n, signal);
    } catch (error) {
      await this.release().catch(() => undefined);
      throw error;
    }
    // The key may have gone with the session's lease while waiting.
    const { kvs } = await this.session.client.get(this.key);
    if (kvs.length === 0) {
      this.myRev = -1n;
      throw new SessionExpiredError();
    }
    return this;
  }

  /** Takes the lock if it is free; otherwise rejects at once with `LockedError` and leaves no key behind. */
  async tryLock(): Promise<this> {
    throwIfEnded(this.session);
    const response = await this.tryAcquire();
    const owner = response.responses[1];
    if (owner.type === 'get' && (owner.kvs.length === 0 || owner.kvs[0].createRevision === this.myRev)) {
      this.hdr = response.header;
      return this;
    }
    await this.release();
    throw new LockedError();
  }

  /** Releases the lock; `LockReleasedError` if this session's key was already gone. */
  async unlock(): Promise<void> {
    const deleted = await this.release();
    if (!deleted) throw new LockReleasedError();
  }

  /**
   * A compare that holds only while this session owns the lock: put it in the `if` of a
   * transaction to fence a write, so a session that lost the lock cannot write.
   */
  isOwner(): Condition {
    return compare.createRevision(this.key, '=', this.myRev);
  }

  /** `await using lock = await mutex.lock()` releases the lock at the end of the scope. */
  async [Symbol.asyncDispose](): Promise<void> {
    if (this.myRev >= 0n) await this.release();
  }

  private async tryAcquire(): Promise<TxnResponse> {
    const key = this.key;
    const lease = this.session.lease;
    const owner = op.get(this.pfx, { first: 'createRevision' });
    const response = await this.session.client
      .txn()
      .if(compare.createRevision(key, '=', 0))
      .then(op.put(key, '', { lease }), owner)
      .else(op.get(key), owner)
      .commit();
    this.myKey = key;
    const mine = response.responses[0];
    this.myRev = response.succeeded ? response.header.revision : mine.type === 'get' && mine.kvs.length > 0 ? mine.kvs[0].createRevision : -1n;
    return response;
  }

  private async release(): Promise<boolean> {
    const { deleted } = await this.session.client.delete(this.key);
    this.myRev = -1n;
    this.hdr = undefined;
    return deleted > 0n;
  }
}
