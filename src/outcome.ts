import { AbortedError, ClientClosedError, DeadlineExceededError, type EtcdError, NoLeaderError, Status } from './errors.js';
import { provablyUnsent } from './retry.js';

/**
 * Whether a write that failed with `error` may have been applied by etcd. It may, when the
 * call ended without an answer (deadline, abort, client closed) or the connection failed under
 * it (UNAVAILABLE, UNKNOWN, INTERNAL), including etcd's own "request timed out" and "leader
 * changed" (the proposal may still commit). It was not, when the request provably never left
 * the client, when a member without a leader refused it (`NoLeaderError`, checked before
 * anything is proposed), or when etcd answered with any other error.
 * @internal
 */
export function mayHaveApplied(error: EtcdError): boolean {
  if (error instanceof DeadlineExceededError || error instanceof AbortedError || error instanceof ClientClosedError) return true;
  if (provablyUnsent(error.cause) || error instanceof NoLeaderError) return false;
  return error.code === Status.UNAVAILABLE || error.code === Status.UNKNOWN || error.code === Status.INTERNAL;
}

/** Marks a write's error as having an unknown outcome (sets `outcomeUnknown`). @internal */
export function markOutcomeUnknown(error: EtcdError): void {
  Object.defineProperty(error, 'outcomeUnknown', { value: true, enumerable: true });
}
