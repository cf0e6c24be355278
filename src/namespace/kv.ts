import type { CallOptions } from '../call-options.js';
import { type Bytes, type Int64, toBytes } from '../encoding.js';
import { InvalidArgumentError } from '../errors.js';
import type { Compare, RequestOp, TxnRequest } from '../proto.js';
import { type CompactOptions, type CompactResponse, type KV, KVBase, type KeyValue, type OpResponse, type ResponseOf } from '../kv.js';
import type { Op } from '../op.js';
import type { LeaseApi } from '../lease.js';
import type { ElectionService, LockService } from '../lock-service.js';
import type { WatchOptions, Watcher } from '../watch.js';
import { KeyPrefix } from './keys.js';
import { NamespacedLease } from './lease.js';
import { NamespacedWatch } from './watch.js';
import { NamespacedElectionService, NamespacedLockService } from './lock-service.js';

/** What a namespace wraps: the client, or another namespace. */
export interface Namespaceable extends KV {
  /** The lease calls. */
  readonly lease: LeaseApi;
  /** etcd's server-side Lock service. */
  readonly lockService: LockService;
  /** etcd's server-side Election service. */
  readonly electionService: ElectionService;
  /** Watches a key or range. */
  watch(key: Bytes, options?: WatchOptions): Watcher;
  /** Asks etcd for a progress notice on every watcher of the stream. */
  watchProgress(): void;
}

/**
 * A view of a KV in which every key lives under a prefix: keys, range ends, compares and
 * nested txns are prefixed on the way in, and the prefix is stripped from every key on the
 * way out. Nothing outside the prefix can be read or written through it.
 *
 * @example
 * ```ts
 * const app = client.namespace('app/');
 * await app.put('config', 'x');                  // stored as app/config
 * (await app.get('config')).kvs[0].key;          // Buffer 'config': the prefix is stripped
 * await app.get('', { prefix: true });           // everything under app/, nothing else
 * const session = await Session.create(app);     // locks and elections work inside it too
 * ```
 */
export class NamespacedKV extends KVBase {
  private readonly keys: KeyPrefix;

  /** Leases whose `timeToLive` keys are filtered to this namespace and stripped of its prefix. */
  readonly lease: LeaseApi;
  readonly #watch: NamespacedWatch;
  /** etcd's Lock service with lock names inside this namespace. */
  readonly lockService: LockService;
  /** etcd's Election service with election names inside this namespace. */
  readonly electionService: ElectionService;

  /** Wraps `inner` (a client or another namespace) so that every key lives under `prefix`. */
  constructor(private readonly inner: Namespaceable, prefix: Bytes) {
    super();
    const bytes = toBytes(prefix, 'namespace prefix');
    if (bytes.length === 0) {
      throw new InvalidArgumentError('namespace: the prefix must not be empty');
    }
    this.keys = new KeyPrefix(bytes);
    this.lease = new NamespacedLease(inner.lease, this.keys);
    this.#watch = new NamespacedWatch(inner, this.keys);
    this.lockService = new NamespacedLockService(inner.lockService, this.keys);
    this.electionService = new NamespacedElectionService(inner.electionService, this.keys);
  }

  /** Watches a key or range inside the namespace; event keys come without the prefix. */
  watch(key: Bytes, options?: WatchOptions): Watcher {
    return this.#watch.watch(key, options);
  }

  /** The prefix of this namespace. */
  get prefix(): Buffer {
    return this.keys.bytes;
  }

  /** Asks etcd for a progress notice on every watch stream of the client. */
  watchProgress(): void {
    this.inner.watchProgress();
  }

  /** A namespace inside this one: its prefix is this prefix + `prefix`. */
  namespace(prefix: Bytes): NamespacedKV {
    return new NamespacedKV(this, prefix);
  }

  /** Runs an operation inside the prefix. */
  async do<T extends Op>(operation: T, options?: CallOptions): Promise<ResponseOf<T>> {
    const response = await this.inner.do(this.wrapOp(operation), options);
    return this.unwrapResponse(response) as ResponseOf<T>;
  }

  /** Compacts the whole store (revisions are global, not per namespace). */
  compact(revision: Int64, options?: CompactOptions): Promise<CompactResponse> {
    return this.inner.compact(revision, options);
  }

  private wrapOp<T extends Op>(operation: T): T {
    const { keys } = this;
    switch (operation.type) {
      case 'get':
      case 'delete': {
        const r = operation.request;
        return { type: operation.type, request: { ...r, key: keys.key(r.key), rangeEnd: keys.rangeEnd(r.rangeEnd) } } as unknown as T;
      }
      case 'put':
        return { type: 'put', request: { ...operation.request, key: keys.key(operation.request.key) } } as unknown as T;
      case 'txn':
        return { type: 'txn', request: this.wrapTxn(operation.request) } as T;
      default:
        throw new InvalidArgumentError(`not an operation: ${JSON.stringify(operation)}`);
    }
  }

  private wrapTxn(txn: TxnRequest): TxnRequest {
    return {
      compare: txn.compare.map((c) => this.wrapCompare(c)),
      success: txn.success.map((r) => this.wrapRequestOp(r)),
      failure: txn.failure.map((r) => this.wrapRequestOp(r)),
    };
  }

  private wrapCompare(c: Compare): Compare {
    return { ...c, key: this.keys.key(c.key), rangeEnd: this.keys.rangeEnd(c.rangeEnd) };
  }

  private wrapRequestOp(r: RequestOp): RequestOp {
    const request = r.request;
    switch (request?.$case) {
      case 'requestRange':
        return { request: { $case: 'requestRange', value: this.wrapOp({ type: 'get', request: request.value }).request } };
      case 'requestPut':
        return { request: { $case: 'requestPut', value: this.wrapOp({ type: 'put', request: request.value }).request } };
      case 'requestDeleteRange':
        return { request: { $case: 'requestDeleteRange', value: this.wrapOp({ type: 'delete', request: request.value }).request } };
      case 'requestTxn':
        return { request: { $case: 'requestTxn', value: this.wrapTxn(request.value) } };
      default:
        throw new InvalidArgumentError('txn: an operation is empty');
    }
  }

  private unwrapResponse(response: OpResponse): OpResponse {
    switch (response.type) {
      case 'get':
        response.kvs.forEach(this.stripKv);
        break;
      case 'put':
        if (response.prevKv) this.stripKv(response.prevKv);
        break;
      case 'delete':
        response.prevKvs.forEach(this.stripKv);
        break;
      case 'txn':
        response.responses.forEach((r) => this.unwrapResponse(r));
        break;
    }
    return response;
  }

  private readonly stripKv = (kv: KeyValue): void => {
    kv.key = this.keys.strip(kv.key);
  };
}
