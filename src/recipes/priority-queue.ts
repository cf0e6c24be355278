import type { Bytes } from '../encoding.js';
import { InvalidArgumentError } from '../errors.js';
import type { Namespaceable } from '../namespace/kv.js';
import type { WaitOptions } from './options.js';
import { joinKey, newSequentialKey } from './remote-kv.js';
import { dequeueFirst } from './dequeue.js';

/**
 * A queue ordered by priority, then by arrival, with the layout of Go's `recipe.PriorityQueue`:
 * items are keys `<prefix>/<priority, 5 digits>/<sequence, 16 digits>` and the smallest key is
 * taken first, so priority 0 comes before priority 1.
 */
export class PriorityQueue {
  private readonly prefix: Buffer;

  /** A priority queue under `prefix` (Go's NewPriorityQueue). */
  constructor(
    private readonly client: Namespaceable,
    prefix: Bytes,
  ) {
    this.prefix = joinKey(prefix, '/', 'priority queue prefix');
  }

  /** Adds `value` with `priority`, an integer from 0 (first out) to 65535 (Go's uint16). */
  async enqueue(value: Bytes, priority: number): Promise<void> {
    if (!Number.isInteger(priority) || priority < 0 || priority > 0xffff) {
      throw new InvalidArgumentError(`priority queue: the priority must be an integer from 0 to 65535, got ${String(priority)}`);
    }
    await newSequentialKey(this.client, joinKey(this.prefix, priority.toString().padStart(5, '0'), 'priority queue prefix'), value);
  }

  /** Takes the item of lowest priority number (the oldest among equals), waiting for one if the queue is empty. */
  dequeue(options: WaitOptions = {}): Promise<Buffer> {
    return dequeueFirst(this.client, this.prefix, 'key', options.signal);
  }
}
