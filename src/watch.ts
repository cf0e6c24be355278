import { Metadata } from 'nice-grpc-common';
import { AsyncQueue } from './async-queue.js';
import type { Connection } from './connection.js';
import { type Bytes, type Int64, toInt64 } from './encoding.js';
import {
  ClientClosedError,
  CompactedError,
  errorFromStatus,
  EtcdError,
  InvalidArgumentError,
  isWatchTokenRefusal,
  parseCancelReason,
  Status,
} from './errors.js';
import { followSignal } from './signals.js';
import { type KeyValue, type ResponseHeader, decodeHeader, decodeKv } from './kv.js';
import { type RangeOptions, encodeRange } from './op.js';
import {
  type Event as PbEvent,
  Event_EventType,
  type KeyValue as PbKeyValue,
  type WatchCreateRequest,
  type WatchRequest,
  type WatchResponse as PbWatchResponse,
  WatchCreateRequest_FilterType,
} from './proto.js';
import { ReconnectingStream, type StreamFailure } from './stream.js';

/** Options of `client.watch`. */
export interface WatchOptions extends RangeOptions {
  /** First revision to deliver (inclusive); default: only changes after the watch is created. */
  startRevision?: Int64;
  /** Attach each event's previous key-value (`prevKv`). */
  prevKv?: boolean;
  /** Ask etcd for periodic empty progress responses while idle (every ~10 min). */
  progressNotify?: boolean;
  /** Deliver the `created` confirmation as a response too. */
  createdNotify?: boolean;
  /** Event types the server should leave out. */
  filters?: Array<'noPut' | 'noDelete'>;
  /** Let etcd split large responses; the watcher joins the pieces before delivering. */
  fragment?: boolean;
  /**
   * Use a stream on which etcd ends watches when its member has no leader, so they move to
   * another member instead of going silent. Default true (etcdctl always requires a leader for
   * watch); false shares a stream that a leaderless member keeps open.
   */
  requireLeader?: boolean;
  /** Events buffered for a slow consumer before the watcher ends with `WatchOverflowError`. Default 10,000. */
  maxBufferedEvents?: number;
  /** Aborting it cancels the watch. */
  signal?: AbortSignal;
}

/** One change to a key. */
export interface WatchEvent {
  /** Whether the key was written or deleted. */
  type: 'put' | 'delete';
  /** The key-value after the change (for a delete: the key, an empty value and the delete's revision). */
  kv: KeyValue;
  /** The key-value before the change, with `prevKv: true`. */
  prevKv: KeyValue | undefined;
}

/** A batch of events (or a progress notice) delivered by a watcher. */
export interface WatchResponse {
  /** The cluster, member and revision that answered. */
  header: ResponseHeader;
  /** The changes, in revision order (empty for progress and creation notices). */
  events: WatchEvent[];
  /**
   * True for a progress notice (no events): every change up to `header.revision` was delivered.
   * For the answer to `watchProgress()` that holds on etcd 3.4.25+ and 3.5.8+; older servers may
   * send it ahead of events at or below that revision (which then still arrive, once).
   */
  progressNotify: boolean;
  /** True for the creation notice (with `createdNotify`). */
  created: boolean;
}

/**
 * The watcher was ended because its consumer fell behind by more than `maxBufferedEvents`;
 * `nextRevision` is the first revision it did not deliver, to watch again from there.
 */
export class WatchOverflowError extends EtcdError {
  /** Made by the watcher with the first undelivered revision and its `maxBufferedEvents`. */
  constructor(
    /** The first revision not delivered: watch again from it to miss nothing. */
    readonly nextRevision: bigint,
    limit: number,
  ) {
    super(Status.RESOURCE_EXHAUSTED, `watch consumer fell more than ${limit} events behind; resume from revision ${nextRevision}`, {
      reason: 'WatchOverflow',
    });
  }
}

/** The callbacks of a watcher, by event name, with what each receives. */
export interface WatcherEvents {
  /** Every delivered response (events, progress notices, the creation notice). */
  response: WatchResponse;
  /** Each put event. */
  put: WatchEvent;
  /** Each delete event. */
  delete: WatchEvent;
  /** The error that ended the watcher (not called after `cancel()`). */
  error: EtcdError;
  /** The end of the watcher: undefined after `cancel()`, or the error that ended it. */
  end: EtcdError | undefined;
}

