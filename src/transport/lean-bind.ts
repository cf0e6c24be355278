import { AsyncResource } from 'node:async_hooks';

/**
 * Node 20's `ClientHttp2Session.request()` binds every new stream's connect step to an
 * `AsyncResource` with `AsyncResource.prototype.bind`, which in Node 20 also defines a
 * deprecated `asyncResource` accessor pair on the bound function: two `util.deprecate` wrappers
 * and a `setPrototypeOf` each, 4.3 KB of the ~30 KB a put allocates and ~6% of its CPU
 * (newer Node no longer does this: nodejs/node#58618, #59195). `withLeanBind` runs `open` with
 * a `bind` that keeps what the binding is for (the bound function runs in the resource's async
 * scope, so AsyncLocalStorage and async_hooks see the same contexts) without the accessors,
 * which only http2's internals ever hold. The swap lasts for the synchronous call only and is
 * undone in `finally`: nothing else runs in between. test/unit/lean-bind.test.ts fails if a
 * Node upgrade makes `request()` stop calling `bind`, so the workaround cannot linger unseen.
 * @internal
 */
export function withLeanBind<T>(open: () => T): T {
  const prototype = AsyncResource.prototype;
  prototype.bind = leanBind as typeof nodeBind;
  try {
    return open();
  } finally {
    prototype.bind = nodeBind;
  }
}

const nodeBind = AsyncResource.prototype.bind;

/** How many bindings `withLeanBind` made (for the test that it still applies). @internal */
export const leanBindCount = { value: 0 };

type Bound = (this: unknown, ...args: unknown[]) => unknown;

function leanBind(this: AsyncResource, fn: Bound, thisArg?: unknown): Bound {
  // Node validates (and throws) as it always did.
  if (typeof fn !== 'function') return (nodeBind as (fn: unknown, thisArg?: unknown) => Bound).call(this, fn, thisArg);
  leanBindCount.value++;
  const resource = this;
  if (thisArg !== undefined) return (...args: unknown[]) => resource.runInAsyncScope(fn, thisArg, ...args);
  return function (this: unknown, ...args: unknown[]) {
    return resource.runInAsyncScope(fn, this, ...args);
  };
}
