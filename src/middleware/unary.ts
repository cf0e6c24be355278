import { delay, isAbortError } from 'abort-controller-x';
import { type CallOptions, ClientError, type ClientMiddleware, type ClientMiddlewareCall, Metadata, Status } from 'nice-grpc-common';
import type { ResolvedConfig } from '../config.js';
import { AbortedError, ClientClosedError, DeadlineExceededError, type EtcdError, isTokenError, toEtcdError } from '../errors.js';
import { markOutcomeUnknown, mayHaveApplied } from '../outcome.js';
import { type RetryPolicy, definitions, methodPolicies } from '../policy.js';
import { backoffDelay, shouldRetry } from '../retry.js';
import { followSignal } from '../signals.js';
import type { TokenSource } from './auth.js';
import { type DeadlineSlot, DeadlineSignals } from './deadlines.js';
import { abortDetails } from './lifecycle.js';
import { type TimeoutOptions, grpcTimeout } from './timeout.js';

/** How the client runs one unary RPC, read once per client from the policy table. @internal */
export interface UnaryPlan {
  /** When a failed attempt is repeated ('never' when the client allows one attempt only). */
  readonly retry: RetryPolicy;
  /** The default time limit of the call in ms; undefined: none. */
  readonly timeout: number | undefined;
  /** A write that must not be repeated: a failure without an answer leaves its outcome unknown. */
  readonly write: boolean;
}

/** Every unary RPC's plan for a client with `config`, by gRPC path. @internal */
export function unaryPlans(config: ResolvedConfig): Map<string, UnaryPlan> {
  const plans = new Map<string, UnaryPlan>();
  for (const [service, definition] of Object.entries(definitions)) {
    const policies = (methodPolicies as unknown as Record<string, Record<string, { retry: RetryPolicy; timeout: 'default' | 'none'; effect: string }>>)[service];
    for (const [key, method] of Object.entries(definition.methods)) {
      const policy = policies[key];
      plans.set(`/${definition.fullName}/${method.name}`, {
        retry: config.retry.maxAttempts > 1 ? policy.retry : 'never',
        timeout: policy.timeout === 'default' ? config.timeout : undefined,
        write: policy.effect === 'write',
      });
    }
  }
  return plans;
}

/** What the fused unary middleware needs of its client. @internal */
export interface UnarySettings {
  readonly config: ResolvedConfig;
  /** Aborted by the client's close(). */
  readonly closed: AbortSignal;
  readonly tokens: TokenSource;
}

const authenticatePath = '/etcdserverpb.Auth/Authenticate';
const noRetry: UnaryPlan = { retry: 'never', timeout: undefined, write: false };

/**
 * The whole client-side life of a unary call in one middleware: the closed-client check, the
 * time limit (grpc-timeout header and a shared deadline signal), the caller's signal, retries by
 * the policy table (UNAVAILABLE only; a write only when provably unsent) with jittered backoff,
 * the auth token and its one refresh, error translation to `EtcdError`, and the `onCall` event.
 * Six generator layers did this before at ~48 µs per call; folded together, a call without a
 * caller's signal makes no AbortController, no timer and no listener of its own.
 *
 * The retry and deadline loops are written out here rather than taken from
 * nice-grpc-client-middleware-retry/-deadline: those decide by status code alone (a sent write
 * needs a guard layer to hide it), allocate a controller and a timer per call, and hide the
 * failure that was being retried when the deadline ends the call; folding them in costs ~20
 * lines. Middleware of users still composes through nice-grpc's `.use()` (see index.ts), and
 * sees every attempt.
 *
 * Streams pass through to `streams`, the separate chain they keep.
 * @internal
 */
