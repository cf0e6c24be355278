import type { Member } from './cluster.js';
import { UnavailableError } from './errors.js';

/** How long one automatic sync may take, in ms (Go's autoSync uses the same 5 s). @internal */
export const autoSyncTimeout = 5_000;

/**
 * The endpoints a member list gives, as Go's `Sync()` picks them: every client URL of each
 * member that has started (it has a name) and votes (not a learner, which refuses most calls).
 * @internal
 */
export function memberEndpoints(members: readonly Member[]): string[] {
  const urls = members.filter((m) => m.name !== '' && !m.isLearner).flatMap((m) => m.clientUrls);
  // A linearizable member list always has a voting member with a client URL; an empty list
  // would leave the client with nothing to call, so it is refused rather than applied.
  if (urls.length === 0) throw new UnavailableError('the member list names no started voting member with a client URL; endpoints kept', { reason: 'NoEndpoints' });
  return urls;
}

/**
 * Syncs a client's endpoints every `interval` ms until the client closes (config
 * `autoSyncInterval`). A failed sync keeps the endpoints and is tried again at the next tick;
 * the timer never keeps the process alive.
 * @internal
 */
export class AutoSync {
  #timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly interval: number,
    private readonly sync: () => Promise<unknown>,
    private readonly closed: AbortSignal,
  ) {
    this.#schedule();
  }

  #schedule(): void {
    if (this.closed.aborted) return;
    this.#timer = setTimeout(() => {
      this.sync()
        .catch(() => {
          // Kept endpoints; the next tick tries again (Go logs and goes on the same way).
        })
        .finally(() => this.#schedule());
    }, this.interval);
    this.#timer.unref();
  }

  /** Stops the timer. Idempotent. */
  close(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
