import { InvalidArgumentError } from './errors.js';

/** A key, value or range end as callers pass it: UTF-8 text or raw bytes. */
export type Bytes = string | Uint8Array;

const empty = Buffer.alloc(0);

/** Encodes text as UTF-8; byte arrays pass through without a copy. @internal */
export function toBytes(value: Bytes, what = 'key'): Uint8Array {
  if (typeof value === 'string') return value.length === 0 ? empty : Buffer.from(value, 'utf8');
  if (value instanceof Uint8Array) return value;
  throw new InvalidArgumentError(`${what} must be a string or a Uint8Array, got ${describe(value)}`);
}

/** Views bytes as a Buffer without copying them. @internal */
export function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Revisions, versions and ids as callers pass them; converted to bigint exactly once. */
export type Int64 = bigint | number;

/** Checks and converts an int64 input, rejecting fractions and values outside int64. @internal */
export function toInt64(value: Int64, what: string): bigint {
  if (typeof value === 'bigint') {
    if (value >= -(2n ** 63n) && value < 2n ** 63n) return value;
  } else if (typeof value === 'number' && Number.isSafeInteger(value)) {
    return BigInt(value);
  }
  throw new InvalidArgumentError(`${what} must be an integer (bigint or safe number), got ${describe(value)}`);
}

/**
 * The smallest key greater than every key that starts with `prefix` (etcd's prefix range end):
 * the last byte below 0xff incremented and the rest cut; `"\x00"` (to the end of the keyspace)
 * when every byte is 0xff or the prefix is empty.
 */
export function prefixEnd(prefix: Bytes): Buffer {
  const bytes = toBytes(prefix, 'prefix');
  for (let i = bytes.length - 1; i >= 0; i--) {
    if (bytes[i] < 0xff) {
      const end = Buffer.from(bytes.subarray(0, i + 1));
      end[i]++;
      return end;
    }
  }
  // A fresh buffer, not zeroKey: the caller owns what it gets and may change it.
  return Buffer.from([0]);
}

/** `"\x00"`: as a range end it means "to the end of the keyspace"; as a key, the first key. @internal */
export const zeroKey: Uint8Array = Buffer.from([0]);

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'object') return (value as object).constructor?.name ?? 'object';
  return `${typeof value} ${String(value)}`;
}