export function unaryMiddleware(settings: UnarySettings, streams: ClientMiddleware<TimeoutOptions>): ClientMiddleware<TimeoutOptions> {
  const { config, closed, tokens } = settings;
  const { onCall } = config;
  const { maxAttempts } = config.retry;
  const plans = unaryPlans(config);
  const deadlines = new DeadlineSignals(closed);
  const headers = new TimeoutHeaders();

  // Streams get their chain's generator itself, not one wrapped in another layer: each
  // layer costs every message of a stream a resumption.
  return function unaryOrStream<Request, Response>(call: ClientMiddlewareCall<Request, Response>, options: CallOptions & TimeoutOptions) {
    if (call.requestStream || call.responseStream) return streams(call, options);
    return unary(call, options);
  };

  async function* unary<Request, Response>(call: ClientMiddlewareCall<Request, Response>, options: CallOptions & TimeoutOptions): AsyncGenerator<Response, Response, undefined> {
    const path = call.method.path;
    if (closed.aborted) throw new ClientClosedError();
    const userSignal = options.signal;
    if (userSignal?.aborted) throw new AbortedError(abortDetails(userSignal), { path, cause: userSignal.reason });

    const plan = plans.get(path) ?? noRetry;
    const timeout = options.timeout ?? plan.timeout;
    const timed = timeout !== undefined && timeout !== Infinity;
    const started = performance.now();
    const slot: DeadlineSlot | undefined = timed ? deadlines.acquire(started + timeout, timeout) : undefined;
    // Without a caller's signal, the shared deadline slot (or the close signal) is the call's
    // signal. With one, a controller follows both through one shared listener per signal.
    const base = slot?.signal ?? closed;
    const controller = userSignal ? new AbortController() : undefined;
    const unlinkBase = controller ? followSignal(base, controller) : undefined;
    const unlinkUser = controller && userSignal ? followSignal(userSignal, controller) : undefined;
    const signal = controller?.signal ?? base;
    const withToken = tokens.configured && path !== authenticatePath;

    // One attempt: the request with the time left as grpc-timeout and, with auth, the token;
    // a rejected token is replaced and the attempt repeated once.
    const attempt = async (first: boolean): Promise<Response> => {
      const header = !timed ? undefined : first ? headers.of(timeout) : grpcTimeout(started + timeout - performance.now());
      if (!withToken) return send(call, options, signal, header, undefined);
      const token = await tokens.get(signal);
      try {
        return await send(call, options, signal, header, token);
      } catch (error) {
        if (!isTokenError(error) || !tokens.refreshable) throw error;
        tokens.invalidate(token);
        return await send(call, options, signal, header, await tokens.get(signal));
      }
    };

    let failure: EtcdError | undefined;
    let lastRetried: ClientError | undefined;
    try {
      for (let tries = 1; ; tries++) {
        try {
          return await attempt(tries === 1);
        } catch (error) {
          if (signal.aborted || tries >= maxAttempts || !shouldRetry(plan.retry, error)) throw error;
          lastRetried = error as ClientError;
          config.log?.debug('retrying', { method: path, attempt: tries, code: Status[lastRetried.code], cause: lastRetried.details });
          await delay(signal, backoffDelay(tries - 1, config.retry));
        }
      }
    } catch (error) {
      if (closed.aborted) failure = new ClientClosedError();
      else if (userSignal?.aborted && isAbortError(error)) failure = new AbortedError(abortDetails(userSignal), { path, cause: userSignal.reason });
      else if (timed && isDeadline(error, slot) && performance.now() - started >= timeout - 1) {
        const last = lastRetried ? `; the last attempt failed with ${Status[lastRetried.code]}: ${lastRetried.details}` : '';
        failure = new DeadlineExceededError(`${path} got no answer within its ${timeout} ms timeout${last}`, { path, cause: lastRetried ?? error });
      } else failure = toEtcdError(error);
      if (plan.write && mayHaveApplied(failure)) markOutcomeUnknown(failure);
      throw failure;
    } finally {
      if (slot) deadlines.release(slot);
      unlinkBase?.();
      unlinkUser?.();
      onCall?.({ method: path, durationMs: performance.now() - started, error: failure });
    }
  }
}

/**
 * The ways a call ends at its deadline: our slot aborted it, etcd's expiry of the same
 * grpc-timeout won the race, or an etcd 3.4 service reported that expiry as UNKNOWN
 * "context deadline exceeded". An earlier DEADLINE_EXCEEDED of etcd's own (its request timeout)
 * fails the elapsed-time check of the caller and keeps etcd's words.
 */
function isDeadline(error: unknown, slot: DeadlineSlot | undefined): boolean {
  if (isAbortError(error)) return slot?.expired === true;
  return error instanceof ClientError && (error.code === Status.DEADLINE_EXCEEDED || error.details === 'context deadline exceeded');
}

/**
 * Calls the next layer once. grpc-js's `Client` captures the caller's stack with `new Error()`
 * on every call (~3 µs with V8's default 10 frames, ~17 µs of a call's CPU under load by the
 * issue's profile) to append it to a failed call's error; nice-grpc replaces that error with a
 * `ClientError` of its own, so the capture is never seen. The next layers run synchronously
 * up to grpc-js's `makeUnaryRequest` (nice-grpc's unary method starts it before its first
 * await), so the capture happens inside this window with `Error.stackTraceLimit` at 0, and the
 * limit is restored before anything else runs. A middleware of the user's that awaits before
 * calling on simply gets the capture back. test/unit/caller-stack.test.ts fails if a grpc-js
 * upgrade moves the capture out of the window.
 */
function send<Request, Response>(
  call: ClientMiddlewareCall<Request, Response>,
  options: CallOptions,
  signal: AbortSignal,
  timeoutHeader: string | undefined,
  token: string | undefined,
): Promise<Response> {
  let metadata = options.metadata;
  if (timeoutHeader !== undefined || token !== undefined) {
    metadata = Metadata(metadata);
    if (timeoutHeader !== undefined) metadata.set('grpc-timeout', timeoutHeader);
    if (token !== undefined) metadata.set('token', token);
  }
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  let result: Promise<IteratorResult<unknown, Response | void>>;
  try {
    result = call.next(call.request, { ...options, signal, metadata })[Symbol.asyncIterator]().next();
  } finally {
    Error.stackTraceLimit = limit;
  }
  return result.then((r) => {
    if (!r.done || r.value == null) throw new Error(`a middleware of ${call.method.path} did not return exactly one response`);
    return r.value;
  });
}

/** grpc-timeout values by timeout, made once: most calls of a client share one timeout. */
class TimeoutHeaders {
  #timeout = -1;
  #header = '';

  of(timeout: number): string {
    if (timeout !== this.#timeout) {
      this.#header = grpcTimeout(timeout);
      this.#timeout = timeout;
    }
    return this.#header;
  }
}