/** A callback of `Watcher.on`. */
export type Listener<T> = (value: T) => void;

/**
 * What a `Watcher` handle reads from: a watch of the core (`WatchState`), or a wrapper over
 * another watcher (a namespace's, which strips its prefix from the keys).
 * @internal
 */
export interface WatchSource extends AsyncIterable<WatchResponse> {
  readonly created: Promise<void>;
  readonly ended: Promise<EtcdError | undefined>;
  readonly done: boolean;
  readonly error: EtcdError | undefined;
  /** Asks for the watch to end (undefined: a plain cancel); `ended` resolves once it has. */
  cancel(): void;
  on<K extends keyof WatcherEvents>(event: K, listener: Listener<WatcherEvents[K]>): void;
}

/**
 * A watch on a key or range. Consume it with `for await (const response of watcher)`, or with
 * callbacks (`on('put' | 'delete' | 'response' | 'error' | 'end')`): one style per watcher.
 * It survives reconnects: each event is delivered exactly once, in revision order.
 *
 * @example
 * ```ts
 * const watcher = client.watch('jobs/', { prefix: true, startRevision: 100n, signal });
 * for await (const { events } of watcher) {
 *   for (const event of events) console.log(event.type, event.kv.key.toString(), event.kv.modRevision);
 * }
 * // Ends quietly on cancel() or an aborted signal; throws CompactedError if revision 100 was
 * // compacted away (re-read, then watch from the read's header.revision + 1n).
 * ```
 */
export class Watcher implements AsyncIterable<WatchResponse> {
  readonly #source: WatchSource;

  /** @internal Watchers come from `client.watch()` (or a namespace's `watch()`). */
  constructor(source: WatchSource) {
    this.#source = source;
  }

  /** Resolves once etcd confirmed the watch; rejects if it ended before that. */
  get created(): Promise<void> {
    return this.#source.created;
  }

  /** Resolves when the watcher ends: with undefined after `cancel()`, or with the error that ended it. */
  get ended(): Promise<EtcdError | undefined> {
    return this.#source.ended;
  }

  /** True once the watcher ended. */
  get done(): boolean {
    return this.#source.done;
  }

  /** Why the watcher ended, once it has (undefined after `cancel()`). */
  get error(): EtcdError | undefined {
    return this.#source.error;
  }

  /** Registers a callback; `put`/`delete`/`response` listeners switch the watcher to callback mode. */
  on<K extends keyof WatcherEvents>(event: K, listener: Listener<WatcherEvents[K]>): this {
    this.#source.on(event, listener);
    return this;
  }

  /** Cancels the watch on the server; resolves once the watcher has ended. Idempotent. */
  async cancel(): Promise<void> {
    this.#source.cancel();
    await this.#source.ended;
  }

  /**
   * Yields each response in revision order; the loop ends after `cancel()`, and throws the error
   * that ended the watcher otherwise (`CompactedError`, `WatchOverflowError`, ...).
   */
  [Symbol.asyncIterator](): AsyncIterator<WatchResponse> {
    return this.#source[Symbol.asyncIterator]();
  }
}

/**
 * Where one watch stands on its stream:
 * - `pending`: waiting to be created (new, or to be re-created after a reconnect);
 * - `creating`: its create request is in flight (only one watch of a stream is, at a time);
 * - `cancelling`: cancelled while `creating`; the cancel goes out once etcd answers the create;
 * - `active`: created, with a server id, receiving events;
 * - `ended`: finished for good; nothing refers to it any more.
 */
export type WatchPhase = 'pending' | 'creating' | 'cancelling' | 'active' | 'ended';

const defaultMaxBuffered = 10_000;

/**
 * The state of one watch (Go's `watcherStream`): its phase, its resume point, and the buffer
 * and callbacks through which its responses reach the user's `Watcher`.
 * @internal
 */
