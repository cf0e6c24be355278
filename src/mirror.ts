import type { CallOptions } from './call-options.js';
import { type Bytes, type Int64, prefixEnd, toBuffer, toBytes, toInt64, zeroKey } from './encoding.js';
import { CompactedError, InvalidArgumentError } from './errors.js';
import type { GetResponse, KV, KeyValue } from './kv.js';
import { type Op, op } from './op.js';
import type { WatchEvent, WatchOptions, Watcher } from './watch.js';

/** What a mirror reads from: a client or a namespace (anything that reads and watches). */
export interface MirrorSource {
  /** Reads the base state, page by page. */
  get: KV['get'];
  /** Watches the changes after the base. */
  watch(key: Bytes, options?: WatchOptions): Watcher;
}

/** Options of `mirror`. */
export interface MirrorOptions {
  /** Read the base state at this revision (Go's `NewSyncer(c, prefix, rev)`); default: the newest. */
  revision?: Int64;
  /**
   * Skip the base state and deliver only the changes from this revision on (etcdctl make-mirror's
   * `--rev`): to resume a mirror from the revision after the last one it applied.
   */
  startRevision?: Int64;
  /** Keys per page of the base state. Default 1,000 (Go's). */
  pageSize?: number;
  /** Aborting it ends the iteration (normally, without an error). */
  signal?: AbortSignal;
}

/**
 * One step of a mirror:
 * - `base`: a page of the keys under the prefix as they were at `revision` (pages come in key order);
 *   `resync` is true when the base is read again because the updates were compacted away;
 * - `synced`: the base is complete; what follows are the changes after `revision`;
 * - `update`: changes of one watch response, in revision order, up to `revision`.
 */
export type MirrorEvent =
  | { type: 'base'; revision: bigint; kvs: KeyValue[]; resync: boolean }
  | { type: 'synced'; revision: bigint }
  | { type: 'update'; revision: bigint; events: WatchEvent[] };

const defaultPageSize = 1_000;

/**
 * The keys under `prefix` at one revision, then every change after it (Go's `mirror.Syncer`:
 * `SyncBase`, then `SyncUpdates`). If the changes after the base were compacted away before they
 * could be watched, the base is read again at the newest revision (`resync: true`), so nothing
 * is missed. An empty prefix mirrors the whole keyspace.
 *
 * @example
 * ```ts
 * const config = new Map<string, Buffer>();
 * for await (const step of mirror(client, 'config/', { signal })) {
 *   if (step.type === 'base') for (const kv of step.kvs) config.set(kv.key.toString(), kv.value);
 *   if (step.type === 'update') {
 *     for (const e of step.events) {
 *       if (e.type === 'put') config.set(e.kv.key.toString(), e.kv.value);
 *       else config.delete(e.kv.key.toString());
 *     }
 *   }
 * }
 * ```
 */
export async function* mirror(source: MirrorSource, prefix: Bytes, options: MirrorOptions = {}): AsyncGenerator<MirrorEvent, void, undefined> {
  const key = toBuffer(toBytes(prefix, 'mirror prefix'));
  const pageSize = options.pageSize ?? defaultPageSize;
  if (!Number.isSafeInteger(pageSize) || pageSize < 1) throw new InvalidArgumentError(`mirror pageSize must be a whole number >= 1, got ${String(pageSize)}`);
  if (options.revision !== undefined && options.startRevision !== undefined) {
    throw new InvalidArgumentError('mirror: give revision (where the base is read) or startRevision (no base), not both');
  }
  const { signal } = options;
  let revision = options.revision === undefined ? 0n : toInt64(options.revision, 'mirror revision');
  // The updates start after the base; with startRevision there is no base.
  let next = options.startRevision === undefined ? undefined : toInt64(options.startRevision, 'mirror startRevision');
  let resync = false;
  while (!signal?.aborted) {
    if (next === undefined) {
      try {
        revision = yield* base(source, key, revision, pageSize, resync, signal);
      } catch (error) {
        if (signal?.aborted) return;
        // The pinned revision was compacted while paging: start over at the newest.
        if (!(error instanceof CompactedError)) throw error;
        revision = 0n;
        resync = true;
        continue;
      }
      yield { type: 'synced', revision };
      next = revision + 1n;
    }
    const watcher = source.watch(key, { prefix: true, startRevision: next, signal });
    try {
      for await (const response of watcher) {
        if (response.events.length === 0) continue;
        next = response.events[response.events.length - 1].kv.modRevision + 1n;
        yield { type: 'update', revision: next - 1n, events: response.events };
      }
      return; // the signal cancelled the watch
    } catch (error) {
      if (!(error instanceof CompactedError)) throw error;
    } finally {
      // Also when the consumer stops iterating early: the watch must not outlive the mirror.
      await watcher.cancel();
    }
    // The changes we still needed are gone: read the whole state again.
    next = undefined;
    revision = 0n;
    resync = true;
  }
}

/** Yields the base pages at `revision` (0: the newest) and returns the revision they were read at. */
async function* base(
  source: MirrorSource,
  prefix: Buffer,
  revision: bigint,
  pageSize: number,
  resync: boolean,
  signal: AbortSignal | undefined,
): AsyncGenerator<MirrorEvent, bigint, undefined> {
  const end = prefix.length === 0 ? zeroKey : prefixEnd(prefix);
  let from: Uint8Array = prefix.length === 0 ? zeroKey : prefix;
  for (;;) {
    const page: GetResponse = await source.get(from, { end, revision, limit: pageSize, signal });
    // The first page pins the revision: every later page is read at it, so the base is one snapshot.
    if (revision === 0n) revision = page.header.revision;
    if (page.kvs.length > 0) yield { type: 'base', revision, kvs: page.kvs, resync };
    if (!page.more) return revision;
    from = Buffer.concat([page.kvs[page.kvs.length - 1].key, zeroKey]);
  }
}

