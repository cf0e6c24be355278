import type { CallOptions } from './call-options.js';
import type { Connection } from './connection.js';
import { type Bytes, type Int64, toBuffer, toBytes, toInt64 } from './encoding.js';
import { ElectionNoLeaderError } from './errors.js';
import { type KeyValue, type ResponseHeader, decodeHeader, decodeKv } from './kv.js';

/** A key prefix that namespaced views add to names and strip from keys. @internal */
class Prefix {
  constructor(readonly bytes: Buffer) {}
  add(b: Uint8Array): Buffer {
    return Buffer.concat([this.bytes, b]);
  }
  strip(b: Uint8Array): Buffer {
    return toBuffer(b).subarray(this.bytes.length);
  }
  nest(more: Uint8Array): Prefix {
    return new Prefix(this.add(more));
  }
}

/** A lock held through etcd's Lock service. */
export interface LockServiceLock {
  header: ResponseHeader;
  /** The key that holds the lock; pass it to `unlock`. It lives as long as the lease. */
  key: Buffer;
}

/**
 * etcd's server-side Lock service (v3lockpb): the server runs the Mutex recipe on behalf of
 * the client. Interoperates with `Mutex`, Go's concurrency.Mutex and `etcdctl lock`.
 */
export class LockService {
  /** @internal */
  constructor(
    private readonly connection: Connection,
    private readonly callOptions: (options: CallOptions) => CallOptions,
    private readonly prefix = new Prefix(Buffer.alloc(0)),
  ) {}

  /** The same service with names under `prefix` (for namespaces). @internal */
  withPrefix(prefix: Uint8Array): LockService {
    return new LockService(this.connection, this.callOptions, this.prefix.nest(prefix));
  }

  /** Waits until the lock named `name` is held by `lease` (no default timeout: it waits its turn). */
  async lock(name: Bytes, options: { lease: Int64 } & CallOptions): Promise<LockServiceLock> {
    const response = await this.connection.services.lock.lock(
      { name: this.prefix.add(toBytes(name, 'lock name')), lease: toInt64(options.lease, 'lock lease') },
      this.callOptions(options),
    );
    return { header: decodeHeader(response.header), key: this.prefix.strip(response.key) };
  }

  /** Releases a lock by the key `lock` returned. */
  async unlock(key: Bytes, options: CallOptions = {}): Promise<ResponseHeader> {
    const response = await this.connection.services.lock.unlock({ key: this.prefix.add(toBytes(key, 'lock key')) }, this.callOptions(options));
    return decodeHeader(response.header);
  }
}

/** A candidate's hold on an election, from etcd's Election service. */
export interface LeaderKey {
  /** The election's name. */
  name: Buffer;
  /** The candidate's key. */
  key: Buffer;
  /** The key's create revision: the candidate's place in line. */
  rev: bigint;
  /** The candidate's lease. */
  lease: bigint;
}

/**
 * etcd's server-side Election service (v3electionpb): the server runs the Election recipe on
 * behalf of the client. Interoperates with `Election`, Go's concurrency.Election and `etcdctl elect`.
 */
export class ElectionService {
  /** @internal */
  constructor(
    private readonly connection: Connection,
    private readonly callOptions: (options: CallOptions) => CallOptions,
    private readonly prefix = new Prefix(Buffer.alloc(0)),
  ) {}

  /** The same service with names under `prefix` (for namespaces). @internal */
  withPrefix(prefix: Uint8Array): ElectionService {
    return new ElectionService(this.connection, this.callOptions, this.prefix.nest(prefix));
  }

  /** Campaigns with `value` on `lease`; resolves once the candidate leads (no default timeout). */
  async campaign(name: Bytes, value: Bytes, options: { lease: Int64 } & CallOptions): Promise<{ header: ResponseHeader; leader: LeaderKey }> {
    const response = await this.connection.services.election.campaign(
      { name: this.prefix.add(toBytes(name, 'election name')), value: toBytes(value, 'election value'), lease: toInt64(options.lease, 'election lease') },
      this.callOptions(options),
    );
    return { header: decodeHeader(response.header), leader: this.fromLeaderKey(response.leader) };
  }

  /** Changes the leader's value; fails unless `leader` still leads. */
  async proclaim(leader: LeaderKey, value: Bytes, options: CallOptions = {}): Promise<ResponseHeader> {
    const response = await this.connection.services.election.proclaim(
      { leader: this.toLeaderKey(leader), value: toBytes(value, 'election value') },
      this.callOptions(options),
    );
    return decodeHeader(response.header);
  }

  /** The current leader's key-value. */
  async leader(name: Bytes, options: CallOptions = {}): Promise<{ header: ResponseHeader; kv: KeyValue }> {
    const response = await this.connection.services.election.leader({ name: this.prefix.add(toBytes(name, 'election name')) }, this.callOptions(options));
    if (!response.kv) throw new ElectionNoLeaderError();
    const kv = decodeKv(response.kv);
    kv.key = this.prefix.strip(kv.key);
    return { header: decodeHeader(response.header), kv };
  }

  /** Each leader of the election as it changes, until the signal aborts. */
  async *observe(name: Bytes, options: { signal?: AbortSignal } = {}): AsyncGenerator<{ header: ResponseHeader; kv: KeyValue }, void, undefined> {
    const stream = this.connection.services.election.observe({ name: this.prefix.add(toBytes(name, 'election name')) }, { signal: options.signal });
    for await (const response of stream) {
      if (!response.kv) continue;
      const kv = decodeKv(response.kv);
      kv.key = this.prefix.strip(kv.key);
      yield { header: decodeHeader(response.header), kv };
    }
  }

  /** Gives up leadership. */
  async resign(leader: LeaderKey, options: CallOptions = {}): Promise<ResponseHeader> {
    const response = await this.connection.services.election.resign({ leader: this.toLeaderKey(leader) }, this.callOptions(options));
    return decodeHeader(response.header);
  }

  private fromLeaderKey(leader: { name: Uint8Array; key: Uint8Array; rev: bigint; lease: bigint } | undefined): LeaderKey {
    if (!leader) return { name: Buffer.alloc(0), key: Buffer.alloc(0), rev: 0n, lease: 0n };
    return { name: this.prefix.strip(leader.name), key: this.prefix.strip(leader.key), rev: leader.rev, lease: leader.lease };
  }

  private toLeaderKey(leader: LeaderKey) {
    return { name: this.prefix.add(leader.name), key: this.prefix.add(leader.key), rev: leader.rev, lease: leader.lease };
  }
}
