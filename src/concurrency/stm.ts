import { type Condition, compare } from '../compare.js';
import { type Bytes, type Int64, toBuffer, toBytes } from '../encoding.js';
import { AbortedError, StmConflictError } from '../errors.js';
import type { GetResponse } from '../kv.js';
import type { Namespaceable } from '../namespace/kv.js';
import { type Op, op } from '../op.js';

/**
 * Isolation levels of Go's concurrency.STM:
 * - `serializableSnapshot` (default): reads come from one snapshot (the revision of the first
 *   read), and the commit fails if any key read or written changed since; no write skew.
 * - `serializable`: reads come from one snapshot; the commit fails if a key read changed.
 * - `repeatableReads`: each key is read once per attempt; the commit fails if a key read changed.
 * - `readCommitted`: reads are not checked; the commit never conflicts.
 */
export type Isolation = 'serializableSnapshot' | 'serializable' | 'repeatableReads' | 'readCommitted';

/** Options of `stm()`. */
export interface StmOptions {
  /** Default `serializableSnapshot`. */
  isolation?: Isolation;
  /** Keys to read in the first round trip, before the function runs. */
  prefetch?: Bytes[];
  /** Attempts before giving up with `StmConflictError`. Default 100. */
  maxAttempts?: number;
  /** Aborting it stops retrying; the call rejects with `AbortedError`. */
  signal?: AbortSignal;
}

/** What the transaction function reads and writes through. Writes are buffered until commit. */
export interface StmTx {
  /** The key's value as this transaction sees it, or undefined when it does not exist. */
  get(key: Bytes): Promise<Buffer | undefined>;
  /** The key's mod revision as this transaction sees it (0 when it does not exist). */
  rev(key: Bytes): Promise<bigint>;
  /** Buffers a write of the key. */
  put(key: Bytes, value: Bytes, options?: { lease?: Int64 }): void;
  /** Buffers a delete of the key. */
  delete(key: Bytes): void;
}

type Write = { type: 'put'; value: Bytes; lease?: Int64 } | { type: 'delete' };

/** One attempt's reads and writes, keyed by the key's bytes as latin1 (lossless). */
class Attempt implements StmTx {
  readonly reads = new Map<string, GetResponse>();
  readonly writes = new Map<string, Write>();
  /** The snapshot revision, pinned by the first read for the serializable levels. */
  revision: bigint | undefined;

  constructor(
    private readonly client: Namespaceable,
    private readonly isolation: Isolation,
    prefetched: Map<string, GetResponse>,
  ) {
    for (const [key, response] of prefetched) this.reads.set(key, response);
    if (prefetched.size > 0 && this.pins) this.revision = minRevision(prefetched);
  }

  private get pins(): boolean {
    return this.isolation === 'serializable' || this.isolation === 'serializableSnapshot';
  }

  async get(key: Bytes): Promise<Buffer | undefined> {
    const k = keyOf(key);
    const write = this.writes.get(k);
    if (write) return write.type === 'put' ? toBuffer(toBytes(write.value, 'stm value')) : undefined;
    const kv = (await this.read(k)).kvs[0];
    return kv?.value;
  }

  async rev(key: Bytes): Promise<bigint> {
    const kv = (await this.read(keyOf(key))).kvs[0];
    return kv?.modRevision ?? 0n;
  }

  put(key: Bytes, value: Bytes, options: { lease?: Int64 } = {}): void {
    this.writes.set(keyOf(key), { type: 'put', value, lease: options.lease });
  }

  delete(key: Bytes): void {
    this.writes.set(keyOf(key), { type: 'delete' });
  }

  /** Reads keys not read yet, in one round trip, at the pinned revision if there is one. */
  async fetch(keys: string[]): Promise<void> {
    const missing = keys.filter((k) => !this.reads.has(k));
    if (missing.length === 0) return;
    const ops = missing.map((k) => op.get(Buffer.from(k, 'latin1'), { serializable: true, revision: this.revision ?? 0n }));
    const response = await this.client.txn().then(...ops).commit();
    response.responses.forEach((r, i) => {
      if (r.type === 'get') this.reads.set(missing[i], r);
    });
    if (this.revision === undefined && this.pins) this.revision = response.header.revision;
  }

