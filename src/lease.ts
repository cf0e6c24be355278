import { Metadata } from 'nice-grpc-common';
import { AsyncQueue } from './async-queue.js';
import type { CallOptions } from './call-options.js';
import type { Connection } from './connection.js';
import { type Int64, toBuffer, toInt64 } from './encoding.js';
import { DeadlineExceededError, type EtcdError, LeaseNotFoundError, toEtcdError, InvalidArgumentError } from './errors.js';
import { followSignal } from './signals.js';
import { type ResponseHeader, decodeHeader } from './kv.js';
import type { LeaseKeepAliveRequest, LeaseKeepAliveResponse } from './proto.js';
import { ReconnectingStream } from './stream.js';

/** The result of `lease.grant`. */
export interface LeaseGrant {
  /** The cluster, member and revision that answered. */
  header: ResponseHeader;
  /** The lease id: a positive int64 chosen by etcd unless one was asked for. */
  id: bigint;
  /** The TTL etcd granted, in seconds (etcd raises TTLs below its minimum). */
  ttl: number;
}

/** The result of `lease.timeToLive`. */
export interface LeaseTimeToLive {
  /** The cluster, member and revision that answered. */
  header: ResponseHeader;
  /** The lease id asked about. */
  id: bigint;
  /** Seconds left; -1 when the lease has expired or does not exist. */
  ttl: number;
  /** The TTL the lease was granted with, in seconds (0 when it does not exist). */
  grantedTtl: number;
  /** The keys attached to the lease, with `keys: true`. */
  keys: Buffer[];
}

/** One keep-alive answer from etcd. */
export interface KeepAliveResponse {
  /** The cluster, member and revision that answered. */
  header: ResponseHeader;
  /** The lease kept alive. */
  id: bigint;
  /** The TTL the lease was refreshed to, in seconds. */
  ttl: number;
}

/**
 * Why a keep-alive ended:
 * - `stopped`: the caller called `stop()` (or aborted its signal);
 * - `expired`: etcd says the lease no longer exists (it expired or was revoked);
 * - `lost`: no keep-alive answer came within the lease's TTL, so it has expired by now;
 * - `closed`: the client was closed.
 */
export type KeepAliveEndReason = 'stopped' | 'expired' | 'lost' | 'closed';

/** How often the scheduler looks for due keep-alives and missed deadlines (Go: 500 ms). */
const tickInterval = 500;
/** The shortest wait for a keep-alive answer before the stream moves. */
const minAnswerWait = 500;
/** Moves without an answer (after the second) double the wait at most this many times. */
const maxAnswerWaitDoublings = 4;
/**
 * The first keep-alives of leases added within this many ms go out together: granting many
 * leases then writes a batch at a time, and etcd's answers come back in few reads.
 */
const addBatchWindow = 5;
/** Answers kept for a consumer that iterates late (Go's LeaseResponseChSize). */
const responseBuffer = 16;

/** Options of `lease.keepAlive`. */
export interface KeepAliveOptions {
  /** Aborting it stops the keep-alive (reason `stopped`). */
  signal?: AbortSignal;
}

/**
 * Keeps one lease alive until stopped, and says why it ended. Iterate it to see each answer
 * (only the latest 16 are buffered); `ended` resolves once it ends, with the reason, and
 * `cause` then says what went wrong for `lost` and `expired`.
 *
 * @example
 * ```ts
 * const lease = await client.lease.grant(30);           // TTL in seconds
 * await client.put('service/me', 'addr', { lease: lease.id });
 * const keepAlive = lease.keepAlive();                  // refreshes every TTL/3
 * keepAlive.ended.then((reason) => {                    // 'stopped' | 'expired' | 'lost' | 'closed'
 *   if (reason === 'lost' || reason === 'expired') console.error('lease gone:', keepAlive.cause);
 * });
 * ```
 */
export class KeepAlive implements AsyncIterable<KeepAliveResponse> {
  readonly #state: KeepAliveState;

  /** @internal Keep-alives come from `lease.keepAlive()`. */
  constructor(state: KeepAliveState) {
    this.#state = state;
  }

