import { isIP } from 'node:net';
import { ConfigError } from './errors.js';

/** One etcd client URL, parsed. */
export interface Endpoint {
  /** The host name or IP address as written (`localhost` for a unix socket): TLS verifies this name. */
  host: string;
  /** The TCP port (0 for a unix socket). */
  port: number;
  /** True for `https://` and `unixs://` URLs: the connection must use TLS. */
  secure: boolean;
  /** The endpoint as `host:port` (IPv6 in brackets), the form etcd's own tools print, or `unix:<path>`. */
  address: string;
  /** The socket path of a `unix:` endpoint; undefined for TCP. */
  path?: string;
}

const endpointPattern = /^(?:(https?):\/\/)?(\[[0-9a-fA-F:.]+\]|[^:/\[\]]+)(?::(\d{1,5}))?\/?$/;
// unix:<path>, unix://<path> (etcd's and Go's form: unix://localhost:2379 is the file
// "localhost:2379"), unixs://<path> with TLS.
const unixPattern = /^(unixs?):(?:\/\/)?(.+)$/;
// A DNS name (RFC 1123 labels; underscores too, as container names use them) or an IPv4 address.
const hostPattern = /^[A-Za-z0-9_](?:[A-Za-z0-9_-]*[A-Za-z0-9_])?(?:\.[A-Za-z0-9_](?:[A-Za-z0-9_-]*[A-Za-z0-9_])?)*\.?$/;

/**
 * Parses `host:port`, `http://host:port` or `https://host:port` (a host name or an IP
 * address, IPv6 in brackets), or a unix socket as `unix:<path>` / `unix://<path>` (`unixs://`
 * for TLS). The port is required, as etcd requires it of its own URLs
 * (`--advertise-client-urls`): a bare host would otherwise silently mean some default port.
 */
export function parseEndpoint(url: string): Endpoint {
  const expected = 'expected host:port, http://host:port, https://host:port or unix:<path>';
  if (typeof url === 'string') {
    const unix = unixPattern.exec(url.trim());
    if (unix) return { host: 'localhost', port: 0, secure: unix[1] === 'unixs', address: `unix:${unix[2]}`, path: unix[2] };
  }
  const match = typeof url === 'string' ? endpointPattern.exec(url.trim()) : null;
  if (!match) throw new ConfigError(`invalid endpoint ${JSON.stringify(url)}: ${expected}`);
  const [, scheme, rawHost, rawPort] = match;
  const host = rawHost.startsWith('[') ? rawHost.slice(1, -1) : rawHost;
  if (rawHost.startsWith('[') ? isIP(host) !== 6 : !hostPattern.test(host)) {
    throw new ConfigError(`invalid endpoint ${JSON.stringify(url)}: ${JSON.stringify(host)} is not a host name or IP address`);
  }
  if (rawPort === undefined) throw new ConfigError(`invalid endpoint ${JSON.stringify(url)}: no port; ${expected}, e.g. ${JSON.stringify(`${rawHost}:2379`)}`);
  const port = Number(rawPort);
  if (port < 1 || port > 65535) throw new ConfigError(`invalid endpoint ${JSON.stringify(url)}: port out of range`);
  const address = isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`;
  return { host, port, secure: scheme === 'https', address };
}

/** True when the endpoint names a host that must be looked up (not an IP address, not a socket). @internal */
export function needsLookup(endpoint: Endpoint): boolean {
  return endpoint.path === undefined && isIP(endpoint.host) === 0;
}
