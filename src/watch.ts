import { delay } from 'abort-controller-x';
import { Metadata } from 'nice-grpc-common';
import type { Connection } from './connection.js';
import { type Bytes, type Int64, toInt64 } from './encoding.js';
import { ClientClosedError, CompactedError, errorFromStatus, EtcdError, invalidArgument, Status, toEtcdError } from './errors.js';
import { type KeyValue, type ResponseHeader, decodeHeader, decodeKv } from './kv.js';
import { type RangeOptions, encodeRange } from './op.js';
import { isTokenError } from './middleware/auth.js';
import { RequestQueue } from './request-queue.js';
import { Event_EventType, type WatchRequest, type WatchResponse as PbWatchResponse, WatchCreateRequest_FilterType } from './proto.js';

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
  /** Use a stream on which etcd ends watches when its member has no leader, so they move on. */
  requireLeader?: boolean;
  /** Events buffered for a slow consumer before the watcher ends with `WatchOverflowError`. Default 10,000. */
  maxBufferedEvents?: number;
  /** Aborting it cancels the watch. */
  signal?: AbortSignal;
  /** Maps event keys on the way out (namespaces strip their prefix here). @internal */
  mapKey?: (key: Buffer) => Buffer;
}

/** One change to a key. */
export interface WatchEvent {
  type: 'put' | 'delete';
  /** The key-value after the change (for a delete: the key, an empty value and the delete's revision). */
  kv: KeyValue;
  /** The key-value before the change, with `prevKv: true`. */
  prevKv: KeyValue | undefined;
}

/** A batch of events (or a progress notice) delivered by a watcher. */
export interface WatchResponse {
  header: ResponseHeader;
  events: WatchEvent[];
  /** True for a progress notice: no events, and every change up to `header.revision` was delivered. */
  progressNotify: boolean;
  /** True for the creation notice (with `createdNotify`). */
  created: boolean;
}

/**
 * The watcher was ended because its consumer fell behind by more than `maxBufferedEvents`;
 * `nextRevision` is the first revision it did not deliver, to watch again from there.
 */
export class WatchOverflowError extends EtcdError {
  constructor(
    readonly nextRevision: bigint,
    limit: number,
  ) {
    super(Status.RESOURCE_EXHAUSTED, `watch consumer fell more than ${limit} events behind; resume from revision ${nextRevision}`, {
      reason: 'WatchOverflow',
    });
  }
}


export type Listener<T> = (value: T) => void;
export interface WatcherEvents {
  response: WatchResponse;
  put: WatchEvent;
  delete: WatchEvent;
  error: EtcdError;
  end: EtcdError | undefined;
}

const defaultMaxBuffered = 10_000;

/**
 * A watch on a key or range. Consume it with `for await (const response of watcher)`, or with
 * callbacks (`on('put' | 'delete' | 'response' | 'error' | 'end')`): one style per watcher.
 * It survives reconnects: each event is delivered exactly once, in revision order.
 */
export class Watcher implements AsyncIterable<WatchResponse> {
  /** The server's watch id, once created (it changes after a reconnect). */
  id: bigint | undefined;
  /** Resolves once etcd confirmed the watch; rejects if it ended before that. */
  readonly created: Promise<void>;
  /** Resolves when the watcher ends: with undefined after `cancel()`, or with the error that ended it. */
  readonly ended: Promise<EtcdError | undefined>;
  /** Why the watcher ended, once it has (undefined after `cancel()`). */
  error: EtcdError | undefined;
  /** True once the watcher ended. */
  done = false;

  /** @internal The first revision not yet delivered (0: from the creation on). */
  nextRevision: bigint;
  /** @internal */ readonly key: Uint8Array;
  /** @internal */ readonly rangeEnd: Uint8Array;
  /** @internal */ readonly options: WatchOptions;
  /** @internal */ cancelRequested = false;
  /** @internal */ fragments: WatchEvent[] = [];
  /** @internal Set once a create was refused for auth and retried with a fresh token. */
  authRetried = false;

  private readonly buffer: WatchResponse[] = [];
  private buffered = 0;
  private readonly maxBuffered: number;
  private wake: (() => void) | undefined;
  private listeners: { [K in keyof WatcherEvents]?: Array<Listener<WatcherEvents[K]>> } = {};
  private resolveCreated!: () => void;
  private rejectCreated!: (error: EtcdError) => void;
  private resolveEnded!: (error: EtcdError | undefined) => void;
  private readonly abortListener: (() => void) | undefined;

