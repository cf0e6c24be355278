import { readFileSync } from 'node:fs';
import type { ClientMiddleware } from 'nice-grpc-common';
import { parseEndpoint } from './endpoints.js';
import { ConfigError } from './errors.js';
import { type Log, type Logger, debugVariableValue, resolveLog } from './logger.js';
import { type TransportKind, defaultTransport, transportKinds } from './transport/default-transport.js';

/** Retry policy for calls that are safe to repeat (see README: Retries). */
export interface RetryConfig {
  /** Total attempts of one call, the first included. Default 10; 1 disables retries. */
  maxAttempts?: number;
  /** Backoff before the first retry, in ms; it doubles per retry, with jitter. Default 50. */
  baseDelay?: number;
  /** Upper bound of one backoff, in ms. Default 1,000. */
  maxDelay?: number;
}

/** What every finished call reports to `onCall` (for metrics and logs). */
export interface CallEvent {
  /** `/package.Service/Method`, e.g. `/etcdserverpb.KV/Range`. */
  method: string;
  /** Wall time of the call, retries included, in ms. */
  durationMs: number;
  /** The error the caller saw, or undefined on success. */
  error: Error | undefined;
}

/**
 * Credentials: a user whose token the client fetches and refreshes, or a ready token (a JWT
 * issued elsewhere, Go 3.7's `Config.Token`), sent as is and never refreshed.
 */
export type AuthConfig = { username: string; password: string } | { token: string };

/** TLS material: each item a Buffer with PEM contents, or a path to a PEM file. */
export interface TlsConfig {
  /** CA certificates to trust (default: Node's root certificates). */
  ca?: Buffer | string;
  /** Client certificate, for etcd's `--client-cert-auth`. */
  cert?: Buffer | string;
  /** The client certificate's private key. */
  key?: Buffer | string;
  /**
   * The name verified on the server's certificate (Go's `tls.Config.ServerName`), instead of
   * each endpoint's host. With `discoverySrv`, defaults to the SRV domain.
   */
  serverName?: string;
  /**
   * Accept any server certificate: no chain or name check (etcdctl's
   * `--insecure-skip-tls-verify`). The connection is encrypted but not authenticated; for
   * tests and emergencies only. Works on both transports.
   */
  insecureSkipVerify?: boolean;
}

/** Resolved TLS settings: PEM contents read from files, and the verification switches. @internal */
export interface ResolvedTls {
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  serverName?: string;
  insecureSkipVerify?: boolean;
}

