import { BinaryWriter } from '@bufbuild/protobuf/wire';
import { wireDefinitions } from '../../src/codec.js';
import { chunkedResponsePaths, responseDecoders } from '../../src/decoders.js';
import { ChunkedMessage } from '../../src/transport/framing.js';
import {
  DeleteRangeResponse,
  Event,
  Event_EventType,
  KeyValue,
  PutResponse,
  RangeResponse,
  ResponseHeader,
  TxnResponse,
  WatchResponse,
} from '../../src/proto.js';

// Our decoders must give what ts-proto's generated decode gives, field for field. Bytes are
// compared as hex: ts-proto's empty default is a Uint8Array, ours a shared empty Buffer.
function plain(value: unknown): unknown {
  if (value instanceof Uint8Array) return `bytes:${Buffer.from(value).toString('hex')}`;
  if (Array.isArray(value)) return value.map(plain);
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]));
  return value;
}

/** Fields no message here has, of every wire type: a newer etcd may send such fields. */
function withUnknownFields(message: Uint8Array): Buffer {
  const w = new BinaryWriter();
  w.raw(message);
  w.uint32((900 << 3) | 0).uint64(2n ** 63n + 5n);
  w.uint32((901 << 3) | 2).bytes(Buffer.from('from the future'));
  w.uint32((902 << 3) | 1).fixed64(7n);
  w.uint32((903 << 3) | 5).fixed32(9);
  return Buffer.from(w.finish());
}

const header: ResponseHeader = { clusterId: 2n ** 64n - 3n, memberId: 10276657743932975437n, revision: 45_000n, raftTerm: 7n };
const kv = (key: string, value: string, extra: Partial<KeyValue> = {}): KeyValue => ({
  key: Buffer.from(key),
  value: Buffer.from(value),
  createRevision: 3n,
  modRevision: 9_007_199_254_740_993n, // above 2^53: no detour through a number
  version: 2n,
  lease: 0n,
  ...extra,
});

const range: RangeResponse = { header, kvs: [kv('a', 'one', { lease: 7_587_869_349_181_234_567n }), kv('b', ''), kv('', 'ü')], more: true, count: 3n };
const put: PutResponse = { header, prevKv: kv('k', 'before') };
const deleted: DeleteRangeResponse = { header, deleted: 2n, prevKvs: [kv('x', '1'), kv('y', '2')] };
const txn: TxnResponse = {
  header,
  succeeded: true,
  responses: [
    { response: { $case: 'responseRange', value: range } },
    { response: { $case: 'responsePut', value: { header, prevKv: undefined } } },
    { response: { $case: 'responseDeleteRange', value: deleted } },
    { response: { $case: 'responseTxn', value: { header, succeeded: false, responses: [{ response: { $case: 'responsePut', value: put } }] } } },
  ],
};
const events: Event[] = [
  { type: Event_EventType.PUT, kv: kv('w', 'new'), prevKv: kv('w', 'old') },
  { type: Event_EventType.DELETE, kv: kv('w', ''), prevKv: undefined },
];
const watch: WatchResponse = {
  header,
  watchId: -1n, // etcd's "no such watch": ten bytes on the wire
  created: true,
  canceled: true,
  compactRevision: 12n,
  cancelReason: 'rpc error: code = Unavailable desc = ünïcode',
  fragment: true,
  events,
};

const cases = [
  ['RangeResponse', RangeResponse, responseDecoders.kv.range, [range, { header: undefined, kvs: [], more: false, count: 0n }]],
  ['PutResponse', PutResponse, responseDecoders.kv.put, [put, { header, prevKv: undefined }]],
  ['DeleteRangeResponse', DeleteRangeResponse, responseDecoders.kv.deleteRange, [deleted]],
  ['TxnResponse', TxnResponse, responseDecoders.kv.txn, [txn, { header, succeeded: false, responses: [] }]],
  ['WatchResponse', WatchResponse, responseDecoders.watch.watch, [watch, { ...watch, watchId: 5n, created: false, canceled: false, events: [] }]],
] as const;