  /** @internal */
  constructor(
    private readonly stream: WatchStream,
    key: Bytes,
    options: WatchOptions,
  ) {
    const range = encodeRange('watch', key, options);
    this.key = range.key;
    this.rangeEnd = range.rangeEnd;
    this.options = options;
    this.nextRevision = options.startRevision === undefined ? 0n : toInt64(options.startRevision, 'watch startRevision');
    const max = options.maxBufferedEvents ?? defaultMaxBuffered;
    if (!Number.isSafeInteger(max) || max < 1) throw invalidArgument(`watch maxBufferedEvents must be a positive integer, got ${String(max)}`);
    this.maxBuffered = max;
    for (const filter of options.filters ?? []) {
      if (filter !== 'noPut' && filter !== 'noDelete') throw invalidArgument(`watch filters may be 'noPut' or 'noDelete', got ${String(filter)}`);
    }
    this.created = new Promise((resolve, reject) => {
      this.resolveCreated = resolve;
      this.rejectCreated = reject;
    });
    // Nobody has to await `created`; a rejection that no one awaits is not an unhandled one.
    this.created.catch(() => {});
    this.ended = new Promise((resolve) => (this.resolveEnded = resolve));
    if (options.signal) {
      this.abortListener = () => void this.cancel();
      options.signal.addEventListener('abort', this.abortListener);
    }
  }

  /** Registers a callback; `put`/`delete`/`response` listeners switch the watcher to callback mode. */
  on<K extends keyof WatcherEvents>(event: K, listener: Listener<WatcherEvents[K]>): this {
    const list = (this.listeners[event] ??= []) as Array<Listener<WatcherEvents[K]>>;
    list.push(listener);
    if (event === 'put' || event === 'delete' || event === 'response') this.drainToListeners();
    return this;
  }

  /** Cancels the watch on the server; resolves once the watcher has ended. Idempotent. */
  async cancel(): Promise<void> {
    if (!this.done) this.stream.cancel(this);
    await this.ended;
  }

  /** @internal */
  markCreated(response: PbWatchResponse): void {
    this.id = response.watchId;
    if (this.nextRevision === 0n) {
      // A watch from "now" delivers changes after the creation revision: resume exactly there.
      this.nextRevision = (response.header?.revision ?? 0n) + 1n;
    }
    this.resolveCreated();
    if (this.options.createdNotify) {
      this.push({ header: decodeHeader(response.header), events: [], progressNotify: false, created: true });
    }
  }

  /** @internal Delivers events (already joined from fragments) and progress notices. */
  deliver(header: ResponseHeader, events: WatchEvent[], progress: boolean): void {
    if (this.done) return;
    if (events.length > 0) {
      // After a reconnect nothing before nextRevision may be delivered again.
      const fresh = events[0].kv.modRevision < this.nextRevision ? events.filter((e) => e.kv.modRevision >= this.nextRevision) : events;
      if (fresh.length === 0) return;
      this.nextRevision = fresh[fresh.length - 1].kv.modRevision + 1n;
      this.push({ header, events: fresh, progressNotify: false, created: false });
    } else if (progress) {
      if (header.revision + 1n > this.nextRevision) this.nextRevision = header.revision + 1n;
      if (this.options.progressNotify || this.stream.progressRequested) {
        this.push({ header, events, progressNotify: true, created: false });
      }
    }
  }