/** Options of `new Client(...)`. Every duration is in milliseconds. */
export interface ClientConfig {
  /**
   * etcd client URLs: `host:port`, `http://host:port`, `https://host:port` (host names or IP
   * addresses) or `unix:<path>`. A single string is one endpoint; several are a list, balanced
   * round robin over every address their names resolve to. Every endpoint is checked by the
   * constructor (`ConfigError`). Give either `endpoints` or `discoverySrv`.
   */
  endpoints?: string | string[];
  // --- DNS SRV discovery (README: Endpoints, DNS SRV discovery) ---
  /**
   * Find the endpoints in DNS SRV records of this domain, as etcdctl's `--discovery-srv`:
   * `_etcd-client-ssl._tcp.<domain>` (https) and `_etcd-client._tcp.<domain>` (http), ordered
   * by priority and weight (RFC 2782), looked up again every `discoverySrvInterval`. Exclusive
   * with `endpoints`. With TLS, the certificates are verified for this domain.
   */
  discoverySrv?: string;
  /** Service name suffix (etcdctl's `--discovery-srv-name`): `_etcd-client-ssl-<name>._tcp.<domain>`. */
  discoverySrvName?: string;
  /** How often the SRV records are looked up again, in ms; 0 looks up once. Default 30,000 ms. */
  discoverySrvInterval?: number;
  /**
   * DNS servers (`'10.0.0.2'`, `'127.0.0.1:5353'`) asked for SRV records and for the addresses
   * of every endpoint host name, instead of the system's resolver (which also reads /etc/hosts).
   */
  dnsServers?: string[];
  // --- end of DNS SRV discovery ---
  /**
   * Every this many ms, replace the endpoints with the client URLs of the cluster's members
   * (as `client.sync()` does); 0 disables it. Default 0 ms (as Go's `AutoSyncInterval`).
   */
  autoSyncInterval?: number;
  /** Bound of one connection attempt (TCP, TLS and HTTP/2 handshake). Default 5,000 ms. */
  dialTimeout?: number;
  /** Default timeout of each unary call, retries included; per-call `timeout` overrides it. Default 10,000 ms. */
  timeout?: number;
  /** Largest request the client sends, in bytes; larger ones fail before sending. Default 2 MiB. */
  maxCallSendMsgSize?: number;
  /** Largest response the client accepts, in bytes. Default 2 GiB - 1 (no practical limit). */
  maxCallRecvMsgSize?: number;
  /**
   * Interval of HTTP/2 keepalive pings on a connection that carries calls or streams; never
   * less than 5,000 (etcd's `--grpc-keepalive-min-time`); 0 disables them. Default 6,000 ms.
   * With `keepAliveTimeout`, it bounds how long a silent member can stall a watch or a
   * keep-alive (README: Liveness).
   */
  keepAliveTime?: number;
  /** How long a keepalive ping may go unanswered before the connection is declared dead. Default 6,000 ms. */
  keepAliveTimeout?: number;
  /**
   * A watch stream that has received nothing for this long asks etcd for progress (its
   * watchdog's probe); 0 turns the watchdog off. Default 5,000 ms. With `watchProgressTimeout`
   * it bounds how long a silent member can stall a watcher (README: Liveness).
   */
  watchProgressInterval?: number;
  /**
   * How long a watch stream waits for any answer to its progress request, or to a watch create,
   * before it gives the stream up and resumes its watches on another member. Default 3,000 ms.
   */
  watchProgressTimeout?: number;
  /**
   * Longest wait for etcd's answer to a lease keep-alive before the keep-alive stream moves to
   * another member; a lease with a TTL under 30 s waits TTL/6 (at least 500 ms), and the wait
   * doubles for each move made without an answer. Default 5,000 ms; 0 turns this watchdog off.
   */
  leaseAnswerTimeout?: number;
  /**
   * Longest wait before connecting again to an endpoint whose connection failed, in ms: the
   * wait starts at 1,000 and grows ×1.6 per failure (gRPC's connection backoff) up to this.
   * `client.reconnect()` skips the wait. Default: the larger of `dialTimeout` and 5,000.
   */
  maxReconnectBackoff?: number;
  /** Retries of calls that are safe to repeat. */
  retry?: RetryConfig;
  /** Authenticate as this user (token fetched lazily, refreshed when etcd rejects it), or send a fixed token. */
  auth?: AuthConfig;
  /** Use TLS with this material (also implied by https:// endpoints). */
  tls?: TlsConfig;
  /** Called once for every finished unary call: the hook for metrics and logs. Must not throw. */
  onCall?: (event: CallEvent) => void;
  /**
   * What carries the calls: `'http2'`, nice-etcd's own gRPC channel on node:http2, or
   * `'grpc-js'`, grpc-js's channel. Both sit under the same nice-grpc client and middleware
   * (see README: Transport). Default `'http2'`.
   */
  transport?: 'http2' | 'grpc-js';
  // Observability (README: Observability).
  /**
   * Where the client logs connection state, endpoint changes, retries, stream reopens, watch
   * resumes, lost keep-alives and token refreshes: `console`, a pino or a winston logger, or any
   * `Logger`. Without it the client is silent, unless the environment variable
   * `ETCD_CLIENT_DEBUG` is set (as for Go's client), which logs to stderr.
   */
  logger?: Logger;
  /**
   * nice-grpc client middleware (e.g. `nice-grpc-prometheus`, `nice-grpc-opentelemetry`), the
   * first in the list outermost. It sits between the client's own call handling and the
   * transport, so it sees every attempt: each retry of a unary call, each reopening of a watch
   * or keep-alive stream, with etcd's status code of that attempt (README: Observability).
   */
  middleware?: readonly ClientMiddleware[];
}

