import type * as pb from './proto.js';
import { type Bytes, type Int64, toBuffer, toInt64 } from './encoding.js';
import { type DeleteOptions, type GetOptions, type Op, type PutOptions, op } from './op.js';
import { Txn } from './txn.js';
import type { CallOptions } from './call-options.js';
import type {
  CompactOptions,
  CompactResponse,
  DeleteResponse,
  GetResponse,
  KeyValue,
  OpResponse,
  PutResponse,
  ResponseHeader,
  ResponseOf,
  TxnResponse,
} from './kv-types.js';

// The result types live in kv-types.ts (txn.ts needs them without importing this module); they
// are re-exported here so that every other module takes everything KV from one place.
export type * from './kv-types.js';

/**
 * Everything that reads and writes keys: the client itself and its namespaced views.
 * `do` runs one operation; the other calls are shorthands built on it.
 */
export interface KV {
  /** Reads a key, or a range with `prefix`, `end` or `fromKey`. */
  get(key: Bytes, options?: GetOptions & CallOptions): Promise<GetResponse>;
  /** Writes a key. */
  put(key: Bytes, value: Bytes, options?: PutOptions & CallOptions): Promise<PutResponse>;
  /** Deletes a key, or a range with `prefix`, `end` or `fromKey`. */
  delete(key: Bytes, options?: DeleteOptions & CallOptions): Promise<DeleteResponse>;
  /** Starts a transaction: `txn().if(...).then(...).else(...).commit()`. */
  txn(): Txn;
  /** Runs an operation built with `op.get/put/delete/txn`. */
  do<T extends Op>(operation: T, options?: CallOptions): Promise<ResponseOf<T>>;
  /** Discards the history before `revision`: older revisions can no longer be read or watched. */
  compact(revision: Int64, options?: CompactOptions): Promise<CompactResponse>;
}

/**
 * The shorthands every KV shares (`get`, `put`, `delete`, `txn`), each built as an op and run
 * through `do`. `Client` and `NamespacedKV` extend it; so can a KV of your own (a wrapper, a
 * fake for tests): implement `do` and `compact`, and the rest follows.
 */
export abstract class KVBase implements KV {
  /** Runs an operation built with `op.get/put/delete/txn`. */
  abstract do<T extends Op>(operation: T, options?: CallOptions): Promise<ResponseOf<T>>;
  /** Discards the history before `revision`: older revisions can no longer be read or watched. */
  abstract compact(revision: Int64, options?: CompactOptions): Promise<CompactResponse>;

  /** Reads a key, or a range with `prefix`, `end` or `fromKey`. */
  async get(key: Bytes, options: GetOptions & CallOptions = {}): Promise<GetResponse> {
    return this.do(op.get(key, options), options);
  }

  /** Writes a key. */
  async put(key: Bytes, value: Bytes, options: PutOptions & CallOptions = {}): Promise<PutResponse> {
    return this.do(op.put(key, value, options), options);
  }

  /** Deletes a key, or a range with `prefix`, `end` or `fromKey`. */
  async delete(key: Bytes, options: DeleteOptions & CallOptions = {}): Promise<DeleteResponse> {
    return this.do(op.delete(key, options), options);
  }

  /** Starts a transaction: `txn().if(...).then(...).else(...).commit()`. */
  txn(): Txn {
    return new Txn(this);
  }
}

// ---- Decoding: generated messages become the public types here, and only here. ----

const emptyHeader: ResponseHeader = { clusterId: 0n, memberId: 0n, revision: 0n, raftTerm: 0n };

/** @internal */
export function decodeHeader(header: pb.ResponseHeader | undefined): ResponseHeader {
  return header ?? emptyHeader;
}

/** Turns key and value into Buffer views in place (no copy, no new object). @internal */
export function decodeKv(kv: pb.KeyValue): KeyValue {
  const out = kv as unknown as KeyValue;
  out.key = toBuffer(kv.key);
  out.value = toBuffer(kv.value);
  return out;
}

function decodeKvs(kvs: pb.KeyValue[]): KeyValue[] {
  for (let i = 0; i < kvs.length; i++) decodeKv(kvs[i]);
  return kvs as unknown as KeyValue[];
}

/** @internal */
export function decodeRange(r: pb.RangeResponse): { type: 'get' } & GetResponse {
  return { type: 'get', header: decodeHeader(r.header), kvs: decodeKvs(r.kvs), more: r.more, count: r.count };
}

/** @internal */
export function decodePut(r: pb.PutResponse): { type: 'put' } & PutResponse {
  return { type: 'put', header: decodeHeader(r.header), prevKv: r.prevKv ? decodeKv(r.prevKv) : undefined };
}

/** @internal */
export function decodeDelete(r: pb.DeleteRangeResponse): { type: 'delete' } & DeleteResponse {
  return { type: 'delete', header: decodeHeader(r.header), deleted: r.deleted, prevKvs: decodeKvs(r.prevKvs) };
}

/** @internal */
export function decodeTxn(r: pb.TxnResponse): { type: 'txn' } & TxnResponse {
  return { type: 'txn', header: decodeHeader(r.header), succeeded: r.succeeded, responses: r.responses.map(decodeResponseOp) };
}

function decodeResponseOp(r: pb.ResponseOp): OpResponse {
  const response = r.response;
  switch (response?.$case) {
    case 'responseRange':
      return decodeRange(response.value);
    case 'responsePut':
      return decodePut(response.value);
    case 'responseDeleteRange':
      return decodeDelete(response.value);
    case 'responseTxn':
      return decodeTxn(response.value);
    default:
      throw new TypeError(`etcd sent a txn response without an operation result: ${JSON.stringify(r)}`);
  }
}

/** Converts a compaction revision input. @internal */
export function compactRequest(revision: Int64, options: CompactOptions): pb.CompactionRequest {
  return { revision: toInt64(revision, 'compact revision'), physical: options.physical ?? false };
}
