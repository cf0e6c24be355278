import { setMaxListeners } from 'node:events';
import { Channel, ChannelCredentials, type ChannelOptions, connectivityState as ConnectivityState } from '@grpc/grpc-js';
import type { Client as GrpcClient, DefaultCallOptions } from 'nice-grpc';
import type { ResolvedConfig } from './config.js';
import { ConfigError } from './errors.js';
import { type Endpoint, needsLookup, parseEndpoint } from './endpoints.js';
import { type EndpointsChange, Observer } from './events.js';
import { type EtcdClientFactory, createEtcdClientFactory } from './middleware/index.js';
import { TokenSource } from './middleware/auth.js';
import { wireDefinitions } from './codec.js';
import { SrvDiscovery, srvLookup, waitingServices } from './discovery-srv.js';
import type { Definitions } from './policy.js';
import { grpcJsTarget } from './transport/grpc-js-resolver.js';
import { Http2Channel } from './transport/http2-channel.js';
import type { EndpointSession, SessionState } from './transport/session.js';
import type { EndpointStats } from './stats.js';
import { dnsServerLookup } from './transport/resolver.js';

type CallOptionsOf<F> = F extends { create: (d: never, c: never, o?: DefaultCallOptions<never, infer Ext>) => unknown } ? Ext : never;
/** The generated gRPC clients of every etcd service, with the middleware chain applied. @internal */
export type Services = { [K in keyof Definitions]: GrpcClient<(typeof wireDefinitions)[K], CallOptionsOf<EtcdClientFactory>> };

/**
 * Owns the transport of one client: the endpoint list, the grpc-js channel and the service
 * clients built on it. The middleware chain is composed once, here; `setEndpoints` swaps the
 * channel and the service clients, and the facade always reaches them through `services`.
 * @internal
 */
export class Connection {
  /** Aborted by `close()`; every call and stream listens to it. */
  readonly closed: AbortSignal;
  /** The auth token, shared by every call and stream. */
  readonly tokens: TokenSource;
  /** Where the transport, streams and token source report what happens: client events and log lines. */
  readonly observer: Observer;
  private readonly closer = new AbortController();
  private readonly factory: EtcdClientFactory;
  private channel: Channel | Http2Channel | undefined;
  private current: { endpoints: Endpoint[]; services: Services } | undefined;
  /** With `discoverySrv`: the SRV lookups, and the services calls use until they found endpoints. */
  private readonly discovery: { srv: SrvDiscovery; waiting: Services } | undefined;
  /** True when the last SRV lookup found https records. */
  private srvSecure = false;
  /** Bound of one DNS query (SRV records, and host names with `dnsServers`), in ms. */
  private get dnsQueryTimeout(): number {
    return Math.min(this.config.dialTimeout, 5_000);
  }

  constructor(readonly config: ResolvedConfig) {
    this.closed = this.closer.signal;
    // Every call in flight listens for close(): thousands at once are normal, not a leak.
    setMaxListeners(0, this.closed);
    this.observer = new Observer(config.log);
    this.tokens = new TokenSource(
      config.auth,
      async (name, password) => {
        const response = await this.services.auth.authenticate({ name, password });
        return response.token;
      },
      this.observer,
    );
    // Per-method settings (default timeout, retry policy) are read from the policy table once,
    // by the fused unary middleware, rather than merged into every call's options.
    this.factory = createEtcdClientFactory(config, this.closed, this.tokens);
    const { discoverySrv } = config;
    if (discoverySrv === undefined) {
      this.setEndpoints(config.endpoints);
      return;
    }
    // The endpoints come from DNS: calls made before the first lookup answers wait for it.
    const srv = new SrvDiscovery(discoverySrv, srvLookup(config.dnsServers, this.dnsQueryTimeout), (urls) => {
      this.srvSecure = urls.some((url) => url.startsWith('https://'));
      // The first answer is the client's first list; later ones are changes made by DNS.
      this.setEndpoints(urls, this.current ? 'discoverySrv' : undefined);
    }, this.closed);
    const waiting = waitingServices<Services>(wireDefinitions, (signal, timeout) => srv.ready(signal, timeout), () => this.services, config.timeout);
    this.discovery = { srv, waiting };
  }

  /** The service clients on the current channel (before SRV discovery found endpoints: ones that wait for it). */
  get services(): Services {
    if (!this.current && this.discovery) return this.discovery.waiting;
    if (!this.current) throw new ConfigError('the client has no endpoints');
    return this.current.services;
  }

  /** The endpoints calls go to now. */
  get endpoints(): string[] {
    return this.current ? this.current.endpoints.map((e) => e.address) : [];
  }

