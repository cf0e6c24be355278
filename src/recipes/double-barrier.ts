import type { Session } from '../concurrency/session.js';
import { throwIfEnded } from '../concurrency/wait.js';
import type { Bytes } from '../encoding.js';
import { InvalidArgumentError, TooManyClientsError } from '../errors.js';
import type { KeyValue } from '../kv.js';
import type { WaitOptions } from './options.js';
import { joinKey, newUniqueKey, type RemoteKey } from './remote-kv.js';
import { waitEvents } from './wait-events.js';

/**
 * A double barrier with the keys and protocol of Go's `recipe.DoubleBarrier`: `enter()` blocks
 * until `count` participants have entered, `leave()` until all of them have left. Each
 * participant holds `<key>/waiters/<unix nanoseconds>` on its session's lease (so a crashed one
 * leaves with its lease); the last to enter puts `<key>/ready`.
 */
export class DoubleBarrier {
  private readonly waiters: Buffer;
  private readonly ready: Buffer;
  private myKey: RemoteKey | undefined;

  /** A barrier on `key` for `count` participants (Go's NewDoubleBarrier). */
  constructor(
    private readonly session: Session,
    key: Bytes,
    private readonly count: number,
  ) {
    if (!Number.isSafeInteger(count) || count < 1) throw new InvalidArgumentError(`double barrier: count must be a positive integer, got ${String(count)}`);
    this.waiters = joinKey(key, '/waiters', 'double barrier key');
    this.ready = joinKey(key, '/ready', 'double barrier key');
  }

  /**
   * Enters, and resolves once `count` participants have. `TooManyClientsError` if `count` had
   * already entered; `SessionExpiredError` if the session ends first, `AbortedError` when the
   * signal aborts (this participant's key is then deleted).
   */
  async enter(options: WaitOptions = {}): Promise<void> {
    const { signal } = options;
    const { client } = this.session;
    throwIfEnded(this.session, signal);
    if ((await this.entered()).length >= this.count) throw new TooManyClientsError();
    const mine = await newUniqueKey(client, this.waiters, '', this.session.lease);
    this.myKey = mine;
    const entered = await this.entered();
    if (entered.length >= this.count) {
      const last = entered[this.count - 1];
      if (mine.revision > last.createRevision) {
        // Others may be waiting for this key to go: delete it now rather than at lease expiry.
        await this.deleteMine().catch(() => undefined);
        throw new TooManyClientsError();
      }
      if (mine.revision === last.createRevision) {
        await client.put(this.ready, '');
        return;
      }
    }
    try {
      await waitEvents(client, this.ready, mine.revision, ['put'], { signal, session: this.session });
    } catch (error) {
      // Whoever gives up waiting must not be counted as entered.
      await this.deleteMine().catch(() => undefined);
      throw error;
    }
  }

  /** Leaves, and resolves once every participant has left; `SessionExpiredError` if the session ends first. */
  async leave(options: WaitOptions = {}): Promise<void> {
    const { signal } = options;
    const { client } = this.session;
    for (;;) {
      const { kvs } = await client.get(this.waiters, { prefix: true, signal });
      if (kvs.length === 0) return;
      let lowest = kvs[0];
      let highest = kvs[0];
      for (const kv of kvs) {
        if (kv.modRevision < lowest.modRevision) lowest = kv;
        if (kv.modRevision > highest.modRevision) highest = kv;
      }
      const isLowest = this.myKey !== undefined && lowest.key.equals(this.myKey.key);
      if (kvs.length === 1 && isLowest) {
        // The last one out clears the barrier for its next use.
        await client.delete(this.ready);
        await this.deleteMine();
        return;
      }
      // The lowest waits for the highest to go; every other deletes its key and waits for the
      // lowest. A participant that crashes leaves with its lease, so nobody waits forever.
      const awaited: KeyValue = isLowest ? highest : lowest;
      if (!isLowest) await this.deleteMine();
      await waitEvents(client, awaited.key, awaited.modRevision, ['delete'], { signal, session: this.session });
    }
  }

  /** Keys of the participants that have entered, oldest first. */
  private async entered(): Promise<KeyValue[]> {
    const { kvs } = await this.session.client.get(this.waiters, { prefix: true, sort: { target: 'createRevision', order: 'ascend' } });
    return kvs;
  }

  private async deleteMine(): Promise<void> {
    if (!this.myKey) return;
    await this.session.client.delete(this.myKey.key);
    this.myKey = undefined;
  }
}
