import { AbortedError, SessionExpiredError } from '../errors.js';
import { followSignal } from '../signals.js';
import type { ResponseHeader } from '../kv.js';
import type { Session } from './session.js';

/**
 * Waits until every key under `prefix` created at or before `maxCreateRevision` is deleted,
 * watching only the newest of them each time (Go's waitDeletes): each waiter watches the one
 * key just ahead of it, so a release wakes one waiter, not all of them.
 * @internal
 */
export async function waitDeletes(session: Session, prefix: Buffer, maxCreateRevision: bigint, signal?: AbortSignal): Promise<ResponseHeader> {
  const { client } = session;
  for (;;) {
    throwIfEnded(session, signal);
    const { kvs, header } = await client.get(prefix, { last: 'createRevision', maxCreateRevision, signal });
    if (kvs.length === 0) return header;
    const ahead = kvs[0].key;
    const watcher = client.watch(ahead, { startRevision: header.revision, filters: ['noPut'], signal });
    const unfollow = followSignal(session.signal, { abort: () => void watcher.cancel() });
    try {
      for await (const batch of watcher) {
        if (batch.events.some((e) => e.type === 'delete')) break;
      }
    } finally {
      unfollow();
      await watcher.cancel();
    }
    throwIfEnded(session, signal);
  }
}

/** Throws when the caller aborted or the session ended. @internal */
export function throwIfEnded(session: Session | undefined, signal?: AbortSignal): void {
  if (signal?.aborted) {
    const reason: unknown = signal.reason;
    throw new AbortedError(reason instanceof Error ? `the wait was aborted: ${reason.message}` : 'the wait was aborted', { cause: reason });
  }
  if (session?.ended) throw new SessionExpiredError();
}
