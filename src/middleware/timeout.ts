import { ClientError, type CallOptions, type ClientMiddleware, type ClientMiddlewareCall, Metadata, Status } from 'nice-grpc-common';
import type { DeadlineOptions } from 'nice-grpc-client-middleware-deadline';
import { DeadlineExceededError } from '../errors.js';

/** Call option: the time limit of a call. @internal */
export interface TimeoutOptions {
  /** Time limit of the whole call in ms, retries included. */
  timeout?: number;
}

// grpc-timeout holds at most 8 digits and a unit (gRPC over HTTP/2 spec).
const maxTimeoutValue = 99_999_999;

/**
 * For streams (unary calls handle their limit in unary.ts): turns the `timeout` option into
 * both halves of a deadline: the `deadline` that nice-grpc-client-middleware-deadline enforces
 * by aborting the stream, and the `grpc-timeout` header that tells etcd the deadline up front
 * (the deadline middleware sends none). Rewrites the deadline error into a
 * `DeadlineExceededError` that names the limit.
 * @internal
 */
export const timeoutMiddleware: ClientMiddleware<TimeoutOptions, DeadlineOptions> = function timeoutOrNot<Request, Response>(
  call: ClientMiddlewareCall<Request, Response, DeadlineOptions>,
  options: CallOptions & TimeoutOptions & DeadlineOptions,
) {
  const { timeout, ...rest } = options;
  // Without a limit, the next layer's generator itself: no layer of ours for every message.
  if (timeout === undefined || timeout === Infinity) return call.next(call.request, rest);
  return timed(call, rest, timeout);
};

async function* timed<Request, Response>(
  call: ClientMiddlewareCall<Request, Response, DeadlineOptions>,
  rest: CallOptions & DeadlineOptions,
  timeout: number,
): AsyncGenerator<Response, Response | void, undefined> {
  const metadata = Metadata(rest.metadata);
  metadata.set('grpc-timeout', grpcTimeout(timeout));
  const started = performance.now();
  try {
    return yield* call.next(call.request, { ...rest, metadata, deadline: timeout });
  } catch (error) {
    // etcd's own expiry of the same grpc-timeout can win the race; some etcd 3.4 services
    // report it as UNKNOWN "context deadline exceeded": it is ours.
    if (
      error instanceof ClientError &&
      (error.code === Status.DEADLINE_EXCEEDED || error.details === 'context deadline exceeded') &&
      performance.now() - started >= timeout - 1
    ) {
      throw new DeadlineExceededError(`${call.method.path} got no answer within its ${timeout} ms timeout`, { path: call.method.path, cause: error });
    }
    throw error;
  }
}

/** Encodes a timeout in ms as a grpc-timeout header value. @internal */
export function grpcTimeout(ms: number): string {
  const millis = Math.max(1, Math.ceil(ms));
  if (millis <= maxTimeoutValue) return `${millis}m`;
  return `${Math.min(maxTimeoutValue, Math.ceil(millis / 1000))}S`;
}
