import { ClientError, type CallOptions, type ClientMiddleware, type ClientMiddlewareCall, Status } from 'nice-grpc-common';
import { toEtcdError } from './errors.js';

/**
 * How a failed call may be repeated (Go's clientv3 retry.go):
 * - `repeatable`: repeating it cannot change the outcome (reads, status calls, lease calls
 *   that are idempotent on the server), so it is retried on UNAVAILABLE;
 * - `unsentOnly`: a write; it is retried only when the failure proves the request never
 *   left the client (no connection was established), so a write is never applied twice;
 * - `never`: streams, which have their own resume logic, and calls where even that is unsafe.
 */
export type RetryPolicy = 'repeatable' | 'unsentOnly' | 'never';

/** The retry policy of every etcd RPC, by gRPC path. */
export const retryPolicies = {
  // KV. A Txn may write, so it is a write even when it only reads (as in Go).
  '/etcdserverpb.KV/Range': 'repeatable',
  '/etcdserverpb.KV/Put': 'unsentOnly',
  '/etcdserverpb.KV/DeleteRange': 'unsentOnly',
  '/etcdserverpb.KV/Txn': 'unsentOnly',
  '/etcdserverpb.KV/Compact': 'unsentOnly',
  // Watch: resumed by the watcher itself, from the last revision it delivered.
  '/etcdserverpb.Watch/Watch': 'never',
  // Lease. Grant with ID 0 may grant a second lease when repeated, but Go repeats it: a
  // lease nobody keeps alive expires on its own. Revoke is idempotent (lease not found).
  '/etcdserverpb.Lease/LeaseGrant': 'repeatable',
  '/etcdserverpb.Lease/LeaseRevoke': 'repeatable',
  '/etcdserverpb.Lease/LeaseKeepAlive': 'never',
  '/etcdserverpb.Lease/LeaseTimeToLive': 'repeatable',
  '/etcdserverpb.Lease/LeaseLeases': 'repeatable',
  // Cluster
  '/etcdserverpb.Cluster/MemberAdd': 'unsentOnly',
  '/etcdserverpb.Cluster/MemberRemove': 'unsentOnly',
  '/etcdserverpb.Cluster/MemberUpdate': 'unsentOnly',
  '/etcdserverpb.Cluster/MemberList': 'repeatable',
  '/etcdserverpb.Cluster/MemberPromote': 'unsentOnly',
  // Maintenance
  '/etcdserverpb.Maintenance/Alarm': 'repeatable',
  '/etcdserverpb.Maintenance/Status': 'repeatable',
  '/etcdserverpb.Maintenance/Defragment': 'unsentOnly',
  '/etcdserverpb.Maintenance/Hash': 'repeatable',
  '/etcdserverpb.Maintenance/HashKV': 'repeatable',
  '/etcdserverpb.Maintenance/Snapshot': 'never',
  '/etcdserverpb.Maintenance/MoveLeader': 'repeatable',
  '/etcdserverpb.Maintenance/Downgrade': 'unsentOnly',
  // Auth: reads repeat; every change and Authenticate (a raft write) only when unsent.
  '/etcdserverpb.Auth/AuthEnable': 'unsentOnly',
  '/etcdserverpb.Auth/AuthDisable': 'unsentOnly',
  '/etcdserverpb.Auth/AuthStatus': 'unsentOnly',
  '/etcdserverpb.Auth/Authenticate': 'unsentOnly',
  '/etcdserverpb.Auth/UserAdd': 'unsentOnly',
  '/etcdserverpb.Auth/UserGet': 'repeatable',
  '/etcdserverpb.Auth/UserList': 'repeatable',
  '/etcdserverpb.Auth/UserDelete': 'unsentOnly',
  '/etcdserverpb.Auth/UserChangePassword': 'unsentOnly',
  '/etcdserverpb.Auth/UserGrantRole': 'unsentOnly',
  '/etcdserverpb.Auth/UserRevokeRole': 'unsentOnly',
  '/etcdserverpb.Auth/RoleAdd': 'unsentOnly',
  '/etcdserverpb.Auth/RoleGet': 'repeatable',
  '/etcdserverpb.Auth/RoleList': 'repeatable',
  '/etcdserverpb.Auth/RoleDelete': 'unsentOnly',
  '/etcdserverpb.Auth/RoleGrantPermission': 'unsentOnly',
  '/etcdserverpb.Auth/RoleRevokePermission': 'unsentOnly',
  // Server-side recipes: Lock blocks until acquired and Campaign until elected, each on a
  // lease; repeating them after a sent attempt could take the lock twice.
  '/v3lockpb.Lock/Lock': 'unsentOnly',
  '/v3lockpb.Lock/Unlock': 'unsentOnly',
  '/v3electionpb.Election/Campaign': 'unsentOnly',
  '/v3electionpb.Election/Proclaim': 'unsentOnly',
  '/v3electionpb.Election/Leader': 'repeatable',
  '/v3electionpb.Election/Observe': 'never',
  '/v3electionpb.Election/Resign': 'unsentOnly',
} as const satisfies Record<string, RetryPolicy>;

/** The retry policy of an RPC path; an unknown path is never retried. */
export function retryPolicy(path: string): RetryPolicy {
  return (retryPolicies as Record<string, RetryPolicy | undefined>)[path] ?? 'never';
}

/**
 * grpc-js fails a call with this message when it found no connection to send it on, so
 * the server cannot have seen it (Go's "there is no connection available").
 */
const unsentPattern = /^No connection established/;

/** Whether a failure proves the request never reached a server. @internal */
export function provablyUnsent(error: unknown): boolean {
  return error instanceof ClientError && error.code === Status.UNAVAILABLE && unsentPattern.test(error.details);
}

/**
 * Sits just inside nice-grpc-client-middleware-retry, which retries by status code alone:
 * for `unsentOnly` RPCs it turns an UNAVAILABLE that may have reached the server into an
 * `EtcdError` (not a `ClientError`), which the retry middleware never repeats.
 * @internal
 */
export const retryGuardMiddleware: ClientMiddleware = async function* retryGuard<Request, Response>(
  call: ClientMiddlewareCall<Request, Response>,
  options: CallOptions,
) {
  if (retryPolicy(call.method.path) !== 'unsentOnly') return yield* call.next(call.request, options);
  try {
    return yield* call.next(call.request, options);
  } catch (error) {
    if (error instanceof ClientError && error.code === Status.UNAVAILABLE && !provablyUnsent(error)) throw toEtcdError(error);
    throw error;
  }
};
