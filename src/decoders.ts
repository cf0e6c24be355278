import { BinaryReader } from '@bufbuild/protobuf/wire';
import type { DeleteRangeResponse, Event, KeyValue, PutResponse, RangeResponse, ResponseHeader, ResponseOp, TxnResponse, WatchResponse } from './proto.js';

// Decoders of the responses on the hot paths (KV and Watch), giving exactly what ts-proto's
// generated `decode` gives (test/unit/decoders.test.ts checks field by field against it) at a
// third of the cost on a 10,000-key range: ts-proto makes two empty Uint8Arrays for every
// KeyValue before reading it, and tags the reader with a recursion counter inside a try/finally
// for every nested message. Here absent bytes fields share one empty Buffer (it has no bytes to
// change), and nesting is bounded by the messages themselves except for a txn's nested txns,
// which are counted. Keys and values stay views of the received message, as with ts-proto.

const empty = Buffer.alloc(0);
/** ts-proto's own bound on nested messages, for a txn nested in a txn nested in ... */
const maxDepth = 100;

/** Skips a field of another number or wire type, as the generated code does. */
function skip(reader: BinaryReader, tag: number): void {
  reader.skip(tag & 7, tag >>> 3);
}

function header(reader: BinaryReader, length: number): ResponseHeader {
  const end = reader.pos + length;
  const m: ResponseHeader = { clusterId: 0n, memberId: 0n, revision: 0n, raftTerm: 0n };
  while (reader.pos < end) {
    const tag = reader.uint32();
    if (tag === 8) m.clusterId = reader.uint64() as bigint;
    else if (tag === 16) m.memberId = reader.uint64() as bigint;
    else if (tag === 24) m.revision = reader.int64() as bigint;
    else if (tag === 32) m.raftTerm = reader.uint64() as bigint;
    else skip(reader, tag);
  }
  return m;
}

function keyValue(reader: BinaryReader, length: number): KeyValue {
  const end = reader.pos + length;
  const m: KeyValue = { key: empty, createRevision: 0n, modRevision: 0n, version: 0n, value: empty, lease: 0n };
  while (reader.pos < end) {
    const tag = reader.uint32();
    switch (tag) {
      case 10:
        m.key = reader.bytes();
        break;
      case 16:
        m.createRevision = reader.int64() as bigint;
        break;
      case 24:
        m.modRevision = reader.int64() as bigint;
        break;
      case 32:
        m.version = reader.int64() as bigint;
        break;
      case 42:
        m.value = reader.bytes();
        break;
      case 48:
        m.lease = reader.int64() as bigint;
        break;
      default:
        skip(reader, tag);
    }
  }
  return m;
}

function range(reader: BinaryReader, end: number): RangeResponse {
  const m: RangeResponse = { header: undefined, kvs: [], more: false, count: 0n };
  while (reader.pos < end) {
    const tag = reader.uint32();
    if (tag === 18) m.kvs.push(keyValue(reader, reader.uint32()));
    else if (tag === 10) m.header = header(reader, reader.uint32());
    else if (tag === 24) m.more = reader.bool();
    else if (tag === 32) m.count = reader.int64() as bigint;
    else skip(reader, tag);
  }
  return m;
}

function put(reader: BinaryReader, end: number): PutResponse {
  const m: PutResponse = { header: undefined, prevKv: undefined };
  while (reader.pos < end) {
    const tag = reader.uint32();
    if (tag === 10) m.header = header(reader, reader.uint32());
    else if (tag === 18) m.prevKv = keyValue(reader, reader.uint32());
    else skip(reader, tag);
  }
  return m;
}

function deleteRange(reader: BinaryReader, end: number): DeleteRangeResponse {
  const m: DeleteRangeResponse = { header: undefined, deleted: 0n, prevKvs: [] };
  while (reader.pos < end) {
    const tag = reader.uint32();
    if (tag === 10) m.header = header(reader, reader.uint32());
    else if (tag === 16) m.deleted = reader.int64() as bigint;
    else if (tag === 26) m.prevKvs.push(keyValue(reader, reader.uint32()));
    else skip(reader, tag);
  }
  return m;
}

function txn(reader: BinaryReader, end: number, depth: number): TxnResponse {
  if (depth >= maxDepth) throw new Error('protobuf decode recursion limit exceeded');
  const m: TxnResponse = { header: undefined, succeeded: false, responses: [] };
  while (reader.pos < end) {
    const tag = reader.uint32();
    if (tag === 26) m.responses.push(responseOp(reader, reader.uint32() + reader.pos, depth + 1));
    else if (tag === 10) m.header = header(reader, reader.uint32());
    else if (tag === 16) m.succeeded = reader.bool();
    else skip(reader, tag);
  }
  return m;
}

function responseOp(reader: BinaryReader, end: number, depth: number): ResponseOp {
  const m: ResponseOp = { response: undefined };
  while (reader.pos < end) {
    const tag = reader.uint32();
    if (tag === 10) m.response = { $case: 'responseRange', value: range(reader, reader.uint32() + reader.pos) };
    else if (tag === 18) m.response = { $case: 'responsePut', value: put(reader, reader.uint32() + reader.pos) };
    else if (tag === 26) m.response = { $case: 'responseDeleteRange', value: deleteRange(reader, reader.uint32() + reader.pos) };
    else if (tag === 34) m.response = { $case: 'responseTxn', value: txn(reader, reader.uint32() + reader.pos, depth) };
    else skip(reader, tag);
  }
  return m;
}

function event(reader: BinaryReader, length: number): Event {
  const end = reader.pos + length;
  const m: Event = { type: 0, kv: undefined, prevKv: undefined };
  while (reader.pos < end) {
    const tag = reader.uint32();
    if (tag === 18) m.kv = keyValue(reader, reader.uint32());
    else if (tag === 8) m.type = reader.int32();
    else if (tag === 26) m.prevKv = keyValue(reader, reader.uint32());
    else skip(reader, tag);
  }
  return m;
}

function watch(reader: BinaryReader, end: number): WatchResponse {
  const m: WatchResponse = {
    header: undefined,
    watchId: 0n,
    created: false,
    canceled: false,
    compactRevision: 0n,
    cancelReason: '',
    fragment: false,
    events: [],
  };
  while (reader.pos < end) {
    const tag = reader.uint32();
    switch (tag) {
      case 10:
        m.header = header(reader, reader.uint32());
        break;
      case 16:
        m.watchId = reader.int64() as bigint;
        break;
      case 24:
        m.created = reader.bool();
        break;
      case 32:
        m.canceled = reader.bool();
        break;
      case 40:
        m.compactRevision = reader.int64() as bigint;
        break;
      case 50:
        m.cancelReason = reader.string();
        break;
      case 56:
        m.fragment = reader.bool();
        break;
      case 90:
        m.events.push(event(reader, reader.uint32()));
        break;
      default:
        skip(reader, tag);
    }
  }
  return m;
}

/** A top-level decoder: the whole input is one message. */
function top<M>(decode: (reader: BinaryReader, end: number) => M): (input: Uint8Array) => M {
  return (input) => {
    const reader = new BinaryReader(input);
    return decode(reader, reader.len);
  };
}

/** The response decoders that replace ts-proto's, by service and method. @internal */
export const responseDecoders = {
  kv: {
    range: top(range),
    put: top(put),
    deleteRange: top(deleteRange),
    txn: top((reader, end) => txn(reader, end, 0)),
  },
  watch: {
    watch: top(watch),
  },
};
