/** What follows a signal: an AbortController, or a handle that cancels itself (a watcher, a keep-alive). */
export interface Follower {
  abort(): void;
}

/** The followers of one signal, and the single listener that aborts them all. */
interface Followers {
  readonly controllers: Set<Follower>;
  readonly listener: () => void;
}

const followers = new WeakMap<AbortSignal, Followers>();

/**
 * Makes `controller` abort when `signal` aborts, until the returned function unlinks it.
 * However many calls, watchers or keep-alives follow one signal, the signal carries one listener, removed when
 * the last follower unlinks: a request-scoped signal shared by hundreds of parallel calls
 * never trips Node's MaxListenersExceededWarning, and the caller's signal is never
 * reconfigured (no setMaxListeners on it). Unlinking is idempotent.
 * @internal
 */
export function followSignal(signal: AbortSignal, controller: Follower): () => void {
  if (signal.aborted) {
    controller.abort();
    return () => {};
  }
  let entry = followers.get(signal);
  if (!entry) {
    const controllers = new Set<Follower>();
    const listener = () => {
      followers.delete(signal);
      // Aborting runs the calls' own cleanup, which may unlink others: iterate over a copy.
      for (const c of [...controllers]) c.abort();
      controllers.clear();
    };
    entry = { controllers, listener };
    followers.set(signal, entry);
    signal.addEventListener('abort', listener, { once: true });
  }
  const { controllers, listener } = entry;
  controllers.add(controller);
  return () => {
    if (!controllers.delete(controller) || controllers.size > 0) return;
    if (followers.get(signal)?.controllers === controllers) followers.delete(signal);
    signal.removeEventListener('abort', listener);
  };
}
