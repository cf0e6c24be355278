import { Status } from 'nice-grpc-common';
import type { EtcdError } from './errors.js';
import type { Log } from './logger.js';
import type { EndpointState } from './stats.js';

/**
 * Where a connection event happened. On the default transport (`'http2'`) it is one
 * connection: `endpoint` as configured and the `address` it resolved to (`ip:port` or a socket
 * path). grpc-js's channel reports one state for all its endpoints, so on the `'grpc-js'`
 * transport both are the whole endpoint list, comma-separated, and `connected` means that at
 * least one endpoint is connected, `disconnected` that none is any more.
 */
export interface ConnectionInfo {
  /** The endpoint as configured (`host:port`, `unix:<path>`), or on grpc-js the endpoint list. */
  endpoint: string;
  /** The address connected to (`ip:port`, a socket path), or on grpc-js the endpoint list. */
  address: string;
}

/** A connection that ended or could not be made, and why. */
export interface ConnectionLoss extends ConnectionInfo {
  /** Why, in words: a socket error, a GOAWAY, an unanswered keepalive ping, a refusal, a timeout. */
  cause: string;
}

/** A watch that goes on after its stream broke. */
export interface WatchResume {
  /** The watched key, or the first key of the range. */
  key: Buffer;
  /** The end of the watched range (exclusive); empty for a single key. */
  rangeEnd: Buffer;
  /** The revision the watch goes on from: the first it had not delivered. */
  fromRevision: bigint;
}

/** A kept-alive lease that is gone. */
export interface KeepAliveLoss {
  /** The lease id. */
  id: bigint;
  /** `lost`: no keep-alive answer within the lease's TTL; `expired`: etcd says it no longer exists. */
  reason: 'lost' | 'expired';
  /** The error behind it (the `KeepAlive` handle's `cause`). */
  cause: EtcdError;
}

/** A new auth token. */
export interface TokenRefresh {
  /** The user the token is for. */
  username: string;
  /** `initial`: the client's first token; `rejected`: a replacement for one etcd rejected. */
  reason: 'initial' | 'rejected';
}

/** A new endpoint list. */
export interface EndpointsChange {
  /** The endpoints calls go to now. */
  endpoints: string[];
  /** The endpoints before the change. */
  previous: string[];
  /** `sync`: `client.sync()` or `autoSyncInterval`; `setEndpoints`: `client.setEndpoints()`; `discoverySrv`: new SRV records. */
  source: 'sync' | 'setEndpoints' | 'discoverySrv';
}

/**
 * The events of a `Client` (`client.on(name, listener)`), for what an operator alerts on, in
 * the manner of ioredis's connection events. Each listener gets one object; listeners run
 * synchronously and must not throw (an exception is rethrown on a later tick, as an uncaught
 * exception, and the client carries on).
 */
export interface ClientEvents {
  /** A connection became ready for calls (the HTTP/2 handshake finished). */
  connected: ConnectionInfo;
  /**
   * A ready connection ended: a socket error, a GOAWAY, a keepalive ping unanswered, the client
   * closing it or dropping its endpoint. The next call reconnects.
   */
  disconnected: ConnectionLoss;
  /** An attempt to connect failed (refused, timed out, TLS); the next waits out a backoff. */
  connectFailed: ConnectionLoss;
  /**
   * A watch whose stream broke was created again on a new stream and goes on from
   * `fromRevision`: nothing is lost or repeated.
   */
  watchResumed: WatchResume;
  /**
   * A kept-alive lease is gone: `lost` (no keep-alive answer within its TTL) or `expired`
   * (etcd says it no longer exists: expired or revoked). Its `KeepAlive` handles have ended.
   */
  keepAliveLost: KeepAliveLoss;
  /** The client got a new auth token: its first, or a replacement for one etcd rejected. */
  tokenRefreshed: TokenRefresh;
  /** The endpoint list changed, by `client.sync()`, `autoSyncInterval`, `setEndpoints` or DNS SRV re-resolution. */
  endpointsChanged: EndpointsChange;
}

/** A listener of one client event. */
export type ClientListener<K extends keyof ClientEvents> = (event: ClientEvents[K]) => void;

type Entry = { listener: (value: never) => void; once: boolean };

/**
 * The client's internal sink for what it observes about itself: the transports, the watch and
 * keep-alive loops and the token source report here in one line each, and it turns each report
 * into a `ClientEvents` event for listeners and a log line for the configured log. Reports come
 * from state changes (connections, streams, leases, tokens), never from each call; with no
 * listener and no log, none builds an event object or a log line.
 * @internal
 */
export class Observer {
  readonly #listeners = new Map<keyof ClientEvents, Entry[]>();
  /** Watches created at least once: a second create is a resume. */
  readonly #created = new WeakSet<object>();

  constructor(readonly log: Log | undefined) {}

  /** Adds a listener; with `once`, it is removed before its first call. */
  on<K extends keyof ClientEvents>(event: K, listener: ClientListener<K>, once = false): void {
    let list = this.#listeners.get(event);
    if (!list) this.#listeners.set(event, (list = []));
    list.push({ listener: listener as (value: never) => void, once });
  }

