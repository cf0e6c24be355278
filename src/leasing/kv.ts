import { abortable, delay } from 'abort-controller-x';
import type { CallOptions } from '../call-options.js';
import { type Condition, compare } from '../compare.js';
import { Session } from '../concurrency/session.js';
import { type Bytes, type Int64, prefixEnd, toBuffer, toBytes } from '../encoding.js';
import { AbortedError, ClientClosedError, DeadlineExceededError, InvalidArgumentError, LeaseNotFoundError } from '../errors.js';
import {
  type CompactOptions,
  type CompactResponse,
  type DeleteResponse,
  type GetResponse,
  KVBase,
  type KeyValue,
  type PutResponse,
  type ResponseHeader,
  type ResponseOf,
  type TxnResponse,
} from '../kv.js';
import type { Namespaceable } from '../namespace/kv.js';
import { type DeleteOp, type GetOp, type Op, type PutOp, type TxnOp, op } from '../op.js';
import type { TxnRequest } from '../wire.js';
import { followSignal } from '../signals.js';
import { LeaseCache, view } from './cache.js';

/** Options of `LeasingKV.create`. */
export interface LeasingOptions {
  /** TTL in seconds of the session lease that holds this client's leasing keys. Default 60. */
  ttl?: number;
  /** Aborting it abandons `create` while the first session is being made. */
  signal?: AbortSignal;
}

/** The value another writer puts on a leasing key to ask its holder to give the key up. */
const revokeValue = 'REVOKE';
const empty = new Uint8Array(0);

/** One write of a transaction, for guards and cache updates. */
interface Write {
  key: Uint8Array;
  /** Empty for a put or a single-key delete. */
  rangeEnd: Uint8Array;
}

/**
 * A KV that caches reads of the keys it holds (Go's `leasing.NewKV`): the first linearizable
 * `get` of a key writes a leasing key `<prefix><key>` on this client's session lease, and from
 * then on reads of that key are answered locally, with no round trip, until another client
 * writes it. A writer through any leasing KV on the same prefix (nice-etcd's or Go's) first
 * puts `REVOKE` on the leasing key and waits until the holder deletes it, so no holder ever
 * serves a stale value. Writes that bypass the leasing protocol (a plain client) are not seen
 * by holders: every writer of a leased key must go through a leasing KV.
 *
 * @example
 * ```ts
 * await using cached = await LeasingKV.create(client, 'leases/');
 * await cached.get('config/db');   // from etcd; this client now holds the key
 * await cached.get('config/db');   // from the local cache
 * ```
 */
export class LeasingKV extends KVBase implements AsyncDisposable {
  readonly #client: Namespaceable;
  readonly #prefix: Buffer;
  readonly #ttl: number;
  readonly #cache = new LeaseCache();
  readonly #closed = new AbortController();
  /** The current session; a new one replaces it when its lease is lost (the cache is dropped then). */
  #session!: Promise<Session>;
  /** The session once it is granted, until its lease is lost: keys are cached only meanwhile. */
  #live: Session | undefined;
  /** Background work (watches of held keys, session renewal) that `close()` waits for. */
  readonly #tasks = new Set<Promise<void>>();

  private constructor(client: Namespaceable, prefix: Buffer, ttl: number) {
    super();
    this.#client = client;
    this.#prefix = prefix;
    this.#ttl = ttl;
  }

  /** Starts a leasing KV on `prefix` (where the leasing keys live) once its session lease is granted. */
  static async create(client: Namespaceable, prefix: Bytes, options: LeasingOptions = {}): Promise<LeasingKV> {
    const bytes = toBuffer(toBytes(prefix, 'leasing prefix'));
    if (bytes.length === 0) throw new InvalidArgumentError('leasing: the prefix must not be empty (the leasing keys live under it)');
    const kv = new LeasingKV(client, bytes, options.ttl ?? 60);
    // The session lives until close(); the caller's signal only bounds the wait for it.
    kv.#session = Session.create(client, { ttl: kv.#ttl, signal: kv.#closed.signal });
    try {
      kv.#watchSession(await until(kv.#session, options.signal));
    } catch (error) {
      await kv.close();
      throw error;
    }
    return kv;
  }

  /** The prefix under which this client writes its leasing keys. */
  get prefix(): Buffer {
    return this.#prefix;
  }