export class WatchState implements WatchSource {
  /** The one field the stream's run loop decides by; see `WatchPhase`. */
  phase: WatchPhase = 'pending';
  /** The server's id for this watch while `active` (a new one after each reconnect). */
  id: bigint | undefined;
  /** The first revision not yet delivered, where a (re-)create starts (0: from the create on). */
  nextRevision: bigint;
  /** Events of a fragmented response received so far, joined when its last piece arrives. */
  fragments: WatchEvent[] = [];
  /** Set once a create refused for auth was retried with a fresh token (at most once per watch). */
  authRetried = false;
  /** What a cancel requested while `creating` ends the watch with (undefined: a plain cancel). */
  cancelError: EtcdError | undefined;
  /** Why the watch ended, once `ended` (undefined after a plain cancel). */
  error: EtcdError | undefined;
  /** The create request, without its start revision (that is `nextRevision` at each create). */
  readonly request: Omit<WatchCreateRequest, 'startRevision'>;
  /** The user's options (`createdNotify`, `progressNotify`, `signal` are read later). */
  readonly options: WatchOptions;
  /** Resolves once etcd confirmed the watch; rejects if it ended before that. */
  readonly created: Promise<void>;
  /** Resolves when the watch ended. */
  readonly ended: Promise<EtcdError | undefined>;
  /** The stream the watch lives on; set when it is added to one. */
  stream: WatchStream | undefined;

  /** Responses waiting for an iterating consumer. */
  readonly #buffer = new AsyncQueue<WatchResponse>();
  /** Events in `#buffer`, bounded by `#maxBuffered`. */
  #buffered = 0;
  readonly #maxBuffered: number;
  readonly #listeners: { [K in keyof WatcherEvents]?: Array<Listener<WatcherEvents[K]>> } = {};
  #resolveCreated!: () => void;
  #rejectCreated!: (error: EtcdError) => void;
  #resolveEnded!: (error: EtcdError | undefined) => void;
  /** Unlinks the watch from the caller's signal (one listener per signal, however many watches share it). */
  readonly #unfollow: (() => void) | undefined;

