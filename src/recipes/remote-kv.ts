import { compare } from '../compare.js';
import { type Bytes, toBytes } from '../encoding.js';
import { InvalidArgumentError, KeyExistsError } from '../errors.js';
import type { KeyValue } from '../kv.js';
import type { Namespaceable } from '../namespace/kv.js';
import { op } from '../op.js';

// The keys recipes create, as Go's recipes/key.go and client.go make them: the same names and
// the same transactions, so Go and nice-etcd participants of one recipe see each other's keys.

/** A key this client created, and the revision that created it (Go's RemoteKV). @internal */
export interface RemoteKey {
  readonly key: Buffer;
  readonly revision: bigint;
}

// Go names unique keys `<prefix>/<time.Now().UnixNano()>`; hrtime keeps ours increasing.
const epochOffset = BigInt(Date.now()) * 1_000_000n - process.hrtime.bigint();

/** Nanoseconds since the Unix epoch (Go's time.Now().UnixNano()). @internal */
export function unixNano(): bigint {
  return epochOffset + process.hrtime.bigint();
}

/** `prefix` as bytes, with `suffix` appended. @internal */
export function joinKey(prefix: Bytes, suffix: string, what: string): Buffer {
  return Buffer.concat([toBytes(prefix, what), Buffer.from(suffix)]);
}

/** Creates `key` only if it does not exist (Go's putNewKV); `KeyExistsError` if it does. @internal */
export async function putNewKey(kv: Namespaceable, key: Buffer, value: Bytes, lease: bigint): Promise<RemoteKey> {
  const response = await kv
    .txn()
    .if(compare.version(key, '=', 0))
    .then(op.put(key, value, { lease }))
    .commit();
  if (!response.succeeded) throw new KeyExistsError();
  return { key, revision: response.header.revision };
}

/** Creates `<prefix>/<unix nanoseconds>`, retrying on the rare clash (Go's newUniqueKV / newUniqueEphemeralKV). @internal */
export async function newUniqueKey(kv: Namespaceable, prefix: Buffer, value: Bytes, lease: bigint): Promise<RemoteKey> {
  for (;;) {
    try {
      return await putNewKey(kv, joinKey(prefix, `/${unixNano()}`, 'prefix'), value, lease);
    } catch (error) {
      if (!(error instanceof KeyExistsError)) throw error;
    }
  }
}

/**
 * Creates `<prefix>/<16-digit sequence number>`, one past the last under the prefix (Go's
 * newSequentialKV). The bookkeeping key `__<prefix>` is written in the same transaction, so
 * two writers allocating at once cannot both take a number that a delete freed.
 * @internal
 */
export async function newSequentialKey(kv: Namespaceable, prefix: Buffer, value: Bytes): Promise<RemoteKey> {
  for (;;) {
    const { kvs, header } = await kv.get(prefix, { last: 'key' });
    let next = 0n;
    if (kvs.length > 0) {
      const key = kvs[0].key.toString();
      const digits = /^[+-]?\d+/.exec(key.slice(key.lastIndexOf('/') + 1));
      if (!digits) throw new InvalidArgumentError(`recipes: ${JSON.stringify(key)} does not end in a sequence number`);
      next = BigInt(digits[0]) + 1n;
    }
    const key = joinKey(prefix, `/${next.toString().padStart(16, '0')}`, 'prefix');
    const baseKey = Buffer.concat([Buffer.from('__'), prefix]);
    const response = await kv
      .txn()
      .if(compare.modRevision(baseKey, '<', header.revision + 1n))
      .then(op.put(baseKey, ''), op.put(key, value))
      .commit();
    if (response.succeeded) return { key, revision: response.header.revision };
  }
}

/** Deletes `key` only if its mod revision is still `revision` (Go's deleteRevKey); false if it was not. @internal */
export async function deleteRevKey(kv: Namespaceable, key: Buffer, revision: bigint): Promise<boolean> {
  const response = await kv.txn().if(compare.modRevision(key, '=', revision)).then(op.delete(key)).commit();
  return response.succeeded;
}

/** Deletes the first of `kvs` that nobody claimed since it was read, and returns it (Go's claimFirstKey). @internal */
export async function claimFirstKey(kv: Namespaceable, kvs: KeyValue[]): Promise<KeyValue | undefined> {
  for (const candidate of kvs) {
    if (await deleteRevKey(kv, candidate.key, candidate.modRevision)) return candidate;
  }
  return undefined;
}
