import { type ChannelInterface, type Deadline, Metadata, connectivityState as ConnectivityState, status as Status } from '@grpc/grpc-js';
import type { ChannelRef } from '@grpc/grpc-js/build/src/channelz';
import type { Endpoint } from '../endpoints.js';
import type { EndpointStats } from '../stats.js';
import { type CallHost, Http2Call } from './http2-call.js';
import { AddressResolver, type LookupFn, minRefreshGap, refreshInterval } from './resolver.js';
import { EndpointSession, type SessionOptions } from './session.js';
import { noConnectionDetails } from './status.js';

/** Settings of an `Http2Channel`. @internal */
export interface Http2ChannelOptions extends SessionOptions {
  /** Largest message a call may send, in bytes; larger ones fail with RESOURCE_EXHAUSTED. */
  maxSendMessageLength: number;
  /** Largest message a call accepts, in bytes; larger ones fail with RESOURCE_EXHAUSTED. */
  maxReceiveMessageLength: number;
  /** How host names are looked up (tests give a fake); default: the system resolver. */
  lookup?: LookupFn;
}

/**
 * grpc-js's `Channel` interface on node:http2, for nice-grpc: one `EndpointSession` per
 * address (an IP endpoint, a socket, or each address a host name resolves to; see
 * resolver.ts), calls balanced round robin over the ready ones. Host names are looked up
 * again every 30 s while calls come, and soon after a connection fails. While none is ready, a call
 * waits for the first that becomes ready; when every endpoint has failed (and waits out its
 * backoff), a call fails at once with UNAVAILABLE "No connection established…", as grpc-js's
 * pickers do, so that a write is known to be unsent. `setEndpoints` swaps the list in place:
 * sessions of kept endpoints stay, removed ones finish their calls and close.
 * @internal
 */
export class Http2Channel implements ChannelInterface, CallHost {
  readonly maxSendMessageLength: number;
  readonly maxReceiveMessageLength: number;
  private sessions: EndpointSession[] = [];
  private ready = 0;
  private nextPick = 0;
  private readonly waiting = new Set<Http2Call>();
  private readonly watchers = new Set<{ state: ConnectivityState; done: () => void }>();
  private callNumber = 0;
  private shutdown = false;
  private lastError: string | undefined;
  private readonly resolver: AddressResolver;

  constructor(
    endpoints: readonly Endpoint[],
    private readonly options: Http2ChannelOptions,
  ) {
    this.maxSendMessageLength = options.maxSendMessageLength;
    this.maxReceiveMessageLength = options.maxReceiveMessageLength;
    this.resolver = new AddressResolver(() => this.onAddresses(), options.lookup);
    this.setEndpoints(endpoints);
  }

  /** True when the channel speaks TLS (it cannot change: `setEndpoints` keeps it). */
  get secure(): boolean {
    return this.options.secure;
  }

  /** The addresses, comma-separated, as `ip:port` or socket paths. */
  get target(): string {
    return this.sessions.map((s) => s.address.peer).join(',');
  }

  /** Each address's state and open calls, in endpoint order (for `client.stats()`). */
  get endpointStats(): EndpointStats[] {
    return this.sessions.map((s) => ({ endpoint: s.address.endpoint.address, address: s.peer, state: s.state, activeCalls: s.activeCalls }));
  }

  /** Replaces the endpoint list: new calls go to the new list; calls in flight finish where they are. */
  setEndpoints(endpoints: readonly Endpoint[]): void {
    if (this.shutdown) return;
    this.resolver.setEndpoints(endpoints);
    this.onAddresses();
  }

  /** Makes the sessions match the resolver's addresses: kept addresses keep their session. */
  private onAddresses(): void {
    if (this.shutdown) return;
    const old = new Map(this.sessions.map((s) => [s.address.key, s]));
    this.sessions = this.resolver.addresses.map((address) => {
      const kept = old.get(address.key);
      old.delete(address.key);
      return kept ?? new EndpointSession(address, this.options, (s) => this.onSessionChange(s));
    });
    for (const removed of old.values()) removed.close();
    if (this.resolver.lastError !== undefined && this.sessions.length === 0) this.lastError = this.resolver.lastError;
    this.ready = this.sessions.filter((s) => s.state === 'ready').length;
    this.nextPick = 0;
    // Calls waiting for a removed endpoint (or for a lookup) may now find another one.
    if (this.waiting.size > 0) this.settleWaiting();
    this.notifyWatchers();
  }