/** The configuration with every default filled in. @internal */
export interface ResolvedConfig {
  /** Empty with `discoverySrv`: the discovery supplies them. */
  endpoints: string[];
  discoverySrv: { domain: string; serviceName: string; interval: number } | undefined;
  dnsServers: string[] | undefined;
  autoSyncInterval: number;
  dialTimeout: number;
  timeout: number;
  maxCallSendMsgSize: number;
  maxCallRecvMsgSize: number;
  keepAliveTime: number;
  keepAliveTimeout: number;
  watchProgressInterval: number;
  watchProgressTimeout: number;
  leaseAnswerTimeout: number;
  maxReconnectBackoff: number;
  retry: Required<RetryConfig>;
  onCall: ((event: CallEvent) => void) | undefined;
  auth: AuthConfig | undefined;
  tls: ResolvedTls | undefined;
  /** The name TLS verifies instead of each endpoint's host (`tls.serverName`, or the SRV domain). */
  tlsServerName: string | undefined;
  transport: TransportKind;
  /** The log, or undefined when nothing asked for one (then no log call builds anything). */
  log: Log | undefined;
  middleware: readonly ClientMiddleware[];
}

/** Defaults of every optional setting, in one place. @internal */
export const defaultConfig = {
  autoSyncInterval: 0,
  dialTimeout: 5_000,
  timeout: 10_000,
  maxCallSendMsgSize: 2 * 1024 * 1024,
  maxCallRecvMsgSize: 2 ** 31 - 1,
  keepAliveTime: 6_000,
  keepAliveTimeout: 6_000,
  watchProgressInterval: 5_000,
  watchProgressTimeout: 3_000,
  leaseAnswerTimeout: 5_000,
  retry: { maxAttempts: 10, baseDelay: 50, maxDelay: 1_000 },
  discoverySrvInterval: 30_000,
} as const;

function duration(name: string, value: number | undefined, fallback: number, min = 0): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min) {
    throw new ConfigError(`${name} must be a finite number >= ${min} (ms), got ${String(value)}`);
  }
  return value;
}

function count(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < 1) throw new ConfigError(`${name} must be a whole number >= 1, got ${String(value)}`);
  return value;
}

