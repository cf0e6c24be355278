import { ClientError, Status } from 'nice-grpc-common';
import type { RetryPolicy } from './policy.js';

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
 * Whether a failed attempt of an RPC with `policy` may be repeated (Go's retry.go): only on
 * UNAVAILABLE; a `repeatable` call always, an `unsentOnly` call (a write) only when the failure
 * proves the request never left the client, so a write is never applied twice.
 * @internal
 */
export function shouldRetry(policy: RetryPolicy, error: unknown): boolean {
  if (!(error instanceof ClientError) || error.code !== Status.UNAVAILABLE) return false;
  return policy === 'repeatable' || (policy === 'unsentOnly' && provablyUnsent(error));
}

/**
 * The pause before retry number `retry` (0 for the first): exponential from `baseDelay`,
 * capped at `maxDelay`, with "equal jitter" (half fixed, half random), as
 * nice-grpc-client-middleware-retry computes it, so the spread of many clients is unchanged.
 * @internal
 */
export function backoffDelay(retry: number, config: { baseDelay: number; maxDelay: number }): number {
  const backoff = Math.min(config.maxDelay, 2 ** retry * config.baseDelay);
  return Math.round((backoff * (1 + Math.random())) / 2);
}