  constructor(key: Bytes, options: WatchOptions) {
    const range = encodeRange('watch', key, options);
    const max = options.maxBufferedEvents ?? defaultMaxBuffered;
    if (!Number.isSafeInteger(max) || max < 1) throw new InvalidArgumentError(`watch maxBufferedEvents must be a positive integer, got ${String(max)}`);
    const filters = (options.filters ?? []).map((filter) => {
      if (filter === 'noPut') return WatchCreateRequest_FilterType.NOPUT;
      if (filter === 'noDelete') return WatchCreateRequest_FilterType.NODELETE;
      throw new InvalidArgumentError(`watch filters may be 'noPut' or 'noDelete', got ${String(filter)}`);
    });
    this.nextRevision = options.startRevision === undefined ? 0n : toInt64(options.startRevision, 'watch startRevision');
    this.#maxBuffered = max;
    this.options = options;
    this.request = {
      key: range.key,
      rangeEnd: range.rangeEnd,
      progressNotify: options.progressNotify ?? false,
      filters,
      prevKv: options.prevKv ?? false,
      watchId: 0n,
      fragment: options.fragment ?? false,
    };
    this.created = new Promise((resolve, reject) => {
      this.#resolveCreated = resolve;
      this.#rejectCreated = reject;
    });
    // Nobody has to await `created`; a rejection that no one awaits is not an unhandled one.
    this.created.catch(() => {});
    this.ended = new Promise((resolve) => (this.#resolveEnded = resolve));
    if (options.signal) {
      this.#unfollow = followSignal(options.signal, { abort: () => this.cancel() });
    }
  }

  get done(): boolean {
    return this.phase === 'ended';
  }

  cancel(error?: EtcdError): void {
    if (this.stream) this.stream.cancel(this, error);
    else this.finish(error);
  }

  on<K extends keyof WatcherEvents>(event: K, listener: Listener<WatcherEvents[K]>): void {
    const list = (this.#listeners[event] ??= []) as Array<Listener<WatcherEvents[K]>>;
    list.push(listener);
    if (event === 'put' || event === 'delete' || event === 'response') {
      for (let next = this.#buffer.shift(); next; next = this.#buffer.shift()) {
        this.#buffered -= next.events.length;
        this.#dispatch(next);
      }
    }
  }

  async *[Symbol.asyncIterator](): AsyncIterator<WatchResponse> {
    for await (const response of this.#buffer) {
      this.#buffered -= response.events.length;
      yield response;
    }
  }

  /** etcd created the watch with `response.watchId`. */
  markCreated(response: PbWatchResponse): void {
    this.phase = 'active';
    this.id = response.watchId;
    if (this.nextRevision === 0n) {
      // A watch from "now" delivers changes after the creation revision: resume exactly there.
      this.nextRevision = (response.header?.revision ?? 0n) + 1n;
    }
    this.#resolveCreated();
    if (this.options.createdNotify) {
      this.#push({ header: decodeHeader(response.header), events: [], progressNotify: false, created: true });
    }
  }

  /** Delivers events (joined from fragments already), or this watch's own progress notice (`progressNotify`). */
  deliver(header: ResponseHeader, events: WatchEvent[], progress: boolean): void {
    if (this.phase === 'ended') return;
    if (events.length > 0) {
      // After a reconnect nothing before nextRevision may be delivered again.
      const fresh = events[0].kv.modRevision < this.nextRevision ? events.filter((e) => e.kv.modRevision >= this.nextRevision) : events;
      if (fresh.length === 0) return;
      this.nextRevision = fresh[fresh.length - 1].kv.modRevision + 1n;
      this.#push({ header, events: fresh, progressNotify: false, created: false });
    } else if (progress) {
      // etcd sends a watch's own notice through the watch's event queue, after its events.
      if (header.revision + 1n > this.nextRevision) this.nextRevision = header.revision + 1n;
      if (this.options.progressNotify) this.#push({ header, events, progressNotify: true, created: false });
    }
  }

  /**
   * Delivers a progress notice for the whole stream, the answer to `watchProgress()`. It never
   * moves `nextRevision`: etcd 3.4 before 3.4.25 (3.4.23 among them) and 3.5 before 3.5.8 send
   * it at once from a queue of their own, so it can overtake events at or below its revision,
   * and resuming after it could skip them (etcd#15220).
   */
  deliverStreamProgress(header: ResponseHeader): void {
    if (this.phase === 'ended') return;
    this.#push({ header, events: [], progressNotify: true, created: false });
  }

  /** Ends the watch (`error` undefined: a requested cancel); the stream has already let go of it. */
  finish(error: EtcdError | undefined): void {
    if (this.phase === 'ended') return;
    this.phase = 'ended';
    this.error = error;
    this.fragments = [];
    this.#unfollow?.();
    this.#rejectCreated(error ?? new EtcdError(Status.CANCELLED, 'the watch was cancelled before etcd created it', { reason: 'WatchCanceled' }));
    if (error) this.#emit('error', error);
    this.#emit('end', error);
    this.#resolveEnded(error);
    this.#buffer.close(error);
  }

  get #callbackMode(): boolean {
    return Boolean(this.#listeners.put?.length || this.#listeners.delete?.length || this.#listeners.response?.length);
  }

  #push(response: WatchResponse): void {
    if (this.#callbackMode) {
      this.#dispatch(response);
      return;
    }
    if (this.#buffered + response.events.length > this.#maxBuffered) {
      const nextRevision = response.events.length > 0 ? response.events[0].kv.modRevision : this.nextRevision;
      this.cancel(new WatchOverflowError(nextRevision, this.#maxBuffered));
      return;
    }
    this.#buffer.push(response);
    this.#buffered += response.events.length;
  }

  #dispatch(response: WatchResponse): void {
    this.#emit('response', response);
    for (const event of response.events) this.#emit(event.type, event);
  }

  #emit<K extends keyof WatcherEvents>(event: K, value: WatcherEvents[K]): void {
    const listeners = this.#listeners[event] as Array<Listener<WatcherEvents[K]>> | undefined;
    if (listeners) for (const listener of listeners) listener(value);
  }
}

/**
 * The run loop of one gRPC Watch stream (Go's `watchGRPCStream`), shared by every watch with
 * the same stream metadata. Watches are created one at a time: etcd answers creates in order,
 * so each `created` belongs to the one create in flight. When the stream breaks it is reopened
 * (see `ReconnectingStream`) and every live watch is re-created from its next revision.
 * @internal
 */
export class WatchStream {
  /** Every watch on this stream that has not ended, in the order they were added. */
  readonly #watches = new Set<WatchState>();
  /** Watches to create, oldest first; entries that left `pending` meanwhile are skipped. */
  #createQueue: WatchState[] = [];
  /** The watch whose create is in flight (`creating` or `cancelling`). */
  #inFlight: WatchState | undefined;
  /** Active watches by server id, for the current attempt only. */
  readonly #active = new Map<bigint, WatchState>();
  readonly #stream: ReconnectingStream<WatchRequest, PbWatchResponse>;
  /**
   * True from `requestProgress()` until the next progress answer for the whole stream, which is
   * then delivered to every watcher. Other such answers (to the watchdog's probes) reach no one.
   */
  #progressRequested = false;
  /** Fragment responses received so far (joined before delivery). */
  fragmentsReceived = 0;

  constructor(
    private readonly connection: Connection,
    metadata: Record<string, string>,
  ) {
    const callMetadata = Object.keys(metadata).length > 0 ? Metadata(metadata) : undefined;
    const { watchProgressInterval, watchProgressTimeout } = connection.config;
    this.#stream = new ReconnectingStream(
      connection,
      {
        open: (requests, signal) => connection.services.watch.watch(requests, { signal, metadata: callMetadata }),
        onOpen: () => this.#sendNextCreate(),
        onResponse: (response) => this.#onResponse(response),
        onBreak: (failure) => this.#onBreak(failure),
        // The watchdog's probe: etcd answers a progress request at once (README: Liveness).
        probe: () => this.#stream.send(progressRequest),
      },
      { name: 'watch', quietMs: watchProgressInterval, answerMs: watchProgressTimeout },
    );
  }

  /** Streams opened so far. */
  get streamsOpened(): number {
    return this.#stream.opened;
  }

  /** Streams given up by the watchdog so far. */
  get streamsAbandoned(): number {
    return this.#stream.abandoned;
  }

  /** Watches on this stream that have not ended. */
  get watchers(): number {
    return this.#watches.size;
  }

  /** True while the stream is open: not between attempts, not stopped (a stopped attempt may still be closing). */
  get open(): boolean {
    return this.#stream.running && this.#stream.open;
  }

  /** Adds a watch and creates it on the stream (after the creates before it). */
  add(watch: WatchState): void {
    if (this.connection.closed.aborted) {
      watch.finish(new ClientClosedError());
      return;
    }
    watch.stream = this;
    this.#watches.add(watch);
    this.#createQueue.push(watch);
    this.#stream.start();
    this.#sendNextCreate();
  }

  /** Cancels a watch; with `error`, it ends with that error instead of normally. */
  cancel(watch: WatchState, error?: EtcdError): void {
    switch (watch.phase) {
      case 'pending':
        this.#end(watch, error);
        break;
      case 'creating':
        // Its id comes with etcd's answer to the create; the cancel is sent then.
        watch.phase = 'cancelling';
        watch.cancelError = error;
        return;
      case 'active':
        if (watch.id !== undefined) {
          this.#active.delete(watch.id);
          this.#stream.send({ requestUnion: { $case: 'cancelRequest', value: { watchId: watch.id } } });
        }
        this.#end(watch, error);
        break;
      case 'cancelling':
      case 'ended':
        return;
    }
    this.#stopIfIdle();
  }

  /** Asks etcd for a progress notice on this stream (delivered to every watcher on it). */
  requestProgress(): void {
    if (!this.#stream.open) return;
    this.#progressRequested = true;
    this.#stream.send(progressRequest);
  }

  /** Ends every watch with `error` and stops the stream. */
  close(error: EtcdError): void {
    this.#endAll(error);
    this.#stream.stop();
  }

  /** Breaks the current stream as a network failure would (watches resume). For tests. */
  reset(): void {
    this.#stream.reset();
  }

  #end(watch: WatchState, error: EtcdError | undefined): void {
    this.#watches.delete(watch);
    if (this.#inFlight === watch) this.#inFlight = undefined;
    if (watch.id !== undefined && this.#active.get(watch.id) === watch) this.#active.delete(watch.id);
    watch.finish(error);
  }

  #endAll(error: EtcdError): void {
    const all = [...this.#watches];
    this.#watches.clear();
    this.#active.clear();
    this.#createQueue = [];
    this.#inFlight = undefined;
    for (const watch of all) watch.finish(error);
  }

  #stopIfIdle(): void {
    if (this.#watches.size === 0) {
      this.#createQueue = [];
      this.#stream.stop();
    }
  }

  #sendNextCreate(): void {
    if (this.#inFlight || !this.#stream.open) return;
    let next = this.#createQueue.shift();
    while (next && next.phase !== 'pending') next = this.#createQueue.shift();
    if (!next) return;
    next.phase = 'creating';
    this.#inFlight = next;
    this.#stream.send({ requestUnion: { $case: 'createRequest', value: { ...next.request, startRevision: next.nextRevision } } });
    // etcd answers a create at once: a member that does not is as silent as one that ignores a probe.
    this.#stream.expectAnswer();
  }

  /** The attempt failed: re-create every live watch on the next one, or end them all. */
  #onBreak(failure: StreamFailure): boolean {
    if (failure.kind === 'fatal') {
      this.#endAll(failure.error);
      return false;
    }
    this.#active.clear();
    this.#inFlight = undefined;
    for (const watch of [...this.#watches]) {
      switch (watch.phase) {
        case 'cancelling':
          // Its create died with the stream, so there is nothing left to cancel on the server.
          this.#end(watch, watch.cancelError);
          break;
        case 'creating':
        case 'active':
          watch.phase = 'pending';
          watch.id = undefined;
          watch.fragments = [];
          break;
        default:
          break;
      }
    }
    this.#createQueue = [...this.#watches].filter((watch) => watch.phase === 'pending');
    return this.#watches.size > 0;
  }

  #onResponse(response: PbWatchResponse): void {
    if (response.created) {
      const watch = this.#inFlight;
      this.#inFlight = undefined;
      if (watch) this.#onCreated(watch, response);
      this.#sendNextCreate();
      return;
    }
    const watch = this.#active.get(response.watchId);
    if (!watch) {
      // A progress answer for the whole stream (watch id -1): to the user's `watchProgress()`, or
      // to the watchdog's probe, which no watcher asked for. Anything else for an id we no
      // longer know (a watch cancelled meanwhile) is dropped.
      if (response.watchId === -1n && !response.canceled && this.#progressRequested) {
        this.#progressRequested = false;
        const header = decodeHeader(response.header);
        for (const w of this.#active.values()) w.deliverStreamProgress(header);
      }
      return;
    }
    if (response.canceled) {
      this.#end(watch, cancelError(response));
      this.#stopIfIdle();
      return;
    }
    const events = response.events.map(decodeEvent);
    if (response.fragment) {
      this.fragmentsReceived++;
      watch.fragments.push(...events);
      return;
    }
    const all = watch.fragments.length > 0 ? [...watch.fragments, ...events] : events;
    watch.fragments = [];
    const progress = all.length === 0 && response.compactRevision === 0n;
    watch.deliver(decodeHeader(response.header), all, progress);
  }

  #onCreated(watch: WatchState, response: PbWatchResponse): void {
    const refused = response.canceled || response.watchId === -1n;
    if (refused && watch.phase === 'creating' && this.#retryWithFreshToken(watch, response)) return;
    if (refused) {
      this.#end(watch, watch.phase === 'cancelling' ? watch.cancelError : cancelError(response));
      this.#stopIfIdle();
      return;
    }
    if (watch.phase === 'cancelling') {
      this.#stream.send({ requestUnion: { $case: 'cancelRequest', value: { watchId: response.watchId } } });
      this.#end(watch, watch.cancelError);
      this.#stopIfIdle();
      return;
    }
    this.#active.set(response.watchId, watch);
    this.connection.observer.watchCreated(watch);
    watch.markCreated(response);
  }

  /**
   * A create refused for auth reasons may only mean the stream's token expired: once per
   * watch, drop the token and reopen the stream (which authenticates again) before giving up.
   */
  #retryWithFreshToken(watch: WatchState, response: PbWatchResponse): boolean {
    const { tokens } = this.connection;
    if (watch.authRetried || !tokens.refreshable || !isWatchTokenRefusal(parseCancelReason(response.cancelReason).details)) return false;
    watch.authRetried = true;
    tokens.invalidate();
    // Back to `creating` as far as the break is concerned: it becomes `pending` with the rest.
    this.#inFlight = watch;
    this.#stream.reset();
    return true;
  }
}

/** Asks etcd for a progress answer for the whole stream (watch id -1). */
const progressRequest: WatchRequest = { requestUnion: { $case: 'progressRequest', value: {} } };

function cancelError(response: PbWatchResponse): EtcdError {
  if (response.compactRevision > 0n) {
    const error = new CompactedError(
      `etcdserver: mvcc: required revision has been compacted (compacted to ${response.compactRevision}); re-read and watch again`,
      { reason: 'Compacted' },
    );
    error.compactRevision = response.compactRevision;
    return error;
  }
  if (response.cancelReason) {
    const { code, details } = parseCancelReason(response.cancelReason);
    return errorFromStatus(code, details);
  }
  return new EtcdError(Status.CANCELLED, 'etcd cancelled the watch without giving a reason', { reason: 'WatchCanceled' });
}

function decodeEvent(event: PbEvent): WatchEvent {
  return {
    type: event.type === Event_EventType.DELETE ? 'delete' : 'put',
    kv: decodeKv(event.kv ?? emptyKv()),
    prevKv: event.prevKv ? decodeKv(event.prevKv) : undefined,
  };
}

function emptyKv(): PbKeyValue {
  return { key: new Uint8Array(0), value: new Uint8Array(0), createRevision: 0n, modRevision: 0n, version: 0n, lease: 0n };
}

/** The request metadata that needs a stream of its own: etcd decides per stream whether to require a leader. */
function streamMetadata(options: WatchOptions): Record<string, string> {
  return options.requireLeader === false ? {} : { hasleader: 'true' };
}

const streamsByOwner = new WeakMap<object, WatchStreams>();

/** The watch streams of a client, for tests (`reset()`, counters). @internal */
export function watchStreamsOf(client: object): WatchStreams {
  const streams = streamsByOwner.get(client);
  if (!streams) throw new Error('not a client with watch streams');
  return streams;
}

/**
 * The watch streams of one client (Go's `watcher`): one run loop per distinct stream
 * metadata, so watches that need a different stream (today: `requireLeader`) get their own.
 * @internal
 */
export class WatchStreams {
  /** The run loop of each stream, keyed by its metadata. */
  readonly #streams = new Map<string, WatchStream>();