/** Validates a user's config and fills in the defaults. @internal */
export function resolveConfig(config: ClientConfig): ResolvedConfig {
  if (config == null || typeof config !== 'object') throw new ConfigError('new Client(config) needs a config object');
  const discovery = resolveDiscovery(config);
  const endpoints = discovery ? [] : resolveEndpoints(config.endpoints);
  const retry = config.retry ?? {};
  const tls = config.tls === undefined ? undefined : resolveTls(config.tls);
  const dialTimeout = duration('dialTimeout', config.dialTimeout, defaultConfig.dialTimeout, 1);
  return {
    endpoints,
    discoverySrv: discovery,
    dnsServers: resolveDnsServers(config.dnsServers),
    autoSyncInterval: duration('autoSyncInterval', config.autoSyncInterval, defaultConfig.autoSyncInterval),
    dialTimeout,
    timeout: duration('timeout', config.timeout, defaultConfig.timeout, 1),
    maxCallSendMsgSize: duration('maxCallSendMsgSize', config.maxCallSendMsgSize, defaultConfig.maxCallSendMsgSize, 1),
    maxCallRecvMsgSize: duration('maxCallRecvMsgSize', config.maxCallRecvMsgSize, defaultConfig.maxCallRecvMsgSize, 1),
    keepAliveTime: duration('keepAliveTime', config.keepAliveTime, defaultConfig.keepAliveTime),
    keepAliveTimeout: duration('keepAliveTimeout', config.keepAliveTimeout, defaultConfig.keepAliveTimeout, 1),
    watchProgressInterval: duration('watchProgressInterval', config.watchProgressInterval, defaultConfig.watchProgressInterval),
    watchProgressTimeout: duration('watchProgressTimeout', config.watchProgressTimeout, defaultConfig.watchProgressTimeout, 1),
    leaseAnswerTimeout: duration('leaseAnswerTimeout', config.leaseAnswerTimeout, defaultConfig.leaseAnswerTimeout),
    // grpc-js bounds each connection attempt by its minimum backoff, dialTimeout (connection.ts): the maximum cannot be lower.
    maxReconnectBackoff: duration('maxReconnectBackoff', config.maxReconnectBackoff, Math.max(dialTimeout, 5_000), dialTimeout),
    retry: {
      maxAttempts: count('retry.maxAttempts', retry.maxAttempts, defaultConfig.retry.maxAttempts),
      baseDelay: duration('retry.baseDelay', retry.baseDelay, defaultConfig.retry.baseDelay),
      maxDelay: duration('retry.maxDelay', retry.maxDelay, defaultConfig.retry.maxDelay),
    },
    onCall: config.onCall,
    auth: resolveAuth(config.auth),
    tls,
    tlsServerName: tls?.serverName ?? discovery?.domain,
    transport: resolveTransport(config.transport),
    log: resolveLog(checkLogger(config.logger), debugVariableValue()),
    middleware: checkMiddleware(config.middleware),
  };
}

function checkLogger(logger: Logger | undefined): Logger | undefined {
  if (logger === undefined) return undefined;
  const missing = (['debug', 'info', 'warn', 'error'] as const).filter((level) => typeof (logger as unknown as Record<string, unknown> | null)?.[level] !== 'function');
  if (missing.length > 0) throw new ConfigError(`logger must have debug, info, warn and error methods (console, pino and winston loggers do); missing: ${missing.join(', ')}`);
  return logger;
}

function checkMiddleware(middleware: readonly ClientMiddleware[] | undefined): readonly ClientMiddleware[] {
  if (middleware === undefined) return [];
  if (!Array.isArray(middleware) || !middleware.every((m) => typeof m === 'function')) {
    throw new ConfigError('middleware must be a list of nice-grpc client middleware (functions), e.g. [prometheusClientMiddleware()]');
  }
  return [...middleware];
}

function resolveEndpoints(value: string | string[] | undefined): string[] {
  const endpoints = typeof value === 'string' ? [value] : value;
  if (!Array.isArray(endpoints) || endpoints.length === 0) {
    throw new ConfigError('config.endpoints must list at least one etcd endpoint, e.g. ["127.0.0.1:2379"] (or give discoverySrv)');
  }
  // etcdctl's --endpoints takes a comma-separated list; here a list is an array.
  if (typeof value === 'string' && value.includes(',')) {
    throw new ConfigError(`config.endpoints: pass several endpoints as a list, e.g. ${JSON.stringify(value.split(',').map((e) => e.trim()))}`);
  }
  // Every endpoint is checked now, so a typo fails here rather than as a timeout on first use.
  for (const endpoint of endpoints) parseEndpoint(endpoint);
  return [...endpoints];
}

// A DNS name: labels of letters, digits, hyphens and underscores, an optional final dot.
const domainPattern = /^[A-Za-z0-9_](?:[A-Za-z0-9_-]*[A-Za-z0-9_])?(?:\.[A-Za-z0-9_](?:[A-Za-z0-9_-]*[A-Za-z0-9_])?)*\.?$/;

