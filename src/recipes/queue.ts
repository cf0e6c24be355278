import { type Bytes, toBytes } from '../encoding.js';
import type { Namespaceable } from '../namespace/kv.js';
import type { WaitOptions } from './options.js';
import { newUniqueKey } from './remote-kv.js';
import { dequeueFirst } from './dequeue.js';

/**
 * A multi-reader, multi-writer FIFO queue with the layout of Go's `recipe.Queue`: each item is
 * a key `<prefix>/<unix nanoseconds>`, and the oldest (lowest mod revision) is taken first.
 */
export class Queue {
  private readonly prefix: Buffer;

  /** A queue under `prefix` (Go's NewQueue). */
  constructor(
    private readonly client: Namespaceable,
    prefix: Bytes,
  ) {
    this.prefix = Buffer.from(toBytes(prefix, 'queue prefix'));
  }

  /** Appends `value` to the queue. */
  async enqueue(value: Bytes): Promise<void> {
    await newUniqueKey(this.client, this.prefix, value, 0n);
  }

  /** Takes the oldest item, waiting for one if the queue is empty. */
  dequeue(options: WaitOptions = {}): Promise<Buffer> {
    return dequeueFirst(this.client, this.prefix, 'modRevision', options.signal);
  }
}