  /**
   * Runs an operation through the leasing protocol. A write may wait for another client to give
   * its key up: `timeout` bounds the whole operation, waits included (`DeadlineExceededError`).
   */
  async do<T extends Op>(operation: T, options: CallOptions = {}): Promise<ResponseOf<T>> {
    if (this.#closed.signal.aborted) throw new ClientClosedError('the leasing KV is closed');
    // Only the call options: `get(key, options)` passes its range options here too.
    const call: CallOptions = { signal: options.signal, timeout: options.timeout, requireLeader: options.requireLeader };
    if (options.timeout === undefined) return this.#do(operation, call);
    // One signal for every call and wait of the operation: the caller's, or the timeout's.
    const bound = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      bound.abort();
    }, options.timeout);
    const unfollow = options.signal ? followSignal(options.signal, bound) : undefined;
    try {
      return await this.#do(operation, { ...call, signal: bound.signal });
    } catch (error) {
      if (!timedOut || options.signal?.aborted) throw error;
      throw new DeadlineExceededError(`leasing ${operation.type} did not finish within its ${options.timeout} ms timeout`, { cause: error });
    } finally {
      clearTimeout(timer);
      unfollow?.();
    }
  }

  async #do<T extends Op>(operation: T, options: CallOptions): Promise<ResponseOf<T>> {
    switch (operation.type) {
      case 'get':
        return (await this.#get(operation, options)) as ResponseOf<T>;
      case 'put':
        return (await this.#put(operation, options)) as ResponseOf<T>;
      case 'delete':
        return (await this.#delete(operation, options)) as ResponseOf<T>;
      case 'txn':
        return (await this.#txn(operation, options)) as ResponseOf<T>;
      default:
        throw new InvalidArgumentError(`not an operation: ${JSON.stringify(operation)}`);
    }
  }

  /** Compacts the store (not cached; passes through). */
  compact(revision: Int64, options?: CompactOptions): Promise<CompactResponse> {
    return this.#client.compact(revision, options);
  }

  /**
   * Stops caching and revokes the session lease, which deletes this client's leasing keys, so
   * writers need not wait for them to expire. Idempotent.
   */
  async close(): Promise<void> {
    if (this.#closed.signal.aborted) return;
    this.#closed.abort(); // stops the keep-alive, the watches of held keys and session renewal
    const session = await this.#session.catch(() => undefined);
    if (session) await this.#client.lease.revoke(session.lease, { timeout: session.ttl * 1000 }).catch(() => undefined);
    await Promise.all(this.#tasks);
  }

  /** `await using kv = await LeasingKV.create(...)` closes it at the end of the scope. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  // ---- Reads ----

  async #get(operation: GetOp, options: CallOptions): Promise<{ type: 'get' } & GetResponse> {
    const request = operation.request;
    const fromServer = () => this.#client.do(operation, options);
    if (!this.#live || this.#live.ended || request.rangeEnd.length > 0 || request.revision !== 0n) return fromServer();
    const cached = await this.#cache.get(request);
    if (cached) return { type: 'get', ...cached };
    if (request.serializable || !this.#cache.mayAcquire(request.key)) return fromServer();
    const key = request.key;
    const session = await this.#waitSession(options.signal);
    const lkey = this.#leasingKey(key);
    // Acquire: create the leasing key on our lease unless someone holds it or the key has a
    // lease of its own (its value could vanish without a write), reading the key in the same txn.
    let r: TxnResponse;
    try {
      r = await this.#client
        .txn()
        .if(compare.createRevision(lkey, '=', 0), compare.lease(key, '=', 0))
        .then(op.get(key), op.put(lkey, '', { lease: session.lease }))
        .else(op.get(key), op.get(lkey))
        .commit(options);
    } catch (error) {
      if (!(error instanceof LeaseNotFoundError)) throw error;
      // The session's lease is gone before its keep-alive noticed: end it (a new one starts) and read from etcd.
      session.orphan();
      return fromServer();
    }
    const read = { ...(r.responses[0] as GetResponse), header: r.header };
    const holder = r.succeeded ? undefined : (r.responses[1] as GetResponse).kvs[0];
    // A leasing key of ours from before means we hold the key already.
    if (r.succeeded || holder?.lease === session.lease) {
      const answer = this.#cache.add(key, read, request);
      this.#track(this.#watchLeasingKey(Buffer.from(key), r.header.revision, session));
      return { type: 'get', ...answer };
    }
    return { type: 'get', ...view(read, request) };
  }

  // ---- Single-key writes ----

  async #put(operation: PutOp, options: CallOptions): Promise<{ type: 'put' } & PutResponse> {
    const { key, value, lease, ignoreValue, ignoreLease } = operation.request;
    const r = await this.#writeKey(key, operation, options, (header) =>
      this.#cache.update(key, ignoreValue ? undefined : value, ignoreLease ? undefined : lease, header),
    );
    return { ...(r.responses[0] as { type: 'put' } & PutResponse), header: r.header };
  }

  async #delete(operation: DeleteOp, options: CallOptions): Promise<{ type: 'delete' } & DeleteResponse> {
    const { key, rangeEnd } = operation.request;
    if (rangeEnd.length > 0) return this.#deleteRange(operation, options);
    const r = await this.#writeKey(key, operation, options, (header) => this.#cache.delete(key, header));
    return { ...(r.responses[0] as { type: 'delete' } & DeleteResponse), header: r.header };
  }

  /**
   * Writes one key: applied at once if nobody else holds it, otherwise its holder is asked to
   * give it up (`REVOKE`) and the write is tried again once it has. Reads of the key through
   * this client wait for the write, which `applied` puts into the cache if we hold the key.
   */
  async #writeKey(key: Uint8Array, operation: PutOp | DeleteOp, options: CallOptions, applied: (header: ResponseHeader) => void): Promise<TxnResponse> {
    await this.#waitSession(options.signal);
    for (;;) {
      const release = this.#cache.lock(key, empty);
      let r: TxnResponse;
      try {
        r = await this.#revoke(key, operation, options);
        if (r.succeeded) applied(r.header);
      } catch (error) {
        this.#cache.evict(key); // the write may or may not have happened: the cache cannot know
        throw error;
      } finally {
        release();
      }
      if (r.succeeded) return r;
    }
  }

  /**
   * Runs `operation` on `key` if no other client holds the key (our own leasing key is older
   * than the revision we hold it at); otherwise puts `REVOKE` on the holder's leasing key and
   * waits until the holder has deleted it. Go's `revoke`.
   */
  async #revoke(key: Uint8Array, operation: Op, options: CallOptions): Promise<TxnResponse> {
    const lkey = this.#leasingKey(key);
    const r = await this.#client
      .txn()
      .if(compare.createRevision(lkey, '<', this.#cache.rev(key) + 1n))
      .then(operation)
      .else(op.put(lkey, revokeValue, { ignoreLease: true }))
      .commit(options);
    if (!r.succeeded) await this.#waitDeleted(lkey, r.header.revision, options);
    return r;
  }

  /** Waits until the leasing key `lkey` is deleted after `revision` (its holder gave it up, or its lease ended). */
  async #waitDeleted(lkey: Uint8Array, revision: bigint, options: CallOptions): Promise<void> {
    const watcher = this.#client.watch(lkey, { startRevision: revision + 1n, signal: options.signal });
    try {
      for await (const response of watcher) if (response.events.some((e) => e.type === 'delete')) return;
    } catch {
      // A compacted or failed watch: the caller's next attempt checks the leasing key again.
    } finally {
      await watcher.cancel();
    }
    const { signal } = options;
    if (signal?.aborted) throw new AbortedError('the wait for a leasing key holder was aborted', { cause: signal.reason });
  }

  // ---- Range deletes and transactions ----

  async #deleteRange(operation: DeleteOp, options: CallOptions): Promise<{ type: 'delete' } & DeleteResponse> {
    const { key, rangeEnd } = operation.request;
    await this.#waitSession(options.signal);
    for (;;) {
      const maxLeaseRev = await this.#revokeRange(key, rangeEnd, options);
      const release = this.#cache.lock(key, rangeEnd);
      try {
        const r = await this.#client
          .txn()
          .if(compare.createRevision(this.#leasingKey(key), '<', maxLeaseRev + 1n, { end: this.#leasingEnd(rangeEnd) }))
          .then(op.get(key, { end: rangeEnd, keysOnly: true }), operation)
          .commit(options);
        if (r.succeeded) {
          for (const kv of (r.responses[0] as GetResponse).kvs) this.#cache.delete(kv.key, r.header);
          return { ...(r.responses[1] as { type: 'delete' } & DeleteResponse), header: r.header };
        }
      } catch (error) {
        this.#cache.evictRange(key, rangeEnd);
        throw error;
      } finally {
        release();
      }
    }
  }

  /**
   * A transaction, sent to etcd (Go's `serverTxn`; Go also answers some read-only ones from its
   * cache). Each written key is guarded as a single write is; holders found in the way are
   * asked to give their keys up and the transaction is tried again.
   */
  async #txn(operation: TxnOp, options: CallOptions): Promise<{ type: 'txn' } & TxnResponse> {
    await this.#waitSession(options.signal);
    const writes = gatherWrites(operation.request);
    // What else runs when a guard fails: the leasing keys in the way, to revoke them.
    const fallback = writes.map((w) => op.get(this.#leasingKey(w.key), w.rangeEnd.length > 0 ? { end: this.#leasingEnd(w.rangeEnd) } : {}));
    const releases = writes.map((w) => this.#cache.lock(w.key, w.rangeEnd));
    try {
      for (;;) {
        const guards = await this.#guards(writes, options);
        let r: TxnResponse;
        try {
          r = await this.#client.txn().if(...guards).then(operation).else(...fallback).commit(options);
        } catch (error) {
          for (const w of writes) {
            if (w.rangeEnd.length > 0) this.#cache.evictRange(w.key, w.rangeEnd);
            else this.#cache.evict(w.key);
          }
          throw error;
        }
        if (r.succeeded) {
          const inner = r.responses[0] as { type: 'txn' } & TxnResponse;
          this.#applyTxn(operation.request, inner, r.header);
          return { ...inner, header: r.header };
        }
        for (const response of r.responses) await this.#revokeHolders((response as GetResponse).kvs, options);
      }
    } finally {
      for (const release of releases) release();
    }
  }

  /** The compares that fail if another client holds a written key (Go's guardKeys and guardRanges). */
  async #guards(writes: Write[], options: CallOptions): Promise<Condition[]> {
    const guards: Condition[] = [];
    const seen = new Set<string>();
    for (const { key, rangeEnd } of writes) {
      if (rangeEnd.length === 0) {
        const id = Buffer.from(key).toString('latin1');
        if (seen.has(id)) continue;
        seen.add(id);
        guards.push(compare.createRevision(this.#leasingKey(key), '<', this.#cache.rev(key) + 1n));
        continue;
      }
      const maxLeaseRev = await this.#revokeRange(key, rangeEnd, options);
      const newest = await this.#client.get(key, { end: rangeEnd, sort: { target: 'modRevision', order: 'descend' }, limit: 1, ...options });
      const maxModRev = newest.kvs[0]?.modRevision ?? 0n;
      guards.push(
        compare.modRevision(key, '<', maxModRev + 1n, { end: rangeEnd }),
        compare.createRevision(this.#leasingKey(key), '<', maxLeaseRev + 1n, { end: this.#leasingEnd(rangeEnd) }),
      );
    }
    return guards;
  }

  /** Applies a committed transaction's writes (the branch that ran, nested ones included) to the cache. */
  #applyTxn(request: TxnRequest, response: TxnResponse, header: ResponseHeader): void {
    const branch = response.succeeded ? request.success : request.failure;
    branch.forEach(({ request: r }, i) => {
      if (r?.$case === 'requestPut') {
        const { key, value, lease, ignoreValue, ignoreLease } = r.value;
        this.#cache.update(key, ignoreValue ? undefined : value, ignoreLease ? undefined : lease, header);
      } else if (r?.$case === 'requestDeleteRange') {
        if (r.value.rangeEnd.length === 0) this.#cache.delete(r.value.key, header);
        else this.#cache.deleteRange(r.value.key, r.value.rangeEnd, header);
      } else if (r?.$case === 'requestTxn') {
        this.#applyTxn(r.value, response.responses[i] as TxnResponse, header);
      }
    });
  }

  /** Revokes every other client's leasing key in [key, end); returns the newest leasing key's create revision. */
  async #revokeRange(key: Uint8Array, end: Uint8Array, options: CallOptions): Promise<bigint> {
    const { kvs } = await this.#client.get(this.#leasingKey(key), { end: this.#leasingEnd(end), ...options });
    return this.#revokeHolders(kvs, options);
  }

  /** Asks the holders of these leasing keys (other than us) to give them up; returns their newest create revision. */
  async #revokeHolders(leasingKeys: KeyValue[], options: CallOptions): Promise<bigint> {
    const own = (await this.#session).lease;
    let maxLeaseRev = 0n;
    for (const kv of leasingKeys) {
      if (kv.createRevision > maxLeaseRev) maxLeaseRev = kv.createRevision;
      if (kv.lease === own) continue;
      const key = kv.key.subarray(this.#prefix.length);
      await this.#revoke(key, op.get(key), options);
    }
    return maxLeaseRev;
  }

  // ---- Holding keys ----

  /**
   * Watches our leasing key of `key` (held since `rev`) until another writer puts `REVOKE` on
   * it, then gives the key up: drops it from the cache and deletes the leasing key (Go's
   * `monitorLease` and `rescind`).
   */
  async #watchLeasingKey(key: Buffer, rev: bigint, session: Session): Promise<void> {
    const signal = this.#closed.signal;
    const lkey = this.#leasingKey(key);
    while (!signal.aborted && !session.ended) {
      if (rev === 0n) {
        let r: GetResponse;
        try {
          r = await this.#client.get(lkey, { signal });
        } catch (error) {
          // Holders must keep watching, or writers would wait for them until the lease ends.
          if (await this.#pause(error, 100)) continue;
          return;
        }
        rev = r.header.revision;
        if (r.kvs.length === 0 || r.kvs[0].value.toString() === revokeValue) return this.#rescind(key, rev);
      }
      const watcher = this.#client.watch(lkey, { startRevision: rev + 1n, signal });
      try {
        for await (const { events } of watcher) {
          for (const e of events) {
            // Deleted (its lease ended): we hold the key no more.
            if (e.type === 'delete') return void this.#cache.evict(key);
            if (e.kv.value.toString() !== revokeValue) continue;
            if (e.kv.lease === session.lease) await this.#rescind(key, e.kv.modRevision);
            return;
          }
        }
      } catch {
        // A compacted or failed watch: read the leasing key again and carry on from there.
      } finally {
        await watcher.cancel();
      }
      rev = 0n;
    }
  }

  /** Gives `key` up after a REVOKE at `rev`: out of the cache, then our leasing key deleted. */
  async #rescind(key: Uint8Array, rev: bigint): Promise<void> {
    // Held again since the REVOKE: that is a newer leasing key, not the one asked for.
    if (this.#cache.evict(key) > rev) return;
    const signal = this.#closed.signal;
    while (!signal.aborted) {
      try {
        await this.#client.txn().if(compare.createRevision(this.#leasingKey(key), '<', rev)).then(op.delete(this.#leasingKey(key))).commit({ signal });
        return;
      } catch (error) {
        if (!(await this.#pause(error, 100))) return;
      }
    }
  }

  /** When the session's lease is lost, drops the cache (we hold nothing any more) and starts a new session. */
  #watchSession(session: Session): void {
    this.#live = session;
    this.#track(
      session.done.then(async () => {
        const signal = this.#closed.signal;
        this.#live = undefined;
        if (signal.aborted) return;
        this.#cache.clear();
        let next: Promise<Session>;
        for (;;) {
          next = Session.create(this.#client, { ttl: this.#ttl, signal });
          next.catch(() => undefined);
          this.#session = next;
          try {
            this.#watchSession(await next);
            return;
          } catch (error) {
            if (!(await this.#pause(error, 500))) return;
          }
        }
      }),
    );
  }

  async #waitSession(signal: AbortSignal | undefined): Promise<Session> {
    if (this.#closed.signal.aborted) throw new ClientClosedError('the leasing KV is closed');
    return until(this.#session, signal);
  }

  /** Waits `ms` before background work tries again; false when it should stop instead (closed, or its client was). */
  async #pause(error: unknown, ms: number): Promise<boolean> {
    const signal = this.#closed.signal;
    if (error instanceof ClientClosedError || signal.aborted) return false;
    await delay(signal, ms).catch(() => undefined);
    return !signal.aborted;
  }

  #track(task: Promise<void>): void {
    const tracked = task.catch(() => undefined).finally(() => this.#tasks.delete(tracked));
    this.#tasks.add(tracked);
  }

  #leasingKey(key: Uint8Array): Buffer {
    return Buffer.concat([this.#prefix, key]);
  }

  /** The end of the leasing keys of the user range [key, end): "\x00" (to the end) stays within the prefix. */
  #leasingEnd(end: Uint8Array): Buffer {
    if (end.length === 0) return Buffer.alloc(0);
    return end.length === 1 && end[0] === 0 ? prefixEnd(this.#prefix) : Buffer.concat([this.#prefix, end]);
  }
}

/** `promise`, or an `AbortedError` as soon as `signal` aborts. */
async function until<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  try {
    return await abortable(signal, promise);
  } catch (error) {
    if (signal.aborted) throw new AbortedError('the wait for the leasing session was aborted', { cause: signal.reason });
    throw error;
  }
}

/** Every put and delete of a transaction, nested ones included (both branches: either may run). */
function gatherWrites(txn: TxnRequest): Write[] {
  const writes: Write[] = [];
  for (const { request: r } of [...txn.success, ...txn.failure]) {
    if (r?.$case === 'requestPut') writes.push({ key: r.value.key, rangeEnd: empty });
    else if (r?.$case === 'requestDeleteRange') writes.push({ key: r.value.key, rangeEnd: r.value.rangeEnd });
    else if (r?.$case === 'requestTxn') writes.push(...gatherWrites(r.value));
  }
  return writes;
}
