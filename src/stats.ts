/**
 * Where one endpoint's connection is: `idle` (not connected, nothing asked for it yet, or the
 * connection ended), `connecting`, `ready` (calls go to it), `failed` (the last attempt failed;
 * waiting out its reconnect backoff).
 */
export type EndpointState = 'idle' | 'connecting' | 'ready' | 'failed';

/**
 * One connection of the client, as `client.stats()` reports it. On the default transport
 * (`'http2'`) it is one address: `endpoint` as configured and the `address` it resolved to, as
 * in the `connected` event. grpc-js's channel has one state for all its endpoints, so on the
 * `'grpc-js'` transport there is one entry, whose `endpoint` and `address` are the whole
 * endpoint list, comma-separated, and whose state is the channel's: `ready` while at least one
 * endpoint is connected.
 */
export interface EndpointStats {
  /** The endpoint as configured (`host:port`, `unix:<path>`), or on grpc-js the endpoint list. */
  endpoint: string;
  /** The address connected to (`ip:port`, a socket path), or on grpc-js the endpoint list. */
  address: string;
  /** Where its connection is now. */
  state: EndpointState;
  /**
   * gRPC calls open on this address now, unary and streaming (each watch stream and the
   * keep-alive stream count once). The default transport only: undefined on grpc-js.
   */
  activeCalls?: number;
}

/**
 * What a client holds at one moment, read by `client.stats()`: counts for gauges (Prometheus,
 * OpenTelemetry). Computed when asked, from the client's own bookkeeping, so reading it costs
 * nothing between reads and calls pay nothing for it.
 */
export interface ClientStats {
  /**
   * Watchers that have not ended: created, being created, or waiting to be created again on a
   * new stream after a break. A watcher leaves this count when it is cancelled, ends with an
   * error, or the client closes.
   */
  watchers: number;
  /**
   * Watch streams open now. Watchers share one stream (one per kind: `requireLeader: false`
   * watchers have their own); 0 while no watcher lives, and while a broken stream waits to reopen.
   */
  watchStreams: number;
  /**
   * Leases kept alive by `keepAlive` handles (a lease with several handles counts once). A lease
   * leaves this count when its last handle stops, or when it is lost or found expired or
   * revoked (at its next keep-alive answer, within a third of its TTL).
   */
  leasesKeptAlive: number;
  /** Every connection of the client, in endpoint order; empty before SRV discovery found endpoints. */
  endpoints: EndpointStats[];
}
