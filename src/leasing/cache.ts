import type { GetResponse, KeyValue, ResponseHeader } from '../kv.js';
import type { RangeRequest } from '../wire.js';

/** After losing a key to another writer, this client waits this long before caching it again (Go's revokeBackoff). */
const revokeBackoff = 2_000;

/** One key this client holds: etcd's answer when it was acquired, kept current by our own writes. */
interface Entry {
  response: GetResponse;
  /** The leasing key's create revision (the revision of the acquiring transaction). */
  readonly rev: bigint;
  /** Settles when the local write in flight on this key (if any) is done; reads wait for it. */
  writing: Promise<void> | undefined;
}

/** A key's bytes as a map key (latin1 maps bytes to chars one to one). */
const id = (key: Uint8Array): string => Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString('latin1');

/** True when `key` is in [begin, end) (an end of "\x00" means no upper bound). */
export function inRange(key: Uint8Array, begin: Uint8Array, end: Uint8Array): boolean {
  if (Buffer.compare(key, begin) < 0) return false;
  return (end.length === 1 && end[0] === 0) || Buffer.compare(key, end) < 0;
}

/**
 * The leasing KV's local cache (Go's `leaseCache`): the keys this client holds a leasing key
 * for, and when it last lost one (so a contended key is not re-acquired at once).
 * @internal
 */
export class LeaseCache {
  readonly #entries = new Map<string, Entry>();
  readonly #revoked = new Map<string, number>();
  /** The newest header of an acquisition. */
  header: ResponseHeader | undefined;

  /** The leasing key revision of `key`, 0 when not held. */
  rev(key: Uint8Array): bigint {
    return this.#entries.get(id(key))?.rev ?? 0n;
  }

  /** True when `key` may be acquired: not lost to another writer in the last 2 s. */
  mayAcquire(key: Uint8Array): boolean {
    const k = id(key);
    const lost = this.#revoked.get(k);
    if (lost === undefined) return true;
    if (Date.now() - lost <= revokeBackoff) return false;
    this.#revoked.delete(k);
    return true;
  }

  /** Caches what etcd answered when `key` was acquired; returns the view `request` asks for. */
  add(key: Uint8Array, response: GetResponse, request: RangeRequest): GetResponse {
    if (!this.header || this.header.revision < response.header.revision) this.header = response.header;
    const entry: Entry = { response, rev: response.header.revision, writing: undefined };
    this.#entries.set(id(key), entry);
    return view(entry.response, request);
  }

  /**
   * The cached answer to `request`: undefined when `key` is not held. Waits for a local write in
   * flight on the key first, so a read never sees the value from before our own write.
   */
  async get(request: RangeRequest): Promise<GetResponse | undefined> {
    let entry = this.#entries.get(id(request.key));
    while (entry?.writing) {
      await entry.writing;
      entry = this.#entries.get(id(request.key));
    }
    return entry && view(entry.response, request);
  }

  /** Marks local writes in flight on the held keys in [key, end) (just `key` when end is empty); call the result when they are done. */
  lock(key: Uint8Array, end: Uint8Array): () => void {
    const locked: Entry[] = [];
    for (const [k, entry] of this.#entries) {
      const bytes = Buffer.from(k, 'latin1');
      if (end.length === 0 ? Buffer.compare(bytes, key) === 0 : inRange(bytes, key, end)) locked.push(entry);
    }
    let release!: () => void;
    const writing = new Promise<void>((resolve) => (release = resolve));
    for (const entry of locked) entry.writing = writing;
    return () => {
      for (const entry of locked) if (entry.writing === writing) entry.writing = undefined;
      release();
    };
  }

  /** Applies our own successful put of `key` to its entry, if held. */
  update(key: Uint8Array, value: Uint8Array | undefined, lease: bigint | undefined, header: ResponseHeader): void {
    const entry = this.#entries.get(id(key));
    if (!entry) return;
    const response = entry.response;
    if (response.kvs.length === 0) {
      response.kvs = [{ key: Buffer.from(key), value: Buffer.alloc(0), createRevision: header.revision, modRevision: 0n, version: 0n, lease: 0n }];
      response.count = 1n;
    }
    const kv = response.kvs[0];
    kv.version++;
    if (kv.modRevision < header.revision) {
      response.header = header;
      kv.modRevision = header.revision;
      if (value !== undefined) kv.value = Buffer.from(value);
      if (lease !== undefined) kv.lease = lease;
    }
  }

  /** Applies a delete of `key` at `header.revision` to its entry, if held. */
  delete(key: Uint8Array, header: ResponseHeader): void {
    const entry = this.#entries.get(id(key));
    if (entry && header.revision >= entry.response.header.revision) {
      entry.response = { ...entry.response, header, kvs: [], count: 0n };
    }
  }

  /** Applies a delete of [key, end) to every held key in it. */
  deleteRange(key: Uint8Array, end: Uint8Array, header: ResponseHeader): void {
    for (const k of [...this.#entries.keys()]) {
      const bytes = Buffer.from(k, 'latin1');
      if (inRange(bytes, key, end)) this.delete(bytes, header);
    }
  }

  /** Forgets `key` (we no longer hold it, or do not know its value); returns its leasing key revision, 0 when not held. */
  evict(key: Uint8Array): bigint {
    const k = id(key);
    const entry = this.#entries.get(k);
    if (!entry) return 0n;
    this.#entries.delete(k);
    this.#revoked.set(k, Date.now());
    return entry.rev;
  }

  /** Forgets every key in [key, end). */
  evictRange(key: Uint8Array, end: Uint8Array): void {
    for (const k of [...this.#entries.keys()]) {
      const bytes = Buffer.from(k, 'latin1');
      if (inRange(bytes, key, end)) this.evict(bytes);
    }
  }

  /** Forgets everything (the session, and with it every leasing key, is gone). */
  clear(): void {
    this.#entries.clear();
  }
}

/** What `request` (a single-key get) sees of a response for its key: a copy, filtered as etcd would. @internal */
export function view(response: GetResponse, request: RangeRequest): GetResponse {
  const kv: KeyValue | undefined = response.kvs[0];
  const hidden =
    kv === undefined ||
    request.countOnly ||
    request.minModRevision > kv.modRevision ||
    (request.maxModRevision !== 0n && request.maxModRevision < kv.modRevision) ||
    request.minCreateRevision > kv.createRevision ||
    (request.maxCreateRevision !== 0n && request.maxCreateRevision < kv.createRevision);
  const kvs = hidden ? [] : [{ ...kv, key: Buffer.from(kv.key), value: request.keysOnly ? Buffer.alloc(0) : Buffer.from(kv.value) }];
  // etcd counts the keys in the range before the revision filters, as the cache does.
  return { header: { ...response.header }, kvs, more: false, count: BigInt(response.kvs.length) };
}
