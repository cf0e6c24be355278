import { ConfigError } from './errors.js';

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

/** Options of `new Client(...)`. Every duration is in milliseconds. */
export interface ClientConfig {
  /**
   * etcd client URLs: `host:port`, `http://host:port` or `https://host:port`.
   * Several endpoints are balanced round robin (they must then be IP addresses).
   */
  endpoints: string | string[];
  /** Bound of one connection attempt (TCP, TLS and HTTP/2 handshake). Default 5,000. */
  dialTimeout?: number;
  /** Default timeout of each unary call, retries included; per-call `timeout` overrides it. Default 10,000. */
  timeout?: number;
  /** Largest request the client sends, in bytes; larger ones fail before sending. Default 2 MiB. */
  maxCallSendMsgSize?: number;
  /** Largest response the client accepts, in bytes. Default 2 GiB - 1 (no practical limit). */
  maxCallRecvMsgSize?: number;
  /** Interval of HTTP/2 keepalive pings on an active connection; 0 disables them. Default 30,000. */
  keepAliveTime?: number;
  /** How long a keepalive ping may go unanswered before the connection is dropped. Default 10,000. */
  keepAliveTimeout?: number;
  /** Retries of calls that are safe to repeat. */
  retry?: RetryConfig;
  /** Called once for every finished unary call: the hook for metrics and logs. Must not throw. */
  onCall?: (event: CallEvent) => void;
}

/** The configuration with every default filled in. @internal */
export interface ResolvedConfig {
  endpoints: string[];
  dialTimeout: number;
  timeout: number;
  maxCallSendMsgSize: number;
  maxCallRecvMsgSize: number;
  keepAliveTime: number;
  keepAliveTimeout: number;
  retry: Required<RetryConfig>;
  onCall: ((event: CallEvent) => void) | undefined;
}

/** Defaults of every optional setting, in one place. @internal */
export const defaultConfig = {
  dialTimeout: 5_000,
  timeout: 10_000,
  maxCallSendMsgSize: 2 * 1024 * 1024,
  maxCallRecvMsgSize: 2 ** 31 - 1,
  keepAliveTime: 30_000,
  keepAliveTimeout: 10_000,
  retry: { maxAttempts: 10, baseDelay: 50, maxDelay: 1_000 },
} as const;

function duration(name: string, value: number | undefined, fallback: number, min = 0): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min) {
    throw new ConfigError(`${name} must be a finite number >= ${min} (ms), got ${String(value)}`);
  }
  return value;
}

/** Validates a user's config and fills in the defaults. @internal */
export function resolveConfig(config: ClientConfig): ResolvedConfig {
  if (config == null || typeof config !== 'object') throw new ConfigError('new Client(config) needs a config object');
  const endpoints = typeof config.endpoints === 'string' ? [config.endpoints] : config.endpoints;
  if (!Array.isArray(endpoints) || endpoints.length === 0) {
    throw new ConfigError('config.endpoints must list at least one etcd endpoint, e.g. ["127.0.0.1:2379"]');
  }
  const retry = config.retry ?? {};
  return {
    endpoints: [...endpoints],
    dialTimeout: duration('dialTimeout', config.dialTimeout, defaultConfig.dialTimeout, 1),
    timeout: duration('timeout', config.timeout, defaultConfig.timeout, 1),
    maxCallSendMsgSize: duration('maxCallSendMsgSize', config.maxCallSendMsgSize, defaultConfig.maxCallSendMsgSize, 1),
    maxCallRecvMsgSize: duration('maxCallRecvMsgSize', config.maxCallRecvMsgSize, defaultConfig.maxCallRecvMsgSize, 1),
    keepAliveTime: duration('keepAliveTime', config.keepAliveTime, defaultConfig.keepAliveTime),
    keepAliveTimeout: duration('keepAliveTimeout', config.keepAliveTimeout, defaultConfig.keepAliveTimeout, 1),
    retry: {
      maxAttempts: duration('retry.maxAttempts', retry.maxAttempts, defaultConfig.retry.maxAttempts, 1),
      baseDelay: duration('retry.baseDelay', retry.baseDelay, defaultConfig.retry.baseDelay),
      maxDelay: duration('retry.maxDelay', retry.maxDelay, defaultConfig.retry.maxDelay),
    },
    onCall: config.onCall,
  };
}
