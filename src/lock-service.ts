import type { CallOptions } from './call-options.js';
import type { Connection } from './connection.js';
import { type Bytes, type Int64, toBuffer, toBytes, toInt64 } from './encoding.js';
import { ElectionNoLeaderError } from './errors.js';
import { type KeyValue, type ResponseHeader, decodeHeader, decodeKv } from './kv.js';

/** A lock held through etcd's Lock service. */
export interface LockServiceLock {
  /** The cluster, member and revision that answered. */
  header: ResponseHeader;
  /** The key that holds the lock; pass it to `unlock`. It lives as long as the lease. */
  key: Buffer;
}

/**
 * etcd's server-side Lock service (v3lockpb): the server runs the Mutex recipe on behalf of
 * the client. Interoperates with `Mutex`, Go's concurrency.Mutex and `etcdctl lock`.
 */
export interface LockService {
  /** Waits until the lock named `name` is held by `lease` (no default timeout: it waits its turn). */
  lock(name: Bytes, options: { lease: Int64 } & CallOptions): Promise<LockServiceLock>;
  /** Releases a lock by the key `lock` returned. */
  unlock(key: Bytes, options?: CallOptions): Promise<ResponseHeader>;
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
export interface ElectionService {
  /** Campaigns with `value` on `lease`; resolves once the candidate leads (no default timeout). */
  campaign(name: Bytes, value: Bytes, options: { lease: Int64 } & CallOptions): Promise<{ header: ResponseHeader; leader: LeaderKey }>;
  /** Changes the leader's value; fails unless `leader` still leads. */
  proclaim(leader: LeaderKey, value: Bytes, options?: CallOptions): Promise<ResponseHeader>;
  /** The current leader's key-value; `ElectionNoLeaderError` when nobody campaigns. */
  leader(name: Bytes, options?: CallOptions): Promise<{ header: ResponseHeader; kv: KeyValue }>;
  /** Each leader of the election as it changes, until the signal aborts. */
  observe(name: Bytes, options?: { signal?: AbortSignal }): AsyncGenerator<{ header: ResponseHeader; kv: KeyValue }, void, undefined>;
  /** Gives up leadership. */
  resign(leader: LeaderKey, options?: CallOptions): Promise<ResponseHeader>;
}

/** The Lock service over the client's connection. Namespaces wrap it (namespace/lock-service.ts). @internal */
export class LockServiceClient implements LockService {
  constructor(
    private readonly connection: Connection,
    private readonly callOptions: (options: CallOptions) => CallOptions,
  ) {}

  async lock(name: Bytes, options: { lease: Int64 } & CallOptions): Promise<LockServiceLock> {
    const response = await this.connection.services.lock.lock(
      { name: toBytes(name, 'lock name'), lease: toInt64(options.lease, 'lock lease') },
      this.callOptions(options),
    );
    return { header: decodeHeader(response.header), key: toBuffer(response.key) };
  }

  async unlock(key: Bytes, options: CallOptions = {}): Promise<ResponseHeader> {
    const response = await this.connection.services.lock.unlock({ key: toBytes(key, 'lock key') }, this.callOptions(options));
    return decodeHeader(response.header);
  }
}

/** The Election service over the client's connection. Namespaces wrap it (namespace/lock-service.ts). @internal */
export class ElectionServiceClient implements ElectionService {
  constructor(
    private readonly connection: Connection,
    private readonly callOptions: (options: CallOptions) => CallOptions,
  ) {}

  async campaign(name: Bytes, value: Bytes, options: { lease: Int64 } & CallOptions): Promise<{ header: ResponseHeader; leader: LeaderKey }> {
    const response = await this.connection.services.election.campaign(
      { name: toBytes(name, 'election name'), value: toBytes(value, 'election value'), lease: toInt64(options.lease, 'election lease') },
      this.callOptions(options),
    );
    return { header: decodeHeader(response.header), leader: fromLeaderKey(response.leader) };
  }

  async proclaim(leader: LeaderKey, value: Bytes, options: CallOptions = {}): Promise<ResponseHeader> {
    const response = await this.connection.services.election.proclaim({ leader, value: toBytes(value, 'election value') }, this.callOptions(options));
    return decodeHeader(response.header);
  }

  async leader(name: Bytes, options: CallOptions = {}): Promise<{ header: ResponseHeader; kv: KeyValue }> {
    const response = await this.connection.services.election.leader({ name: toBytes(name, 'election name') }, this.callOptions(options));
    if (!response.kv) throw new ElectionNoLeaderError();
    return { header: decodeHeader(response.header), kv: decodeKv(response.kv) };
  }

  async *observe(name: Bytes, options: { signal?: AbortSignal } = {}): AsyncGenerator<{ header: ResponseHeader; kv: KeyValue }, void, undefined> {
    const stream = this.connection.services.election.observe({ name: toBytes(name, 'election name') }, { signal: options.signal });
    for await (const response of stream) {
      if (!response.kv) continue;
      yield { header: decodeHeader(response.header), kv: decodeKv(response.kv) };
    }
  }

  async resign(leader: LeaderKey, options: CallOptions = {}): Promise<ResponseHeader> {
    const response = await this.connection.services.election.resign({ leader }, this.callOptions(options));
    return decodeHeader(response.header);
  }
}

function fromLeaderKey(leader: { name: Uint8Array; key: Uint8Array; rev: bigint; lease: bigint } | undefined): LeaderKey {
  if (!leader) return { name: Buffer.alloc(0), key: Buffer.alloc(0), rev: 0n, lease: 0n };
  return { name: toBuffer(leader.name), key: toBuffer(leader.key), rev: leader.rev, lease: leader.lease };
}
