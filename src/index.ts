export { Client } from './client.js';
export type { ClientConfig, RetryConfig, CallEvent, AuthConfig, TlsConfig } from './config.js';
export type { Logger, LogMethod, LogFields } from './logger.js';
export type { ClientEvents, ClientListener, ConnectionInfo, ConnectionLoss, WatchResume, KeepAliveLoss, TokenRefresh, EndpointsChange } from './events.js';
export type { ClientStats, EndpointStats, EndpointState } from './stats.js';
export { discoverEndpoints } from './discovery-srv.js';
export type { DiscoverEndpointsOptions } from './discovery-srv.js';
export type { CallOptions } from './call-options.js';
export type { Bytes, Int64 } from './encoding.js';
export { prefixEnd } from './encoding.js';
export { op } from './op.js';
export type { Op, GetOp, PutOp, DeleteOp, TxnOp, GetOptions, PutOptions, DeleteOptions, RangeOptions, SortTarget, SortOrder } from './op.js';
export { compare } from './compare.js';
export type { Condition, CompareOperator, CompareOptions } from './compare.js';
export { Txn } from './txn.js';
export { KVBase } from './kv.js';
export type {
  KV,
  KeyValue,
  ResponseHeader,
  GetResponse,
  PutResponse,
  DeleteResponse,
  TxnResponse,
  CompactResponse,
  CompactOptions,
  OpResponse,
  ResponseOf,
} from './kv.js';
export type { RangeRequest, PutRequest, DeleteRangeRequest, TxnRequest, RequestOp, Compare } from './wire.js';
export type { RangeRequest_SortOrder, RangeRequest_SortTarget, Compare_CompareResult, Compare_CompareTarget } from './proto.js';
export { NamespacedKV } from './namespace/kv.js';
export type { Namespaceable } from './namespace/kv.js';
export { Watcher, WatchOverflowError } from './watch.js';
export type { WatchOptions, WatchEvent, WatchResponse, WatcherEvents, Listener } from './watch.js';
export { Lease, LeaseClient, KeepAlive } from './lease.js';
export type { LeaseApi, LeaseGrant, LeaseTimeToLive, KeepAliveResponse, KeepAliveEndReason, KeepAliveOptions } from './lease.js';
export { parseEndpoint } from './endpoints.js';
export type { Endpoint } from './endpoints.js';
export { methodPolicies, methodPolicy } from './policy.js';
export type { MethodPolicy, RetryPolicy, CallKind, Effect } from './policy.js';
export * from './errors.js';
export type { LockService, ElectionService, LockServiceLock, LeaderKey } from './lock-service.js';
export { Session } from './concurrency/session.js';
export type { SessionOptions } from './concurrency/session.js';
export { Mutex } from './concurrency/mutex.js';
export type { LockOptions } from './concurrency/mutex.js';
export { Election } from './concurrency/election.js';
export type { CampaignOptions, LeaderValue } from './concurrency/election.js';
export { stm } from './concurrency/stm.js';
export type { Isolation, StmOptions, StmTx } from './concurrency/stm.js';
export { ClusterClient } from './cluster.js';
export type { Member } from './cluster.js';
export { MaintenanceClient, SnapshotIntegrityError } from './maintenance.js';
export type { Alarm, MemberStatus, DowngradeAction, SaveSnapshotOptions } from './maintenance.js';
export type { DowngradeInfo } from './newer-fields.js';
export { AuthClient } from './auth.js';
export type { Permission, PermissionType } from './auth.js';
export { Barrier } from './recipes/barrier.js';
export { DoubleBarrier } from './recipes/double-barrier.js';
export { Queue } from './recipes/queue.js';
export { PriorityQueue } from './recipes/priority-queue.js';
export { RWMutex } from './recipes/rw-mutex.js';
export type { WaitOptions } from './recipes/options.js';
export { EndpointManager } from './naming/endpoint-manager.js';
export type { ServiceEndpoint, EndpointUpdate, AddEndpointOptions, WatchEndpointsOptions } from './naming/endpoint-manager.js';
export { registerEtcdResolver } from './naming/resolver.js';
export type { EtcdResolverOptions } from './naming/resolver.js';
export { mirror, makeMirror } from './mirror.js';
export type { MirrorSource, MirrorOptions, MirrorEvent, MakeMirrorOptions, MirrorProgress, MakeMirror } from './mirror.js';
export { OrderingKV, throwOnViolation, switchEndpointOnViolation } from './ordering.js';
export type { OrderingViolation, OrderingViolationHandler } from './ordering.js';
export { LeasingKV } from './leasing/kv.js';
export type { LeasingOptions } from './leasing/kv.js';
