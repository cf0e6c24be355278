import { isAbortError } from 'abort-controller-x';
import { ClientError, Status } from 'nice-grpc-common';

export { Status };

const brand = Symbol.for('nice-etcd.EtcdError');

/** What an `EtcdError` may carry besides its code and message. */
export interface EtcdErrorOptions {
  /** The case's stable name; by default the class name without `Error` (`EmptyKeyError`: `'EmptyKey'`). */
  reason?: string;
  /** `/package.Service/Method` of the call that failed. */
  path?: string;
  /** The underlying failure (a nice-grpc `ClientError`, a signal's reason...). */
  cause?: unknown;
}

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
  /**
   * True when this error ended a write (put, delete, txn, compact, a member or auth change)
   * that **may have been applied**: the request may have reached etcd, but no answer came (a
   * timeout, an abort, a lost connection, etcd's "request timed out" or "leader changed").
   * Read before writing again, or make the write conditional. False when etcd refused the
   * write or the request provably never left the client (README: Retries and outcomes).
   */
  readonly outcomeUnknown: boolean = false;

  /** Makes an error with the gRPC `code` and the unadorned `details`; the message adds `options.path` and the code's name when a path is given. */
  constructor(code: Status, details: string, options: EtcdErrorOptions = {}) {
    super(options.path ? `${options.path} ${Status[code]}: ${details}` : details, { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.details = details;
    this.reason = options.reason ?? new.target.name.replace(/Error$/, '');
    this.path = options.path;
    Object.defineProperty(this, brand, { value: true });
  }

  /**
   * `instanceof EtcdError` holds for an error from any copy of this module (jest registries,
   * bundles), by a brand; subclasses keep the ordinary prototype check.
   */
  static override [Symbol.hasInstance](instance: unknown): boolean {
    if (this !== EtcdError) return Function.prototype[Symbol.hasInstance].call(this, instance);
    return typeof instance === 'object' && instance !== null && brand in instance;
  }
}

/** An `EtcdError` class whose gRPC code is fixed: `new LeaseNotFoundError()` needs no code. */
type ErrorClass = (new (details?: string, options?: EtcdErrorOptions) => EtcdError) & { readonly code: Status };

// ---- Groups, one per gRPC code etcd uses. Every server error is an instance of its group. ----
// Each group fixes the code for itself and its subclasses; without details, a subclass says
// what etcd says for it (`new LeaseNotFoundError()`: 'etcdserver: requested lease not found').

/** The request was malformed or not allowed as sent (INVALID_ARGUMENT); retrying it cannot help. */
export class InvalidArgumentError extends EtcdError {
  /** The gRPC code of this class and its subclasses. */
  static readonly code: Status = Status.INVALID_ARGUMENT;
  /** `details` defaults to etcd's own message for the class (e.g. `etcdserver: requested lease not found`), or the code's name; `options` adds the reason, RPC path and cause. */
  constructor(details?: string, options?: EtcdErrorOptions) {
    super(Status.INVALID_ARGUMENT, details ?? etcdMessage(new.target) ?? 'invalid argument', options);
  }
}
/** A revision or TTL outside what the server keeps or accepts (OUT_OF_RANGE). */
export class OutOfRangeError extends EtcdError {
  /** The gRPC code of this class and its subclasses. */
  static readonly code: Status = Status.OUT_OF_RANGE;
  /** `details` defaults to etcd's own message for the class (e.g. `etcdserver: requested lease not found`), or the code's name; `options` adds the reason, RPC path and cause. */
  constructor(details?: string, options?: EtcdErrorOptions) {
    super(Status.OUT_OF_RANGE, details ?? etcdMessage(new.target) ?? 'out of range', options);
  }
}
/** The server is out of a resource: space or request capacity (RESOURCE_EXHAUSTED). */
export class ResourceExhaustedError extends EtcdError {
  /** The gRPC code of this class and its subclasses. */
  static readonly code: Status = Status.RESOURCE_EXHAUSTED;
  /** `details` defaults to etcd's own message for the class (e.g. `etcdserver: requested lease not found`), or the code's name; `options` adds the reason, RPC path and cause. */
  constructor(details?: string, options?: EtcdErrorOptions) {
    super(Status.RESOURCE_EXHAUSTED, details ?? etcdMessage(new.target) ?? 'resource exhausted', options);
  }
}
/** A lease or member that does not exist (NOT_FOUND). */
export class NotFoundError extends EtcdError {
  /** The gRPC code of this class and its subclasses. */
  static readonly code: Status = Status.NOT_FOUND;
  /** `details` defaults to etcd's own message for the class (e.g. `etcdserver: requested lease not found`), or the code's name; `options` adds the reason, RPC path and cause. */
  constructor(details?: string, options?: EtcdErrorOptions) {
    super(Status.NOT_FOUND, details ?? etcdMessage(new.target) ?? 'not found', options);
  }
}
/** The cluster is not in a state that allows the call (FAILED_PRECONDITION). */
export class FailedPreconditionError extends EtcdError {
  /** The gRPC code of this class and its subclasses. */
  static readonly code: Status = Status.FAILED_PRECONDITION;
  /** `details` defaults to etcd's own message for the class (e.g. `etcdserver: requested lease not found`), or the code's name; `options` adds the reason, RPC path and cause. */
  constructor(details?: string, options?: EtcdErrorOptions) {
    super(Status.FAILED_PRECONDITION, details ?? etcdMessage(new.target) ?? 'failed precondition', options);
  }
}
/** The authenticated user lacks the permission for this key or call (PERMISSION_DENIED). */
export class PermissionDeniedError extends EtcdError {
  /** The gRPC code of this class and its subclasses. */
  static readonly code: Status = Status.PERMISSION_DENIED;
  /** `details` defaults to etcd's own message for the class (e.g. `etcdserver: requested lease not found`), or the code's name; `options` adds the reason, RPC path and cause. */
  constructor(details?: string, options?: EtcdErrorOptions) {
    super(Status.PERMISSION_DENIED, details ?? etcdMessage(new.target) ?? 'permission denied', options);
  }
}
/** The auth token is missing, invalid or expired (UNAUTHENTICATED). */
export class UnauthenticatedError extends EtcdError {
  /** The gRPC code of this class and its subclasses. */
  static readonly code: Status = Status.UNAUTHENTICATED;
  /** `details` defaults to etcd's own message for the class (e.g. `etcdserver: requested lease not found`), or the code's name; `options` adds the reason, RPC path and cause. */
  constructor(details?: string, options?: EtcdErrorOptions) {
    super(Status.UNAUTHENTICATED, details ?? etcdMessage(new.target) ?? 'unauthenticated', options);
  }
}
/** The server does not know this call: it is older than the API used (e.g. AuthStatus before etcd 3.5) (UNIMPLEMENTED). */
export class UnimplementedError extends EtcdError {
  /** The gRPC code of this class and its subclasses. */
  static readonly code: Status = Status.UNIMPLEMENTED;
  /** `details` defaults to etcd's own message for the class (e.g. `etcdserver: requested lease not found`), or the code's name; `options` adds the reason, RPC path and cause. */
  constructor(details?: string, options?: EtcdErrorOptions) {
    super(Status.UNIMPLEMENTED, details ?? etcdMessage(new.target) ?? 'unimplemented', options);
  }
}
/** No server could serve the call right now: transport down, no leader, timeouts (UNAVAILABLE). */
export class UnavailableError extends EtcdError {
  /** The gRPC code of this class and its subclasses. */
  static readonly code: Status = Status.UNAVAILABLE;
  /** `details` defaults to etcd's own message for the class (e.g. `etcdserver: requested lease not found`), or the code's name; `options` adds the reason, RPC path and cause. */
  constructor(details?: string, options?: EtcdErrorOptions) {
    super(Status.UNAVAILABLE, details ?? etcdMessage(new.target) ?? 'unavailable', options);
  }
}
/** Data is corrupt: a member detected a corrupt cluster, or a snapshot failed its checksum (DATA_LOSS). */
export class DataLossError extends EtcdError {
  /** The gRPC code of this class and its subclasses. */
  static readonly code: Status = Status.DATA_LOSS;
  /** `details` defaults to etcd's own message for the class (e.g. `etcdserver: requested lease not found`), or the code's name; `options` adds the reason, RPC path and cause. */
  constructor(details?: string, options?: EtcdErrorOptions) {
    super(Status.DATA_LOSS, details ?? etcdMessage(new.target) ?? 'data loss', options);
  }
}

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
  /** The gRPC code of this class. */
  static readonly code: Status = Status.CANCELLED;
  /** `details` defaults to `'the etcd client is closed'`; `options` adds the reason, RPC path and cause. */
  constructor(details = 'the etcd client is closed', options?: EtcdErrorOptions) {
    super(ClientClosedError.code, details, options);
  }
}
/** The caller's AbortSignal aborted the call. The signal's reason is the `cause`. */
export class AbortedError extends EtcdError {
  /** The gRPC code of this class. */
  static readonly code: Status = Status.CANCELLED;
  /** `details` defaults to `'the call was aborted'`; `options` adds the reason, RPC path and cause. */
  constructor(details = 'the call was aborted', options?: EtcdErrorOptions) {
    super(AbortedError.code, details, options);
  }
}
/** The call's timeout (or deadline) passed before etcd answered. */
export class DeadlineExceededError extends EtcdError {
  /** The gRPC code of this class. */
  static readonly code: Status = Status.DEADLINE_EXCEEDED;
  /** `details` defaults to `'the call did not finish within its timeout'`; `options` adds the reason, RPC path and cause. */
  constructor(details = 'the call did not finish within its timeout', options?: EtcdErrorOptions) {
    super(DeadlineExceededError.code, details, options);
  }
}
/** `Mutex.tryLock()`: another session holds the lock (Go's ErrLocked). */
export class LockedError extends EtcdError {
  /** The gRPC code of this class. */
  static readonly code: Status = Status.FAILED_PRECONDITION;
  /** `details` defaults to `'mutex: Locked by another session'`; `options` adds the reason, RPC path and cause. */
  constructor(details = 'mutex: Locked by another session', options?: EtcdErrorOptions) {
    super(LockedError.code, details, options);
  }
}
/** The session's lease ended, so its locks and leadership are gone (Go's ErrSessionExpired). */
export class SessionExpiredError extends EtcdError {
  /** The gRPC code of this class. */
  static readonly code: Status = Status.FAILED_PRECONDITION;
  /** `details` defaults to `'mutex: session is expired'`; `options` adds the reason, RPC path and cause. */
  constructor(details = 'mutex: session is expired', options?: EtcdErrorOptions) {
    super(SessionExpiredError.code, details, options);
  }
}
/** `Mutex.unlock()` found the lock already released (Go's ErrLockReleased). */
export class LockReleasedError extends EtcdError {
  /** The gRPC code of this class. */
  static readonly code: Status = Status.FAILED_PRECONDITION;
  /** `details` defaults to `'mutex: lock has already been released'`; `options` adds the reason, RPC path and cause. */
  constructor(details = 'mutex: lock has already been released', options?: EtcdErrorOptions) {
    super(LockReleasedError.code, details, options);
  }
}
/** `Election.proclaim()`/`resign()` by a candidate that is not (or no longer) the leader. */
export class ElectionNotLeaderError extends EtcdError {
  /** The gRPC code of this class. */
  static readonly code: Status = Status.FAILED_PRECONDITION;
  /** `details` defaults to `'election: not leader'`; `options` adds the reason, RPC path and cause. */
  constructor(details = 'election: not leader', options?: EtcdErrorOptions) {
    super(ElectionNotLeaderError.code, details, options);
  }
}
/** `Election.leader()` when nobody is campaigning. */
export class ElectionNoLeaderError extends EtcdError {
  /** The gRPC code of this class. */
  static readonly code: Status = Status.NOT_FOUND;
  /** `details` defaults to `'election: no leader'`; `options` adds the reason, RPC path and cause. */
  constructor(details = 'election: no leader', options?: EtcdErrorOptions) {
    super(ElectionNoLeaderError.code, details, options);
  }
}
/** A recipe's key already exists: `Barrier.hold()` on a held barrier (Go's recipe.ErrKeyExists). */
export class KeyExistsError extends EtcdError {
  /** The gRPC code of this class. */
  static readonly code: Status = Status.FAILED_PRECONDITION;
  /** `details` defaults to `'key already exists'`; `options` adds the reason, RPC path and cause. */
  constructor(details = 'key already exists', options?: EtcdErrorOptions) {
    super(KeyExistsError.code, details, options);
  }
}
/** `DoubleBarrier.enter()` when its count of participants has already entered (Go's recipe.ErrTooManyClients). */
export class TooManyClientsError extends EtcdError {
  /** The gRPC code of this class. */
  static readonly code: Status = Status.FAILED_PRECONDITION;
  /** `details` defaults to `'too many clients'`; `options` adds the reason, RPC path and cause. */
  constructor(details = 'too many clients', options?: EtcdErrorOptions) {
    super(TooManyClientsError.code, details, options);
  }
}
/** `stm()` ran out of attempts: every commit conflicted with another writer. */
export class StmConflictError extends EtcdError {
  /** The gRPC code of this class. */
  static readonly code: Status = Status.ABORTED;
  /** `attempts` is how many times the transaction ran before giving up. */
  constructor(attempts: number) {
    super(StmConflictError.code, `stm: the transaction conflicted on each of its ${attempts} attempts`);
  }
}

