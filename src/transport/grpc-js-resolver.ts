import { experimental, status as Status } from '@grpc/grpc-js';
import { type Endpoint, parseEndpoint } from '../endpoints.js';
import { AddressResolver, dnsServerLookup, minRefreshGap, refreshInterval } from './resolver.js';
import { noConnectionDetails } from './status.js';

/** The URI scheme of nice-etcd's resolver in grpc-js's registry. */
const scheme = 'nice-etcd';
let registered = false;

/**
 * The grpc-js target for a list of endpoints: `nice-etcd:///<the list, URI-encoded>`, read by
 * `EndpointListResolver`, registered with grpc-js on first use. grpc-js's own `dns:` resolver
 * takes one name and its `ipv4:`/`ipv6:` lists take addresses of one family only; this one
 * takes any mix of IP addresses, host names (every A/AAAA record) and unix sockets, and hands
 * grpc-js one address list for its round_robin balancer.
 * @internal
 */
export function grpcJsTarget(urls: readonly string[], dnsServers?: readonly string[]): string {
  if (!registered) {
    experimental.registerResolver(scheme, EndpointListResolver);
    registered = true;
  }
  // With config.dnsServers, the list carries them: the resolver grpc-js makes asks those servers.
  const spec: TargetSpec = dnsServers ? { endpoints: urls, dnsServers } : urls;
  return `${scheme}:///${encodeURIComponent(JSON.stringify(spec))}`;
}

type TargetSpec = readonly string[] | { endpoints: readonly string[]; dnsServers: readonly string[] };

function specOf(target: experimental.GrpcUri): { endpoints: Endpoint[]; dnsServers: readonly string[] | undefined } {
  const spec = JSON.parse(decodeURIComponent(target.path)) as TargetSpec;
  if ('endpoints' in spec) return { endpoints: spec.endpoints.map(parseEndpoint), dnsServers: spec.dnsServers };
  return { endpoints: spec.map(parseEndpoint), dnsServers: undefined };
}

function endpointsOf(target: experimental.GrpcUri): Endpoint[] {
  return specOf(target).endpoints;
}

/** How long one A/AAAA query to `dnsServers` may take, in ms. */
const dnsServerTimeout = 5_000;

/**
 * grpc-js's Resolver interface over our `AddressResolver`: grpc-js asks again
 * (`updateResolution`) when connections fail, which looks the names up at most every 2 s;
 * while the channel lives, names are also looked up every 30 s.
 */
class EndpointListResolver implements experimental.Resolver {
  readonly #addresses: AddressResolver;
  readonly #endpoints: Endpoint[];
  #timer: NodeJS.Timeout | undefined;
  #started = false;

  constructor(
    target: experimental.GrpcUri,
    private readonly listener: experimental.ResolverListener,
  ) {
    const { endpoints, dnsServers } = specOf(target);
    this.#addresses = new AddressResolver(() => this.#report(), dnsServers && dnsServerLookup(dnsServers, dnsServerTimeout));
    this.#endpoints = endpoints;
  }

  /**
   * The `:authority` of every call and, with TLS, the name grpc-js verifies on every member's
   * certificate: the first TCP endpoint as written (one name per grpc-js channel).
   */
  static getDefaultAuthority(target: experimental.GrpcUri): string {
    const endpoints = endpointsOf(target);
    return (endpoints.find((e) => e.path === undefined) ?? endpoints[0]).address.replace(/^unix:.*/, 'localhost');
  }

  updateResolution(): void {
    if (!this.#started) {
      this.#started = true;
      this.#addresses.setEndpoints(this.#endpoints);
      this.#timer = setInterval(() => this.#addresses.refresh(refreshInterval), refreshInterval);
      this.#timer.unref();
      // IP addresses and sockets are known at once; names report when looked up. Never
      // synchronously with this call (the Resolver contract).
      if (!this.#addresses.pending) setImmediate(() => this.#report());
      return;
    }
    this.#addresses.refresh(minRefreshGap);
  }

  destroy(): void {
    clearInterval(this.#timer);
    this.#started = false;
  }

  #report(): void {
    if (!this.#started) return;
    const addresses = this.#addresses.addresses;
    if (addresses.length === 0) {
      // grpc-js fails calls with these words: the same as ours for a call that was never sent.
      const details = noConnectionDetails(this.#addresses.lastError ?? 'no address found for any endpoint');
      this.listener(experimental.statusOrFromError({ code: Status.UNAVAILABLE, details }), {}, null, details);
      return;
    }
    const endpoints = addresses.map((a) => ({ addresses: [{ ...a.target }] }));
    this.listener(experimental.statusOrFromValue(endpoints), {}, null, '');
  }
}
