import { delay } from 'abort-controller-x';
import { AsyncQueue } from './async-queue.js';
import type { Connection } from './connection.js';
import { AbortedError, EtcdError, type StreamFailureKind, UnavailableError, classifyStreamError, toEtcdError } from './errors.js';
import { StreamWatchdog, type WatchdogTiming } from './watchdog.js';

/** Why one attempt of a reconnecting stream ended, classified once. @internal */
export interface StreamFailure {
  /** What the failure allows: reopen, reopen with a fresh token, or nothing. */
  readonly kind: StreamFailureKind;
  /** The failure itself, as the user would see it. */
  readonly error: EtcdError;
}

/** What the owner of a reconnecting stream (the watch run loop, the keep-alive scheduler) provides. @internal */
export interface StreamOwner<Req, Res> {
  /** Opens one attempt of the gRPC stream. */
  open(requests: AsyncIterable<Req>, signal: AbortSignal): AsyncIterable<Res>;
  /** An attempt was opened: queue (with `send`) what it has to start with. */
  onOpen(): void;
  /** A response arrived on the current attempt. */
  onResponse(response: Res): void;
  /** The current attempt failed; return true to reopen after a backoff, false to stop for good. */
  onBreak(failure: StreamFailure): boolean;
  /**
   * With a liveness watchdog: sends a request etcd answers at once (a watch progress request);
   * false when it could not be sent.
   */
  probe?(): boolean;
}

/** The liveness watchdog of a reconnecting stream (see `StreamWatchdog`). @internal */
export interface StreamLiveness extends WatchdogTiming {
  /** Names the stream in the error of an abandoned attempt, e.g. `watch`. */
  name: string;
}

/**
 * One long-lived bidirectional gRPC stream that reopens itself: after a failure it waits the
 * client's backoff (`retry.baseDelay`, doubling up to `retry.maxDelay`, with jitter; back to
 * the base once a response arrives), drops the token when etcd refused it, and asks its owner
 * whether to go on. Each attempt has its own request queue, so nothing sent for a broken
 * attempt leaks into the next; the owner re-sends its state from `onOpen`.
 * @internal
 */
export class ReconnectingStream<Req, Res> {
  /** Aborted to stop the run loop; undefined while no loop runs. */
  #loop: AbortController | undefined;
  /** Aborted by `reset()` to break only the current attempt. */
  #attempt: AbortController | undefined;
  /** The requests of the current attempt; undefined between attempts. */
  #requests: AsyncQueue<Req> | undefined;
  /** Attempts opened so far. */
  #opened = 0;
  /** Requests handed to the transport by earlier attempts. */
  #sentBefore = 0;
  /** The failure that ended the last attempt, if any did. */
  #lastFailure: StreamFailure | undefined;
  /** The watchdog of the current attempt; undefined between attempts or without liveness. */
  #watchdog: StreamWatchdog | undefined;
  /** Attempts given up by the watchdog so far. */
  #abandoned = 0;

  /**
   * With `liveness` (and the owner's `probe`), an attempt that stays silent is given up and the
   * stream reopens: see `StreamWatchdog`.
   */
  constructor(
    private readonly connection: Connection,
    private readonly owner: StreamOwner<Req, Res>,
    private readonly liveness?: StreamLiveness,
  ) {}

  /** True while an attempt is open (requests sent now go out on it). */
  get open(): boolean {
    return this.#requests !== undefined;
  }

  /** True while the run loop runs (an attempt is open or a reopen is pending). */
  get running(): boolean {
    return this.#loop !== undefined;
  }

  /** Attempts opened so far (for tests and metrics). */
  get opened(): number {
    return this.#opened;
  }

  /** Requests handed to the transport so far (for tests and metrics). */
  get sent(): number {
    return this.#sentBefore + (this.#requests?.taken ?? 0);
  }

  /** Why the last attempt ended (undefined until one failed). */
  get lastFailure(): StreamFailure | undefined {
    return this.#lastFailure;
  }

  /** Attempts given up by the watchdog so far (for tests and metrics). */
  get abandoned(): number {
    return this.#abandoned;
  }