/**
 * An ordered KV got a response older than one it already saw, and its violation handler gave up
 * (Go's ordering `ErrNoGreaterRev`): reading it would go back in time.
 */
export class OrderingViolationError extends UnavailableError {
  /** Made by the ordered KV with the stale and the newest revision; `details` defaults to Go's message. */
  constructor(
    /** The revision of the stale response. */
    readonly revision: bigint,
    /** The newest revision seen before it. */
    readonly previousRevision: bigint,
    details = `etcdclient: no cluster members have a revision higher than the previously received revision (got ${revision}, seen ${previousRevision})`,
  ) {
    super(details, { reason: 'NoGreaterRev' });
  }
}

/** The client's configuration is invalid (missing endpoints, bad URL, bad option). */
export class ConfigError extends EtcdError {
  /** The gRPC code of this class. */
  static readonly code: Status = Status.INVALID_ARGUMENT;
  /** `details` says what is wrong with the configuration; `options` adds the cause. */
  constructor(details: string, options?: EtcdErrorOptions) {
    super(ConfigError.code, details, options);
  }
}

/**
 * etcd's server errors, keyed by the exact status message (from etcd's
 * `api/v3rpc/rpctypes/error.go`): the class it becomes (which fixes its gRPC code) and Go's name for it.
 * @internal
 */