  /**
   * The state of every connection calls go to: one per address on our channel; on grpc-js's
   * one entry naming the endpoint list, with the channel's state (as `watchChannel` reports it).
   */
  get endpointStats(): EndpointStats[] {
    const { channel } = this;
    if (!channel || !this.current) return [];
    if (channel instanceof Http2Channel) return channel.endpointStats;
    const list = this.current.endpoints.map((e) => e.address).join(',');
    return [{ endpoint: list, address: list, state: grpcState(channel.getConnectivityState(false)) }];
  }

  /**
   * Replaces the endpoint list. New calls go to the new endpoints at once; calls in flight
   * finish on the old channel, which closes when they are done. `source` names who changed it
   * (for the `endpointsChanged` event); undefined for the client's first list.
   */
  setEndpoints(urls: readonly string[], source?: EndpointsChange['source']): void {
    if (this.closed.aborted) return;
    if (urls.length === 0) throw new ConfigError('the endpoint list must not be empty');
    const endpoints = urls.map(parseEndpoint);
    const secure = this.isSecure(endpoints);
    if (endpoints.some((e) => e.secure) && !endpoints.every((e) => e.secure)) {
      throw new ConfigError('mixing http and https endpoints is not supported');
    }
    const previous = this.endpoints;
    // Our channel changes its endpoint list in place; grpc-js's is replaced.
    if (this.channel instanceof Http2Channel && this.channel.secure === secure) {
      this.channel.setEndpoints(endpoints);
      this.current = { endpoints, services: this.services };
    } else {
      this.replaceChannel(endpoints, secure);
    }
    this.observer.endpoints(this.endpoints, previous, source);
  }

  /**
   * Connects at once to every endpoint that is not connected, skipping reconnect backoff.
   * grpc-js's channel cannot reset its backoff, so it is replaced by a fresh one (calls in
   * flight finish on the old one).
   */
  reconnect(): void {
    if (this.closed.aborted || !this.current) return;
    this.config.log?.debug('reconnect(): connecting every endpoint that is not connected now', { transport: this.config.transport });
    if (this.channel instanceof Http2Channel) {
      this.channel.reconnect();
      return;
    }
    const { endpoints } = this.current;
    this.replaceChannel(endpoints, this.isSecure(endpoints)).getConnectivityState(true);
  }

  /**
   * Whether a channel to these endpoints speaks TLS: https URLs, or any endpoint when `tls` is
   * set. With `discoverySrv` the records decide (their https or http service, also for
   * `host:port` endpoints given later), `tls` only configures it.
   */
  private isSecure(endpoints: readonly Endpoint[]): boolean {
    if (this.config.discoverySrv !== undefined) return endpoints.some((e) => e.secure) || this.srvSecure;
    return endpoints.some((e) => e.secure) || this.config.tls !== undefined;
  }

  /** Puts a new channel under the services; the old one closes once its calls are done. */
  private replaceChannel(endpoints: Endpoint[], secure: boolean): Channel | Http2Channel {
    const channel = this.createChannel(endpoints, secure, true);
    const previous = this.channel;
    this.channel = channel;
    this.current = { endpoints, services: this.buildServices(channel) };
    previous?.close();
    return channel;
  }

  /**
   * Service clients on a channel of their own to one endpoint, for calls that must reach that
   * member (status, defragment, hashKV, moveLeader). The caller closes it.
   */
  dial(url: string): { services: Services; close(): void } {
    const endpoint = parseEndpoint(url);
    const channel = this.createChannel([endpoint], this.isSecure([endpoint]));
    return { services: this.buildServices(channel), close: () => channel.close() };
  }

  private buildServices(channel: Channel | Http2Channel): Services {
    const services = {} as Record<keyof Definitions, unknown>;
    // nice-grpc's signature names grpc-js's Channel class, but it only uses the Channel
    // interface (it hands the object to grpc-js's Client as channelOverride).
    const asGrpcChannel = channel as Channel;
    for (const name of Object.keys(wireDefinitions) as Array<keyof Definitions>) {
      services[name] = this.factory.create(wireDefinitions[name], asGrpcChannel);
    }
    return services as Services;
  }

  /** Cancels everything in flight and closes the channel. Idempotent. */
  close(): void {
    if (this.closed.aborted) return;
    this.closer.abort();
    this.channel?.close();
  }

