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
 * Cuts the DATA chunks of one response stream into messages. A message that lies whole in a
 * chunk is returned as a view of it (no copy); one split across chunks is assembled once.
 * @internal
 */
export class MessageDecoder {
  private header = Buffer.alloc(headerLength);
  private headerFilled = 0;
  private body: Buffer | undefined;
  private bodyFilled = 0;

  constructor(private readonly maxLength: number) {}

  /** The messages completed by `chunk`, in order. Throws `FramingError`. */
  write(chunk: Buffer): Buffer[] {
    const out: Buffer[] = [];
    let offset = 0;
    while (offset < chunk.length) {
      if (this.body === undefined) {
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
          const take = Math.min(headerLength - this.headerFilled, chunk.length - offset);
          chunk.copy(this.header, this.headerFilled, offset, offset + take);
          this.headerFilled += take;
          offset += take;
          if (this.headerFilled < headerLength) break;
          this.headerFilled = 0;
          const length = this.readHeader(this.header, 0);
          if (length === 0) {
            out.push(Buffer.alloc(0));
            continue;
          }
          this.startBody(length);
        }
      }
      const body = this.body as Buffer;
      const take = Math.min(body.length - this.bodyFilled, chunk.length - offset);
      chunk.copy(body, this.bodyFilled, offset, offset + take);
      this.bodyFilled += take;
      offset += take;
      if (this.bodyFilled === body.length) {
        out.push(body);
        this.body = undefined;
        this.bodyFilled = 0;
      }
    }
    return out;
  }

  /** True when a message has started but not finished (the stream ended mid-message). */
  get partial(): boolean {
    return this.headerFilled > 0 || this.body !== undefined;
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
    this.body = Buffer.allocUnsafe(length);
    this.bodyFilled = 0;
  }
}