  /** The id of the lease kept alive. */
  get id(): bigint {
    return this.#state.id;
  }

  /** The reason it ended, once it has. */
  get reason(): KeepAliveEndReason | undefined {
    return this.#state.reason;
  }

  /**
   * What ended it, for `lost` (the last stream error since etcd's last answer, or else a
   * `DeadlineExceededError` for the TTL that passed unanswered) and `expired`
   * (`LeaseNotFoundError`); undefined otherwise. Like Go's `ErrKeepAliveHalted.Reason`.
   */
  get cause(): EtcdError | undefined {
    return this.#state.cause;
  }

  /** The latest answer from etcd. */
  get lastResponse(): KeepAliveResponse | undefined {
    return this.#state.lastResponse;
  }

  /** Resolves with the reason when the keep-alive ends (it never rejects). */
  get ended(): Promise<KeepAliveEndReason> {
    return this.#state.ended;
  }

  /** Stops keeping the lease alive; the lease itself lives on until its TTL runs out. */
  stop(): void {
    this.#state.stop();
  }

  /** Yields etcd's keep-alive answers (the latest 16 are buffered); the loop ends when the keep-alive does, without throwing. */
  [Symbol.asyncIterator](): AsyncIterator<KeepAliveResponse> {
    return this.#state.answers[Symbol.asyncIterator]();
  }
}

/** The state behind one `KeepAlive` handle: its answers, and how it ended. @internal */
export class KeepAliveState {
  /** The reason it ended; undefined while it runs. */
  reason: KeepAliveEndReason | undefined;
  /** The error behind a `lost` or `expired` end. */
  cause: EtcdError | undefined;
  /** The latest answer from etcd. */
  lastResponse: KeepAliveResponse | undefined;
  /** The latest answers, for a consumer that iterates. */
  readonly answers = new AsyncQueue<KeepAliveResponse>(responseBuffer);
  /** Resolves with the reason when it ends. */
  readonly ended: Promise<KeepAliveEndReason>;
  #resolveEnded!: (reason: KeepAliveEndReason) => void;
  /** Unlinks the keep-alive from the caller's signal (one listener per signal, however many share it). */
  readonly #unfollow: (() => void) | undefined;

