import { prefixEnd, toBuffer } from '../encoding.js';

/**
 * Maps keys and ranges into a key prefix and back, by the rules of Go's namespace package:
 * key → prefix+key; a range end of "\x00" (to the end of the keyspace) → prefixEnd(prefix);
 * any other non-empty end → prefix+end. So no range can reach outside the prefix.
 * @internal
 */
export class KeyPrefix {
  readonly bytes: Buffer;
  private readonly end: Uint8Array;

  constructor(prefix: Uint8Array) {
    this.bytes = Buffer.from(prefix);
    this.end = prefixEnd(this.bytes);
  }

  /** prefix + key. */
  key(key: Uint8Array): Buffer {
    return Buffer.concat([this.bytes, key]);
  }

  /** The range end inside the prefix for a range end outside it. */
  rangeEnd(end: Uint8Array): Uint8Array {
    if (end.length === 0) return end;
    if (end.length === 1 && end[0] === 0) return this.end;
    return this.key(end);
  }

  /** The key without the prefix (a view, no copy). */
  strip(key: Uint8Array): Buffer {
    return toBuffer(key).subarray(this.bytes.length);
  }

  /** Whether a key is inside the prefix. */
  contains(key: Uint8Array): boolean {
    return key.length >= this.bytes.length && this.bytes.equals(key.subarray(0, this.bytes.length));
  }
}