function resolveDiscovery(config: ClientConfig): ResolvedConfig['discoverySrv'] {
  const { discoverySrv: domain, discoverySrvName: serviceName = '', discoverySrvInterval } = config;
  if (domain === undefined) {
    if (config.discoverySrvName !== undefined || discoverySrvInterval !== undefined) throw new ConfigError('discoverySrvName and discoverySrvInterval need discoverySrv (the domain)');
    return undefined;
  }
  if (config.endpoints !== undefined) throw new ConfigError('give either endpoints or discoverySrv, not both');
  if (typeof domain !== 'string' || !domainPattern.test(domain)) throw new ConfigError(`discoverySrv must be a DNS domain such as "example.com", got ${JSON.stringify(domain)}`);
  if (typeof serviceName !== 'string' || (serviceName !== '' && !/^[A-Za-z0-9_-]+$/.test(serviceName))) {
    throw new ConfigError(`discoverySrvName must be letters, digits, "-" or "_", got ${JSON.stringify(serviceName)}`);
  }
  return {
    domain: domain.replace(/\.$/, ''),
    serviceName,
    interval: duration('discoverySrvInterval', discoverySrvInterval, defaultConfig.discoverySrvInterval),
  };
}

function resolveDnsServers(servers: string[] | undefined): string[] | undefined {
  if (servers === undefined) return undefined;
  if (!Array.isArray(servers) || servers.length === 0 || servers.some((s) => typeof s !== 'string' || s === '')) {
    throw new ConfigError('dnsServers must be a non-empty list of addresses such as "10.0.0.2" or "127.0.0.1:5353"');
  }
  return [...servers];
}

function resolveTransport(transport: TransportKind | undefined): TransportKind {
  if (transport === undefined) return defaultTransport();
  if (!transportKinds.includes(transport)) {
    throw new ConfigError(`transport must be one of ${transportKinds.map((k) => JSON.stringify(k)).join(', ')}, got ${JSON.stringify(transport)}`);
  }
  return transport;
}

function resolveAuth(auth: AuthConfig | undefined): AuthConfig | undefined {
  if (auth === undefined) return undefined;
  if ('token' in auth) {
    // Go 3.7's Config.Token is exclusive with Username/Password (ErrMutuallyExclusiveCfg).
    if ('username' in auth || 'password' in auth) throw new ConfigError('auth: give either username and password, or token, not both');
    if (typeof auth.token !== 'string' || auth.token === '') throw new ConfigError('auth.token must be a non-empty string');
    return { token: auth.token };
  }
  if (typeof auth.username !== 'string' || auth.username === '' || typeof auth.password !== 'string') {
    throw new ConfigError('auth needs a non-empty username and a password (string)');
  }
  return { username: auth.username, password: auth.password };
}

function resolveTls(tls: TlsConfig): ResolvedTls {
  const read = (name: string, value: Buffer | string | undefined): Buffer | undefined => {
    if (value === undefined) return undefined;
    if (Buffer.isBuffer(value)) return value;
    if (typeof value !== 'string') throw new ConfigError(`tls.${name} must be a Buffer or a file path`);
    try {
      return readFileSync(value);
    } catch (error) {
      throw new ConfigError(`tls.${name}: cannot read ${value}: ${(error as Error).message}`);
    }
  };
  const out: ResolvedTls = { ca: read('ca', tls.ca), cert: read('cert', tls.cert), key: read('key', tls.key) };
  if ((out.cert === undefined) !== (out.key === undefined)) throw new ConfigError('tls.cert and tls.key go together');
  if (tls.serverName !== undefined) {
    if (typeof tls.serverName !== 'string' || !domainPattern.test(tls.serverName)) throw new ConfigError(`tls.serverName must be a host name, got ${JSON.stringify(tls.serverName)}`);
    out.serverName = tls.serverName;
  }
  if (tls.insecureSkipVerify !== undefined) {
    if (typeof tls.insecureSkipVerify !== 'boolean') throw new ConfigError('tls.insecureSkipVerify must be true or false');
    out.insecureSkipVerify = tls.insecureSkipVerify;
  }
  return out;
}