  /** @internal Ends the watcher; `error` undefined means a requested cancel. */
  finish(error: EtcdError | undefined): void {
    if (this.done) return;
    this.done = true;
    this.error = error;
    if (this.abortListener) this.options.signal?.removeEventListener('abort', this.abortListener);
    this.rejectCreated(error ?? new EtcdError(Status.CANCELLED, 'the watch was cancelled before etcd created it', { reason: 'WatchCanceled' }));
    if (error) this.emit('error', error);
    this.emit('end', error);
    this.resolveEnded(error);
    this.wake?.();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<WatchResponse> {
    for (;;) {
      const next = this.buffer.shift();
      if (next) {
        this.buffered -= next.events.length;
        yield next;
        continue;
      }
      if (this.done) {
        if (this.error) throw this.error;
        return;
      }
      await new Promise<void>((resolve) => (this.wake = resolve));
      this.wake = undefined;
    }
  }

  private get callbackMode(): boolean {
    return Boolean(this.listeners.put?.length || this.listeners.delete?.length || this.listeners.response?.length);
  }

  private push(response: WatchResponse): void {
    if (this.callbackMode) {
      this.dispatch(response);
      return;
    }
    if (this.buffered + response.events.length > this.maxBuffered) {
      const nextRevision = response.events.length > 0 ? response.events[0].kv.modRevision : this.nextRevision;
      this.stream.cancel(this, new WatchOverflowError(nextRevision, this.maxBuffered));
      return;
    }
    this.buffer.push(response);
    this.buffered += response.events.length;
    this.wake?.();
  }

  private drainToListeners(): void {
    for (let next = this.buffer.shift(); next; next = this.buffer.shift()) {
      this.buffered -= next.events.length;
      this.dispatch(next);
    }
  }

  private dispatch(response: WatchResponse): void {
    this.emit('response', response);
    for (const event of response.events) this.emit(event.type, event);
  }

  private emit<K extends keyof WatcherEvents>(event: K, value: WatcherEvents[K]): void {
    for (const listener of (this.listeners[event] ?? []) as Array<Listener<WatcherEvents[K]>>) listener(value);
  }
}

/**
 * One gRPC Watch stream shared by many watchers. Watches are created one at a time (etcd
 * answers creates in order, so each `created` belongs to the oldest pending create); when the
 * stream breaks it is reopened with backoff and every watcher re-created from its next revision.
 * @internal
 */
export class WatchStream {
  /** Watchers by server watch id. */
  private readonly active = new Map<bigint, Watcher>();
  /** Watchers waiting to be (re)created, oldest first; the first is in flight when `creating`. */
  private pending: Watcher[] = [];
  private creating: Watcher | undefined;
  private controller: AbortController | undefined;
  /** The requests of the current stream attempt. */
  private requests = new RequestQueue<WatchRequest>();
  /** True after `requestProgress()`, so that progress answers are delivered. */
  progressRequested = false;
  /** Streams opened so far. */
  streamsOpened = 0;
  /** Fragment responses received so far (joined before delivery). */
  fragmentsReceived = 0;

  constructor(
    private readonly connection: Connection,
    private readonly requireLeader: boolean,
  ) {}

  add(watcher: Watcher): void {
    if (this.connection.closed.aborted) {
      watcher.finish(new ClientClosedError());
      return;
    }
    this.pending.push(watcher);
    this.start();
    this.sendNextCreate();
  }

  /** Cancels a watcher; with `error`, it ends with that error instead of normally. */
  cancel(watcher: Watcher, error?: EtcdError): void {
    if (watcher.done || watcher.cancelRequested) return;
    watcher.cancelRequested = true;
    const pendingIndex = this.pending.indexOf(watcher);
    if (pendingIndex >= 0) {
      this.pending.splice(pendingIndex, 1);
      watcher.finish(error);
    } else if (watcher.id !== undefined && this.active.get(watcher.id) === watcher) {
      this.active.delete(watcher.id);
      this.send({ requestUnion: { $case: 'cancelRequest', value: { watchId: watcher.id } } });
      watcher.finish(error);
    } else if (this.creating === watcher) {
      // Its id comes with the `created` answer; the cancel is sent then.
      this.cancelAfterCreate.set(watcher, error);
      return;
    } else {
      watcher.finish(error);
    }
    this.stopIfIdle();
  }

  private readonly cancelAfterCreate = new Map<Watcher, EtcdError | undefined>();

  /** Asks etcd for a progress notice on this stream (delivered to every watcher on it). */
  requestProgress(): void {
    if (!this.controller) return;
    this.progressRequested = true;
    this.send({ requestUnion: { $case: 'progressRequest', value: {} } });
  }

  /** Ends every watcher with `error` and closes the stream. */
  close(error: EtcdError): void {
    const all = [...this.pending, ...this.active.values()];
    if (this.creating && !all.includes(this.creating)) all.push(this.creating);
    this.pending = [];
    this.active.clear();
    this.creating = undefined;
    for (const watcher of all) watcher.finish(error);
    this.stop();
  }

  /** Breaks the current stream as a network failure would (watchers resume). @internal */
  reset(): void {
    this.resetController?.abort();
  }

  private resetController: AbortController | undefined;

  private start(): void {
    if (this.controller) return;
    const controller = new AbortController();
    this.controller = controller;
    void this.run(controller.signal);
  }

  private stop(): void {
    this.controller?.abort();
    this.controller = undefined;
    this.requests.close();
  }

  private stopIfIdle(): void {
    if (this.active.size === 0 && this.pending.length === 0 && !this.creating) this.stop();
  }

  private send(request: WatchRequest): void {
    this.requests.push(request);
  }

