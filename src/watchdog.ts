/** The timing of a `StreamWatchdog`, in ms. @internal */
export interface WatchdogTiming {
  /** Silence (no response at all) after which the stream is probed. */
  quietMs: number;
  /** How long a probe, or a request etcd must answer, may go without any response before the stream is given up. */
  answerMs: number;
}

/** What a `StreamWatchdog` does to its stream. @internal */
export interface WatchdogActions {
  /** Sends a probe that etcd answers (a watch progress request); false when it could not be sent. */
  probe(): boolean;
  /** Nothing came within `answerMs` of the probe or request: give the stream up. */
  abandon(waitedMs: number): void;
}

/**
 * The liveness watchdog of one attempt of a long-lived stream. A member that stops answering
 * without closing its connection (a partition, SIGSTOP) leaves the stream silent for ever; the
 * watchdog tells silence from a stream that merely has nothing to say:
 * - every response is heard (`heard()`: two field writes, no timer work);
 * - after `quietMs` without one it probes (a request etcd must answer at once), and probes again
 *   every fifth of `answerMs` while no answer came (etcd 3.5.13+ and 3.4.31+ leave a progress
 *   request unanswered while a watch of the stream is still catching up);
 * - a request the owner knows must be answered (a watch create) is `expect()`ed;
 * - when `answerMs` pass after the first unanswered probe or expected request with no response
 *   at all, it calls `abandon` once and stops.
 * One timer, re-armed lazily when it fires, so a busy stream costs no timer calls per response.
 * @internal
 */
export class StreamWatchdog {
  /** When the last response arrived (or the attempt opened). */
  #heardAt = 0;
  /** When the first request still owed an answer was sent; undefined when none is owed. */
  #owedSince: number | undefined;
  /** True when what is owed is our own probe (it is then repeated while unanswered). */
  #probing = false;
  /** When the last probe went out. */
  #probedAt = 0;
  #timer: NodeJS.Timeout | undefined;
  /** When the armed timer fires. */
  #dueAt = Infinity;
  #running = false;

  constructor(
    private readonly timing: WatchdogTiming,
    private readonly actions: WatchdogActions,
  ) {}

  /** True while it watches an attempt. */
  get running(): boolean {
    return this.#running;
  }

  /** An attempt opened: silence counts from now. */
  start(): void {
    this.stop();
    this.#running = true;
    this.#heardAt = performance.now();
    this.#arm(this.#heardAt + this.timing.quietMs);
  }

  /** The attempt ended (or the stream stopped): no more checks until `start()`. */
  stop(): void {
    this.#running = false;
    this.#owedSince = undefined;
    this.#probing = false;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#dueAt = Infinity;
  }

  /** A response arrived: the member is alive, and nothing is owed any more. */
  heard(): void {
    this.#heardAt = performance.now();
    this.#owedSince = undefined;
  }

  /** A request that etcd answers at once was sent: no response within `answerMs` gives the stream up. */
  expect(): void {
    if (!this.#running || this.#owedSince !== undefined) return;
    this.#owedSince = performance.now();
    this.#probing = false;
    this.#arm(this.#owedSince + this.timing.answerMs);
  }

  #arm(at: number): void {
    if (this.#timer !== undefined && at >= this.#dueAt) return;
    clearTimeout(this.#timer);
    this.#dueAt = at;
    this.#timer = setTimeout(() => this.#check(), Math.max(0, at - performance.now()));
    // The stream's own socket keeps the process alive while it matters; the watchdog must not.
    this.#timer.unref?.();
  }

  #check(): void {
    this.#timer = undefined;
    this.#dueAt = Infinity;
    if (!this.#running) return;
    const now = performance.now();
    const { quietMs, answerMs } = this.timing;
    if (this.#owedSince !== undefined) {
      const waited = now - this.#owedSince;
      if (waited >= answerMs) {
        this.stop();
        this.actions.abandon(waited);
        return;
      }
      const reprobeAt = this.#probedAt + answerMs / 5;
      if (this.#probing && now >= reprobeAt) {
        this.actions.probe();
        this.#probedAt = now;
      }
      const next = this.#probing ? Math.min(this.#owedSince + answerMs, this.#probedAt + answerMs / 5) : this.#owedSince + answerMs;
      this.#arm(next);
      return;
    }
    if (now - this.#heardAt < quietMs) {
      this.#arm(this.#heardAt + quietMs);
      return;
    }
    if (!this.actions.probe()) {
      this.#arm(now + quietMs);
      return;
    }
    this.#owedSince = now;
    this.#probing = true;
    this.#probedAt = now;
    this.#arm(now + answerMs / 5);
  }
}
