import type { Session } from '../concurrency/session.js';
import { throwIfEnded } from '../concurrency/wait.js';
import type { Bytes } from '../encoding.js';
import { LockReleasedError } from '../errors.js';
import type { WaitOptions } from './options.js';
import { joinKey, newUniqueKey, type RemoteKey } from './remote-kv.js';
import { waitEvents } from './wait-events.js';

/**
 * A readers-writer lock with the keys and protocol of Go's `recipe.RWMutex`: readers share it,
 * a writer excludes everyone, and all are served in arrival (revision) order. Each holder or
 * waiter owns `<prefix>/read/<unix nanoseconds>` or `<prefix>/write/<unix nanoseconds>` on its
 * session's lease; a reader waits for the writers ahead of it, a writer for everyone ahead.
 */
export class RWMutex {
  private readonly pfx: Buffer;
  private myKey: RemoteKey | undefined;

  /** A lock named `prefix` (Go's NewRWMutex): keys live under `prefix + '/'`. */
  constructor(
    private readonly session: Session,
    prefix: Bytes,
  ) {
    this.pfx = joinKey(prefix, '/', 'rwmutex prefix');
  }

  /**
   * Takes a read lock, waiting for the writers that came before. On `SessionExpiredError` or
   * `AbortedError` (the signal) the queued key is deleted.
   */
  rLock(options: WaitOptions = {}): Promise<void> {
    return this.acquire('read', joinKey(this.pfx, 'write', 'rwmutex prefix'), options.signal);
  }

  /** Takes the write lock, waiting for every reader and writer that came before. */
  lock(options: WaitOptions = {}): Promise<void> {
    return this.acquire('write', this.pfx, options.signal);
  }

  /** Releases a read lock; `LockReleasedError` if this mutex holds none. */
  rUnlock(): Promise<void> {
    return this.release();
  }

  /** Releases the write lock; `LockReleasedError` if this mutex holds none. */
  unlock(): Promise<void> {
    return this.release();
  }

  private async acquire(kind: 'read' | 'write', blockers: Buffer, signal: AbortSignal | undefined): Promise<void> {
    const { client } = this.session;
    throwIfEnded(this.session, signal);
    const mine = await newUniqueKey(client, joinKey(this.pfx, kind, 'rwmutex prefix'), '', this.session.lease);
    this.myKey = mine;
    try {
      for (;;) {
        // The newest blocker ahead of this key: once it is gone, look again for the next.
        const { kvs } = await client.get(blockers, { last: 'modRevision', maxModRevision: mine.revision - 1n, signal });
        if (kvs.length === 0) return;
        await waitEvents(client, kvs[0].key, mine.revision, ['delete'], { signal, session: this.session });
      }
    } catch (error) {
      await this.release().catch(() => undefined);
      throw error;
    }
  }

  private async release(): Promise<void> {
    const mine = this.myKey;
    if (!mine) throw new LockReleasedError('rwmutex: not locked');
    this.myKey = undefined;
    const { deleted } = await this.session.client.delete(mine.key);
    if (deleted === 0n) throw new LockReleasedError('rwmutex: the lock was already released (its session ended?)');
  }
}