describe('the response decoders', () => {
  for (const [name, generated, decode, messages] of cases) {
    it(`decode a ${name} as ts-proto does`, () => {
      for (const message of messages as readonly unknown[]) {
        const bytes = Buffer.from((generated.encode as (m: unknown) => BinaryWriter)(message).finish());
        expect(plain(decode(bytes))).toEqual(plain(generated.decode(bytes)));
        expect(plain(decode(bytes))).toEqual(plain(message));
      }
    });

    it(`skip fields a ${name} does not know, as ts-proto does`, () => {
      const bytes = withUnknownFields((generated.encode as (m: unknown) => BinaryWriter)(messages[0]).finish());
      expect(plain(decode(bytes))).toEqual(plain(generated.decode(bytes)));
    });
  }

  it('skip unknown fields inside nested key-values and headers', () => {
    const w = new BinaryWriter();
    w.uint32(10).bytes(withUnknownFields(ResponseHeader.encode(header).finish()));
    w.uint32(18).bytes(withUnknownFields(KeyValue.encode(kv('n', 'v')).finish()));
    w.uint32(32).int64(1n);
    const bytes = Buffer.from(w.finish());
    expect(plain(responseDecoders.kv.range(bytes))).toEqual(plain(RangeResponse.decode(bytes)));
    expect(plain(responseDecoders.kv.range(bytes))).toEqual(plain({ header, kvs: [kv('n', 'v')], more: false, count: 1n }));
  });

  it('decode an empty message to the defaults', () => {
    expect(plain(responseDecoders.watch.watch(Buffer.alloc(0)))).toEqual(plain(WatchResponse.decode(Buffer.alloc(0))));
  });

  it('give keys and values as views of the received bytes, not copies', () => {
    const bytes = Buffer.from(RangeResponse.encode(range).finish());
    const decoded = responseDecoders.kv.range(bytes);
    expect(decoded.kvs[0].key.buffer).toBe(bytes.buffer);
    expect(decoded.kvs[0].value.buffer).toBe(bytes.buffer);
  });

  it('refuse a message cut in the middle of a key-value, as ts-proto does', () => {
    const bytes = Buffer.from(RangeResponse.encode(range).finish());
    const cut = bytes.subarray(0, bytes.indexOf('one') + 1);
    expect(() => RangeResponse.decode(cut)).toThrow();
    expect(() => responseDecoders.kv.range(cut)).toThrow();
  });

  it('decode a message kept in chunks (split anywhere) as they decode it whole', () => {
    const many: RangeResponse = {
      header,
      kvs: Array.from({ length: 300 }, (_, i) => kv(`key/${i}`, 'v'.repeat(i % 37), { lease: BigInt(i) * 1_000_000_007n })),
      more: true,
      count: -1n, // ten bytes on the wire
    };
    const messages: Array<[(input: Uint8Array | ChunkedMessage) => unknown, Buffer]> = [
      [responseDecoders.kv.range, withUnknownFields(RangeResponse.encode(many).finish())],
      [responseDecoders.kv.txn, Buffer.from(TxnResponse.encode(txn).finish())],
      [responseDecoders.watch.watch, Buffer.from(WatchResponse.encode({ ...watch, events: [...events, ...events, ...events] }).finish())],
      [responseDecoders.kv.deleteRange, Buffer.from(DeleteRangeResponse.encode(deleted).finish())],
    ];
    for (const [decode, bytes] of messages) {
      const whole = plain(decode(bytes));
      for (const size of [1, 2, 3, 7, 64, 1000, bytes.length - 1]) {
        const chunks: Buffer[] = [];
        for (let at = 0; at < bytes.length; at += size) chunks.push(Buffer.from(bytes.subarray(at, at + size)));
        expect(plain(decode(new ChunkedMessage(chunks, bytes.length)))).toEqual(whole);
      }
    }
  });

  it('decode key-values that lie whole in a chunk as views of that chunk', () => {
    const bytes = Buffer.from(RangeResponse.encode({ header, kvs: Array.from({ length: 100 }, (_, i) => kv(`k${i}`, 'x'.repeat(50))), more: false, count: 100n }).finish());
    const chunks = [Buffer.from(bytes.subarray(0, 3000)), Buffer.from(bytes.subarray(3000))];
    const decoded = responseDecoders.kv.range(new ChunkedMessage(chunks, bytes.length));
    expect(decoded.kvs[0].value.buffer).toBe(chunks[0].buffer);
    expect(decoded.kvs[99].value.buffer).toBe(chunks[1].buffer);
    expect(decoded.kvs.map((x) => x.key.toString())).toEqual(Array.from({ length: 100 }, (_, i) => `k${i}`));
  });

  it('refuse a chunked message cut in the middle of a key-value, as a whole one', () => {
    const bytes = Buffer.from(RangeResponse.encode(range).finish());
    const cut = bytes.subarray(0, bytes.indexOf('one') + 1);
    expect(() => responseDecoders.kv.range(new ChunkedMessage([cut.subarray(0, 10), cut.subarray(10)], cut.length))).toThrow();
  });

  it('take chunked messages exactly on the paths of the methods they decode', () => {
    const ours = new Set<unknown>(Object.values(responseDecoders).flatMap((service) => Object.values(service)));
    const paths: string[] = [];
    for (const definition of Object.values(wireDefinitions) as Array<{ fullName: string; methods: Record<string, { name: string; responseType: { decode: unknown } }> }>) {
      for (const method of Object.values(definition.methods)) if (ours.has(method.responseType.decode)) paths.push(`/${definition.fullName}/${method.name}`);
    }
    expect(paths.length).toBe(ours.size);
    expect([...chunkedResponsePaths].sort()).toEqual(paths.sort());
  });

  it('are the decoders the client receives KV and Watch responses with', () => {
    expect(wireDefinitions.kv.methods.range.responseType.decode).toBe(responseDecoders.kv.range);
    expect(wireDefinitions.kv.methods.txn.responseType.decode).toBe(responseDecoders.kv.txn);
    expect(wireDefinitions.watch.methods.watch.responseType.decode).toBe(responseDecoders.watch.watch);
  });
});
