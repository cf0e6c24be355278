import type { CallOptions } from '../call-options.js';
import { type Bytes, type Int64, toBytes } from '../encoding.js';
import type { KeyValue, ResponseHeader } from '../kv.js';
import type { ElectionService, LeaderKey, LockService, LockServiceLock } from '../lock-service.js';
import type { KeyPrefix } from './keys.js';

/**
 * etcd's Lock service seen through a namespace: lock names get the prefix on the way in, and
 * the lock key loses it on the way out (so `unlock` takes the key as `lock` returned it).
 * @internal
 */
export class NamespacedLockService implements LockService {
  constructor(
    private readonly inner: LockService,
    private readonly keys: KeyPrefix,
  ) {}

  async lock(name: Bytes, options: { lease: Int64 } & CallOptions): Promise<LockServiceLock> {
    const held = await this.inner.lock(this.keys.key(toBytes(name, 'lock name')), options);
    return { header: held.header, key: this.keys.strip(held.key) };
  }

  unlock(key: Bytes, options?: CallOptions): Promise<ResponseHeader> {
    return this.inner.unlock(this.keys.key(toBytes(key, 'lock key')), options);
  }
}

/**
 * etcd's Election service seen through a namespace: election names and leader keys get the
 * prefix on the way in and lose it on the way out.
 * @internal
 */
export class NamespacedElectionService implements ElectionService {
  constructor(
    private readonly inner: ElectionService,
    private readonly keys: KeyPrefix,
  ) {}

  async campaign(name: Bytes, value: Bytes, options: { lease: Int64 } & CallOptions): Promise<{ header: ResponseHeader; leader: LeaderKey }> {
    const response = await this.inner.campaign(this.keys.key(toBytes(name, 'election name')), value, options);
    return { header: response.header, leader: this.strip(response.leader) };
  }

  proclaim(leader: LeaderKey, value: Bytes, options?: CallOptions): Promise<ResponseHeader> {
    return this.inner.proclaim(this.prefix(leader), value, options);
  }

  async leader(name: Bytes, options?: CallOptions): Promise<{ header: ResponseHeader; kv: KeyValue }> {
    const response = await this.inner.leader(this.keys.key(toBytes(name, 'election name')), options);
    response.kv.key = this.keys.strip(response.kv.key);
    return response;
  }

  async *observe(name: Bytes, options?: { signal?: AbortSignal }): AsyncGenerator<{ header: ResponseHeader; kv: KeyValue }, void, undefined> {
    for await (const response of this.inner.observe(this.keys.key(toBytes(name, 'election name')), options)) {
      response.kv.key = this.keys.strip(response.kv.key);
      yield response;
    }
  }

  resign(leader: LeaderKey, options?: CallOptions): Promise<ResponseHeader> {
    return this.inner.resign(this.prefix(leader), options);
  }

  private prefix(leader: LeaderKey): LeaderKey {
    return { ...leader, name: this.keys.key(leader.name), key: this.keys.key(leader.key) };
  }

  private strip(leader: LeaderKey): LeaderKey {
    return { ...leader, name: this.keys.strip(leader.name), key: this.keys.strip(leader.key) };
  }
}