  private async read(k: string): Promise<GetResponse> {
    await this.fetch([k]);
    // fetch() stores a response for every key it was given.
    return this.reads.get(k) as GetResponse;
  }

  /** The conditions under which this attempt may commit, by isolation level. */
  conflicts(): Condition[] {
    if (this.isolation === 'readCommitted') return [];
    const cmps: Condition[] = [];
    for (const [k, response] of this.reads) {
      cmps.push(compare.modRevision(Buffer.from(k, 'latin1'), '=', response.kvs[0]?.modRevision ?? 0n));
    }
    if (this.isolation === 'serializableSnapshot' && this.writes.size > 0) {
      // Written keys must not have changed since the snapshot either (no write skew).
      const snapshot = this.reads.size > 0 ? minRevision(this.reads) : undefined;
      if (snapshot !== undefined) {
        for (const k of this.writes.keys()) cmps.push(compare.modRevision(Buffer.from(k, 'latin1'), '<', snapshot + 1n));
      }
    }
    return cmps;
  }

  writeOps(): Op[] {
    return [...this.writes].map(([k, w]) =>
      w.type === 'put' ? op.put(Buffer.from(k, 'latin1'), w.value, { lease: w.lease }) : op.delete(Buffer.from(k, 'latin1')),
    );
  }
}

function keyOf(key: Bytes): string {
  return Buffer.from(toBytes(key, 'stm key')).toString('latin1');
}

function minRevision(reads: Map<string, GetResponse>): bigint {
  let min: bigint | undefined;
  for (const r of reads.values()) if (min === undefined || r.header.revision < min) min = r.header.revision;
  return min ?? 0n;
}

/**
 * Runs `fn` as a software transactional memory transaction (Go's concurrency.NewSTM): reads
 * go through `tx`, writes are buffered, and the commit is one etcd transaction that succeeds
 * only if what was read is unchanged (per `isolation`). On a conflict `fn` runs again with
 * fresh reads; after `maxAttempts` conflicts it rejects with `StmConflictError`. `fn` must not
 * have side effects outside `tx`, since it may run several times. Resolves with fn's result.
 *
 * @example
 * ```ts
 * await stm(client, async (tx) => {
 *   const from = Number(await tx.get('accounts/a')), to = Number(await tx.get('accounts/b'));
 *   tx.put('accounts/a', String(from - 10));
 *   tx.put('accounts/b', String(to + 10));
 * });
 * ```
 */
export async function stm<T>(client: Namespaceable, fn: (tx: StmTx) => Promise<T> | T, options: StmOptions = {}): Promise<T> {
  const isolation = options.isolation ?? 'serializableSnapshot';
  const maxAttempts = options.maxAttempts ?? 100;
  let prefetched = new Map<string, GetResponse>();
  const prefetchKeys = (options.prefetch ?? []).map(keyOf);
  for (let attempt = 1; attempt <= maxAttempts; attempt++) {
    if (options.signal?.aborted) throw new AbortedError('stm was aborted', { cause: options.signal.reason });
    const tx = new Attempt(client, isolation, prefetched);
    if (attempt === 1 && prefetchKeys.length > 0) await tx.fetch(prefetchKeys);
    const result = await fn(tx);
    const readKeys = [...tx.reads.keys()];
    const response = await client
      .txn()
      .if(...tx.conflicts())
      .then(...tx.writeOps())
      .else(...readKeys.map((k) => op.get(Buffer.from(k, 'latin1'), { serializable: false })))
      .commit({ signal: options.signal });
    if (response.succeeded) return result;
    // The else branch re-read every key, so the next attempt starts from fresh values.
    prefetched = new Map();
    response.responses.forEach((r, i) => {
      if (r.type === 'get') prefetched.set(readKeys[i], r);
    });
  }
  throw new StmConflictError(maxAttempts);
}
