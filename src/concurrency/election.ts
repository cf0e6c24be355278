import { compare } from '../compare.js';
import { type Bytes, toBytes } from '../encoding.js';
import { ElectionNoLeaderError, ElectionNotLeaderError } from '../errors.js';
import type { KeyValue, ResponseHeader } from '../kv.js';
import { op } from '../op.js';
import type { Session } from './session.js';
import { throwIfEnded, waitDeletes } from './wait.js';

/** Options of `Election.campaign` and `Election.observe`. */
export interface CampaignOptions {
  /** Aborting it stops campaigning: the candidacy is withdrawn and the call rejects. */
  signal?: AbortSignal;
}

/** The leader as `observe()` and `leader()` report it. */
export interface LeaderValue {
  /** The cluster, member and revision that answered. */
  header: ResponseHeader;
  /** The leader's key-value: key `<prefix>/<lease id in hex>`, value its proclamation. */
  kv: KeyValue;
}

/**
 * A leader election with the key layout and protocol of Go's `concurrency.Election`, so it
 * agrees with Go programs and `etcdctl elect` on who leads. Candidates write
 * `<prefix>/<lease id in hex>`; the lowest create revision leads.
 *
 * @example
 * ```ts
 * import { Election, Session } from 'nice-etcd';
 *
 * await using session = await Session.create(client);
 * const election = new Election(session, 'elections/worker');
 * await election.campaign('node-1');          // resolves once this candidate leads
 * await leaderWork(session.signal);           // your work; the signal aborts if the lease is lost
 * await election.resign();
 * ```
 */
export class Election {
  private readonly pfx: Buffer;
  private leaderKey: Buffer | undefined;
  private leaderRev = -1n;
  private hdr: ResponseHeader | undefined;

  /** An election named `prefix` (Go's NewElection): keys live under `prefix + '/'`. */
  constructor(
    private readonly session: Session,
    prefix: Bytes,
  ) {
    this.pfx = Buffer.concat([toBytes(prefix, 'election prefix'), Buffer.from('/')]);
  }

  /** This candidate's key while campaigning or leading. */
  get key(): Buffer | undefined {
    return this.leaderKey;
  }

  /** The create revision of this candidate's key while leading. */
  get revision(): bigint {
    return this.leaderRev;
  }

  /** The header of the response that made this candidate leader. */
  get header(): ResponseHeader | undefined {
    return this.hdr;
  }

  /**
   * Campaigns with `value` and resolves once this candidate leads. Rejects with
   * `SessionExpiredError` if the session ends first, or `AbortedError` when the signal aborts
   * (the candidacy is then withdrawn).
   */
  async campaign(value: Bytes, options: CampaignOptions = {}): Promise<void> {
    const { signal } = options;
    throwIfEnded(this.session, signal);
    const client = this.session.client;
    const key = Buffer.concat([this.pfx, Buffer.from(this.session.lease.toString(16))]);
    const response = await client
      .txn()
      .if(compare.createRevision(key, '=', 0))
      .then(op.put(key, value, { lease: this.session.lease }))
      .else(op.get(key))
      .commit();
    this.leaderKey = key;
    this.leaderRev = response.header.revision;
    if (!response.succeeded) {
      const existing = response.responses[0];
      if (existing.type === 'get' && existing.kvs.length > 0) {
        this.leaderRev = existing.kvs[0].createRevision;
        if (!existing.kvs[0].value.equals(Buffer.from(toBytes(value, 'election value')))) await this.proclaim(value);
      }
    }
    try {
      this.hdr = await waitDeletes(this.session, this.pfx, this.leaderRev - 1n, signal);
    } catch (error) {
      if (signal?.aborted) await this.resign().catch(() => undefined);
      else this.reset();
      throw error;
    }
  }

  /** Changes the leader's value without an election; `ElectionNotLeaderError` if not leading. */
  async proclaim(value: Bytes): Promise<void> {
    const key = this.leaderKey;
    if (!key) throw new ElectionNotLeaderError();
    const response = await this.session.client
      .txn()
      .if(compare.createRevision(key, '=', this.leaderRev))
      .then(op.put(key, value, { lease: this.session.lease }))
      .commit();
    if (!response.succeeded) {
      this.reset();
      throw new ElectionNotLeaderError();
    }
    this.hdr = response.header;
  }

  /** Gives up leadership (or candidacy), letting the next candidate lead. */
  async resign(): Promise<void> {
    const key = this.leaderKey;
    if (!key) return;
    const response = await this.session.client.txn().if(compare.createRevision(key, '=', this.leaderRev)).then(op.delete(key)).commit();
    if (response.succeeded) this.hdr = response.header;
    this.reset();
  }

  /** The current leader; `ElectionNoLeaderError` when nobody campaigns. */
  async leader(): Promise<LeaderValue> {
    const { kvs, header } = await this.session.client.get(this.pfx, { first: 'createRevision' });
    if (kvs.length === 0) throw new ElectionNoLeaderError();
    return { header, kv: kvs[0] };
  }

  /**
   * The leader and each change of it (a new leader, or a new proclamation), as Go's Observe:
   * it waits for a first candidate, then follows that leader's key until it is deleted.
   */
  async *observe(options: CampaignOptions = {}): AsyncGenerator<LeaderValue, void, undefined> {
    const { signal } = options;
    const client = this.session.client;
    while (!signal?.aborted) {
      let { kvs, header } = await client.get(this.pfx, { first: 'createRevision', signal });
      let current: KeyValue | undefined = kvs[0];
      if (!current) {
        // No leader yet: the first key put under the prefix is the leader.
        const watcher = client.watch(this.pfx, { prefix: true, startRevision: header.revision, filters: ['noDelete'], signal });
        try {
          for await (const batch of watcher) {
            if (batch.events.length > 0) {
              current = batch.events[0].kv;
              header = { ...batch.header, revision: current.modRevision };
              break;
            }
          }
        } finally {
          await watcher.cancel();
        }
        if (!current) return;
      }
      yield { header, kv: current };
      const watcher = client.watch(current.key, { startRevision: header.revision + 1n, signal });
      try {
        let deleted = false;
        for await (const batch of watcher) {
          for (const event of batch.events) {
            if (event.type === 'delete') {
              deleted = true;
              break;
            }
            yield { header: batch.header, kv: event.kv };
          }
          if (deleted) break;
        }
        if (!deleted) return;
      } finally {
        await watcher.cancel();
      }
    }
  }

  private reset(): void {
    this.leaderKey = undefined;
    this.leaderRev = -1n;
    this.hdr = undefined;
  }
}
