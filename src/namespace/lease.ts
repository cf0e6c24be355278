import type { CallOptions } from '../call-options.js';
import type { Int64 } from '../encoding.js';
import type { ResponseHeader } from '../kv.js';
import { type KeepAlive, type KeepAliveOptions, type KeepAliveResponse, Lease, type LeaseApi, type LeaseTimeToLive } from '../lease.js';
import type { KeyPrefix } from './keys.js';

/**
 * Lease calls seen from inside a key prefix, as Go's `namespace.NewLease`: leases themselves
 * are global, but `timeToLive` lists only the attached keys inside the prefix, stripped of it.
 * Leases granted here are bound to this view, so `lease.timeToLive()` filters the same way.
 * @internal
 */
export class NamespacedLease implements LeaseApi {
  constructor(
    private readonly inner: LeaseApi,
    private readonly keys: KeyPrefix,
  ) {}

  async grant(ttl: number, options?: { id?: Int64 } & CallOptions): Promise<Lease> {
    const lease = await this.inner.grant(ttl, options);
    return new Lease(this, lease.id, lease.ttl, lease.header);
  }

  revoke(id: Int64, options?: CallOptions): Promise<ResponseHeader> {
    return this.inner.revoke(id, options);
  }

  async timeToLive(id: Int64, options?: { keys?: boolean } & CallOptions): Promise<LeaseTimeToLive> {
    const response = await this.inner.timeToLive(id, options);
    const keys = response.keys.filter((key) => this.keys.contains(key)).map((key) => this.keys.strip(key));
    return { ...response, keys };
  }

  leases(options?: CallOptions): Promise<{ header: ResponseHeader; ids: bigint[] }> {
    return this.inner.leases(options);
  }

  keepAlive(id: Int64, options?: KeepAliveOptions & { ttl?: number }): KeepAlive {
    return this.inner.keepAlive(id, options);
  }

  keepAliveOnce(id: Int64, options?: CallOptions): Promise<KeepAliveResponse> {
    return this.inner.keepAliveOnce(id, options);
  }
}
