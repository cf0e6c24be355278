import { ClientError, type CallOptions, type ClientMiddleware, type ClientMiddlewareCall, Metadata, Status } from 'nice-grpc-common';
import type { DeadlineOptions } from 'nice-grpc-client-middleware-deadline';
import type { RetryOptions } from 'nice-grpc-client-middleware-retry';
import { DeadlineExceededError } from '../errors.js';

/** Call option consumed by `timeoutMiddleware`. @internal */
export interface TimeoutOptions {
  /** Time limit of the whole call in ms, retries included. */
  timeout?: number;
}

// grpc-timeout holds at most 8 digits and a unit (gRPC over HTTP/2 spec).
const maxTimeoutValue = 99_999_999;

/**
 * Turns the `timeout` option into both halves of a deadline: the `deadline` that
 * nice-grpc-client-middleware-deadline enforces by aborting the call, and the `grpc-timeout`
 * header that tells etcd the deadline up front (the deadline middleware sends none, and
 * nice-grpc offers no other way to set grpc-js's own deadline). Rewrites the deadline error
 * into a `DeadlineExceededError` that names the limit.
 * @internal
 */
export const timeoutMiddleware: ClientMiddleware<TimeoutOptions, DeadlineOptions & RetryOptions> = async function* timeout<Request, Response>(
  call: ClientMiddlewareCall<Request, Response, DeadlineOptions & RetryOptions>,
  options: CallOptions & TimeoutOptions & DeadlineOptions & RetryOptions,
) {
  const { timeout, ...rest } = options;
  if (timeout === undefined || timeout === Infinity) return yield* call.next(call.request, rest);
  const metadata = Metadata(rest.metadata);
  metadata.set('grpc-timeout', grpcTimeout(timeout));
  const started = performance.now();
  // The failure that made the retry middleware try again: when time runs out during retries,
  // it is the real reason (a refused connection, a TLS failure), not the timeout.
  let lastRetried: ClientError | undefined;
  const onRetryableError = (error: ClientError, attempt: number, delayMs: number) => {
    lastRetried = error;
    rest.onRetryableError?.(error, attempt, delayMs);
  };
  try {
    return yield* call.next(call.request, { ...rest, metadata, deadline: timeout, onRetryableError });
  } catch (error) {
    // etcd may answer DEADLINE_EXCEEDED itself, earlier (its own request timeout): keep its words
    // then. At our deadline, etcd's own expiry of the same grpc-timeout can win the race, and
    // some etcd 3.4 services report it as UNKNOWN "context deadline exceeded": it is ours.
    if (
      error instanceof ClientError &&
      (error.code === Status.DEADLINE_EXCEEDED || error.details === 'context deadline exceeded') &&
      performance.now() - started >= timeout - 1
    ) {
      const last = lastRetried ? `; the last attempt failed with ${Status[lastRetried.code]}: ${lastRetried.details}` : '';
      throw new DeadlineExceededError(`${call.method.path} got no answer within its ${timeout} ms timeout${last}`, {
        path: call.method.path,
        cause: lastRetried ?? error,
      });
    }
    throw error;
  }
};

/** Encodes a timeout in ms as a grpc-timeout header value. @internal */
export function grpcTimeout(ms: number): string {
  const millis = Math.max(1, Math.ceil(ms));
  if (millis <= maxTimeoutValue) return `${millis}m`;
  return `${Math.min(maxTimeoutValue, Math.ceil(millis / 1000))}S`;
}