/** Options of `makeMirror`. */
export interface MakeMirrorOptions {
  /** The source prefix to copy; default `''`, the whole keyspace. */
  prefix?: Bytes;
  /** Where the keys go in the destination: `prefix` replaced by this (etcdctl's `--dest-prefix`); default: the same prefix; `''` strips it (`--no-dest-prefix`). */
  destPrefix?: Bytes;
  /** Start from this source revision without copying the base state (etcdctl's `--rev`). */
  startRevision?: Int64;
  /** At most this many writes per destination transaction (etcdctl's `--max-txn-ops`). Default 128, etcd's limit. */
  maxTxnOps?: number;
  /** Aborting it stops the copy; `done` then resolves. */
  signal?: AbortSignal;
}

/** What a running `makeMirror` has done so far. */
export interface MirrorProgress {
  /** Keys written or deleted in the destination so far (etcdctl make-mirror prints this count). */
  readonly applied: number;
  /** The last source revision fully applied to the destination (0 before the base is copied). */
  readonly revision: bigint;
}

/** A running copy: its progress, and `done`, which settles when it stops. */
export interface MakeMirror extends MirrorProgress {
  /** Resolves with the final progress once the signal aborts; rejects with the error that stopped the copy. */
  readonly done: Promise<MirrorProgress>;
}

/**
 * Copies the keys under `prefix` from `source` to `destination`, then keeps applying every put
 * and delete, until `signal` aborts (etcdctl's `make-mirror`). Changes of one source revision
 * are applied in one destination transaction (split at `maxTxnOps`). If the source compacts
 * away changes before they were copied, the base is copied again and destination keys that no
 * longer exist in the source are deleted.
 */
export function makeMirror(source: MirrorSource, destination: KV, options: MakeMirrorOptions = {}): MakeMirror {
  const from = toBuffer(toBytes(options.prefix ?? '', 'makeMirror prefix'));
  const to = options.destPrefix === undefined ? from : toBuffer(toBytes(options.destPrefix, 'makeMirror destPrefix'));
  const maxTxnOps = options.maxTxnOps ?? 128;
  if (!Number.isSafeInteger(maxTxnOps) || maxTxnOps < 1) throw new InvalidArgumentError(`makeMirror maxTxnOps must be a whole number >= 1, got ${String(maxTxnOps)}`);
  const { signal } = options;
  const call: CallOptions = { signal };
  const progress = { applied: 0, revision: 0n };
  const rename = (key: Buffer): Buffer => Buffer.concat([to, key.subarray(from.length)]);

  const apply = async (ops: Op[]): Promise<void> => {
    for (let i = 0; i < ops.length; i += maxTxnOps) {
      const chunk = ops.slice(i, i + maxTxnOps);
      await destination.txn().then(...chunk).commit(call);
      progress.applied += chunk.length;
    }
  };

  const run = async (): Promise<MirrorProgress> => {
    // Keys of a re-read base, to delete what the source lost while its changes were compacted.
    let kept: Set<string> | undefined;
    for await (const step of mirror(source, from, { startRevision: options.startRevision, signal })) {
      switch (step.type) {
        case 'base':
          if (step.resync) kept ??= new Set();
          for (const kv of step.kvs) kept?.add(kv.key.toString('hex'));
          await apply(step.kvs.map((kv) => op.put(rename(kv.key), kv.value)));
          break;
        case 'synced':
          if (kept) await apply(await staleKeys(destination, to, from, kept, call));
          kept = undefined;
          progress.revision = step.revision;
          break;
        case 'update':
          for (const ops of updateOps(step.events, rename)) await apply(ops);
          progress.revision = step.revision;
          break;
      }
    }
    return { ...progress };
  };

  const done = run().catch((error: unknown) => {
    if (signal?.aborted) return { ...progress };
    throw error;
  });
  return {
    done,
    get applied() {
      return progress.applied;
    },
    get revision() {
      return progress.revision;
    },
  };
}

/**
 * The destination writes for a batch of events, one group per source revision: a revision is
 * one source transaction (so it goes to the destination together) and touches a key at most
 * once (a destination txn may not write one key twice).
 */
function updateOps(events: WatchEvent[], rename: (key: Buffer) => Buffer): Op[][] {
  const groups: Op[][] = [];
  let revision = -1n;
  for (const e of events) {
    if (e.kv.modRevision !== revision) groups.push([]);
    revision = e.kv.modRevision;
    groups[groups.length - 1].push(e.type === 'put' ? op.put(rename(e.kv.key), e.kv.value) : op.delete(rename(e.kv.key)));
  }
  return groups;
}

/** Deletes for destination keys under `to` whose source key is not in `kept` (hex of source keys). */
async function staleKeys(destination: KV, to: Buffer, from: Buffer, kept: Set<string>, call: CallOptions): Promise<Op[]> {
  const { kvs } = await destination.get(to, { prefix: true, keysOnly: true, ...call });
  return kvs
    .filter((kv) => !kept.has(Buffer.concat([from, kv.key.subarray(to.length)]).toString('hex')))
    .map((kv) => op.delete(kv.key));
}
