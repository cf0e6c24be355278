import type { CallOptions } from './call-options.js';
import type { Int64 } from './encoding.js';
import { OrderingViolationError } from './errors.js';
import { type CompactOptions, type CompactResponse, type KV, KVBase, type OpResponse, type ResponseOf } from './kv.js';
import type { Op } from './op.js';

/** What a violation handler learns: the operation, the stale response, and the newest revision seen before it. */
export interface OrderingViolation {
  /** The operation that got the stale answer. */
  readonly operation: Op;
  /** The stale answer; `response.header.revision` is below `previousRevision`. */
  readonly response: OpResponse;
  /** The newest revision the ordered KV had seen when the operation started. */
  readonly previousRevision: bigint;
  /** How many stale responses this operation has had so far (1 on the first). */
  readonly attempt: number;
}

/**
 * Decides what happens to a stale response (Go's `OrderViolationFunc`): return to send the
 * operation again (it may reach another member), or throw to fail it.
 */
export type OrderingViolationHandler = (violation: OrderingViolation) => void | Promise<void>;

/** The default handler: fails the operation at once with `OrderingViolationError`. */
export const throwOnViolation: OrderingViolationHandler = (violation) => {
  throw new OrderingViolationError(violation.response.header.revision, violation.previousRevision);
};

/**
 * A handler that sends the operation again, so the client's round robin takes it to another
 * member, up to 5 times per endpoint, then fails with `OrderingViolationError` (Go's
 * `NewOrderViolationSwitchEndpointClosure`, counted per operation rather than per client).
 */
export function switchEndpointOnViolation(client: { readonly endpoints: readonly string[] }): OrderingViolationHandler {
  return (violation) => {
    if (violation.attempt > 5 * client.endpoints.length) throwOnViolation(violation);
  };
}

/**
 * A KV that never goes back in time (Go's `ordering.NewKV`): it remembers the newest revision
 * of every response, and a `get` or `txn` answered at an older revision (a serializable read
 * from a lagging member, a member restored from an old snapshot) goes to `onViolation` instead
 * of to the caller. Writes pass through and raise the revision seen.
 */
export class OrderingKV extends KVBase {
  #revision = 0n;

  /** Wraps `kv` (a client or a namespace); `onViolation` defaults to `throwOnViolation`. */
  constructor(
    private readonly kv: KV,
    private readonly onViolation: OrderingViolationHandler = throwOnViolation,
  ) {
    super();
  }

  /** The newest revision seen so far (0 before the first response). */
  get revision(): bigint {
    return this.#revision;
  }

  /** Runs an operation; a stale `get` or `txn` response goes to the violation handler. */
  async do<T extends Op>(operation: T, options?: CallOptions): Promise<ResponseOf<T>> {
    // The revision at the start: concurrent operations may raise it while this one is in flight.
    const previousRevision = this.#revision;
    const checked = operation.type === 'get' || operation.type === 'txn';
    for (let attempt = 1; ; attempt++) {
      const response = await this.kv.do(operation, options);
      const { revision } = response.header;
      if (!checked || revision >= previousRevision) {
        if (revision > this.#revision) this.#revision = revision;
        return response;
      }
      await this.onViolation({ operation, response, previousRevision, attempt });
    }
  }

  /** Compacts the store (passes through). */
  compact(revision: Int64, options?: CompactOptions): Promise<CompactResponse> {
    return this.kv.compact(revision, options);
  }
}