  /** Connects every session that is not connected now, skipping its backoff; names are looked up again. */
  reconnect(): void {
    if (this.shutdown) return;
    this.resolver.refresh(0);
    for (const session of this.sessions) session.reconnect();
  }

  createCall(method: string, deadline: Deadline): Http2Call {
    if (this.shutdown) throw new Error('Channel has been shut down');
    return new Http2Call(this, method, deadline, ++this.callNumber);
  }

  /** @see CallHost.pick */
  pick(call: Http2Call): EndpointSession | undefined {
    const { sessions } = this;
    if (this.shutdown) {
      call.fail({ code: Status.UNAVAILABLE, details: 'Channel has been shut down', metadata: new Metadata() });
      return undefined;
    }
    this.resolver.refresh(refreshInterval);
    // Endpoints that are not ready try again whenever a call comes and their backoff allows.
    if (this.ready < sessions.length) for (const session of sessions) session.connect();
    const count = sessions.length;
    for (let i = 0; i < count; i++) {
      const index = (this.nextPick + i) % count;
      const session = sessions[index];
      if (session.state === 'ready') {
        this.nextPick = (index + 1) % count;
        return session;
      }
    }
    if (this.resolver.pending || sessions.some((s) => s.state === 'connecting')) {
      this.waiting.add(call);
      return undefined;
    }
    call.fail({ code: Status.UNAVAILABLE, details: noConnectionDetails(this.lastError), metadata: new Metadata() });
    return undefined;
  }

  /** @see CallHost.unqueue */
  unqueue(call: Http2Call): void {
    this.waiting.delete(call);
  }

  close(): void {
    if (this.shutdown) return;
    this.shutdown = true;
    this.resolver.close();
    for (const session of this.sessions) session.close();
    this.settleWaiting();
    this.notifyWatchers();
  }

  getTarget(): string {
    return this.target;
  }

  getConnectivityState(tryToConnect: boolean): ConnectivityState {
    if (tryToConnect && !this.shutdown) for (const session of this.sessions) session.connect();
    return this.state();
  }

  watchConnectivityState(currentState: ConnectivityState, deadline: Date | number, callback: (error?: Error) => void): void {
    if (this.state() !== currentState) {
      setImmediate(callback);
      return;
    }
    const at = deadline instanceof Date ? deadline.getTime() : deadline;
    let timer: NodeJS.Timeout | undefined;
    const watcher = {
      state: currentState,
      done: () => {
        clearTimeout(timer);
        this.watchers.delete(watcher);
        callback();
      },
    };
    if (Number.isFinite(at)) {
      timer = setTimeout(() => {
        this.watchers.delete(watcher);
        callback(new Error('Deadline passed without connectivity state change'));
      }, Math.max(0, at - Date.now()));
    }
    this.watchers.add(watcher);
  }

  getChannelzRef(): ChannelRef {
    // No channelz here: a reference that names the target, as a disabled grpc-js channel gives.
    return { kind: 'channel', id: 0, name: this.target } as ChannelRef;
  }

  private state(): ConnectivityState {
    if (this.shutdown) return ConnectivityState.SHUTDOWN;
    const states = this.sessions.map((s) => s.state);
    if (states.includes('ready')) return ConnectivityState.READY;
    if (states.includes('connecting') || this.resolver.pending) return ConnectivityState.CONNECTING;
    if (states.includes('failed')) return ConnectivityState.TRANSIENT_FAILURE;
    return ConnectivityState.IDLE;
  }

  private onSessionChange(session: EndpointSession): void {
    if (!this.sessions.includes(session)) return;
    this.ready = this.sessions.filter((s) => s.state === 'ready').length;
    if (session.state === 'failed') {
      this.lastError = session.lastError;
      // The name may point elsewhere now (a member replaced, a pod rescheduled).
      this.resolver.refresh(minRefreshGap);
    }
    if (this.waiting.size > 0 && session.state !== 'connecting') this.settleWaiting();
    this.notifyWatchers();
  }

  /** Gives every waiting call another pick: a ready session, more waiting, or failure. */
  private settleWaiting(): void {
    const calls = [...this.waiting];
    this.waiting.clear();
    for (const call of calls) call.resume();
  }

  private notifyWatchers(): void {
    if (this.watchers.size === 0) return;
    const state = this.state();
    for (const watcher of [...this.watchers]) if (watcher.state !== state) watcher.done();
  }
}
