import { BinaryWriter } from '@bufbuild/protobuf/wire';
import { responseDecoders } from './decoders.js';
import { type Definitions, definitions } from './policy.js';
import { withNewerFields } from './newer-fields.js';

// Messages larger than this are encoded into a writer of their own, so that one big request
// does not pin a big buffer for the life of the process.
const reusedWriterLimit = 64 * 1024;

let shared = new BinaryWriter();

/**
 * Encodes with one writer for the whole process: ts-proto's `encode` makes a new writer per
 * message, which grows its buffer from empty on every call; the shared one keeps its buffer.
 * Encoding is synchronous and `finish()` copies the bytes out and resets the writer, so calls
 * never see each other's bytes. A failed encode leaves the writer half-written: it is replaced.
 */
function encodeShared<M>(encode: (message: M, writer: BinaryWriter) => BinaryWriter): (message: M) => { finish(): Uint8Array } {
  return (message) => {
    const writer = shared;
    try {
      encode(message, writer);
    } catch (error) {
      shared = new BinaryWriter();
      throw error;
    }
    return {
      finish() {
        const bytes = writer.finish();
        if (bytes.length > reusedWriterLimit && writer === shared) shared = new BinaryWriter();
        return bytes;
      },
    };
  };
}

interface RequestType {
  encode(message: never, writer?: BinaryWriter): BinaryWriter;
  decode(input: Uint8Array): unknown;
  fromPartial?(object: never): unknown;
}

/** A definition whose requests are complete messages (no `fromPartial`), so nice-grpc's types ask for complete ones. */
type CompleteRequests<D extends { methods: object }> = Omit<D, 'methods'> & {
  methods: {
    [K in keyof D['methods']]: D['methods'][K] extends { requestType: { decode(input: Uint8Array): infer M } }
      ? Omit<D['methods'][K], 'requestType'> & { requestType: { encode(message: M): { finish(): Uint8Array }; decode(input: Uint8Array): M } }
      : never;
  };
};

/**
 * The definition with every request encoded by the shared writer; `complete` also drops
 * `fromPartial`; responses of the methods in `decoders` are decoded by those (decoders.ts).
 */
function encoded(definition: { methods: object }, complete: boolean, decoders: Record<string, (input: Uint8Array) => unknown> = {}): unknown {
  const methods: Record<string, unknown> = {};
  for (const [key, method] of Object.entries(definition.methods) as Array<[string, { requestType: RequestType; responseType: object }]>) {
    const { encode, decode, fromPartial } = method.requestType;
    const requestType = { encode: encodeShared((m: never, w) => encode(m, w)), decode, ...(complete ? {} : { fromPartial }) };
    const decodeResponse = decoders[key];
    const responseType = decodeResponse ? { ...method.responseType, decode: decodeResponse } : method.responseType;
    methods[key] = { ...method, requestType, responseType };
  }
  return { ...definition, methods };
}

/**
 * The service definitions the client sends with. nice-grpc encodes a request as
 * `encode(fromPartial(request))`, copying every field first; KV requests (the hot path) are
 * built complete by op.ts (lease requests by lease.ts), and the type below holds every caller to
 * complete messages, so KV and Lease send them as they are. The other services keep
 * `fromPartial` (their callers pass partial messages); all share the writer. KV and Watch
 * responses are read by decoders.ts.
 * @internal
 */
export const wireDefinitions = {
  ...(Object.fromEntries(Object.entries(definitions).map(([name, definition]) => [name, encoded(definition, false)])) as Definitions),
  kv: encoded(definitions.kv, true, responseDecoders.kv) as CompleteRequests<Definitions['kv']>,
  watch: encoded(definitions.watch, false, responseDecoders.watch) as Definitions['watch'],
  lease: encoded(definitions.lease, true) as CompleteRequests<Definitions['lease']>,
  // Status, HashKV and Snapshot answers also carry what a 3.6+ server adds (newer-fields.ts).
  maintenance: withNewerFields(encoded(definitions.maintenance, false) as Definitions['maintenance']),
};
