import { isIP } from 'node:net';
import { ConfigError } from './errors.js';

/** One etcd client URL, parsed. */
export interface Endpoint {
  /** Host name or IP address (IPv6 without brackets). */
  host: string;
  /** TCP port, as the URL names it. */
  port: number;
  /** True for `https://` URLs: the connection must use TLS. */
  secure: boolean;
  /** The endpoint as `host:port` (IPv6 in brackets), the form etcd's own tools print. */
  address: string;
}

const endpointPattern = /^(?:(https?):\/\/)?(\[[0-9a-fA-F:.]+\]|[^:/\[\]]+)(?::(\d{1,5}))?\/?$/;
// A DNS name (RFC 1123 labels; underscores too, as container names use them) or an IPv4 address.
const hostPattern = /^[A-Za-z0-9_](?:[A-Za-z0-9_-]*[A-Za-z0-9_])?(?:\.[A-Za-z0-9_](?:[A-Za-z0-9_-]*[A-Za-z0-9_])?)*\.?$/;

/**
 * Parses `host:port`, `http://host:port` or `https://host:port` (IPv6 hosts in brackets). The
 * port is required, as etcd requires it of its own URLs (`--advertise-client-urls`): a bare
 * host would otherwise silently mean some default port.
 */
export function parseEndpoint(url: string): Endpoint {
  const expected = 'expected host:port, http://host:port or https://host:port';
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

/**
 * The grpc-js target for a list of endpoints: one name goes through DNS; several IP
 * addresses become one `ipv4:`/`ipv6:` target that grpc-js balances round robin.
 * @internal
 */
export function grpcTarget(endpoints: readonly Endpoint[]): string {
  if (endpoints.length === 1) {
    const [only] = endpoints;
    return isIP(only.host) ? `${isIP(only.host) === 6 ? 'ipv6' : 'ipv4'}:${only.address}` : `dns:${only.address}`;
  }
  const families = new Set(endpoints.map((e) => isIP(e.host)));
  if (families.has(0) || families.size > 1) {
    throw new ConfigError(
      'several endpoints must all be IPv4 or all IPv6 addresses (host names are supported for a single endpoint)',
    );
  }
  return `${families.has(6) ? 'ipv6' : 'ipv4'}:${endpoints.map((e) => e.address).join(',')}`;
}