  private sendNextCreate(): void {
    if (this.creating || !this.controller) return;
    const watcher = this.pending.shift();
    if (!watcher) return;
    this.creating = watcher;
    const { options } = watcher;
    const filters = (options.filters ?? []).map((f) => (f === 'noPut' ? WatchCreateRequest_FilterType.NOPUT : WatchCreateRequest_FilterType.NODELETE));
    this.send({
      requestUnion: {
        $case: 'createRequest',
        value: {
          key: watcher.key,
          rangeEnd: watcher.rangeEnd,
          startRevision: watcher.nextRevision,
          progressNotify: options.progressNotify ?? false,
          filters,
          prevKv: options.prevKv ?? false,
          watchId: 0n,
          fragment: options.fragment ?? false,
        },
      },
    });
  }

  private async run(signal: AbortSignal): Promise<void> {
    let backoff = 50;
    while (!signal.aborted) {
      const attempt = new AbortController();
      this.resetController = attempt;
      const onAbort = () => attempt.abort();
      signal.addEventListener('abort', onAbort);
      let failure: EtcdError | undefined;
      const requests = new RequestQueue<WatchRequest>();
      this.requests = requests;
      try {
        this.streamsOpened++;
        this.sendNextCreate();
        const metadata = this.requireLeader ? Metadata({ hasleader: 'true' }) : undefined;
        for await (const response of this.connection.services.watch.watch(requests, { signal: attempt.signal, metadata })) {
          backoff = 50;
          this.onResponse(response);
        }
      } catch (error) {
        failure = toEtcdError(error);
      } finally {
        signal.removeEventListener('abort', onAbort);
        requests.close();
      }
      if (signal.aborted) return;
      const refreshable = failure !== undefined && this.connection.tokens.refreshable && isTokenError(failure);
      if (failure && !resumable(failure) && !refreshable) {
        this.close(failure);
        return;
      }
      // Every watcher goes back to the queue, to be re-created from its next revision.
      const resume = [...this.active.values()];
      if (this.creating) resume.unshift(this.creating);
      this.active.clear();
      this.creating = undefined;
      for (const [watcher, error] of this.cancelAfterCreate) {
        this.cancelAfterCreate.delete(watcher);
        watcher.finish(error);
        resume.splice(resume.indexOf(watcher), 1);
      }
      for (const watcher of resume) watcher.fragments = [];
      this.pending = [...resume, ...this.pending];
      if (this.pending.length === 0) {
        this.stop();
        return;
      }
      try {
        await delay(signal, backoff * (0.5 + Math.random() / 2));
      } catch {
        return;
      }
      backoff = Math.min(backoff * 2, 2_000);
    }
  }

  private onResponse(response: PbWatchResponse): void {
    if (response.created) {
      const watcher = this.creating;
      this.creating = undefined;
      if (watcher) this.onCreated(watcher, response);
      this.sendNextCreate();
      return;
    }
    const watcher = this.active.get(response.watchId);
    if (!watcher) {
      if (response.watchId === -1n || (response.events.length === 0 && !response.canceled)) {
        // A progress answer for the whole stream.
        const header = decodeHeader(response.header);
        for (const w of this.active.values()) w.deliver(header, [], true);
      }
      return;
    }
    if (response.canceled) {
      this.active.delete(response.watchId);
      watcher.finish(cancelError(response));
      this.stopIfIdle();
      return;
    }
    const events = response.events.map((e) => decodeEvent(e, watcher.options.mapKey));
    if (response.fragment) {
      this.fragmentsReceived++;
      watcher.fragments.push(...events);
      return;
    }
    const all = watcher.fragments.length > 0 ? [...watcher.fragments, ...events] : events;
    watcher.fragments = [];
    const progress = all.length === 0 && response.compactRevision === 0n;
    watcher.deliver(decodeHeader(response.header), all, progress);
  }

  /**
   * A create refused for auth reasons may only mean the stream's token expired: once per
   * watcher, drop the token and reopen the stream (which authenticates again) before giving up.
   */
  private retryWithFreshToken(watcher: Watcher, response: PbWatchResponse): boolean {
    const { tokens } = this.connection;
    if (watcher.authRetried || !tokens.refreshable || !authCancelReasons.has(parseCancelReason(response.cancelReason).details)) return false;
    watcher.authRetried = true;
    tokens.invalidate();
    this.pending.unshift(watcher);
    this.reset();
    return true;
  }