export const serverErrors: ReadonlyMap<string, { type: ErrorClass; reason: string }> = new Map(
  (
    [
      // INVALID_ARGUMENT
      ['etcdserver: key is not provided', EmptyKeyError, 'EmptyKey'],
      ['etcdserver: key not found', KeyNotFoundError, 'KeyNotFound'],
      ['etcdserver: value is provided', ValueProvidedError, 'ValueProvided'],
      ['etcdserver: lease is provided', LeaseProvidedError, 'LeaseProvided'],
      ['etcdserver: too many operations in txn request', TooManyOpsError, 'TooManyOps'],
      ['etcdserver: duplicate key given in txn request', DuplicateKeyError, 'DuplicateKey'],
      ['etcdserver: invalid client api version', InvalidArgumentError, 'InvalidClientAPIVersion'],
      ['etcdserver: invalid sort option', InvalidArgumentError, 'InvalidSortOption'],
      ['etcdserver: given member URLs are invalid', InvalidArgumentError, 'MemberBadURLs'],
      ['etcdserver: request is too large', RequestTooLargeError, 'RequestTooLarge'],
      ['etcdserver: user name is empty', InvalidArgumentError, 'UserEmpty'],
      ['etcdserver: role name is empty', InvalidArgumentError, 'RoleEmpty'],
      ['etcdserver: authentication failed, invalid user ID or password', AuthFailedError, 'AuthFailed'],
      ['etcdserver: permission not given', InvalidArgumentError, 'PermissionNotGiven'],
      ['etcdserver: invalid auth management', InvalidArgumentError, 'InvalidAuthMgmt'],
      ['etcdserver: revision of auth store is old', AuthOldRevisionError, 'AuthOldRevision'],
      ['etcdserver: wrong downgrade target version format', InvalidArgumentError, 'WrongDowngradeVersionFormat'],
      ['etcdserver: invalid downgrade target version', InvalidArgumentError, 'InvalidDowngradeTargetVersion'],
      // OUT_OF_RANGE
      ['etcdserver: mvcc: required revision has been compacted', CompactedError, 'Compacted'],
      ['etcdserver: mvcc: required revision is a future revision', FutureRevisionError, 'FutureRev'],
      ['etcdserver: too large lease TTL', LeaseTTLTooLargeError, 'LeaseTTLTooLarge'],
      // RESOURCE_EXHAUSTED
      ['etcdserver: mvcc: database space exceeded', NoSpaceError, 'NoSpace'],
      ['etcdserver: too many requests', ResourceExhaustedError, 'TooManyRequests'],
      // NOT_FOUND
      ['etcdserver: requested lease not found', LeaseNotFoundError, 'LeaseNotFound'],
      ['etcdserver: member not found', MemberNotFoundError, 'MemberNotFound'],
      // FAILED_PRECONDITION
      ['etcdserver: lease already exists', LeaseExistsError, 'LeaseExist'],
      ['etcdserver: member ID already exist', FailedPreconditionError, 'MemberExist'],
      ['etcdserver: Peer URLs already exists', FailedPreconditionError, 'PeerURLExist'],
      ['etcdserver: re-configuration failed due to not enough started members', FailedPreconditionError, 'MemberNotEnoughStarted'],
      ['etcdserver: can only promote a learner member', FailedPreconditionError, 'MemberNotLearner'],
      ['etcdserver: can only promote a learner member which is in sync with leader', FailedPreconditionError, 'LearnerNotReady'],
      ['etcdserver: too many learner members in cluster', FailedPreconditionError, 'TooManyLearners'],
      ['etcdserver: cluster ID mismatch', FailedPreconditionError, 'ClusterIdMismatch'],
      ['etcdserver: root user does not exist', FailedPreconditionError, 'RootUserNotExist'],
      ['etcdserver: root user does not have root role', FailedPreconditionError, 'RootRoleNotExist'],
      ['etcdserver: user name already exists', FailedPreconditionError, 'UserAlreadyExist'],
      ['etcdserver: user name not found', FailedPreconditionError, 'UserNotFound'],
      ['etcdserver: role name already exists', FailedPreconditionError, 'RoleAlreadyExist'],
      ['etcdserver: role name not found', FailedPreconditionError, 'RoleNotFound'],
      ['etcdserver: role is not granted to the user', FailedPreconditionError, 'RoleNotGranted'],
      ['etcdserver: permission is not granted to the role', FailedPreconditionError, 'PermissionNotGranted'],
      ['etcdserver: authentication is not enabled', AuthNotEnabledError, 'AuthNotEnabled'],
      ['etcdserver: not leader', NotLeaderError, 'NotLeader'],
      ['etcdserver: not capable', FailedPreconditionError, 'NotCapable'],
      ['etcdserver: rpc not supported for learner', FailedPreconditionError, 'NotSupportedForLearner'],
      ['etcdserver: bad leader transferee', FailedPreconditionError, 'BadLeaderTransferee'],
      ['etcdserver: cluster version not found during downgrade', FailedPreconditionError, 'ClusterVersionUnavailable'],
      ['etcdserver: cluster has a downgrade job in progress', FailedPreconditionError, 'DowngradeInProcess'],
      ['etcdserver: no inflight downgrade job', FailedPreconditionError, 'NoInflightDowngrade'],
      // PERMISSION_DENIED / UNAUTHENTICATED
      ['etcdserver: permission denied', PermissionDeniedError, 'PermissionDenied'],
      ['etcdserver: invalid auth token', InvalidAuthTokenError, 'InvalidAuthToken'],
      // UNAVAILABLE
      ['etcdserver: no leader', NoLeaderError, 'NoLeader'],
      ['etcdserver: leader changed', UnavailableError, 'LeaderChanged'],
      ['etcdserver: server stopped', UnavailableError, 'Stopped'],
      ['etcdserver: request timed out', ServerTimeoutError, 'Timeout'],
      ['etcdserver: request timed out, possibly due to previous leader failure', ServerTimeoutError, 'TimeoutDueToLeaderFail'],
      ['etcdserver: request timed out, possibly due to connection lost', ServerTimeoutError, 'TimeoutDueToConnectionLost'],
      // etcd 3.4 sends this one with code UNKNOWN (its MoveLeader error is not translated to a gRPC status).
      ['etcdserver: request timed out, leader transfer took too long', ServerTimeoutError, 'TimeoutLeaderTransfer'],
      ['etcdserver: request timed out, waiting for the applied index took too long', ServerTimeoutError, 'TimeoutWaitAppliedIndex'],
      ['etcdserver: unhealthy cluster', UnavailableError, 'Unhealthy'],
      // DATA_LOSS
      ['etcdserver: corrupt cluster', DataLossError, 'Corrupt'],
    ] as const
  ).map(([message, type, reason]) => [message, { type, reason }]),
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
  [Status.DATA_LOSS]: DataLossError,
};

/** etcd's own message for a specific class, when the table has exactly one; none for the groups. */
function etcdMessage(type: Function): string | undefined {
  if (Object.values(groupByCode).includes(type as ErrorClass)) return undefined;
  let found: string | undefined;
  for (const [message, entry] of serverErrors) {
    if (entry.type !== type) continue;
    if (found !== undefined) return undefined;
    found = message;
  }
  return found;
}

/** Turns a gRPC status (code + message) into the matching `EtcdError` subclass. */
export function errorFromStatus(code: Status, details: string, path?: string, cause?: unknown): EtcdError {
  const known = serverErrors.get(details);
  if (known) return new known.type(details, { reason: known.reason, path, cause });
  if (code === Status.DEADLINE_EXCEEDED) return new DeadlineExceededError(details, { path, cause });
  if (code === Status.CANCELLED) return new AbortedError(details, { path, cause });
  const group = groupByCode[code];
  if (group) return new group(details, { reason: Status[code], path, cause });
  return new EtcdError(code, details, { reason: Status[code], path, cause });
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