  constructor(
    /** The lease kept alive. */
    readonly id: bigint,
    /** The scheduler that sends its keep-alives. */
    private readonly scheduler: KeepAliveScheduler,
    /** The caller's signal: aborting it stops the keep-alive. */
    signal: AbortSignal | undefined,
  ) {
    this.ended = new Promise((resolve) => (this.#resolveEnded = resolve));
    if (signal) {
      this.#unfollow = followSignal(signal, { abort: () => this.stop() });
    }
  }

  /** The caller stops it. */
  stop(): void {
    this.scheduler.remove(this);
    this.end('stopped');
  }

  /** An answer from etcd. */
  deliver(response: KeepAliveResponse): void {
    this.lastResponse = response;
    this.answers.push(response);
  }

  /** Ends it once; later calls are ignored. */
  end(reason: KeepAliveEndReason, cause?: EtcdError): void {
    if (this.reason) return;
    this.reason = reason;
    this.cause = cause;
    this.#unfollow?.();
    this.#resolveEnded(reason);
    this.answers.close();
  }
}

/** The keep-alive schedule of one lease, shared by every handle on it. */
interface LeaseSchedule {
  /** The lease id. */
  id: bigint;
  /** The handles keeping it alive; the schedule goes when the last one stops. */
  handles: Set<KeepAliveState>;
  /** When the next keep-alive is due (ms, performance.now()). */
  nextSend: number;
  /** Past this without an answer the lease is lost (ms, performance.now()). */
  deadline: number;
  /** The TTL of the last answer (or the first deadline's span), in ms, to name in a missed deadline. */
  ttlMs: number;
  /** The stream failure since the last answer, if the stream broke since then. */
  failure: EtcdError | undefined;
  /** When the first keep-alive not answered yet went out on the current stream (ms, performance.now()). */
  askedAt: number | undefined;
}

/**
 * The one LeaseKeepAlive stream of a client, shared by every lease, and its schedule: every
 * 500 ms it sends a keep-alive for each lease that is due (the first within 5 ms of
 * `keepAlive()`, in one batch with the others added then; then TTL/3 after each answer), as
 * Go's clientv3 does, and ends leases whose TTL passed without an answer
 * (`lost`). The stream reopens after failures with the client's backoff until no lease is left.
 *
 * Its watchdog: a member that goes silent would hold the stream until the HTTP/2 pings give up
 * (12 s by default), longer than a short lease lives. So a keep-alive left unanswered for
 * TTL/6 (at least 500 ms, at most `leaseAnswerTimeout`) while the stream answers nothing else
 * moves the stream to another member, where every lease is sent again at once. Worst case, the member falls silent right after an
 * answer: the next keep-alive goes at TTL/3 (+ a tick), the move comes TTL/6 later (checked
 * on time, not at the next tick), which leaves half the TTL for the new member to answer, or
 * a third if round robin lands on the silent member once more and the stream moves again.
 * From the third move in a row without any answer the wait doubles each time, so a cluster
 * that is merely slow is not abandoned in a loop.
 * @internal
 */
export class KeepAliveScheduler {
  readonly #leases = new Map<bigint, LeaseSchedule>();
  readonly #stream: ReconnectingStream<LeaseKeepAliveRequest, LeaseKeepAliveResponse>;
  #timer: NodeJS.Timeout | undefined;
  /** Moves by the watchdog since the stream last received an answer. */
  #moves = 0;
  /** When the stream last received an answer, for any lease (ms, performance.now()). */
  #answeredAt = -Infinity;
  /** An extra tick at the earliest time an unanswered keep-alive is overdue, so a move is not a tick late. */
  #answerCheck: NodeJS.Timeout | undefined;
  #answerCheckAt = Infinity;
  /** Leases added since the last flush, whose first keep-alive is due. */
  #fresh: LeaseSchedule[] = [];
  #flushTimer: NodeJS.Timeout | undefined;

  constructor(private readonly connection: Connection) {
    const metadata = Metadata({ hasleader: 'true' });
    this.#stream = new ReconnectingStream(connection, {
      open: (requests, signal) => connection.services.lease.leaseKeepAlive(requests, { signal, metadata }),
      onOpen: () => {
        // Every lease is due at once on a new stream: its answers may have been lost.
        for (const lease of this.#leases.values()) {
          lease.nextSend = 0;
          lease.askedAt = undefined;
        }
        this.#tick();
      },
      onResponse: (response) => this.#onResponse(response),
      onBreak: (failure) => {
        for (const lease of this.#leases.values()) lease.failure = failure.error;
        return this.#leases.size > 0;
      },
    });
  }

  /** Starts keeping `id` alive; `firstDeadlineMs` bounds the wait for the first answer. */
  add(id: bigint, firstDeadlineMs: number, signal: AbortSignal | undefined): KeepAlive {
    const state = new KeepAliveState(id, this, signal);
    if (this.connection.closed.aborted) state.end('closed');
    // A signal aborted before the call has already stopped the handle: nothing to schedule.
    if (state.reason) return new KeepAlive(state);
    let lease = this.#leases.get(id);
    if (!lease) {
      const now = performance.now();
      lease = { id, handles: new Set(), nextSend: now, deadline: now + firstDeadlineMs, ttlMs: firstDeadlineMs, failure: undefined, askedAt: undefined };
      this.#leases.set(id, lease);
    }
    lease.handles.add(state);
    this.#start();
    // Only this lease is due now: a full tick per add made granting n leases O(n²) (10,000
    // kept-alive leases: 50 million visits). The interval's ticks watch the deadlines.
    if (performance.now() >= lease.nextSend) {
      this.#fresh.push(lease);
      this.#flushTimer ??= setTimeout(() => this.#flush(), addBatchWindow);
    }
    return new KeepAlive(state);
  }

  /** Sends the first keep-alive of each lease added in the last batch window, in one go. */
  #flush(): void {
    this.#flushTimer = undefined;
    const fresh = this.#fresh;
    this.#fresh = [];
    const now = performance.now();
    for (const lease of fresh) {
      // Stopped since, or sent since (by a tick, or a new stream's onOpen).
      if (this.#leases.get(lease.id) !== lease || now < lease.nextSend) continue;
      // No stream open: the next one's onOpen sends every lease.
      if (!this.#stream.send({ ID: lease.id })) return;
      lease.nextSend = now + 1_000;
      this.#asked(lease, now);
    }
  }

  /** Leases kept alive now (each once, however many handles it has). */
  get size(): number {
    return this.#leases.size;
  }

  /** A handle stopped; the lease's schedule goes with its last handle. */
  remove(state: KeepAliveState): void {
    const lease = this.#leases.get(state.id);
    if (!lease) return;
    lease.handles.delete(state);
    if (lease.handles.size === 0) this.#leases.delete(state.id);
    this.#stopIfIdle();
  }

  /** Ends every keep-alive with `reason` and closes the stream. */
  close(reason: KeepAliveEndReason): void {
    const leases = [...this.#leases.values()];
    this.#leases.clear();
    for (const lease of leases) for (const state of lease.handles) state.end(reason);
    this.#stopIfIdle();
  }

  #start(): void {
    this.#timer ??= setInterval(() => this.#tick(), tickInterval);
    this.#stream.start();
  }

  #stopIfIdle(): void {
    if (this.#leases.size > 0) return;
    clearInterval(this.#timer);
    this.#timer = undefined;
    clearTimeout(this.#answerCheck);
    this.#answerCheck = undefined;
    this.#answerCheckAt = Infinity;
    clearTimeout(this.#flushTimer);
    this.#flushTimer = undefined;
    this.#fresh = [];
    this.#stream.stop();
  }

  /** Sends due keep-alives, ends leases whose deadline passed, and moves a silent stream. */
  #tick(): void {
    const now = performance.now();
    let unanswered: LeaseSchedule | undefined;
    for (const lease of this.#leases.values()) {
      if (now > lease.deadline) {
        this.#leases.delete(lease.id);
        const cause =
          lease.failure ??
          new DeadlineExceededError(`no keep-alive answer for lease ${lease.id} within its TTL (${Math.round(lease.ttlMs)} ms)`);
        for (const state of lease.handles) state.end('lost', cause);
        this.connection.observer.keepAliveLost(lease.id, 'lost', cause);
        continue;
      }
      if (lease.askedAt !== undefined) {
        // etcd answers one stream's keep-alives in order: while answers come, ours is on its way
        // (a burst of 1,000 takes a while), so silence counts from the later of our send and the last answer.
        const overdueAt = Math.max(lease.askedAt, this.#answeredAt) + this.#answerWait(lease);
        if (now >= overdueAt) unanswered ??= lease;
        else this.#armAnswerCheck(overdueAt);
      }
      if (now >= lease.nextSend && this.#stream.send({ ID: lease.id })) {
        // Not again until an answer reschedules it, or a second if none comes.
        lease.nextSend = now + 1_000;
        this.#asked(lease, now);
      }
    }
    if (unanswered?.askedAt !== undefined) this.#move(unanswered, now - unanswered.askedAt);
    this.#stopIfIdle();
  }

  /** A keep-alive of `lease` went out at `now`: the watchdog waits for its answer. */
  #asked(lease: LeaseSchedule, now: number): void {
    if (lease.askedAt !== undefined) return;
    lease.askedAt = now;
    this.#armAnswerCheck(now + this.#answerWait(lease));
  }

  /** How long a keep-alive of `lease` may go unanswered before the stream moves; Infinity when the watchdog is off. */
  #answerWait(lease: LeaseSchedule): number {
    const cap = this.connection.config.leaseAnswerTimeout;
    if (cap <= 0) return Infinity;
    const wait = Math.min(Math.max(lease.ttlMs / 6, minAnswerWait), cap);
    return wait * 2 ** Math.min(Math.max(this.#moves - 1, 0), maxAnswerWaitDoublings);
  }

  /** Runs a tick at `at` unless one is due earlier; the interval's ticks go on as well. */
  #armAnswerCheck(at: number): void {
    if (!Number.isFinite(at) || at >= this.#answerCheckAt) return;
    clearTimeout(this.#answerCheck);
    this.#answerCheckAt = at;
    this.#answerCheck = setTimeout(() => {
      this.#answerCheck = undefined;
      this.#answerCheckAt = Infinity;
      this.#tick();
    }, Math.max(0, at - performance.now()));
  }

  /** Gives up the current stream: it reopens (round robin: on another member) and sends every lease at once. */
  #move(lease: LeaseSchedule, waitedMs: number): void {
    if (!this.#stream.open) return;
    this.#moves++;
    this.#stream.reset(
      new DeadlineExceededError(`no keep-alive answer for lease ${lease.id} within ${Math.round(waitedMs)} ms; moving the keep-alive stream to another member`, {
        reason: 'KeepAliveUnanswered',
      }),
    );
  }

  #onResponse(response: LeaseKeepAliveResponse): void {
    this.#moves = 0;
    this.#answeredAt = performance.now();
    const lease = this.#leases.get(response.ID);
    if (!lease) return;
    const ttl = Number(response.TTL);
    if (ttl <= 0) {
      this.#leases.delete(lease.id);
      const cause = new LeaseNotFoundError();
      for (const state of lease.handles) state.end('expired', cause);
      this.connection.observer.keepAliveLost(lease.id, 'expired', cause);
      this.#stopIfIdle();
      return;
    }
    const now = performance.now();
    lease.nextSend = now + (ttl * 1000) / 3;
    lease.deadline = now + ttl * 1000;
    lease.ttlMs = ttl * 1000;
    lease.failure = undefined;
    lease.askedAt = undefined;
    const decoded: KeepAliveResponse = { header: decodeHeader(response.header), id: response.ID, ttl };
    for (const state of lease.handles) state.deliver(decoded);
  }
}

/** The lease calls, as the client and a namespace offer them (Go's `Lease` interface). */
export interface LeaseApi {
  /** Grants a lease of `ttl` seconds; etcd picks the id unless `id` is given. */
  grant(ttl: number, options?: { id?: Int64 } & CallOptions): Promise<Lease>;
  /** Revokes a lease: keys attached to it are deleted at once. */
  revoke(id: Int64, options?: CallOptions): Promise<ResponseHeader>;
  /** A lease's remaining TTL (-1 once expired), and with `keys: true` its attached keys. */
  timeToLive(id: Int64, options?: { keys?: boolean } & CallOptions): Promise<LeaseTimeToLive>;
  /** The ids of every lease that exists. */
  leases(options?: CallOptions): Promise<{ header: ResponseHeader; ids: bigint[] }>;
  /** Keeps a lease alive until stopped; the handle says why it ended. */
  keepAlive(id: Int64, options?: KeepAliveOptions & { ttl?: number }): KeepAlive;
  /** Sends one keep-alive on a stream of its own; `LeaseNotFoundError` if the lease is gone. */
  keepAliveOnce(id: Int64, options?: CallOptions): Promise<KeepAliveResponse>;
}

/** A granted lease, with its calls bound to it. */
export class Lease {
  /** @internal */
  constructor(
    private readonly leases: LeaseApi,
    /** The lease id. */
    readonly id: bigint,
    /** The TTL etcd granted, in seconds. */
    readonly ttl: number,
    /** The response header of the grant. */
    readonly header: ResponseHeader,
  ) {}

  /** Keeps this lease alive until stopped; see `LeaseClient.keepAlive`. */
  keepAlive(options?: KeepAliveOptions): KeepAlive {
    return this.leases.keepAlive(this.id, { ...options, ttl: this.ttl });
  }

  /** Revokes the lease: keys attached to it are deleted at once. */
  revoke(options?: CallOptions): Promise<ResponseHeader> {
    return this.leases.revoke(this.id, options);
  }

  /** The lease's remaining TTL, and its keys with `keys: true`. */
  timeToLive(options?: { keys?: boolean } & CallOptions): Promise<LeaseTimeToLive> {
    return this.leases.timeToLive(this.id, options);
  }
}

/** Lease calls: `client.lease.grant/revoke/timeToLive/leases/keepAlive/keepAliveOnce`. */
export class LeaseClient implements LeaseApi {
  readonly #scheduler: KeepAliveScheduler;

  /** @internal */
  constructor(
    private readonly connection: Connection,
    private readonly callOptions: (options: CallOptions) => CallOptions,
  ) {
    this.#scheduler = new KeepAliveScheduler(connection);
  }

  /** Grants a lease of `ttl` seconds; etcd picks the id unless `id` is given. */
  async grant(ttl: number, options: { id?: Int64 } & CallOptions = {}): Promise<Lease> {
    if (!Number.isSafeInteger(ttl) || ttl <= 0) throw new InvalidArgumentError(`lease ttl must be a positive whole number of seconds, got ${String(ttl)}`);
    const id = options.id === undefined ? 0n : toInt64(options.id, 'lease id');
    const response = await this.connection.services.lease.leaseGrant({ TTL: BigInt(ttl), ID: id }, this.callOptions(options));
    if (response.error) throw toEtcdError(new Error(response.error));
    return new Lease(this, response.ID, Number(response.TTL), decodeHeader(response.header));
  }

  /** Revokes a lease: keys attached to it are deleted at once. */
  async revoke(id: Int64, options: CallOptions = {}): Promise<ResponseHeader> {
    const response = await this.connection.services.lease.leaseRevoke({ ID: toInt64(id, 'lease id') }, this.callOptions(options));
    return decodeHeader(response.header);
  }

  /** A lease's remaining TTL (-1 once expired), and with `keys: true` its attached keys. */
  async timeToLive(id: Int64, options: { keys?: boolean } & CallOptions = {}): Promise<LeaseTimeToLive> {
    const response = await this.connection.services.lease.leaseTimeToLive(
      { ID: toInt64(id, 'lease id'), keys: options.keys ?? false },
      this.callOptions(options),
    );
    const keys = response.keys.map(toBuffer);
    return { header: decodeHeader(response.header), id: response.ID, ttl: Number(response.TTL), grantedTtl: Number(response.grantedTTL), keys };
  }

  /** The ids of every lease that exists. */
  async leases(options: CallOptions = {}): Promise<{ header: ResponseHeader; ids: bigint[] }> {
    const response = await this.connection.services.lease.leaseLeases({}, this.callOptions(options));
    return { header: decodeHeader(response.header), ids: response.leases.map((l) => l.ID) };
  }

  /**
   * Keeps a lease alive until stopped, over the client's one shared keep-alive stream; the
   * handle's `ended` says why it ended. `ttl` (seconds), when known, sets the first deadline.
   */
  keepAlive(id: Int64, options: KeepAliveOptions & { ttl?: number } = {}): KeepAlive {
    const leaseId = toInt64(id, 'lease id');
    const firstDeadline = options.ttl !== undefined ? options.ttl * 1000 : Math.max(this.connection.config.dialTimeout + 1_000, 5_000);
    return this.#scheduler.add(leaseId, firstDeadline, options.signal);
  }

  /** Sends one keep-alive on a stream of its own; `LeaseNotFoundError` if the lease is gone. */
  async keepAliveOnce(id: Int64, options: CallOptions = {}): Promise<KeepAliveResponse> {
    const leaseId = toInt64(id, 'lease id');
    const controller = new AbortController();
    const call = this.callOptions({ timeout: this.connection.config.timeout, ...options });
    const unfollow = call.signal ? followSignal(call.signal, controller) : undefined;
    try {
      async function* once() {
        yield { ID: leaseId };
      }
      for await (const response of this.connection.services.lease.leaseKeepAlive(once(), { ...call, signal: controller.signal })) {
        if (response.TTL <= 0n) {
          throw new LeaseNotFoundError();
        }
        return { header: decodeHeader(response.header), id: response.ID, ttl: Number(response.TTL) };
      }
      throw new LeaseNotFoundError();
    } finally {
      unfollow?.();
      controller.abort();
    }
  }

  /** Leases kept alive now, for `client.stats()`. @internal */
  get keptAlive(): number {
    return this.#scheduler.size;
  }

  /** Ends every keep-alive (reason `closed`). @internal */
  close(): void {
    this.#scheduler.close('closed');
  }
}

