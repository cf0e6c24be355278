import { Resolver } from 'node:dns/promises';
import { resolveConfig } from './config.js';
import { AbortedError, ClientClosedError, DeadlineExceededError, UnavailableError } from './errors.js';

/** One DNS SRV record, as Node's `resolveSrv` gives it. @internal */
export interface SrvRecord {
  /** The target host name. */
  name: string;
  port: number;
  priority: number;
  weight: number;
}

/** Looks up the SRV records of a name (`_service._tcp.domain`). @internal */
export type SrvLookupFn = (name: string) => Promise<SrvRecord[]>;

/** What `discoverySrv` resolved to. @internal */
export interface SrvSettings {
  domain: string;
  serviceName: string;
  /** Re-resolution period in ms; 0: once. */
  interval: number;
}

/**
 * The SRV names etcd's clients look up for a domain, as etcd's `srv.GetSRVService` builds them
 * with service `etcd-client`: `-ssl` for https, then `-<serviceName>` when one is given.
 * @internal
 */
export function srvNames(domain: string, serviceName = ''): { https: string; http: string } {
  const suffix = serviceName === '' ? '' : `-${serviceName}`;
  return { https: `_etcd-client-ssl${suffix}._tcp.${domain}`, http: `_etcd-client${suffix}._tcp.${domain}` };
}

/**
 * Orders SRV records as RFC 2782 asks a client to try them: ascending priority; within one
 * priority, a weighted random order (each next record drawn with probability proportional to
 * its weight; weight-0 records first in the running sum, so they are picked last unless all
 * are 0). `random` returns a number in [0, 1). Node's `resolveSrv` returns records in the
 * DNS answer's order, which RFC 2782 does not let a client rely on.
 * @internal
 */
export function orderSrvRecords<T extends Pick<SrvRecord, 'priority' | 'weight'>>(records: readonly T[], random: () => number = Math.random): T[] {
  const byPriority = new Map<number, T[]>();
  for (const record of records) {
    const group = byPriority.get(record.priority) ?? [];
    group.push(record);
    byPriority.set(record.priority, group);
  }
  const ordered: T[] = [];
  for (const priority of [...byPriority.keys()].sort((a, b) => a - b)) {
    const group = byPriority.get(priority)!;
    // RFC 2782: "all those with weight 0 are placed at the beginning of the list".
    const rest = [...group.filter((r) => r.weight === 0), ...group.filter((r) => r.weight !== 0)];
    while (rest.length > 0) {
      const total = rest.reduce((sum, r) => sum + r.weight, 0);
      // A uniform integer in [0, total]; the first record whose running sum reaches it is next.
      const draw = Math.min(Math.floor(random() * (total + 1)), total);
      let running = 0;
      const index = rest.findIndex((r) => (running += r.weight) >= draw);
      ordered.push(rest.splice(index, 1)[0]!);
    }
  }
  return ordered;
}

function isNoRecords(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException).code;
  return code === 'ENOTFOUND' || code === 'ENODATA';
}

/**
 * The endpoint URLs the SRV records of `domain` name, as etcdctl's `--discovery-srv` finds
 * them: `https://target:port` from `_etcd-client-ssl._tcp.<domain>`, `http://target:port` from
 * `_etcd-client._tcp.<domain>`, each set in RFC 2782 order. A client speaks TLS to all its
 * endpoints or to none, so when both sets exist the https one is used. Rejects with an
 * `UnavailableError` when no record is found or DNS fails.
 * @internal
 */
