import type { Compare, DeleteRangeRequest, PutRequest, RangeRequest, RequestOp, TxnRequest } from './wire.js';
import { RangeRequest_SortOrder, RangeRequest_SortTarget } from './proto.js';
import { EmptyKeyError, InvalidArgumentError } from './errors.js';
import { type Bytes, type Int64, prefixEnd, toBytes, toInt64, zeroKey } from './encoding.js';

/** Which keys an operation covers, besides the single key it names. */
export interface RangeOptions {
  /** Every key that starts with the key (etcd's WithPrefix); an empty key means every key. */
  prefix?: boolean;
  /** The range [key, end): end is exclusive (WithRange). */
  end?: Bytes;
  /** The key and every key after it (WithFromKey). */
  fromKey?: boolean;
}

/** What `sort` orders by. */
export type SortTarget = 'key' | 'version' | 'createRevision' | 'modRevision' | 'value';
/** The direction of `sort`. */
export type SortOrder = 'none' | 'ascend' | 'descend';

/** Options of `get` and `op.get`, each mapped to one field of etcd's RangeRequest. */
export interface GetOptions extends RangeOptions {
  /** Read the store as it was at this revision (0 or absent: the newest). */
  revision?: Int64;
  /** Return at most this many keys (0: no limit); `more` then tells whether keys were left out. */
  limit?: Int64;
  /** Order of the returned keys; keys come in ascending key order by default. */
  sort?: { target: SortTarget; order?: SortOrder };
  /** Serve the read from the local member without a quorum round; may be stale. */
  serializable?: boolean;
  /** Return keys without values. */
  keysOnly?: boolean;
  /** Return only the number of keys in the range (in `count`), no key-values. */
  countOnly?: boolean;
  /** Only keys whose mod revision is at least this. */
  minModRevision?: Int64;
  /** Only keys whose mod revision is at most this. */
  maxModRevision?: Int64;
  /** Only keys whose create revision is at least this. */
  minCreateRevision?: Int64;
  /** Only keys whose create revision is at most this. */
  maxCreateRevision?: Int64;
  /**
   * Shorthand for Go's WithFirstKey/WithFirstCreate/WithFirstRev: the key under the prefix
   * with the smallest key, create revision or mod revision (prefix, sort ascending, limit 1).
   */
  first?: 'key' | 'createRevision' | 'modRevision';
  /** Like `first`, for the largest (WithLastKey/WithLastCreate/WithLastRev). */
  last?: 'key' | 'createRevision' | 'modRevision';
}

/** Options of `put` and `op.put`. */
export interface PutOptions {
  /** Attach the key to this lease: it is deleted when the lease ends. 0 detaches. */
  lease?: Int64;
  /** Return the key-value as it was before this put, in `prevKv`. */
  prevKv?: boolean;
  /** Keep the current value and change only the lease (the key must exist; pass `undefined` or `''` as the value). */
  ignoreValue?: boolean;
  /** Keep the current lease and change only the value (the key must exist; pass no lease). */
  ignoreLease?: boolean;
}

/** Options of `delete` and `op.delete`. */
export interface DeleteOptions extends RangeOptions {
  /** Return the deleted key-values in `prevKvs`. */
  prevKv?: boolean;
}

/** A read of a key or range, as a value that `kv.do` runs or a txn carries. */
export interface GetOp {
  /** Which operation this is. */
  readonly type: 'get';
  /** The etcd request it sends, built and checked when the op was made. */
  readonly request: RangeRequest;
}
/** A write of one key, as a value. */
export interface PutOp {
  /** Which operation this is. */
  readonly type: 'put';
  /** The etcd request it sends, built and checked when the op was made. */
  readonly request: PutRequest;
}
/** A delete of a key or range, as a value. */
export interface DeleteOp {
  /** Which operation this is. */
  readonly type: 'delete';
  /** The etcd request it sends, built and checked when the op was made. */
  readonly request: DeleteRangeRequest;
}
/** A nested transaction, as a value (etcd 3.3+). */
export interface TxnOp {
  /** Which operation this is. */
  readonly type: 'txn';
  /** The etcd request it sends, built and checked when the op was made. */
  readonly request: TxnRequest;
}
/** Any operation: what `kv.do()` executes and `txn().then()/.else()` accept. */
export type Op = GetOp | PutOp | DeleteOp | TxnOp;

