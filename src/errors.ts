import { isAbortError } from 'abort-controller-x';
import { ClientError, Status } from 'nice-grpc-common';

export { Status };

const brand = Symbol.for('nice-etcd.EtcdError');

/**
 * Every failure nice-etcd reports is an `EtcdError`: it carries the gRPC status `code`, etcd's
 * own message in `details` (e.g. `etcdserver: key not found`), the RPC `path` when a call
 * was made, and a stable `reason` naming the case (`'Compacted'`, `'LeaseNotFound'`, ...).
 */
export class EtcdError extends Error {
  /** gRPC status code of the failure (client-side errors use the closest code). */
  readonly code: Status;
  /** The server's message, or the client's explanation, without decoration. */
  readonly details: string;
  /** Stable name of the case, taken from etcd's own error names without the `Err` prefix. */
  readonly reason: string;
  /** `/package.Service/Method` of the call that failed, when there was one. */
  readonly path: string | undefined;

  constructor(code: Status, details: string, options: { reason?: string; path?: string; cause?: unknown } = {}) {
    super(options.path ? `${options.path} ${Status[code]}: ${details}` : details, { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.details = details;
    this.reason = options.reason ?? new.target.name.replace(/Error$/, '');
    this.path = options.path;
    Object.defineProperty(this, brand, { value: true });
  }

  // `instanceof EtcdError` must hold across duplicated module copies (jest registries, bundles).
  static override [Symbol.hasInstance](instance: unknown): boolean {
    if (this !== EtcdError) return Function.prototype[Symbol.hasInstance].call(this, instance);
    return typeof instance === 'object' && instance !== null && brand in instance;
  }
}

type ErrorClass = new (code: Status, details: string, options?: { reason?: string; path?: string; cause?: unknown }) => EtcdError;

// ---- Groups, one per gRPC code etcd uses. Every server error is an instance of its group. ----

/** The request was malformed or not allowed as sent (INVALID_ARGUMENT); retrying it cannot help. */
export class InvalidArgumentError extends EtcdError {}
/** A revision or TTL outside what the server keeps or accepts (OUT_OF_RANGE). */
export class OutOfRangeError extends EtcdError {}
/** The server is out of a resource: space or request capacity (RESOURCE_EXHAUSTED). */
export class ResourceExhaustedError extends EtcdError {}
/** A lease or member that does not exist (NOT_FOUND). */
export class NotFoundError extends EtcdError {}
/** The cluster is not in a state that allows the call (FAILED_PRECONDITION). */
export class FailedPreconditionError extends EtcdError {}
/** The authenticated user lacks the permission for this key or call (PERMISSION_DENIED). */
export class PermissionDeniedError extends EtcdError {}
/** The auth token is missing, invalid or expired (UNAUTHENTICATED). */
export class UnauthenticatedError extends EtcdError {}
/** The server does not know this call: it is older than the API used (e.g. AuthStatus before etcd 3.5). */
export class UnimplementedError extends EtcdError {}
/** No server could serve the call right now: transport down, no leader, timeouts (UNAVAILABLE). */
export class UnavailableError extends EtcdError {}

// ---- Specific cases people handle. ----

/** Put/Delete/Get/Txn was given an empty key (`etcdserver: key is not provided`). */
export class EmptyKeyError extends InvalidArgumentError {}
/** `put` with `ignoreValue`/`ignoreLease` on a key that does not exist. */
export class KeyNotFoundError extends InvalidArgumentError {}
/** `put` with `ignoreValue` was also given a value. */
export class ValueProvidedError extends InvalidArgumentError {}
/** `put` with `ignoreLease` was also given a lease. */
export class LeaseProvidedError extends InvalidArgumentError {}
/** A txn has more operations than the server's `--max-txn-ops` (128 by default). */
export class TooManyOpsError extends InvalidArgumentError {}
/** A txn writes the same key twice. */
export class DuplicateKeyError extends InvalidArgumentError {}
/** The request is larger than the server's `--max-request-bytes` or the client's `maxCallSendMsgSize`. */
export class RequestTooLargeError extends InvalidArgumentError {}
/** Wrong user name or password. */
export class AuthFailedError extends InvalidArgumentError {}
/** The token was issued before the auth store changed; the client re-authenticates. */
export class AuthOldRevisionError extends InvalidArgumentError {}
/** The requested revision has been compacted; `compactRevision` is set when the server says it. */
export class CompactedError extends OutOfRangeError {
  /** The revision the store is compacted to, when known (watch cancellations carry it). */
  compactRevision: bigint | undefined;
}
/** The requested revision is newer than the store's current revision. */
export class FutureRevisionError extends OutOfRangeError {}
/** A lease TTL above the server's maximum (9,000,000,000 s). */
export class LeaseTTLTooLargeError extends OutOfRangeError {}
/** The backend database reached its quota; the cluster raised a NOSPACE alarm. */
export class NoSpaceError extends ResourceExhaustedError {}
/** The lease does not exist (never granted, revoked or expired). */
export class LeaseNotFoundError extends NotFoundError {}
/** The member id is not part of the cluster. */
export class MemberNotFoundError extends NotFoundError {}
/** A lease with this id already exists. */
export class LeaseExistsError extends FailedPreconditionError {}
/** Auth-management calls that need auth enabled, and auth is not enabled. */
export class AuthNotEnabledError extends FailedPreconditionError {}
/** The call must reach the leader and this member is not it. */
export class NotLeaderError extends FailedPreconditionError {}
/** The token is invalid or expired; the client re-authenticates when it has credentials. */
export class InvalidAuthTokenError extends UnauthenticatedError {}
/** The member has no leader (with `requireLeader`), so it cannot serve the call. */
export class NoLeaderError extends UnavailableError {}
/** The server took too long to commit the request (leader loss, overload, lost connection). */
export class ServerTimeoutError extends UnavailableError {}

// ---- Client-side cases. ----

/** The client was closed: calls fail at once, and calls in flight at `close()` end with this. */
export class ClientClosedError extends EtcdError {
  constructor(details = 'the etcd client is closed') {
    super(Status.CANCELLED, details);
  }
}
/** The caller's AbortSignal aborted the call. The signal's reason is the `cause`. */
export class AbortedError extends EtcdError {
  constructor(details = 'the call was aborted', options: { path?: string; cause?: unknown } = {}) {
    super(Status.CANCELLED, details, options);
  }
}
/** The call's timeout (or deadline) passed before etcd answered. */
export class DeadlineExceededError extends EtcdError {
  constructor(details = 'the call did not finish within its timeout', options: { path?: string; cause?: unknown } = {}) {
    super(Status.DEADLINE_EXCEEDED, details, options);
  }
}
/** `Mutex.tryLock()`: another session holds the lock (Go's ErrLocked). */
export class LockedError extends EtcdError {
  constructor(details = 'mutex: Locked by another session') {
    super(Status.FAILED_PRECONDITION, details, { reason: 'Locked' });
  }
}
/** The session's lease ended, so its locks and leadership are gone (Go's ErrSessionExpired). */
export class SessionExpiredError extends EtcdError {
  constructor(details = 'mutex: session is expired') {
    super(Status.FAILED_PRECONDITION, details, { reason: 'SessionExpired' });
  }
}
/** `Mutex.unlock()` found the lock already released (Go's ErrLockReleased). */
export class LockReleasedError extends EtcdError {
  constructor(details = 'mutex: lock has already been released') {
    super(Status.FAILED_PRECONDITION, details, { reason: 'LockReleased' });
  }
}
/** `Election.proclaim()`/`resign()` by a candidate that is not (or no longer) the leader. */
export class ElectionNotLeaderError extends EtcdError {
  constructor(details = 'election: not leader') {
    super(Status.FAILED_PRECONDITION, details, { reason: 'ElectionNotLeader' });
  }
}
/** `Election.leader()` when nobody is campaigning. */
export class ElectionNoLeaderError extends EtcdError {
  constructor(details = 'election: no leader') {
    super(Status.NOT_FOUND, details, { reason: 'ElectionNoLeader' });
  }
}
/** `stm()` ran out of attempts: every commit conflicted with another writer. */
export class StmConflictError extends EtcdError {
  constructor(attempts: number) {
    super(Status.ABORTED, `stm: the transaction conflicted on each of its ${attempts} attempts`, { reason: 'StmConflict' });
  }
}

/** The client refuses an argument before sending anything (reason `InvalidArgument`). @internal */
export function invalidArgument(details: string): InvalidArgumentError {
  return new InvalidArgumentError(Status.INVALID_ARGUMENT, details, { reason: 'InvalidArgument' });
}

/** The client's configuration is invalid (missing endpoints, bad URL, bad option). */
export class ConfigError extends EtcdError {
  constructor(details: string) {
    super(Status.INVALID_ARGUMENT, details);
  }
}

/**
 * etcd's server errors, keyed by the exact status message (from etcd's
 * `api/v3rpc/rpctypes/error.go`): the gRPC code, the class it becomes and Go's name for it.
 * @internal
 */
export const serverErrors: ReadonlyMap<string, { code: Status; type: ErrorClass; reason: string }> = new Map(
  (
    [
      // INVALID_ARGUMENT
      ['etcdserver: key is not provided', Status.INVALID_ARGUMENT, EmptyKeyError, 'EmptyKey'],
      ['etcdserver: key not found', Status.INVALID_ARGUMENT, KeyNotFoundError, 'KeyNotFound'],
      ['etcdserver: value is provided', Status.INVALID_ARGUMENT, ValueProvidedError, 'ValueProvided'],
      ['etcdserver: lease is provided', Status.INVALID_ARGUMENT, LeaseProvidedError, 'LeaseProvided'],
      ['etcdserver: too many operations in txn request', Status.INVALID_ARGUMENT, TooManyOpsError, 'TooManyOps'],
      ['etcdserver: duplicate key given in txn request', Status.INVALID_ARGUMENT, DuplicateKeyError, 'DuplicateKey'],
      ['etcdserver: invalid client api version', Status.INVALID_ARGUMENT, InvalidArgumentError, 'InvalidClientAPIVersion'],
      ['etcdserver: invalid sort option', Status.INVALID_ARGUMENT, InvalidArgumentError, 'InvalidSortOption'],
      ['etcdserver: given member URLs are invalid', Status.INVALID_ARGUMENT, InvalidArgumentError, 'MemberBadURLs'],
      ['etcdserver: request is too large', Status.INVALID_ARGUMENT, RequestTooLargeError, 'RequestTooLarge'],
      ['etcdserver: user name is empty', Status.INVALID_ARGUMENT, InvalidArgumentError, 'UserEmpty'],
      ['etcdserver: role name is empty', Status.INVALID_ARGUMENT, InvalidArgumentError, 'RoleEmpty'],
      ['etcdserver: authentication failed, invalid user ID or password', Status.INVALID_ARGUMENT, AuthFailedError, 'AuthFailed'],
      ['etcdserver: permission not given', Status.INVALID_ARGUMENT, InvalidArgumentError, 'PermissionNotGiven'],
      ['etcdserver: invalid auth management', Status.INVALID_ARGUMENT, InvalidArgumentError, 'InvalidAuthMgmt'],
      ['etcdserver: revision of auth store is old', Status.INVALID_ARGUMENT, AuthOldRevisionError, 'AuthOldRevision'],
      ['etcdserver: wrong downgrade target version format', Status.INVALID_ARGUMENT, InvalidArgumentError, 'WrongDowngradeVersionFormat'],
      ['etcdserver: invalid downgrade target version', Status.INVALID_ARGUMENT, InvalidArgumentError, 'InvalidDowngradeTargetVersion'],
      // OUT_OF_RANGE
      ['etcdserver: mvcc: required revision has been compacted', Status.OUT_OF_RANGE, CompactedError, 'Compacted'],
      ['etcdserver: mvcc: required revision is a future revision', Status.OUT_OF_RANGE, FutureRevisionError, 'FutureRev'],
      ['etcdserver: too large lease TTL', Status.OUT_OF_RANGE, LeaseTTLTooLargeError, 'LeaseTTLTooLarge'],
      // RESOURCE_EXHAUSTED
      ['etcdserver: mvcc: database space exceeded', Status.RESOURCE_EXHAUSTED, NoSpaceError, 'NoSpace'],
      ['etcdserver: too many requests', Status.RESOURCE_EXHAUSTED, ResourceExhaustedError, 'TooManyRequests'],
      // NOT_FOUND
      ['etcdserver: requested lease not found', Status.NOT_FOUND, LeaseNotFoundError, 'LeaseNotFound'],
      ['etcdserver: member not found', Status.NOT_FOUND, MemberNotFoundError, 'MemberNotFound'],
      // FAILED_PRECONDITION
      ['etcdserver: lease already exists', Status.FAILED_PRECONDITION, LeaseExistsError, 'LeaseExist'],
      ['etcdserver: member ID already exist', Status.FAILED_PRECONDITION, FailedPreconditionError, 'MemberExist'],
      ['etcdserver: Peer URLs already exists', Status.FAILED_PRECONDITION, FailedPreconditionError, 'PeerURLExist'],
      ['etcdserver: re-configuration failed due to not enough started members', Status.FAILED_PRECONDITION, FailedPreconditionError, 'MemberNotEnoughStarted'],
      ['etcdserver: can only promote a learner member', Status.FAILED_PRECONDITION, FailedPreconditionError, 'MemberNotLearner'],
      ['etcdserver: can only promote a learner member which is in sync with leader', Status.FAILED_PRECONDITION, FailedPreconditionError, 'LearnerNotReady'],
      ['etcdserver: too many learner members in cluster', Status.FAILED_PRECONDITION, FailedPreconditionError, 'TooManyLearners'],
      ['etcdserver: cluster ID mismatch', Status.FAILED_PRECONDITION, FailedPreconditionError, 'ClusterIdMismatch'],
      ['etcdserver: root user does not exist', Status.FAILED_PRECONDITION, FailedPreconditionError, 'RootUserNotExist'],
      ['etcdserver: root user does not have root role', Status.FAILED_PRECONDITION, FailedPreconditionError, 'RootRoleNotExist'],
      ['etcdserver: user name already exists', Status.FAILED_PRECONDITION, FailedPreconditionError, 'UserAlreadyExist'],
      ['etcdserver: user name not found', Status.FAILED_PRECONDITION, FailedPreconditionError, 'UserNotFound'],
      ['etcdserver: role name already exists', Status.FAILED_PRECONDITION, FailedPreconditionError, 'RoleAlreadyExist'],
      ['etcdserver: role name not found', Status.FAILED_PRECONDITION, FailedPreconditionError, 'RoleNotFound'],
      ['etcdserver: role is not granted to the user', Status.FAILED_PRECONDITION, FailedPreconditionError, 'RoleNotGranted'],
      ['etcdserver: permission is not granted to the role', Status.FAILED_PRECONDITION, FailedPreconditionError, 'PermissionNotGranted'],
      ['etcdserver: authentication is not enabled', Status.FAILED_PRECONDITION, AuthNotEnabledError, 'AuthNotEnabled'],
      ['etcdserver: not leader', Status.FAILED_PRECONDITION, NotLeaderError, 'NotLeader'],
      ['etcdserver: not capable', Status.FAILED_PRECONDITION, FailedPreconditionError, 'NotCapable'],
      ['etcdserver: rpc not supported for learner', Status.FAILED_PRECONDITION, FailedPreconditionError, 'NotSupportedForLearner'],
      ['etcdserver: bad leader transferee', Status.FAILED_PRECONDITION, FailedPreconditionError, 'BadLeaderTransferee'],
      ['etcdserver: cluster version not found during downgrade', Status.FAILED_PRECONDITION, FailedPreconditionError, 'ClusterVersionUnavailable'],
      ['etcdserver: cluster has a downgrade job in progress', Status.FAILED_PRECONDITION, FailedPreconditionError, 'DowngradeInProcess'],
      ['etcdserver: no inflight downgrade job', Status.FAILED_PRECONDITION, FailedPreconditionError, 'NoInflightDowngrade'],
      // PERMISSION_DENIED / UNAUTHENTICATED
      ['etcdserver: permission denied', Status.PERMISSION_DENIED, PermissionDeniedError, 'PermissionDenied'],
      ['etcdserver: invalid auth token', Status.UNAUTHENTICATED, InvalidAuthTokenError, 'InvalidAuthToken'],
      // UNAVAILABLE
      ['etcdserver: no leader', Status.UNAVAILABLE, NoLeaderError, 'NoLeader'],
      ['etcdserver: leader changed', Status.UNAVAILABLE, UnavailableError, 'LeaderChanged'],
      ['etcdserver: server stopped', Status.UNAVAILABLE, UnavailableError, 'Stopped'],
      ['etcdserver: request timed out', Status.UNAVAILABLE, ServerTimeoutError, 'Timeout'],
      ['etcdserver: request timed out, possibly due to previous leader failure', Status.UNAVAILABLE, ServerTimeoutError, 'TimeoutDueToLeaderFail'],
      ['etcdserver: request timed out, possibly due to connection lost', Status.UNAVAILABLE, ServerTimeoutError, 'TimeoutDueToConnectionLost'],
      ['etcdserver: request timed out, waiting for the applied index took too long', Status.UNAVAILABLE, ServerTimeoutError, 'TimeoutWaitAppliedIndex'],
      ['etcdserver: unhealthy cluster', Status.UNAVAILABLE, UnavailableError, 'Unhealthy'],
      // DATA_LOSS
      ['etcdserver: corrupt cluster', Status.DATA_LOSS, EtcdError, 'Corrupt'],
    ] as const
  ).map(([message, code, type, reason]) => [message, { code, type, reason }]),
);

// Messages etcd sends that are not in the table still get the class of their gRPC code.
const groupByCode: Partial<Record<Status, ErrorClass>> = {
  [Status.INVALID_ARGUMENT]: InvalidArgumentError,
  [Status.OUT_OF_RANGE]: OutOfRangeError,
  [Status.RESOURCE_EXHAUSTED]: ResourceExhaustedError,
  [Status.NOT_FOUND]: NotFoundError,
  [Status.FAILED_PRECONDITION]: FailedPreconditionError,
  [Status.PERMISSION_DENIED]: PermissionDeniedError,
  [Status.UNAUTHENTICATED]: UnauthenticatedError,
  [Status.UNAVAILABLE]: UnavailableError,
  [Status.UNIMPLEMENTED]: UnimplementedError,
};

/** Turns a gRPC status (code + message) into the matching `EtcdError` subclass. */
export function errorFromStatus(code: Status, details: string, path?: string, cause?: unknown): EtcdError {
  const known = serverErrors.get(details);
  if (known) return new known.type(code, details, { reason: known.reason, path, cause });
  if (code === Status.DEADLINE_EXCEEDED) return new DeadlineExceededError(details, { path, cause });
  if (code === Status.CANCELLED) return new AbortedError(details, { path, cause });
  const type = groupByCode[code] ?? EtcdError;
  return new type(code, details, { reason: Status[code], path, cause });
}

/**
 * Converts anything a call can throw into an `EtcdError`: nice-grpc `ClientError`s by the
 * table, aborts into `AbortedError`; `EtcdError`s pass through unchanged.
 */
export function toEtcdError(error: unknown): EtcdError {
  if (error instanceof EtcdError) return error;
  if (error instanceof ClientError) return errorFromStatus(error.code, error.details, error.path, error);
  if (isAbortError(error)) return new AbortedError(undefined, { cause: error });
  const message = error instanceof Error ? error.message : String(error);
  return new EtcdError(Status.UNKNOWN, message, { reason: 'Unknown', cause: error });
}

// ---- Token errors and stream failures: one list, shared by the auth middleware and the streams. ----

/** etcd's messages that mean "get a new token and try again" (Go's shouldRefreshToken). @internal */
export const tokenErrorMessages: ReadonlySet<string> = new Set([
  'etcdserver: invalid auth token',
  'etcdserver: revision of auth store is old',
  'etcdserver: user name is empty',
]);

/** Whether an error (a `ClientError`, an `EtcdError` or a bare details string) says the token is missing, expired or stale. @internal */
export function isTokenError(error: unknown): boolean {
  const details = typeof error === 'string' ? error : error instanceof ClientError ? error.details : (error as { details?: unknown } | null)?.details;
  return typeof details === 'string' && tokenErrorMessages.has(details);
}

/**
 * Whether etcd's reason for refusing a watch create may only mean that the stream's token went
 * stale: the token errors, plus "permission denied", which older servers say for an expired token.
 * @internal
 */
export function isWatchTokenRefusal(details: string): boolean {
  return isTokenError(details) || details === 'etcdserver: permission denied';
}

/**
 * etcd puts a gRPC status in a watch's cancel reason, as Go prints it: `rpc error: code =
 * Unauthenticated desc = etcdserver: invalid auth token`; older servers send the bare message.
 * @internal
 */
export function parseCancelReason(reason: string): { code: Status; details: string } {
  const match = /^rpc error: code = (\w+) desc = (.*)$/s.exec(reason);
  if (!match) return { code: Status.FAILED_PRECONDITION, details: reason };
  const name = match[1].replace(/([a-z])([A-Z])/g, '$1_$2').toUpperCase() as keyof typeof Status;
  const code = Status[name];
  return { code: typeof code === 'number' ? code : Status.FAILED_PRECONDITION, details: match[2] };
}

/**
 * What a long-lived stream (Watch, LeaseKeepAlive) does after a failure:
 * - `resumable`: the transport broke or the member went away; reopen and resume;
 * - `token`: etcd refused the stream's token and a fresh one can be fetched; reopen with it;
 * - `fatal`: anything else (permission denied, a fixed token refused...); reopening cannot help.
 * @internal
 */
export type StreamFailureKind = 'resumable' | 'token' | 'fatal';

/** Classifies a stream failure once, for every stream owner. @internal */
export function classifyStreamError(error: EtcdError, tokenRefreshable: boolean): StreamFailureKind {
  if (isTokenError(error)) return tokenRefreshable ? 'token' : 'fatal';
  switch (error.code) {
    case Status.UNAVAILABLE:
    case Status.INTERNAL:
    case Status.UNKNOWN:
    case Status.CANCELLED:
      return 'resumable';
    default:
      return 'fatal';
  }
}