export async function discoverSrvEndpoints(settings: Pick<SrvSettings, 'domain' | 'serviceName'>, lookup: SrvLookupFn, random?: () => number): Promise<string[]> {
  const names = srvNames(settings.domain, settings.serviceName);
  const failures: string[] = [];
  const urls = async (scheme: 'https' | 'http'): Promise<string[]> => {
    try {
      const records = (await lookup(names[scheme])).filter((r) => r.name !== '' && r.name !== '.'); // "." : no service here
      return orderSrvRecords(records, random).map((r) => `${scheme}://${r.name.replace(/\.$/, '')}:${r.port}`);
    } catch (error) {
      if (!isNoRecords(error)) failures.push(`${names[scheme]}: ${(error as Error).message}`);
      return [];
    }
  };
  const [https, http] = await Promise.all([urls('https'), urls('http')]);
  if (https.length > 0) return https;
  if (http.length > 0) return http;
  const why = failures.length > 0 ? `DNS lookup failed: ${failures.join('; ')}` : `no SRV records for ${names.https} or ${names.http}`;
  throw new UnavailableError(`DNS SRV discovery of ${settings.domain} found no endpoints (${why})`, { reason: 'SrvDiscoveryFailed' });
}

/** The SRV lookup of the system's DNS servers, or of the given ones; `cancel` ends the queries under way. @internal */
export function srvLookup(servers: readonly string[] | undefined, timeout: number): SrvLookupFn & { cancel(): void } {
  const resolver = new Resolver({ timeout, tries: 2 });
  if (servers) resolver.setServers(servers);
  return Object.assign((name: string) => resolver.resolveSrv(name), { cancel: () => resolver.cancel() });
}

/** Options of `discoverEndpoints`: the `ClientConfig` settings of DNS SRV discovery. */
export interface DiscoverEndpointsOptions {
  /** The domain whose `_etcd-client-ssl._tcp` and `_etcd-client._tcp` records are looked up. */
  discoverySrv: string;
  /** Service name suffix: `_etcd-client-ssl-<name>._tcp.<domain>`. */
  discoverySrvName?: string;
  /** DNS servers to ask instead of the system's. */
  dnsServers?: string[];
  /** Bound of each DNS query, in ms. Default 5,000. */
  timeout?: number;
}

/**
 * Looks up once the endpoint URLs (`https://host:port` or `http://host:port`, in RFC 2782
 * order) that a client with the same `discoverySrv` settings would use, as etcdctl does for its
 * `--discovery-srv`. Rejects with `ConfigError` on bad options, `UnavailableError` when DNS
 * has no records or fails.
 */
export async function discoverEndpoints(options: DiscoverEndpointsOptions): Promise<string[]> {
  const { discoverySrv, discoverySrvName, dnsServers, timeout = 5_000 } = options;
  const config = resolveConfig({ discoverySrv, discoverySrvName, dnsServers, dialTimeout: timeout });
  return discoverSrvEndpoints(config.discoverySrv!, srvLookup(config.dnsServers, config.dialTimeout));
}

/** Time after a failed lookup during which calls fail at once with its error rather than look up again, in ms. */
const failureHold = 1_000;

/**
 * Keeps a client's endpoints on what the SRV records say (config `discoverySrv`): looks them up
 * at once and every `interval` ms, and calls `apply` with the URLs when the set changes (not
 * merely its random order), so a `sync()` or `setEndpoints()` in between stays until DNS
 * changes. A failed lookup keeps the endpoints found before. The timer never keeps the
 * process alive and stops when `closed` aborts.
 * @internal
 */
