import type { Namespaceable } from '../namespace/kv.js';
import { claimFirstKey, deleteRevKey } from './remote-kv.js';
import { waitEvents } from './wait-events.js';

/**
 * Takes the first item under `prefix` in `order`, or waits for the next one put (Go's
 * Queue.Dequeue and PriorityQueue.Dequeue, which differ only in the order).
 * @internal
 */
export async function dequeueFirst(client: Namespaceable, prefix: Buffer, order: 'key' | 'modRevision', signal: AbortSignal | undefined): Promise<Buffer> {
  for (;;) {
    const { kvs, header, more } = await client.get(prefix, { first: order, signal });
    const claimed = await claimFirstKey(client, kvs);
    if (claimed) return claimed.value;
    // Another reader took it first; with more items left, try the next one.
    if (more) continue;
    const event = await waitEvents(client, prefix, header.revision, ['put'], { prefix: true, signal });
    if (await deleteRevKey(client, event.kv.key, event.kv.modRevision)) return event.kv.value;
  }
}
