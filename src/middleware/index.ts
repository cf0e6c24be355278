import { createClientFactory } from 'nice-grpc';
import { deadlineMiddleware } from 'nice-grpc-client-middleware-deadline';
import { retryMiddleware } from 'nice-grpc-client-middleware-retry';
import type { CallEvent } from '../config.js';
import { retryGuardMiddleware } from '../retry.js';
import { type TokenSource, authMiddleware } from './auth.js';
import { lifecycleMiddleware } from './lifecycle.js';
import { timeoutMiddleware } from './timeout.js';

/**
 * Builds the client factory once per client. A call passes the middleware outermost first:
 *
 *   lifecycle  closed-client check, close/abort linking, EtcdError translation, onCall hook
 *   timeout    `timeout` → `deadline` + grpc-timeout header; names the limit on expiry
 *   deadline   (nice-grpc) aborts the call when the deadline passes, retries included
 *   retry      (nice-grpc) repeats UNAVAILABLE with exponential backoff and jitter
 *   retryGuard keeps writes that may have reached etcd out of the retry middleware's sight
 *   auth       sends the token; on a rejected token, re-authenticates and repeats the call once
 *   transport  grpc-js
 *
 * nice-grpc invokes the middleware attached first last, so `.use()` below reads innermost first.
 * @internal
 */
export function createEtcdClientFactory(closed: AbortSignal, onCall: ((event: CallEvent) => void) | undefined, tokens: TokenSource) {
  return createClientFactory()
    .use(authMiddleware(tokens))
    .use(retryGuardMiddleware)
    .use(retryMiddleware)
    .use(deadlineMiddleware)
    .use(timeoutMiddleware)
    .use(lifecycleMiddleware(closed, onCall));
}

/** The client factory type, with every call option the chain understands. @internal */
export type EtcdClientFactory = ReturnType<typeof createEtcdClientFactory>;