const sortTargets: Record<SortTarget, RangeRequest_SortTarget> = {
  key: RangeRequest_SortTarget.KEY,
  version: RangeRequest_SortTarget.VERSION,
  createRevision: RangeRequest_SortTarget.CREATE,
  modRevision: RangeRequest_SortTarget.MOD,
  value: RangeRequest_SortTarget.VALUE,
};
const sortOrders: Record<SortOrder, RangeRequest_SortOrder> = {
  none: RangeRequest_SortOrder.NONE,
  ascend: RangeRequest_SortOrder.ASCEND,
  descend: RangeRequest_SortOrder.DESCEND,
};


/**
 * The [key, rangeEnd) pair for a key and range options, by etcd's rules: prefix → prefixEnd(key);
 * fromKey → "\x00"; an empty key with prefix or fromKey becomes "\x00" (the whole keyspace).
 * @internal
 */
export function encodeRange(what: string, rawKey: Bytes, options: RangeOptions): { key: Uint8Array; rangeEnd: Uint8Array } {
  const key = toBytes(rawKey, `${what} key`);
  const { prefix = false, fromKey = false, end } = options;
  if ([prefix, fromKey, end !== undefined].filter(Boolean).length > 1) {
    throw new InvalidArgumentError(`${what}: use only one of prefix, fromKey and end`);
  }
  if (prefix) {
    return key.length === 0 ? { key: zeroKey, rangeEnd: zeroKey } : { key, rangeEnd: prefixEnd(key) };
  }
  if (fromKey) return { key: key.length === 0 ? zeroKey : key, rangeEnd: zeroKey };
  if (key.length === 0) {
    throw new EmptyKeyError(`${what}: the key is empty (use prefix: true with an empty key for every key)`);
  }
  return { key, rangeEnd: end === undefined ? empty : toBytes(end, `${what} end`) };
}

const empty = new Uint8Array(0);

function optionalInt64(value: Int64 | undefined, what: string): bigint {
  return value === undefined ? 0n : toInt64(value, what);
}

// etcd reads a negative revision as "the newest" and a negative limit as "no limit": a sign
// bug in the caller would go unnoticed, so it is refused.
function optionalCount(value: Int64 | undefined, what: string): bigint {
  const n = optionalInt64(value, what);
  if (n < 0n) throw new InvalidArgumentError(`${what} must not be negative, got ${n}`);
  return n;
}

const shorthandSort = {
  key: RangeRequest_SortTarget.KEY,
  createRevision: RangeRequest_SortTarget.CREATE,
  modRevision: RangeRequest_SortTarget.MOD,
} as const;

/** Builds the RangeRequest for `get(key, options)`. @internal */
export function rangeRequest(key: Bytes, options: GetOptions = {}): RangeRequest {
  let { prefix, limit, sort } = options;
  if (options.first !== undefined || options.last !== undefined) {
    if (options.first !== undefined && options.last !== undefined) throw new InvalidArgumentError('get: use only one of first and last');
    if (options.sort !== undefined || options.limit !== undefined) throw new InvalidArgumentError('get: first/last set sort and limit themselves');
    const by = (options.first ?? options.last) as keyof typeof shorthandSort;
    if (!(by in shorthandSort)) throw new InvalidArgumentError(`get: first/last must be 'key', 'createRevision' or 'modRevision', got ${String(by)}`);
    if (options.end === undefined && !options.fromKey) prefix = true;
    limit = 1;
    sort = { target: by, order: options.first !== undefined ? 'ascend' : 'descend' };
  }
  const range = encodeRange('get', key, { prefix, end: options.end, fromKey: options.fromKey });
  let sortTarget = RangeRequest_SortTarget.KEY;
  let sortOrder = RangeRequest_SortOrder.NONE;
  if (sort !== undefined) {
    const target = sortTargets[sort.target];
    const order = sortOrders[sort.order ?? 'ascend'];
    if (target === undefined) throw new InvalidArgumentError(`get: unknown sort target ${String(sort.target)}`);
    if (order === undefined) throw new InvalidArgumentError(`get: unknown sort order ${String(sort.order)}`);
    sortTarget = target;
    // Keys already come in ascending key order; Go sends (KEY, ASCEND) as NONE as well.
    sortOrder = target === RangeRequest_SortTarget.KEY && order === RangeRequest_SortOrder.ASCEND ? RangeRequest_SortOrder.NONE : order;
  }
  return {
    key: range.key,
    rangeEnd: range.rangeEnd,
    limit: optionalCount(limit, 'get limit'),
    revision: optionalCount(options.revision, 'get revision'),
    sortOrder,
    sortTarget,
    serializable: options.serializable ?? false,
    keysOnly: options.keysOnly ?? false,
    countOnly: options.countOnly ?? false,
    minModRevision: optionalCount(options.minModRevision, 'get minModRevision'),
    maxModRevision: optionalCount(options.maxModRevision, 'get maxModRevision'),
    minCreateRevision: optionalCount(options.minCreateRevision, 'get minCreateRevision'),
    maxCreateRevision: optionalCount(options.maxCreateRevision, 'get maxCreateRevision'),
  };
}

