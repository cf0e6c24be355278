import { ClientError, type CallOptions, type ClientMiddleware, type ClientMiddlewareCall, Status } from 'nice-grpc-common';
import { toEtcdError } from './errors.js';
import { methodPolicy } from './policy.js';

/**
 * Both transports fail a call with this message when they found no connection to send it
 * on, so the server cannot have seen it (Go's "there is no connection available"); grpc-js's
 * round_robin balancer (several endpoints) prefixes its name.
 */
const unsentPattern = /^(?:round_robin: )?No connection established/;

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
  if (methodPolicy(call.method.path)?.retry !== 'unsentOnly') return yield* call.next(call.request, options);
  try {
    return yield* call.next(call.request, options);
  } catch (error) {
    if (error instanceof ClientError && error.code === Status.UNAVAILABLE && !provablyUnsent(error)) throw toEtcdError(error);
    throw error;
  }
};
