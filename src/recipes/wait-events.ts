import { UnavailableError } from '../errors.js';
import { throwIfEnded } from '../concurrency/wait.js';
import type { Session } from '../concurrency/session.js';
import type { Namespaceable } from '../namespace/kv.js';
import { followSignal } from '../signals.js';
import type { WatchEvent } from '../watch.js';

/** What `waitEvents` waits on. @internal */
export interface WaitEventsOptions {
  /** Watch every key under `key` instead of `key` alone (Go's WaitPrefixEvents). */
  prefix?: boolean;
  /** The caller's signal: aborting it rejects with `AbortedError`. */
  signal?: AbortSignal | undefined;
  /** The session the wait belongs to: its end rejects with `SessionExpiredError`. */
  session?: Session | undefined;
}

/**
 * Watches `key` from `startRevision` until it has seen events of the given types in that
 * order, and returns the last of them (Go's recipes WaitEvents / WaitPrefixEvents).
 * @internal
 */
export async function waitEvents(
  client: Namespaceable,
  key: Buffer,
  startRevision: bigint,
  types: ReadonlyArray<WatchEvent['type']>,
  options: WaitEventsOptions = {},
): Promise<WatchEvent> {
  const { signal, session } = options;
  throwIfEnded(session, signal);
  const watcher = client.watch(key, { prefix: options.prefix, startRevision, signal });
  const unfollow = session ? followSignal(session.signal, { abort: () => void watcher.cancel() }) : () => {};
  try {
    let seen = 0;
    for await (const batch of watcher) {
      for (const event of batch.events) {
        if (event.type === types[seen] && ++seen === types.length) return event;
      }
    }
  } finally {
    unfollow();
    await watcher.cancel();
  }
  throwIfEnded(session, signal);
  // Only a cancel ends a watcher without an error, and only the signal or the session cancel it.
  throw new UnavailableError('the watch ended before the awaited events');
}
