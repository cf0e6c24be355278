import { Resolver, lookup as dnsLookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { type Endpoint, needsLookup } from '../endpoints.js';

/** One address to connect to, found for an endpoint as the user wrote it. @internal */
export interface Address {
  /** The endpoint as written: its host is the TLS server name and the `:authority`. */
  readonly endpoint: Endpoint;
  /** Where to connect: an IP address and port, or a socket path. */
  readonly target: { readonly host: string; readonly port: number } | { readonly path: string };
  /** Unique per endpoint and address, so a session survives re-resolution when its address stays. */
  readonly key: string;
  /** `ip:port` or the socket path, as grpc-js's getPeer reports it. */
  readonly peer: string;
}

/** Every IPv4 and IPv6 address of a host name, in the resolver's order. @internal */
export type LookupFn = (host: string) => Promise<string[]>;

/** The system's resolver (getaddrinfo: /etc/hosts, then DNS), all addresses. @internal */
export const systemLookup: LookupFn = async (host) => (await dnsLookup(host, { all: true, verbatim: true })).map((a) => a.address);

/**
 * A lookup that asks the given DNS servers (`ip` or `ip:port`) for A and AAAA records, instead
 * of the system's resolver (config `dnsServers`). Each query waits at most `timeout` ms.
 * @internal
 */
export function dnsServerLookup(servers: readonly string[], timeout: number): LookupFn {
  const resolver = new Resolver({ timeout, tries: 2 });
  resolver.setServers(servers);
  return async (host) => {
    const [v4, v6] = await Promise.allSettled([resolver.resolve4(host), resolver.resolve6(host)]);
    const found = [...(v4.status === 'fulfilled' ? v4.value : []), ...(v6.status === 'fulfilled' ? v6.value : [])];
    if (found.length === 0 && v4.status === 'rejected') throw v4.reason;
    return found;
  };
}

/** How often host names are looked up again while the client is in use, in ms. @internal */
export const refreshInterval = 30_000;
/** The least time between two lookups caused by connection failures, in ms. @internal */
export const minRefreshGap = 2_000;

/**
 * Turns the endpoints the user wrote into addresses to connect to: IP addresses and socket
 * paths as they are, each host name as every A/AAAA record the system resolver finds for it.
 * Names are looked up again when `refresh` is asked and the last lookup is older than the
 * given age (periodically while calls come, at once after failures); a lookup that fails
 * keeps the addresses found before, so a DNS outage does not drop members that still answer.
 * No timer: lookups happen only when asked, and `onChange` is told when addresses changed.
 * @internal
 */
export class AddressResolver {
  #endpoints: readonly Endpoint[] = [];
  #hasNames = false;
  /** The addresses found per host name (lower case). */
  readonly #found = new Map<string, string[]>();
  #addresses: Address[] = [];
  #lookingUp = false;
  #lastLookup = -Infinity;
  #closed = false;
  /** Why the last lookup of some name failed, for an UNAVAILABLE status. */
  lastError: string | undefined;

  constructor(
    private readonly onChange: () => void,
    private readonly lookup: LookupFn = systemLookup,
  ) {}

  /** The addresses known now. */
  get addresses(): readonly Address[] {
    return this.#addresses;
  }

  /** True while a lookup runs for a name that has no address yet: calls should wait for it. */
  get pending(): boolean {
    return this.#lookingUp && this.#endpoints.some((e) => needsLookup(e) && !this.#found.has(e.host.toLowerCase()));
  }

  /** Replaces the endpoint list; names not known yet are looked up at once. */
  setEndpoints(endpoints: readonly Endpoint[]): void {
    this.#endpoints = endpoints;
    this.#hasNames = endpoints.some(needsLookup);
    const names = new Set(endpoints.filter(needsLookup).map((e) => e.host.toLowerCase()));
    for (const name of this.#found.keys()) if (!names.has(name)) this.#found.delete(name);
    this.#rebuild();
    if ([...names].some((name) => !this.#found.has(name))) void this.#lookupAll();
  }

  /** Looks the names up again if the last lookup is at least `maxAge` ms old. */
  refresh(maxAge: number): void {
    if (!this.#hasNames || this.#closed || this.#lookingUp || performance.now() - this.#lastLookup < maxAge) return;
    void this.#lookupAll();
  }

  /** Stops telling `onChange`. */
  close(): void {
    this.#closed = true;
  }

  async #lookupAll(): Promise<void> {
    if (this.#lookingUp) return;
    this.#lookingUp = true;
    this.#lastLookup = performance.now();
    const names = [...new Set(this.#endpoints.filter(needsLookup).map((e) => e.host.toLowerCase()))];
    await Promise.all(
      names.map(async (name) => {
        try {
          const found = await this.lookup(name);
          if (found.length === 0) throw new Error(`no address found for ${name}`);
          this.#found.set(name, found);
        } catch (error) {
          this.lastError = `cannot resolve ${name}: ${(error as Error).message}`;
        }
      }),
    );
    this.#lookingUp = false;
    this.#lastLookup = performance.now();
    if (this.#closed) return;
    this.#rebuild();
    this.onChange();
  }

  #rebuild(): void {
    const addresses: Address[] = [];
    for (const endpoint of this.#endpoints) {
      if (endpoint.path !== undefined) {
        addresses.push({ endpoint, target: { path: endpoint.path }, key: endpoint.address, peer: endpoint.path });
      } else if (!needsLookup(endpoint)) {
        addresses.push({ endpoint, target: { host: endpoint.host, port: endpoint.port }, key: endpoint.address, peer: endpoint.address });
      } else {
        for (const ip of this.#found.get(endpoint.host.toLowerCase()) ?? []) {
          const peer = isIP(ip) === 6 ? `[${ip}]:${endpoint.port}` : `${ip}:${endpoint.port}`;
          addresses.push({ endpoint, target: { host: ip, port: endpoint.port }, key: `${endpoint.address}@${peer}`, peer });
        }
      }
    }
    this.#addresses = addresses;
  }
}