  /** `owner` (the client) can then be handed to `watchStreamsOf` in tests. */
  constructor(
    private readonly connection: Connection,
    owner: object,
  ) {
    streamsByOwner.set(owner, this);
  }

  /** Starts a watch on the stream its options call for. */
  watch(key: Bytes, options: WatchOptions = {}): Watcher {
    const state = new WatchState(key, options);
    const watcher = new Watcher(state);
    if (options.signal?.aborted) {
      state.finish(undefined);
      return watcher;
    }
    const metadata = streamMetadata(options);
    const streamKey = JSON.stringify(Object.entries(metadata).sort());
    let stream = this.#streams.get(streamKey);
    if (!stream) {
      stream = new WatchStream(this.connection, metadata);
      this.#streams.set(streamKey, stream);
    }
    stream.add(state);
    return watcher;
  }

  /** Asks etcd for a progress notice on every open stream. */
  requestProgress(): void {
    for (const stream of this.#streams.values()) stream.requestProgress();
  }

  /** Streams opened so far, over every kind. */
  get streamsOpened(): number {
    return this.#sum((s) => s.streamsOpened);
  }

  /** Streams given up by the watchdog so far, over every kind. */
  get streamsAbandoned(): number {
    return this.#sum((s) => s.streamsAbandoned);
  }

  /** Watchers that have not ended, over every kind (for `client.stats()`). */
  get watchers(): number {
    return this.#sum((s) => s.watchers);
  }

  /** Streams open now, over every kind (for `client.stats()`). */
  get openStreams(): number {
    return this.#sum((s) => (s.open ? 1 : 0));
  }

  /** Fragment responses received so far, over every kind. */
  get fragmentsReceived(): number {
    return this.#sum((s) => s.fragmentsReceived);
  }

  /** The sum of `count` over every stream. */
  #sum(count: (stream: WatchStream) => number): number {
    let sum = 0;
    for (const stream of this.#streams.values()) sum += count(stream);
    return sum;
  }

  /** Breaks every stream as a network failure would (for tests). */
  reset(): void {
    for (const stream of this.#streams.values()) stream.reset();
  }

  /** Ends every watcher with `ClientClosedError`. */
  close(): void {
    const error = new ClientClosedError();
    for (const stream of this.#streams.values()) stream.close(error);
  }
}
