import type * as pb from './proto.js';
import type { Compare_CompareResult, Compare_CompareTarget, RangeRequest_SortOrder, RangeRequest_SortTarget } from './proto.js';

// The etcd messages that public values carry: an op's `request` and a compare `Condition`.
// They are declared here, not re-exported from generated/, because each generated message is
// also a codec object of the same name (`const RangeRequest: MessageFns<...>`) whose types
// users cannot name; these declarations are the messages alone. The checks at the end keep
// them identical to the generated ones, so regenerating with a changed proto fails to compile.

/** etcd's RangeRequest as `op.get` builds it. */
export interface RangeRequest {
  key: Uint8Array;
  rangeEnd: Uint8Array;
  limit: bigint;
  revision: bigint;
  sortOrder: RangeRequest_SortOrder;
  sortTarget: RangeRequest_SortTarget;
  serializable: boolean;
  keysOnly: boolean;
  countOnly: boolean;
  minModRevision: bigint;
  maxModRevision: bigint;
  minCreateRevision: bigint;
  maxCreateRevision: bigint;
}

/** etcd's PutRequest as `op.put` builds it. */
export interface PutRequest {
  key: Uint8Array;
  value: Uint8Array;
  lease: bigint;
  prevKv: boolean;
  ignoreValue: boolean;
  ignoreLease: boolean;
}

/** etcd's DeleteRangeRequest as `op.delete` builds it. */
export interface DeleteRangeRequest {
  key: Uint8Array;
  rangeEnd: Uint8Array;
  prevKv: boolean;
}

/** One operation of a transaction branch, as etcd's TxnRequest carries it. */
export interface RequestOp {
  request:
    | { $case: 'requestRange'; value: RangeRequest }
    | { $case: 'requestPut'; value: PutRequest }
    | { $case: 'requestDeleteRange'; value: DeleteRangeRequest }
    | { $case: 'requestTxn'; value: TxnRequest }
    | undefined;
}

/** etcd's Compare as the `compare.*` builders make it. */
export interface Compare {
  result: Compare_CompareResult;
  target: Compare_CompareTarget;
  key: Uint8Array;
  targetUnion:
    | { $case: 'version'; value: bigint }
    | { $case: 'createRevision'; value: bigint }
    | { $case: 'modRevision'; value: bigint }
    | { $case: 'value'; value: Uint8Array }
    | { $case: 'lease'; value: bigint }
    | undefined;
  rangeEnd: Uint8Array;
}

/** etcd's TxnRequest as `op.txn` and `txn()` build it. */
export interface TxnRequest {
  compare: Compare[];
  success: RequestOp[];
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
