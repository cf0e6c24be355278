import { isAbortError } from 'abort-controller-x';
import type { CallOptions, ClientMiddleware, ClientMiddlewareCall } from 'nice-grpc-common';
import type { CallEvent } from '../config.js';
import { AbortedError, ClientClosedError, type EtcdError, toEtcdError } from '../errors.js';
import { followSignal } from '../signals.js';

/**
 * The outermost middleware, the one place every call passes through: it fails calls on a
 * closed client at once, cancels calls in flight when the client closes, turns every failure
 * into an `EtcdError`, and reports each finished call to the `onCall` hook (metrics, logs).
 * @internal
 */
export function lifecycleMiddleware(closed: AbortSignal, onCall: ((event: CallEvent) => void) | undefined): ClientMiddleware {
  return async function* lifecycle<Request, Response>(call: ClientMiddlewareCall<Request, Response>, options: CallOptions) {
    if (closed.aborted) throw new ClientClosedError();
    const userSignal = options.signal;
    if (userSignal?.aborted) throw new AbortedError(abortDetails(userSignal), { path: call.method.path, cause: userSignal.reason });

    // Without a caller's signal the client's own close signal is the call's signal: no extra
    // controller or listeners on the hot path. With one, the call follows both signals
    // through one shared listener per signal, however many calls share it.
    const controller = userSignal ? new AbortController() : undefined;
    const unlinks = controller && userSignal ? [followSignal(closed, controller), followSignal(userSignal, controller)] : [];
    const started = onCall ? performance.now() : 0;
    let failure: EtcdError | undefined;
    try {
      return yield* call.next(call.request, { ...options, signal: controller?.signal ?? closed });
    } catch (error) {
      if (closed.aborted) failure = new ClientClosedError();
      else if (userSignal?.aborted && isAbortError(error)) {
        failure = new AbortedError(abortDetails(userSignal), { path: call.method.path, cause: userSignal.reason });
      } else failure = toEtcdError(error);
      throw failure;
    } finally {
      for (const unlink of unlinks) unlink();
      onCall?.({ method: call.method.path, durationMs: performance.now() - started, error: failure });
    }
  };
}

/** Why a call was aborted, in words, from its signal's reason. @internal */
export function abortDetails(signal: AbortSignal): string {
  const reason: unknown = signal.reason;
  if (reason instanceof Error && reason.name !== 'AbortError') return `the call was aborted: ${reason.message}`;
  return 'the call was aborted';
}
