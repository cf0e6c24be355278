import { type Bytes, toBytes } from '../encoding.js';
import type { Namespaceable } from '../namespace/kv.js';
import type { WaitOptions } from './options.js';
import { putNewKey } from './remote-kv.js';
import { waitEvents } from './wait-events.js';

/**
 * A barrier with the key and protocol of Go's `recipe.Barrier`: while the key exists, `wait()`
 * blocks; deleting it (`release()`) lets every waiter, Go or nice-etcd, through at once.
 */
export class Barrier {
  private readonly key: Buffer;

  /** A barrier on `key` (Go's NewBarrier). */
  constructor(
    private readonly client: Namespaceable,
    key: Bytes,
  ) {
    this.key = Buffer.from(toBytes(key, 'barrier key'));
  }

  /** Creates the barrier key so that `wait()` blocks; `KeyExistsError` if it is held already. */
  async hold(): Promise<void> {
    await putNewKey(this.client, this.key, '', 0n);
  }

  /** Deletes the barrier key, letting every waiter through. */
  async release(): Promise<void> {
    await this.client.delete(this.key);
  }

  /** Resolves once the barrier key is deleted, at once if there is none. */
  async wait(options: WaitOptions = {}): Promise<void> {
    const { signal } = options;
    const { kvs, header } = await this.client.get(this.key, { signal });
    if (kvs.length === 0) return;
    // As Go's fix of etcd#16223: only a delete after the read ends the wait.
    await waitEvents(this.client, this.key, header.revision + 1n, ['delete'], { signal });
  }
}
