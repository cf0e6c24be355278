import type * as pb from './proto.js';
import type { Compare_CompareResult, Compare_CompareTarget, RangeRequest_SortOrder, RangeRequest_SortTarget } from './proto.js';

// The etcd messages that public values carry: an op's `request` and a compare `Condition`.
// They are declared here, not re-exported from generated/, because each generated message is
// also a codec object of the same name (`const RangeRequest: MessageFns<...>`) whose types
// users cannot name; these declarations are the messages alone. The checks at the end keep
// them identical to the generated ones, so regenerating with a changed proto fails to compile.

/** etcd's RangeRequest as `op.get` builds it. */
export interface RangeRequest {
  /** First key of the range, or the only key when `rangeEnd` is empty. */
  key: Uint8Array;
  /** End of the range, exclusive: empty for one key, `prefixEnd(key)` for a prefix, `"\x00"` for every key from `key` on. */
  rangeEnd: Uint8Array;
  /** Most keys returned; `0n` means no limit. */
  limit: bigint;
  /** Revision to read at; `0n` means the newest. */
  revision: bigint;
  /** Order of the results (NONE, ASCEND, DESCEND). */
  sortOrder: RangeRequest_SortOrder;
  /** What the results are sorted by (KEY, VERSION, CREATE, MOD, VALUE). */
  sortTarget: RangeRequest_SortTarget;
  /** Served by the member asked, from its local state, without a quorum read: faster, possibly stale. */
  serializable: boolean;
  /** Return keys without values. */
  keysOnly: boolean;
  /** Return only the count of keys in the range. */
  countOnly: boolean;
  /** Leave out keys modified before this revision; `0n` means no bound. */
  minModRevision: bigint;
  /** Leave out keys modified after this revision; `0n` means no bound. */
  maxModRevision: bigint;
  /** Leave out keys created before this revision; `0n` means no bound. */
  minCreateRevision: bigint;
  /** Leave out keys created after this revision; `0n` means no bound. */
  maxCreateRevision: bigint;
}

/** etcd's PutRequest as `op.put` builds it. */
export interface PutRequest {
  /** The key written. */
  key: Uint8Array;
  /** The value written. */
  value: Uint8Array;
  /** Lease to attach the key to; `0n` means none. */
  lease: bigint;
  /** Return the key-value pair as it was before this put. */
  prevKv: boolean;
  /** Keep the current value (the key must exist); only the lease changes. */
  ignoreValue: boolean;
  /** Keep the current lease (the key must exist); only the value changes. */
  ignoreLease: boolean;
}

/** etcd's DeleteRangeRequest as `op.delete` builds it. */
export interface DeleteRangeRequest {
  /** First key of the range, or the only key when `rangeEnd` is empty. */
  key: Uint8Array;
  /** End of the range, exclusive, as in RangeRequest. */
  rangeEnd: Uint8Array;
  /** Return the deleted key-value pairs. */
  prevKv: boolean;
}

/** One operation of a transaction branch, as etcd's TxnRequest carries it. */
export interface RequestOp {
  /** The operation, tagged by its kind; `undefined` only in a malformed message. */
  request:
    | { $case: 'requestRange'; value: RangeRequest }
    | { $case: 'requestPut'; value: PutRequest }
    | { $case: 'requestDeleteRange'; value: DeleteRangeRequest }
    | { $case: 'requestTxn'; value: TxnRequest }
    | undefined;
}

/** etcd's Compare as the `compare.*` builders make it. */
export interface Compare {
  /** How the target is compared with the given value (EQUAL, GREATER, LESS, NOT_EQUAL). */
  result: Compare_CompareResult;
  /** Which property of the key is compared (VERSION, CREATE, MOD, VALUE, LEASE). */
  target: Compare_CompareTarget;
  /** The key compared (the first key, when `rangeEnd` is set). */
  key: Uint8Array;
  /** The value compared with, tagged by target: revisions, versions and lease ids as bigint, values as bytes. */
  targetUnion:
    | { $case: 'version'; value: bigint }
    | { $case: 'createRevision'; value: bigint }
    | { $case: 'modRevision'; value: bigint }
    | { $case: 'value'; value: Uint8Array }
    | { $case: 'lease'; value: bigint }
    | undefined;
  /** When set, every key in `[key, rangeEnd)` must satisfy the comparison. */
  rangeEnd: Uint8Array;
}

/** etcd's TxnRequest as `op.txn` and `txn()` build it. */
export interface TxnRequest {
  /** Conditions that must all hold for `success` to run. */
  compare: Compare[];
  /** Operations run when every compare holds. */
  success: RequestOp[];
  /** Operations run otherwise. */
  failure: RequestOp[];
}

// Compile-time proof that each declaration and its generated message are the same type.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const identical: [
  Same<RangeRequest, pb.RangeRequest>,
  Same<PutRequest, pb.PutRequest>,
  Same<DeleteRangeRequest, pb.DeleteRangeRequest>,
  Same<RequestOp, pb.RequestOp>,
  Same<Compare, pb.Compare>,
  Same<TxnRequest, pb.TxnRequest>,
] = [true, true, true, true, true, true];
void identical;