export class SrvDiscovery {
  #applied: string | undefined;
  #running: Promise<void> | undefined;
  #lastError: Error | undefined;
  #lastFailure = -Infinity;
  #timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly settings: SrvSettings,
    private readonly lookup: SrvLookupFn,
    private readonly apply: (urls: string[]) => void,
    private readonly closed: AbortSignal,
  ) {
    void this.refresh();
    if (settings.interval > 0) {
      this.#timer = setInterval(() => void this.refresh(), settings.interval);
      this.#timer.unref();
    }
    closed.addEventListener(
      'abort',
      () => {
        clearInterval(this.#timer);
        // A query to a DNS server that does not answer would keep the process alive until it times out.
        (lookup as Partial<{ cancel(): void }>).cancel?.();
      },
      { once: true },
    );
  }

  /** True once a lookup found endpoints. */
  get found(): boolean {
    return this.#applied !== undefined;
  }

  /** One lookup (joins the one under way); never rejects: a failure is kept for `ready`. */
  refresh(): Promise<void> {
    this.#running ??= this.#lookupOnce().finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  /**
   * Resolves once endpoints are known; rejects with the lookup's error when the first lookups
   * fail, or with a typed error when `signal` aborts, `timeout` ms pass or the client closes.
   */
  async ready(signal: AbortSignal | undefined, timeout: number): Promise<void> {
    if (this.found) return;
    if (this.closed.aborted) throw new ClientClosedError();
    if (this.#running === undefined && this.#lastError !== undefined && performance.now() - this.#lastFailure < failureHold) throw this.#lastError;
    const lookup = this.refresh();
    let timer: NodeJS.Timeout | undefined;
    let onAbort: (() => void) | undefined;
    const stop = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new DeadlineExceededError(`the call did not finish within its timeout (${timeout} ms): DNS SRV discovery of ${this.settings.domain} had found no endpoint yet`)), timeout);
      onAbort = () => reject(this.closed.aborted ? new ClientClosedError() : new AbortedError(undefined, { cause: signal?.reason }));
      signal?.addEventListener('abort', onAbort, { once: true });
      this.closed.addEventListener('abort', onAbort, { once: true });
      if (signal?.aborted) onAbort();
    });
    try {
      await Promise.race([lookup, stop]);
    } finally {
      clearTimeout(timer);
      if (onAbort) {
        signal?.removeEventListener('abort', onAbort);
        this.closed.removeEventListener('abort', onAbort);
      }
    }
    if (!this.found) throw this.#lastError ?? new UnavailableError(`DNS SRV discovery of ${this.settings.domain} found no endpoints`, { reason: 'SrvDiscoveryFailed' });
  }

  async #lookupOnce(): Promise<void> {
    try {
      const urls = await discoverSrvEndpoints(this.settings, this.lookup);
      if (this.closed.aborted) return;
      const key = [...urls].sort().join(',');
      if (key !== this.#applied) {
        this.apply(urls);
        this.#applied = key;
      }
      this.#lastError = undefined;
    } catch (error) {
      this.#lastError = error as Error;
      this.#lastFailure = performance.now();
    }
  }
}

/** The kind of each method of a nice-grpc service definition. */
type MethodKinds = Record<string, { responseStream: boolean }>;

/**
 * Service clients that wait for the first SRV lookup before calling: each method waits for
 * `ready` (bounded by the call's signal and timeout, else `defaultTimeout`), then calls the
 * same method on the real clients `services()` returns, with what remains of an explicit
 * timeout. Used only until endpoints are known.
 * @internal
 */
export function waitingServices<S extends object>(
  definitions: Record<string, { methods: MethodKinds }>,
  ready: (signal: AbortSignal | undefined, timeout: number) => Promise<void>,
  services: () => S,
  defaultTimeout: number,
): S {
  const out: Record<string, Record<string, unknown>> = {};
  for (const [serviceName, definition] of Object.entries(definitions)) {
    const methods: Record<string, unknown> = {};
    for (const [methodName, method] of Object.entries(definition.methods)) {
      const real = () => (services() as Record<string, Record<string, (...args: unknown[]) => unknown>>)[serviceName]![methodName]!;
      const waitFor = async (options: { signal?: AbortSignal; timeout?: number } | undefined) => {
        const start = performance.now();
        await ready(options?.signal, options?.timeout ?? defaultTimeout);
        if (options?.timeout === undefined) return options;
        return { ...options, timeout: Math.max(1, options.timeout - (performance.now() - start)) };
      };
      methods[methodName] = method.responseStream
        ? async function* (request: unknown, options?: { signal?: AbortSignal; timeout?: number }) {
            const rest = await waitFor(options);
            yield* real()(request, rest) as AsyncIterable<unknown>;
          }
        : async (request: unknown, options?: { signal?: AbortSignal; timeout?: number }) => real()(request, await waitFor(options));
    }
    out[serviceName] = methods;
  }
  return out as S;
}
