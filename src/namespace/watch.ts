import type { Bytes } from '../encoding.js';
import type { EtcdError } from '../errors.js';
import type { KeyValue } from '../kv.js';
import { encodeRange } from '../op.js';
import { type WatchEvent, type WatchOptions, type WatchResponse, type WatchSource, Watcher, type WatcherEvents } from '../watch.js';
import type { KeyPrefix } from './keys.js';

/** What the namespace's watch wraps: the client, or another namespace. @internal */
export interface WatchApi {
  watch(key: Bytes, options?: WatchOptions): Watcher;
  watchProgress(): void;
}

/**
 * Watches inside a key prefix, as Go's `namespace.NewWatcher`: the key and range are mapped
 * into the prefix on the way in, and the prefix is stripped from every event's keys on the way
 * out. The core watch knows nothing of prefixes; nested namespaces wrap each other.
 * @internal
 */
export class NamespacedWatch implements WatchApi {
  constructor(
    private readonly inner: WatchApi,
    private readonly keys: KeyPrefix,
  ) {}

  /** Watches a key or range inside the prefix; event keys come without it. */
  watch(key: Bytes, options: WatchOptions = {}): Watcher {
    const range = encodeRange('watch', key, options);
    const inner = this.inner.watch(this.keys.key(range.key), {
      ...options,
      prefix: false,
      fromKey: false,
      end: this.keys.rangeEnd(range.rangeEnd),
    });
    return new Watcher(new StrippedWatch(inner, this.keys));
  }

  /** Progress is per stream, not per key: the inner watch's request serves every namespace. */
  watchProgress(): void {
    this.inner.watchProgress();
  }
}

/** A watcher's responses with the prefix stripped from their keys (new objects: listeners may share them). */
class StrippedWatch implements WatchSource {
  constructor(
    private readonly inner: Watcher,
    private readonly keys: KeyPrefix,
  ) {}

  get created(): Promise<void> {
    return this.inner.created;
  }

  get ended(): Promise<EtcdError | undefined> {
    return this.inner.ended;
  }

  get done(): boolean {
    return this.inner.done;
  }

  get error(): EtcdError | undefined {
    return this.inner.error;
  }

  cancel(): void {
    void this.inner.cancel();
  }

  on<K extends keyof WatcherEvents>(event: K, listener: (value: WatcherEvents[K]) => void): void {
    switch (event) {
      case 'response':
        this.inner.on('response', (r) => (listener as (value: WatchResponse) => void)(this.#response(r)));
        break;
      case 'put':
      case 'delete':
        this.inner.on(event as 'put' | 'delete', (e) => (listener as (value: WatchEvent) => void)(this.#event(e)));
        break;
      default:
        this.inner.on(event, listener);
    }
  }

  async *[Symbol.asyncIterator](): AsyncIterator<WatchResponse> {
    for await (const response of this.inner) yield this.#response(response);
  }

  #response(response: WatchResponse): WatchResponse {
    return { ...response, events: response.events.map((e) => this.#event(e)) };
  }

  #event(event: WatchEvent): WatchEvent {
    return { type: event.type, kv: this.#kv(event.kv), prevKv: event.prevKv && this.#kv(event.prevKv) };
  }

  #kv(kv: KeyValue): KeyValue {
    return { ...kv, key: this.keys.strip(kv.key) };
  }
}