  /** Starts the run loop unless it runs. */
  start(): void {
    if (this.#loop || this.connection.closed.aborted) return;
    const loop = new AbortController();
    this.#loop = loop;
    void this.#run(loop.signal);
  }

  /** Sends a request on the current attempt; false (dropped) when none is open. */
  send(request: Req): boolean {
    return this.#requests?.push(request) ?? false;
  }

  /** Stops the run loop and closes the current attempt. Idempotent. */
  stop(): void {
    this.#loop?.abort();
    this.#loop = undefined;
  }

  /**
   * Breaks the current attempt as a network failure would; the owner decides whether to reopen.
   * With `reason`, the owner's `onBreak` gets that error (as a resumable failure).
   */
  reset(reason?: EtcdError): void {
    this.#attempt?.abort(reason);
  }

  /** A request that etcd answers at once was sent (a watch create): the watchdog waits for an answer. */
  expectAnswer(): void {
    this.#watchdog?.expect();
  }

  /** A watchdog for one attempt, when the stream has liveness settings and the owner can probe. */
  #watchdogFor(attempt: AbortController): StreamWatchdog | undefined {
    const { liveness, owner } = this;
    if (!liveness || !owner.probe || liveness.quietMs <= 0) return undefined;
    return new StreamWatchdog(liveness, {
      probe: () => attempt === this.#attempt && (owner.probe?.() ?? false),
      abandon: (waitedMs) => {
        if (attempt !== this.#attempt) return;
        this.#abandoned++;
        const error = new UnavailableError(
          `etcd did not answer on the ${liveness.name} stream for ${Math.round(waitedMs)} ms; reopening it (on another member if there is one)`,
          { reason: 'StreamSilent' },
        );
        attempt.abort(error);
      },
    });
  }

  async #run(signal: AbortSignal): Promise<void> {
    const { baseDelay, maxDelay } = this.connection.config.retry;
    let backoff = baseDelay;
    while (!signal.aborted) {
      const attempt = new AbortController();
      const requests = new AsyncQueue<Req>();
      const onAbort = () => attempt.abort();
      signal.addEventListener('abort', onAbort);
      this.#attempt = attempt;
      this.#requests = requests;
      const watchdog = this.#watchdogFor(attempt);
      this.#watchdog = watchdog;
      watchdog?.start();
      let failure: unknown;
      try {
        this.#opened++;
        this.owner.onOpen();
        // The call starts on a later microtask, never in the caller's own tick: a handle stopped
        // in the tick it started (keepAlive() then stop()) then starts no call. grpc-js leaves its
        // HTTP/2 connection referenced, even after the channel closes, by a stream call cancelled
        // in the tick that created it, and the process could not exit.
        await Promise.resolve();
        if (attempt.signal.aborted) throw new AbortedError('the stream was stopped before it opened');
        for await (const response of this.owner.open(requests, attempt.signal)) {
          backoff = baseDelay;
          watchdog?.heard();
          this.owner.onResponse(response);
        }
        failure = new UnavailableError('etcd ended the stream', { reason: 'StreamEnded' });
      } catch (error) {
        failure = error;
      } finally {
        watchdog?.stop();
        if (this.#watchdog === watchdog) this.#watchdog = undefined;
        signal.removeEventListener('abort', onAbort);
        requests.close();
        this.#sentBefore += requests.taken;
        // A loop started after stop() may own these fields by now.
        if (this.#requests === requests) this.#requests = undefined;
        if (this.#attempt === attempt) this.#attempt = undefined;
      }
      if (signal.aborted || this.connection.closed.aborted) return;
      // An attempt broken on purpose with a reason (the watchdog, the owner's reset) resumes.
      const reason: unknown = attempt.signal.aborted ? attempt.signal.reason : undefined;
      const error = reason instanceof EtcdError ? reason : toEtcdError(failure);
      const kind = reason instanceof EtcdError ? 'resumable' : classifyStreamError(error, this.connection.tokens.refreshable);
      if (kind === 'token') this.connection.tokens.invalidate();
      this.#lastFailure = { kind, error };
      const reopen = this.owner.onBreak(this.#lastFailure);
      this.connection.observer.streamBroken(error, kind, reopen);
      if (!reopen) {
        if (this.#loop?.signal === signal) this.#loop = undefined;
        return;
      }
      try {
        await delay(signal, backoff * (0.5 + Math.random() / 2));
      } catch {
        return;
      }
      backoff = Math.min(backoff * 2, maxDelay);
    }
  }
}
