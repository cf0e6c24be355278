/**
 * gRPC's length-prefixed message framing (gRPC over HTTP/2, "Length-Prefixed-Message"):
 * a 1-byte compressed flag, a 4-byte big-endian length, then the message.
 */

/** Thrown by `MessageDecoder` when the peer breaks the framing or a limit. @internal */
export class FramingError extends Error {
  constructor(
    message: string,
    /** True when the message was refused for its size (RESOURCE_EXHAUSTED), not malformed. */
    readonly tooLarge: boolean,
  ) {
    super(message);
  }
}

const headerLength = 5;

/** One message with its 5-byte prefix, uncompressed, in one buffer (one DATA write). @internal */
export function frameMessage(message: Uint8Array): Buffer {
  const framed = Buffer.allocUnsafe(headerLength + message.length);
  framed[0] = 0;
  framed.writeUInt32BE(message.length, 1);
  framed.set(message, headerLength);
  return framed;
}

/**
 * A message that arrived in several DATA chunks, handed on as those chunks (views of them, in
 * order) instead of one assembled copy. Assembling a large message costs more than the copy:
 * a fresh multi-megabyte buffer is new memory every time, and touching it page by page took
 * ~13 ms of a 3.2 MB range under load (a warm buffer takes ~0.3 ms). Only the decoders of
 * decoders.ts take one (`chunkedResponsePaths`); every other method gets `concat()`.
 * @internal
 */
export class ChunkedMessage {
  constructor(
    /** The message's bytes, in order; each a view of a received chunk. */
    readonly chunks: readonly Buffer[],
    /** The message's length in bytes (the sum of the chunks' lengths). */
    readonly length: number,
  ) {}

  /** The message in one buffer (a copy). */
  concat(): Buffer {
    return Buffer.concat(this.chunks as Buffer[], this.length);
  }
}

/** Messages split across chunks from this size on stay chunked (when the method allows it); smaller ones are copied into one buffer. */
export const chunkedMessageMin = 64 * 1024;

/**
 * Cuts the DATA chunks of one response stream into messages. A message that lies whole in a
 * chunk is returned as a view of it (no copy); one split across chunks is kept as the list of
 * its pieces and, when it is done, copied into one buffer, or, with `chunked` and from
 * `chunkedMessageMin` bytes, returned as a `ChunkedMessage` of views (no copy).
 * @internal
 */
export class MessageDecoder {
  /** A header split across chunks (rare: allocated on first need). */
  private header: Buffer | undefined;
  private headerFilled = 0;
  /** The pieces of the message being received; undefined between messages. */
  private parts: Buffer[] | undefined;
  private bodyLength = 0;
  private bodyFilled = 0;

  constructor(
    private readonly maxLength: number,
    private readonly chunked = false,
  ) {}

  /** The messages completed by `chunk`, in order. Throws `FramingError`. */
  write(chunk: Buffer): Array<Buffer | ChunkedMessage> {
    const out: Array<Buffer | ChunkedMessage> = [];
    let offset = 0;
    while (offset < chunk.length) {
      if (this.parts === undefined) {
        // Fast path: a whole header at a chunk position, no partial header pending.
        if (this.headerFilled === 0 && chunk.length - offset >= headerLength) {
          const length = this.readHeader(chunk, offset);
          offset += headerLength;
          if (chunk.length - offset >= length) {
            out.push(chunk.subarray(offset, offset + length));
            offset += length;
            continue;
          }
          this.startBody(length);
        } else {
          const header = (this.header ??= Buffer.alloc(headerLength));
          const take = Math.min(headerLength - this.headerFilled, chunk.length - offset);
          chunk.copy(header, this.headerFilled, offset, offset + take);
          this.headerFilled += take;
          offset += take;
          if (this.headerFilled < headerLength) break;
          this.headerFilled = 0;
          const length = this.readHeader(header, 0);
          if (length === 0) {
            out.push(Buffer.alloc(0));
            continue;
          }
          this.startBody(length);
        }
      }
      const parts = this.parts as Buffer[];
      const take = Math.min(this.bodyLength - this.bodyFilled, chunk.length - offset);
      parts.push(take === chunk.length ? chunk : chunk.subarray(offset, offset + take));
      this.bodyFilled += take;
      offset += take;
      if (this.bodyFilled === this.bodyLength) {
        const length = this.bodyLength;
        this.parts = undefined;
        this.bodyFilled = 0;
        if (parts.length === 1) out.push(parts[0]);
        else if (this.chunked && length >= chunkedMessageMin) out.push(new ChunkedMessage(parts, length));
        else out.push(Buffer.concat(parts, length));
      }
    }
    return out;
  }

  /** True when a message has started but not finished (the stream ended mid-message). */
  get partial(): boolean {
    return this.headerFilled > 0 || this.parts !== undefined;
  }

  private readHeader(buffer: Buffer, at: number): number {
    const flag = buffer[at];
    const length = buffer.readUInt32BE(at + 1);
    // We never announce an encoding (grpc-accept-encoding), so a compressed message is a protocol error.
    if (flag !== 0) throw new FramingError(`received a message with compressed flag ${flag}, but no compression was negotiated`, false);
    if (length > this.maxLength) throw new FramingError(`Received message larger than max (${length} vs ${this.maxLength})`, true);
    return length;
  }

  private startBody(length: number): void {
    this.parts = [];
    this.bodyLength = length;
    this.bodyFilled = 0;
  }
}