  /** Removes the listener added last as `listener`. */
  off<K extends keyof ClientEvents>(event: K, listener: ClientListener<K>): void {
    const list = this.#listeners.get(event);
    if (!list) return;
    for (let i = list.length - 1; i >= 0; i--) {
      if (list[i].listener === listener) {
        list.splice(i, 1);
        return;
      }
    }
  }

  /** True when someone listens to `event`. */
  listening(event: keyof ClientEvents): boolean {
    return (this.#listeners.get(event)?.length ?? 0) > 0;
  }

  emit<K extends keyof ClientEvents>(event: K, value: ClientEvents[K]): void {
    const list = this.#listeners.get(event);
    if (!list || list.length === 0) return;
    for (const entry of [...list]) {
      if (entry.once) {
        const index = list.indexOf(entry);
        if (index < 0) continue;
        list.splice(index, 1);
      }
      try {
        (entry.listener as ClientListener<K>)(value);
      } catch (error) {
        // A listener's bug surfaces as an uncaught exception, outside the client's own state changes.
        setImmediate(() => {
          throw error;
        });
      }
    }
  }

  /** A connection changed state: `from` → `to` (the default transport's sessions, grpc-js's channel). */
  connection(where: ConnectionInfo, from: EndpointState, to: EndpointState, cause: string | undefined): void {
    if (to === 'ready') {
      this.log?.info('connected', { endpoint: where.endpoint, address: where.address });
      if (this.listening('connected')) this.emit('connected', { ...where });
    } else if (from === 'ready') {
      const why = cause ?? 'the connection closed (by the server or the network)';
      this.log?.info('disconnected', { endpoint: where.endpoint, address: where.address, cause: why });
      if (this.listening('disconnected')) this.emit('disconnected', { ...where, cause: why });
    } else if (from === 'connecting' && to === 'failed') {
      const why = cause ?? 'the connection attempt failed';
      this.log?.info('connection attempt failed', { endpoint: where.endpoint, address: where.address, cause: why });
      if (this.listening('connectFailed')) this.emit('connectFailed', { ...where, cause: why });
    } else if (to === 'connecting') {
      this.log?.debug('connecting', { endpoint: where.endpoint, address: where.address });
    }
  }

  /** A watch was created by etcd; called before its state changes, so `nextRevision` is where it starts. */
  watchCreated(watch: { readonly request: { key: Uint8Array; rangeEnd: Uint8Array }; readonly nextRevision: bigint }): void {
    if (!this.#created.has(watch)) {
      this.#created.add(watch);
      return;
    }
    if (!this.log && !this.listening('watchResumed')) return;
    const key = Buffer.from(watch.request.key);
    const rangeEnd = Buffer.from(watch.request.rangeEnd);
    this.log?.info('watch resumed', { key: printable(key), rangeEnd: rangeEnd.length > 0 ? printable(rangeEnd) : undefined, fromRevision: String(watch.nextRevision) });
    this.emit('watchResumed', { key, rangeEnd, fromRevision: watch.nextRevision });
  }

  /** A kept-alive lease ended without being stopped. */
  keepAliveLost(id: bigint, reason: 'lost' | 'expired', cause: EtcdError): void {
    this.log?.warn(reason === 'lost' ? 'keep-alive lost: no answer within the lease TTL' : 'keep-alive ended: the lease expired or was revoked', {
      lease: String(id),
      cause: cause.message,
    });
    if (this.listening('keepAliveLost')) this.emit('keepAliveLost', { id, reason, cause });
  }

  /** A long-lived stream (watch, keep-alive) broke; `reopen` tells whether it will be opened again. */
  streamBroken(error: EtcdError, kind: string, reopen: boolean): void {
    this.log?.debug(reopen ? 'stream broken, reopening after a backoff' : 'stream ended', { method: error.path, code: Status[error.code], kind, cause: error.message });
  }

  /** A new endpoint list; `source` undefined for the list the client was created with. */
  endpoints(endpoints: string[], previous: string[], source: EndpointsChange['source'] | undefined): void {
    if (source === undefined) {
      this.log?.debug('endpoints', { endpoints: endpoints.join(',') });
      return;
    }
    if (sameList(endpoints, previous)) return;
    this.log?.info('endpoints changed', { endpoints: endpoints.join(','), previous: previous.join(','), source });
    if (this.listening('endpointsChanged')) this.emit('endpointsChanged', { endpoints: [...endpoints], previous: [...previous], source });
  }

  /** A new auth token arrived. */
  tokenRefreshed(username: string, reason: 'initial' | 'rejected'): void {
    this.log?.info(reason === 'initial' ? 'auth token obtained' : 'auth token refreshed after etcd rejected the last one', { user: username });
    if (this.listening('tokenRefreshed')) this.emit('tokenRefreshed', { username, reason });
  }
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((value, i) => value === b[i]);
}

/** A key for a log line: as text when it is UTF-8 without control characters, else as hex. */
function printable(key: Buffer): string {
  const text = key.toString('utf8');
  // eslint-disable-next-line no-control-regex
  return Buffer.from(text, 'utf8').equals(key) && !/[\u0000-\u001f\u007f\ufffd]/.test(text) ? text : `0x${key.toString('hex')}`;
}
