import { Metadata } from 'nice-grpc-common';
import type { CallOptions } from './call-options.js';
import { type ClientConfig, resolveConfig } from './config.js';
import { Connection } from './connection.js';
import type { ClientEvents, ClientListener } from './events.js';
import type { Bytes, Int64 } from './encoding.js';
import { RequestTooLargeError, InvalidArgumentError } from './errors.js';
import {
  type CompactOptions,
  type CompactResponse,
  KVBase,
  type ResponseOf,
  compactRequest,
  decodeDelete,
  decodeHeader,
  decodePut,
  decodeRange,
  decodeTxn,
} from './kv.js';
import { AuthClient } from './auth.js';
import { ClusterClient } from './cluster.js';
import { LeaseClient } from './lease.js';
import { MaintenanceClient } from './maintenance.js';
import { type ElectionService, ElectionServiceClient, type LockService, LockServiceClient } from './lock-service.js';
import { NamespacedKV } from './namespace/kv.js';
import { type WatchOptions, type Watcher, WatchStreams } from './watch.js';
import type { Op } from './op.js';
import type { ClientStats } from './stats.js';
import type { RequestOp, TxnRequest } from './proto.js';
import { AutoSync, autoSyncTimeout, memberEndpoints } from './sync.js';

/**
 * A connection to an etcd cluster with the whole KV API (`get`, `put`, `delete`, `txn`,
 * `compact`, `do`), plus leases, watches, cluster, maintenance and auth. All calls and streams
 * share one HTTP/2 connection per endpoint; create one client per process
 * and `close()` it (or `await using`) when done.
 *
 * @example
 * ```ts
 * await using client = new Client({ endpoints: ['127.0.0.1:2379'] });
 * await client.put('greeting', 'hello');
 * const { kvs } = await client.get('greeting');
 * console.log(kvs[0]?.value.toString()); // hello
 * ```
 */
export class Client extends KVBase implements AsyncDisposable {
  /** @internal */
  readonly connection: Connection;
  /** Leases: grant, revoke, timeToLive, leases, keepAlive, keepAliveOnce. */
  readonly lease: LeaseClient;
  readonly #watchStreams: WatchStreams;
  /** Cluster membership: memberList, memberAdd, memberRemove, memberUpdate, memberPromote. */
  readonly cluster: ClusterClient;
  /** Maintenance: status, alarms, defragment, hashes, moveLeader, downgrade, snapshots. */
  readonly maintenance: MaintenanceClient;
  /** Users, roles and permissions; enabling and disabling auth. */
  readonly auth: AuthClient;
  /** etcd's server-side Lock service (the Mutex recipe run by the server). */
  readonly lockService: LockService;
  /** etcd's server-side Election service (the Election recipe run by the server). */
  readonly electionService: ElectionService;
  readonly #autoSync: AutoSync | undefined;

  /** Creates a client; it connects lazily, on the first call. Throws `ConfigError` on a bad config. */
  constructor(config: ClientConfig) {
    super();
    this.connection = new Connection(resolveConfig(config));
    const callOptions = (options: CallOptions) => this.callOptions(options);
    this.lease = new LeaseClient(this.connection, callOptions);
    this.#watchStreams = new WatchStreams(this.connection, this);
    this.cluster = new ClusterClient(this.connection, callOptions);
    this.maintenance = new MaintenanceClient(this.connection, callOptions);
    this.auth = new AuthClient(this.connection, callOptions);
    this.lockService = new LockServiceClient(this.connection, callOptions);
    this.electionService = new ElectionServiceClient(this.connection, callOptions);
    const { autoSyncInterval } = this.connection.config;
    if (autoSyncInterval > 0) this.#autoSync = new AutoSync(autoSyncInterval, () => this.sync({ timeout: autoSyncTimeout }), this.connection.closed);
  }

  /**
   * Watches a key, or a range with `prefix`, `end` or `fromKey`. All watchers of a client share
   * one gRPC stream; each resumes after reconnects without losing or repeating events.
   */
  watch(key: Bytes, options?: WatchOptions): Watcher {
    return this.#watchStreams.watch(key, options);
  }

  /** Asks etcd for a progress notice on every watch stream (delivered to every watcher). */
  watchProgress(): void {
    this.#watchStreams.requestProgress();
  }

  /**
   * What the client holds now: live watchers, open watch streams, leases kept alive, and the
   * state of each connection (see `ClientStats`). Computed on demand from the client's own
   * bookkeeping, for gauges read at scrape time.
   * @example
   * ```ts
   * const { watchers, leasesKeptAlive, endpoints } = client.stats();
   * const ready = endpoints.filter((e) => e.state === 'ready').length;
   * ```
   */
  stats(): ClientStats {
    return {
      watchers: this.#watchStreams.watchers,
      watchStreams: this.#watchStreams.openStreams,
      leasesKeptAlive: this.lease.keptAlive,
      endpoints: this.connection.endpointStats,
    };
  }

  /** The endpoints calls go to, as `host:port` (or `unix:<path>`). */
  get endpoints(): string[] {
    return this.connection.endpoints;
  }

  /**
   * Replaces the endpoints with the client URLs of the cluster's members, as Go's `Sync()`:
   * a linearizable member list, skipping learners and members that have not started (no name
   * yet). Resolves to the new endpoints; on failure the endpoints stay as they were.
   */
  async sync(options: CallOptions = {}): Promise<string[]> {
    const { members } = await this.cluster.memberList(options);
    this.connection.setEndpoints(memberEndpoints(members), 'sync');
    return this.endpoints;
  }

  /** Replaces the endpoint list at run time; calls in flight finish where they started. */
  setEndpoints(endpoints: string[]): void {
    this.connection.setEndpoints(endpoints, 'setEndpoints');
  }