  /** A channel to `endpoints`; `observed`: its connection states are reported (not for `dial`'s). */
  private createChannel(endpoints: Endpoint[], secure: boolean, observed = false): Channel | Http2Channel {
    const { config } = this;
    const tls = secure ? { ...config.tls, serverName: config.tlsServerName } : undefined;
    if (config.transport === 'http2') {
      const onState = observed ? (session: EndpointSession, previous: SessionState) => this.sessionState(session, previous) : undefined;
      return new Http2Channel(endpoints, {
        onState,
        secure,
        tls,
        lookup: config.dnsServers && dnsServerLookup(config.dnsServers, this.dnsQueryTimeout),
        dialTimeout: config.dialTimeout,
        keepAliveTime: config.keepAliveTime,
        keepAliveTimeout: config.keepAliveTimeout,
        // grpc-js's backoff under the same settings (see the grpc-js options below).
        backoff: { initial: 1_000, max: config.maxReconnectBackoff },
        maxSendMessageLength: config.maxCallSendMsgSize,
        maxReceiveMessageLength: config.maxCallRecvMsgSize,
      });
    }
    // grpc-js verifies one name per channel: the first endpoint's (see grpc-js-resolver.ts).
    const names = new Set(endpoints.filter(needsLookup).map((e) => e.host.toLowerCase()));
    if (secure && names.size > 1 && config.tlsServerName === undefined && !config.tls?.insecureSkipVerify) {
      throw new ConfigError(`with TLS, the grpc-js transport verifies one host name for all endpoints, and these name ${names.size}: ${[...names].join(', ')}; use the default transport ('http2'), which verifies each endpoint's own name`);
    }
    const target = grpcJsTarget(
      endpoints.map((e) => (e.path !== undefined ? `${e.secure ? 'unixs' : 'unix'}://${e.path}` : e.address)),
      config.dnsServers,
    );
    const options: ChannelOptions = {
      'grpc.max_send_message_length': config.maxCallSendMsgSize,
      'grpc.max_receive_message_length': config.maxCallRecvMsgSize,
      // nice-grpc reads this as the bound of one connection attempt (see its connectTimeoutPatch).
      'grpc.min_reconnect_backoff_ms': config.dialTimeout,
      'grpc.max_reconnect_backoff_ms': config.maxReconnectBackoff,
      // One channel per client object: never share subchannels with other clients.
      'grpc.use_local_subchannel_pool': 1,
    };
    if (config.keepAliveTime > 0) {
      options['grpc.keepalive_time_ms'] = config.keepAliveTime;
      options['grpc.keepalive_timeout_ms'] = config.keepAliveTimeout;
    }
    // A host name may resolve to several members, so even one endpoint is balanced.
    options['grpc.service_config'] = JSON.stringify({ loadBalancingConfig: [{ round_robin: {} }] });
    // The name verified on certificates: tls.serverName or the SRV domain, else the first endpoint's host.
    if (secure && config.tlsServerName !== undefined) options['grpc.ssl_target_name_override'] = config.tlsServerName;
    // grpc-js passes rejectUnauthorized to Node's TLS (VerifyOptions, grpc-js >= 1.10).
    const verify = tls?.insecureSkipVerify ? { rejectUnauthorized: false } : undefined;
    const credentials = secure ? ChannelCredentials.createSsl(tls?.ca ?? null, tls?.key ?? null, tls?.cert ?? null, verify) : ChannelCredentials.createInsecure();
    const channel = new Channel(target, credentials, options);
    if (observed) this.watchChannel(channel, endpoints.map((e) => e.address).join(','));
    return channel;
  }

  /** Reports a state change of one of our channel's connections. */
  private sessionState(session: EndpointSession, previous: SessionState): void {
    this.observer.connection({ endpoint: session.address.endpoint.address, address: session.peer }, previous, session.state, session.lastError);
  }

  /**
   * Reports the state changes of a grpc-js channel, which has one state for all its endpoints,
   * until it shuts down. Watching sets no timer and holds no reference.
   */
  private watchChannel(channel: Channel, endpoints: string): void {
    // grpc-js does not tell which address a state belongs to: both name the endpoint list.
    const where = { endpoint: endpoints, address: endpoints };
    let state = channel.getConnectivityState(false);
    const next = (): void => {
      channel.watchConnectivityState(state, Infinity, () => {
        const previous = state;
        state = channel.getConnectivityState(false);
        const cause =
          state === ConnectivityState.SHUTDOWN
            ? this.closed.aborted
              ? 'the client was closed'
              : 'the channel was replaced (reconnect() or new endpoints)'
            : `channel state ${ConnectivityState[previous]} -> ${ConnectivityState[state]}`;
        this.observer.connection(where, grpcState(previous), grpcState(state), cause);
        if (state !== ConnectivityState.SHUTDOWN) next();
      });
    };
    next();
  }
}

/** grpc-js's channel states in the words of our sessions' (SHUTDOWN: no longer connected). */
function grpcState(state: ConnectivityState): SessionState {
  switch (state) {
    case ConnectivityState.READY:
      return 'ready';
    case ConnectivityState.CONNECTING:
      return 'connecting';
    case ConnectivityState.TRANSIENT_FAILURE:
      return 'failed';
    default:
      return 'idle';
  }
}
