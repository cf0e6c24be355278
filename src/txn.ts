import type { Condition } from './compare.js';
import { InvalidArgumentError } from './errors.js';
import type { CallOptions } from './call-options.js';
import { type Op, type TxnOp, op } from './op.js';
import type { TxnResponse } from './kv-types.js';

/**
 * A transaction under construction: `if` conditions, `then` operations when all hold, `else`
 * operations otherwise. Each clause may be given once, in that order, as in Go's clientv3.
 *
 * @example
 * ```ts
 * import { compare, op } from 'nice-etcd';
 *
 * // Compare-and-swap: write v2 only if nobody changed the key since we read it at revision 41.
 * const r = await client
 *   .txn()
 *   .if(compare.modRevision('config', '=', 41n))
 *   .then(op.put('config', 'v2'))
 *   .else(op.get('config'))
 *   .commit();
 * if (!r.succeeded) console.log('lost the race; now', r.responses[0]);
 * ```
 */
export class Txn {
  private readonly compares: Condition[] = [];
  private readonly success: Op[] = [];
  private readonly failure: Op[] = [];
  private stage: 'if' | 'then' | 'else' | 'new' = 'new';

  /** A transaction that `kv.do` commits; `kv.txn()` is the usual way to start one. */
  constructor(private readonly kv: { do(operation: TxnOp, options?: CallOptions): Promise<TxnResponse> }) {}

  /** Conditions that must all hold for the `then` branch to run. */
  if(...conditions: Condition[]): this {
    this.advance('if', ['new']);
    this.compares.push(...conditions);
    return this;
  }

  /** Operations run when every condition holds. */
  then(...operations: Op[]): this {
    this.advance('then', ['new', 'if']);
    this.success.push(...operations);
    return this;
  }

  /** Operations run when a condition fails. */
  else(...operations: Op[]): this {
    this.advance('else', ['new', 'if', 'then']);
    this.failure.push(...operations);
    return this;
  }

  /** The transaction as an op, to nest it in another transaction's branch. */
  toOp(): TxnOp {
    return op.txn(this.compares, this.success, this.failure);
  }

  /** Sends the transaction; resolves with which branch ran and each operation's result. */
  async commit(options?: CallOptions): Promise<TxnResponse> {
    return this.kv.do(this.toOp(), options);
  }

  private advance(next: 'if' | 'then' | 'else', allowed: Array<Txn['stage']>): void {
    if (!allowed.includes(this.stage)) {
      throw new InvalidArgumentError(`txn: .${next}() cannot follow .${this.stage}(): give if, then and else once each, in that order`);
    }
    this.stage = next;
  }
}
