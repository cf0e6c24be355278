import type { CallOptions } from './call-options.js';
import type { Op } from './op.js';

// The KV result types, in a module of their own so that txn.ts can name them without importing
// kv.ts (which imports txn.ts for `KV.txn()`): no import cycle between the two.

/** The header etcd puts on every response. */
export interface ResponseHeader {
  /** The id of the cluster that answered. */
  clusterId: bigint;
  /** The id of the member that answered. */
  memberId: bigint;
  /** The store's revision when the request was applied. */
  revision: bigint;
  /** The raft term of the member when it answered. */
  raftTerm: bigint;
}

/** A key-value as etcd stores it; key and value are Buffers (zero-copy views of the response). */
export interface KeyValue {
  /** The key. */
  key: Buffer;
  /** The value (empty with `keysOnly`). */
  value: Buffer;
  /** The revision at which the key was created. */
  createRevision: bigint;
  /** The revision of the key's last write. */
  modRevision: bigint;
  /** The number of writes since the key was created (1 after the first put). */
  version: bigint;
  /** The id of the attached lease, 0 when none. */
  lease: bigint;
}

/** The result of `get`. */
export interface GetResponse {
  /** The cluster, member and revision that answered. */
  header: ResponseHeader;
  /** The matching key-values (empty with `countOnly`). */
  kvs: KeyValue[];
  /** True when `limit` left keys out. */
  more: boolean;
  /** The number of keys in the range, whatever the limit. */
  count: bigint;
}

/** The result of `put`. */
export interface PutResponse {
  /** The cluster, member and revision that answered. */
  header: ResponseHeader;
  /** The key-value before the put, with `prevKv: true` and when the key existed. */
  prevKv: KeyValue | undefined;
}

/** The result of `delete`. */
export interface DeleteResponse {
  /** The cluster, member and revision that answered. */
  header: ResponseHeader;
  /** How many keys were deleted. */
  deleted: bigint;
  /** The deleted key-values, with `prevKv: true`. */
  prevKvs: KeyValue[];
}

/** The result of a transaction. */
export interface TxnResponse {
  /** The cluster, member and revision that answered. */
  header: ResponseHeader;
  /** True when every compare held and the `then` branch ran. */
  succeeded: boolean;
  /** One result per operation of the branch that ran, in order. */
  responses: OpResponse[];
}

/** The result of `compact`. */
export interface CompactResponse {
  /** The cluster, member and revision that answered. */
  header: ResponseHeader;
}

/** The result of one operation, tagged with the operation's type. */
export type OpResponse =
  | ({ type: 'get' } & GetResponse)
  | ({ type: 'put' } & PutResponse)
  | ({ type: 'delete' } & DeleteResponse)
  | ({ type: 'txn' } & TxnResponse);

/** The result type of running an op of type T. */
export type ResponseOf<T extends Op> = Extract<OpResponse, { type: T['type'] }>;

/** Options of `compact`. */
export interface CompactOptions extends CallOptions {
  /** Wait until the compaction is physically applied to the backend. */
  physical?: boolean;
}
