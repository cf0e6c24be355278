import { BinaryReader } from '@bufbuild/protobuf/wire';
import { ChunkedMessage } from './transport/framing.js';
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

function range(reader: BinaryReader, end: number, into?: RangeResponse): RangeResponse {
  const m: RangeResponse = into ?? { header: undefined, kvs: [], more: false, count: 0n };
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

function put(reader: BinaryReader, end: number, into?: PutResponse): PutResponse {
  const m: PutResponse = into ?? { header: undefined, prevKv: undefined };
  while (reader.pos < end) {
    const tag = reader.uint32();
    if (tag === 10) m.header = header(reader, reader.uint32());
    else if (tag === 18) m.prevKv = keyValue(reader, reader.uint32());
    else skip(reader, tag);
  }
  return m;
}

function deleteRange(reader: BinaryReader, end: number, into?: DeleteRangeResponse): DeleteRangeResponse {
  const m: DeleteRangeResponse = into ?? { header: undefined, deleted: 0n, prevKvs: [] };
  while (reader.pos < end) {
    const tag = reader.uint32();
    if (tag === 10) m.header = header(reader, reader.uint32());
    else if (tag === 16) m.deleted = reader.int64() as bigint;
    else if (tag === 26) m.prevKvs.push(keyValue(reader, reader.uint32()));
    else skip(reader, tag);
  }
  return m;
}

function txn(reader: BinaryReader, end: number, depth: number, into?: TxnResponse): TxnResponse {
  if (depth >= maxDepth) throw new Error('protobuf decode recursion limit exceeded');
  const m: TxnResponse = into ?? { header: undefined, succeeded: false, responses: [] };
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

function watch(reader: BinaryReader, end: number, into?: WatchResponse): WatchResponse {
  const m: WatchResponse = into ?? {
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

type TopDecoder<M> = (reader: BinaryReader, end: number, into: M | undefined) => M;

/**
 * A top-level decoder: the whole input is one message, in one buffer or, from our transport,
 * as a `ChunkedMessage` (see `chunked`).
 */
function top<M>(decode: TopDecoder<M>): (input: Uint8Array | ChunkedMessage) => M {
  return (input) => {
    if (input instanceof ChunkedMessage) return chunked(input, decode);
    const reader = new BinaryReader(input);
    return decode(reader, reader.len, undefined);
  };
}

/**
 * Decodes a message that lies in several chunks without assembling it: the top-level fields
 * are walked across the chunks, each run of whole fields inside one chunk is decoded in place
 * (keys and values stay views of the chunk), and only a field that straddles two chunks is
 * copied (about one key-value per 16 KB DATA frame). Protobuf defines a message's encoding as
 * the concatenation of its fields, and the decoders fill one object run after run, so the
 * result is the one of the whole message. A top-level field of a wire type these messages do
 * not use (groups), or a message cut short, falls back to decoding one assembled copy, which
 * fails as the contiguous decode does.
 */
function chunked<M>(message: ChunkedMessage, decode: TopDecoder<M>): M {
  const { chunks, length } = message;
  let m: M | undefined;
  // The run of whole fields being collected: in chunk `ri` (which starts at offset `rBase` of
  // the message), from message offset `rStart`.
  let ri = 0;
  let rBase = 0;
  let rStart = 0;
  // The scanning cursor: chunk `si`, which starts at message offset `sBase`.
  let si = 0;
  let sBase = 0;
  let chunk = chunks[0];
  const byteAt = (at: number): number => {
    while (at - sBase >= chunk.length) {
      sBase += chunk.length;
      chunk = chunks[++si];
    }
    return chunk[at - sBase];
  };
  // Reads a varint at `at`: its value (exact up to 2^53), with the offset after it in `next`
  // (Infinity when the message ends inside it).
  let next = 0;
  const varint = (at: number): number => {
    let local = at - sBase;
    if (local + 10 <= chunk.length) {
      // The whole varint (10 bytes at most) lies in the scanning chunk: read it in place.
      let byte = chunk[local++];
      let value = byte & 0x7f;
      let scale = 128;
      while (byte >= 0x80 && local - (at - sBase) < 10) {
        byte = chunk[local++];
        value += (byte & 0x7f) * scale;
        scale *= 128;
      }
      next = byte >= 0x80 ? Infinity : at + local - (at - sBase);
      return value;
    }
    let value = 0;
    let scale = 1;
    for (let i = 0; i < 10 && at < length; i++) {
      const byte = byteAt(at++);
      value += (byte & 0x7f) * scale;
      scale *= 128;
      if (byte < 0x80) {
        next = at;
        return value;
      }
    }
    next = Infinity;
    return 0;
  };
  const run = (chunk: number, from: number, to: number): void => {
    const bytes = chunks[chunk];
    const reader = new BinaryReader(bytes);
    reader.pos = from;
    m = decode(reader, to, m);
  };
  let at = 0;
  while (at < length) {
    const fieldStart = at;
    const tag = varint(at);
    switch (tag & 7) {
      case 0:
        varint(next);
        at = next;
        break;
      case 1:
        at = next + 8;
        break;
      case 2: {
        const size = varint(next);
        at = next + size;
        break;
      }
      case 5:
        at = next + 4;
        break;
      default:
        at = Infinity;
    }
    if (at > length) return fallback(message, decode);
    if (at <= rBase + chunks[ri].length) continue;
    // The field ends past the run's chunk: decode the run, then place the field.
    if (fieldStart > rStart) run(ri, rStart - rBase, fieldStart - rBase);
    while (fieldStart >= rBase + chunks[ri].length) rBase += chunks[ri++].length;
    if (at <= rBase + chunks[ri].length) {
      rStart = fieldStart;
      continue;
    }
    const copy = Buffer.allocUnsafe(at - fieldStart);
    let filled = 0;
    while (filled < copy.length) {
      const chunk = chunks[ri];
      const from = fieldStart + filled - rBase;
      const take = Math.min(chunk.length - from, copy.length - filled);
      chunk.copy(copy, filled, from, from + take);
      filled += take;
      if (filled < copy.length) rBase += chunks[ri++].length;
    }
    const reader = new BinaryReader(copy);
    m = decode(reader, copy.length, m);
    rStart = at;
    if (at === rBase + chunks[ri].length && ri + 1 < chunks.length) rBase += chunks[ri++].length;
  }
  if (rStart < length) run(ri, rStart - rBase, length - rBase);
  return m ?? decode(new BinaryReader(Buffer.alloc(0)), 0, undefined);
}

function fallback<M>(message: ChunkedMessage, decode: TopDecoder<M>): M {
  const reader = new BinaryReader(message.concat());
  return decode(reader, reader.len, undefined);
}

/** The response decoders that replace ts-proto's, by service and method. @internal */
export const responseDecoders = {
  kv: {
    range: top(range),
    put: top(put),
    deleteRange: top(deleteRange),
    txn: top((reader, end, into: TxnResponse | undefined) => txn(reader, end, 0, into)),
  },
  watch: {
    watch: top(watch),
  },
};

/**
 * The gRPC paths whose response decoders (above) take a `ChunkedMessage`, so that our
 * transport hands their large responses on without assembling them. @internal
 */
export const chunkedResponsePaths: ReadonlySet<string> = new Set([
  '/etcdserverpb.KV/Range',
  '/etcdserverpb.KV/Put',
  '/etcdserverpb.KV/DeleteRange',
  '/etcdserverpb.KV/Txn',
  '/etcdserverpb.Watch/Watch',
]);