/** Builds the PutRequest for `put(key, value, options)`. @internal */
export function putRequest(key: Bytes, value: Bytes | undefined, options: PutOptions = {}): PutRequest {
  const k = toBytes(key, 'put key');
  if (k.length === 0) throw new EmptyKeyError('put: the key is empty');
  const ignoreValue = options.ignoreValue ?? false;
  // A missing value is a bug in the caller (a field that was never set); writing it as an
  // empty value would lose data silently. Only ignoreValue means "no value".
  if (value == null && !ignoreValue) {
    throw new InvalidArgumentError("put: no value given (pass '' or an empty buffer to write an empty value)");
  }
  return {
    key: k,
    value: value == null ? empty : toBytes(value, 'put value'),
    lease: optionalInt64(options.lease, 'put lease'),
    prevKv: options.prevKv ?? false,
    ignoreValue,
    ignoreLease: options.ignoreLease ?? false,
  };
}

/** Builds the DeleteRangeRequest for `delete(key, options)`. @internal */
export function deleteRequest(key: Bytes, options: DeleteOptions = {}): DeleteRangeRequest {
  const range = encodeRange('delete', key, options);
  return { key: range.key, rangeEnd: range.rangeEnd, prevKv: options.prevKv ?? false };
}

/** Wraps an op as the RequestOp a TxnRequest carries. @internal */
export function requestOp(op: Op): RequestOp {
  switch (op.type) {
    case 'get':
      return { request: { $case: 'requestRange', value: op.request } };
    case 'put':
      return { request: { $case: 'requestPut', value: op.request } };
    case 'delete':
      return { request: { $case: 'requestDeleteRange', value: op.request } };
    case 'txn':
      return { request: { $case: 'requestTxn', value: op.request } };
    default:
      throw new InvalidArgumentError(`not an operation: ${JSON.stringify(op)}`);
  }
}

/** Operation builders: each validates and encodes once, and the value can be run or put in a txn. */
export const op = {
  /** A read of `key` (or a range) as a value. */
  get(key: Bytes, options?: GetOptions): GetOp {
    return { type: 'get', request: rangeRequest(key, options) };
  },
  /** A write of `key` as a value. */
  put(key: Bytes, value: Bytes, options?: PutOptions): PutOp {
    return { type: 'put', request: putRequest(key, value, options) };
  },
  /** A delete of `key` (or a range) as a value. */
  delete(key: Bytes, options?: DeleteOptions): DeleteOp {
    return { type: 'delete', request: deleteRequest(key, options) };
  },
  /** A nested transaction: if every compare holds, run `then`, else `otherwise`. */
  txn(compares: readonly Compare[], then: readonly Op[], otherwise: readonly Op[] = []): TxnOp {
    return { type: 'txn', request: { compare: [...compares], success: then.map(requestOp), failure: otherwise.map(requestOp) } };
  },
};