  /**
   * Calls `listener` on every `event` (see `ClientEvents`: connected, disconnected,
   * connectFailed, watchResumed, keepAliveLost, tokenRefreshed, endpointsChanged).
   * @example
   * ```ts
   * client.on('disconnected', ({ endpoint, cause }) => console.warn(`etcd ${endpoint} lost: ${cause}`));
   * client.on('keepAliveLost', ({ id, reason }) => console.error(`lease ${id} ${reason}`));
   * ```
   */
  on<K extends keyof ClientEvents>(event: K, listener: ClientListener<K>): this {
    this.connection.observer.on(event, listener);
    return this;
  }

  /** Calls `listener` on the next `event` only. */
  once<K extends keyof ClientEvents>(event: K, listener: ClientListener<K>): this {
    this.connection.observer.on(event, listener, true);
    return this;
  }

  /** Removes a listener added with `on` (the last one added, if it was added several times). */
  off<K extends keyof ClientEvents>(event: K, listener: ClientListener<K>): this {
    this.connection.observer.off(event, listener);
    return this;
  }

  /**
   * Connects at once to every endpoint that is down, instead of waiting out its reconnect
   * backoff (up to `maxReconnectBackoff`): call it when you know an outage has ended.
   */
  reconnect(): void {
    this.connection.reconnect();
  }

  /** True once `close()` was called. */
  get closed(): boolean {
    return this.connection.closed.aborted;
  }

  /** Runs an operation built with `op.get/put/delete/txn`. */
  async do<T extends Op>(operation: T, options: CallOptions = {}): Promise<ResponseOf<T>> {
    const call = this.callOptions(options);
    this.checkSize(operation);
    const { kv } = this.connection.services;
    switch (operation.type) {
      case 'get':
        return decodeRange(await kv.range(operation.request, call)) as ResponseOf<T>;
      case 'put':
        return decodePut(await kv.put(operation.request, call)) as ResponseOf<T>;
      case 'delete':
        return decodeDelete(await kv.deleteRange(operation.request, call)) as ResponseOf<T>;
      case 'txn':
        return decodeTxn(await kv.txn(operation.request, call)) as ResponseOf<T>;
      default:
        throw new InvalidArgumentError(`not an operation: ${JSON.stringify(operation)}`);
    }
  }

  /** Discards the history before `revision`; with `physical`, waits until the space is reclaimed. */
  async compact(revision: Int64, options: CompactOptions = {}): Promise<CompactResponse> {
    const response = await this.connection.services.kv.compact(compactRequest(revision, options), this.callOptions(options));
    return { header: decodeHeader(response.header) };
  }

  /** A view of this client in which every key lives under `prefix` (e.g. `'app/'`). */
  namespace(prefix: Bytes): NamespacedKV {
    return new NamespacedKV(this, prefix);
  }

  /**
   * Closes the client: calls in flight reject with `ClientClosedError`, later calls fail at
   * once, and no socket or timer is left. Idempotent.
   */
  async close(): Promise<void> {
    this.#autoSync?.close();
    this.#watchStreams.close();
    this.lease.close();
    this.connection.close();
  }

  /** `await using client = new Client(...)` closes the client at the end of the scope. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /** Picks the call options the transport understands; validates the timeout. */
  private callOptions(options: CallOptions): { signal?: AbortSignal; timeout?: number; metadata?: Metadata } {
    const out: { signal?: AbortSignal; timeout?: number; metadata?: Metadata } = {};
    if (options.signal !== undefined) out.signal = options.signal;
    // etcd reads this header to refuse calls on a member without a leader (Go's WithRequireLeader).
    if (options.requireLeader) out.metadata = Metadata({ hasleader: 'true' });
    if (options.timeout !== undefined) {
      if (typeof options.timeout !== 'number' || !(options.timeout > 0)) {
        throw new InvalidArgumentError(`timeout must be a positive number of ms, got ${String(options.timeout)}`);
      }
      out.timeout = options.timeout;
    }
    return out;
  }

  private checkSize(operation: Op): void {
    const limit = this.connection.config.maxCallSendMsgSize;
    // Keys and values dominate a request; the rest is a few dozen bytes of framing.
    const size = opSize(operation);
    if (size > limit) {
      throw new RequestTooLargeError(
        `request of about ${size} bytes exceeds maxCallSendMsgSize (${limit} bytes); nothing was sent`,
        { reason: 'RequestTooLarge' },
      );
    }
  }
}

function opSize(operation: Op): number {
  switch (operation.type) {
    case 'put':
      return operation.request.key.length + operation.request.value.length;
    case 'get':
    case 'delete':
      return operation.request.key.length + operation.request.rangeEnd.length;
    case 'txn':
      return txnSize(operation.request);
    default:
      return 0;
  }
}

function txnSize(txn: TxnRequest): number {
  let size = 0;
  for (const c of txn.compare) {
    size += c.key.length + c.rangeEnd.length + (c.targetUnion?.$case === 'value' ? c.targetUnion.value.length : 0);
  }
  for (const r of txn.success) size += requestOpSize(r);
  for (const r of txn.failure) size += requestOpSize(r);
  return size;
}

function requestOpSize(r: RequestOp): number {
  const request = r.request;
  switch (request?.$case) {
    case 'requestRange':
      return opSize({ type: 'get', request: request.value });
    case 'requestPut':
      return opSize({ type: 'put', request: request.value });
    case 'requestDeleteRange':
      return opSize({ type: 'delete', request: request.value });
    case 'requestTxn':
      return txnSize(request.value);
    default:
      return 0;
  }
}