  private onCreated(watcher: Watcher, response: PbWatchResponse): void {
    if ((response.canceled || response.watchId === -1n) && this.retryWithFreshToken(watcher, response)) return;
    if (response.canceled || response.watchId === -1n) {
      watcher.finish(cancelError(response));
      this.stopIfIdle();
      return;
    }
    this.active.set(response.watchId, watcher);
    watcher.markCreated(response);
    if (this.cancelAfterCreate.has(watcher)) {
      const error = this.cancelAfterCreate.get(watcher);
      this.cancelAfterCreate.delete(watcher);
      this.active.delete(response.watchId);
      this.send({ requestUnion: { $case: 'cancelRequest', value: { watchId: response.watchId } } });
      watcher.finish(error);
      this.stopIfIdle();
    }
  }
}

/** etcd's cancel reasons when a watch's token has expired (older servers say "permission denied"). */
const authCancelReasons = new Set(['etcdserver: invalid auth token', 'etcdserver: permission denied', 'etcdserver: revision of auth store is old', 'etcdserver: user name is empty']);

/**
 * etcd puts a gRPC status in a cancel reason, as Go prints it: `rpc error: code = Unauthenticated
 * desc = etcdserver: invalid auth token`; older servers send the bare message.
 */
export function parseCancelReason(reason: string): { code: Status; details: string } {
  const match = /^rpc error: code = (\w+) desc = (.*)$/s.exec(reason);
  if (!match) return { code: Status.FAILED_PRECONDITION, details: reason };
  const name = match[1].replace(/([a-z])([A-Z])/g, '$1_$2').toUpperCase() as keyof typeof Status;
  const code = Status[name];
  return { code: typeof code === 'number' ? code : Status.FAILED_PRECONDITION, details: match[2] };
}

/** Stream failures after which the watchers are re-created; anything else ends them. */
function resumable(error: EtcdError): boolean {
  return error.code === Status.UNAVAILABLE || error.code === Status.INTERNAL || error.code === Status.UNKNOWN || error.code === Status.CANCELLED;
}

function cancelError(response: PbWatchResponse): EtcdError {
  if (response.compactRevision > 0n) {
    const error = new CompactedError(
      Status.OUT_OF_RANGE,
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

function decodeEvent(event: { type: Event_EventType; kv?: import('./proto.js').KeyValue; prevKv?: import('./proto.js').KeyValue }, mapKey: ((key: Buffer) => Buffer) | undefined): WatchEvent {
  const kv = decodeKv(event.kv ?? emptyKv());
  const prevKv = event.prevKv ? decodeKv(event.prevKv) : undefined;
  if (mapKey) {
    kv.key = mapKey(kv.key);
    if (prevKv) prevKv.key = mapKey(prevKv.key);
  }
  return { type: event.type === Event_EventType.DELETE ? 'delete' : 'put', kv, prevKv };
}

function emptyKv(): import('./proto.js').KeyValue {
  return { key: new Uint8Array(0), value: new Uint8Array(0), createRevision: 0n, modRevision: 0n, version: 0n, lease: 0n };
}


/**
 * The watch streams of one client: one shared stream, plus one for `requireLeader` watches
 * (etcd decides per stream, from its metadata, whether to require a leader).
 * @internal
 */
export class WatchStreams {
  private readonly streams: { plain: WatchStream; leader: WatchStream };

  constructor(connection: Connection) {
    this.streams = { plain: new WatchStream(connection, false), leader: new WatchStream(connection, true) };
  }

  watch(key: Bytes, options: WatchOptions = {}): Watcher {
    const stream = options.requireLeader ? this.streams.leader : this.streams.plain;
    const watcher = new Watcher(stream, key, options);
    if (options.signal?.aborted) {
      watcher.finish(undefined);
      return watcher;
    }
    stream.add(watcher);
    return watcher;
  }

  requestProgress(): void {
    this.streams.plain.requestProgress();
    this.streams.leader.requestProgress();
  }

  /** Streams opened so far, over both kinds. */
  get streamsOpened(): number {
    return this.streams.plain.streamsOpened + this.streams.leader.streamsOpened;
  }

  /** Fragment responses received so far, over both kinds. */
  get fragmentsReceived(): number {
    return this.streams.plain.fragmentsReceived + this.streams.leader.fragmentsReceived;
  }

  reset(): void {
    this.streams.plain.reset();
    this.streams.leader.reset();
  }

  close(): void {
    const error = new ClientClosedError();
    this.streams.plain.close(error);
    this.streams.leader.close(error);
  }
}
