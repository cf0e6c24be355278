import { type ClientMiddleware, composeClientMiddleware } from 'nice-grpc-common';
import { createClientFactory } from 'nice-grpc';
import { type DeadlineOptions, deadlineMiddleware } from 'nice-grpc-client-middleware-deadline';
import type { ResolvedConfig } from '../config.js';
import { type TokenSource, authMiddleware } from './auth.js';
import { lifecycleMiddleware } from './lifecycle.js';
import { timeoutMiddleware } from './timeout.js';
import { unaryMiddleware } from './unary.js';

/**
 * Builds the client factory once per client. A call passes, outermost first:
 *
 *   unary calls   one fused middleware (unary.ts): closed-client check, close/abort linking,
 *                 time limit + grpc-timeout, retries by the policy table, auth token and its
 *                 refresh, EtcdError translation, onCall hook
 *   streams       a chain of their own, inside the same first layer:
 *                   lifecycle  closed-client check, close/abort linking, EtcdError translation, onCall hook
 *                   timeout    `timeout` → `deadline` + grpc-timeout header; names the limit on expiry
 *                   deadline   (nice-grpc) aborts the stream when the deadline passes (skipped without one)
 *                   auth       sends the token (a stream's owner reopens it on a rejected token;
 *                              skipped when the client has no credentials)
 *   user middleware  config `middleware` (prometheus, opentelemetry...), the first in the list
 *                 outermost: between this first layer and the transport, attached with `.use()`
 *                 before it, so it sees every attempt of a retried call (with its token and
 *                 grpc-timeout) and etcd's status code of each; nothing when the list is empty
 *   transport     nice-grpc's client on a grpc-js `Channel`
 *
 * nice-grpc invokes the middleware attached first last, so `.use()` reads innermost first.
 * @internal
 */
export function createEtcdClientFactory(config: ResolvedConfig, closed: AbortSignal, tokens: TokenSource) {
  const streams = composeClientMiddleware(
    composeClientMiddleware(composeClientMiddleware(unlessNoToken(authMiddleware(tokens), tokens), unlessNoDeadline), timeoutMiddleware),
    lifecycleMiddleware(closed, config.onCall),
  );
  let factory = createClientFactory();
  // `.use()` reads innermost first: the list's last is attached first.
  for (let i = config.middleware.length - 1; i >= 0; i--) factory = factory.use(config.middleware[i]);
  return factory.use(unaryMiddleware({ config, closed, tokens }, streams));
}

/**
 * The deadline layer only for a stream with a deadline: without one, the next layer's
 * generator itself, so the messages of a long-lived stream (keep-alive, watch) pass one
 * generator fewer (nice-grpc's deadline middleware would only pass them through).
 */
const unlessNoDeadline: ClientMiddleware<DeadlineOptions> = (call, options) =>
  options.deadline == null ? call.next(call.request, options) : deadlineMiddleware(call, options);

/** The auth layer only when the client has credentials; without, the next layer's generator itself. */
function unlessNoToken(auth: ClientMiddleware, tokens: TokenSource): ClientMiddleware {
  return (call, options) => (tokens.configured ? auth(call, options) : call.next(call.request, options));
}

/** The client factory type, with every call option the chain understands. @internal */
export type EtcdClientFactory = ReturnType<typeof createEtcdClientFactory>;
