import { resolveConfig } from '../../src/config.js';
import { discoverSrvEndpoints, orderSrvRecords, srvNames } from '../../src/discovery-srv.js';
import { ConfigError, UnavailableError } from '../../src/errors.js';

/** A seeded generator (mulberry32), so the statistical checks below are deterministic. */
function seeded(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const rec = (name: string, priority: number, weight: number) => ({ name, port: 2379, priority, weight });

describe('orderSrvRecords (RFC 2782)', () => {
  it('puts every record of a lower priority before any of a higher one', () => {
    const records = [rec('c', 20, 100), rec('a', 10, 0), rec('d', 30, 5), rec('b', 10, 50)];
    const random = seeded(1);
    for (let i = 0; i < 50; i++) {
      const order = orderSrvRecords(records, random).map((r) => r.priority);
      expect(order).toEqual([10, 10, 20, 30]);
    }
  });

  it('draws within a priority in proportion to the weights', () => {
    const records = [rec('light', 1, 10), rec('heavy', 1, 30)];
    const random = seeded(42);
    let heavyFirst = 0;
    const runs = 4_000;
    for (let i = 0; i < runs; i++) if (orderSrvRecords(records, random)[0]!.name === 'heavy') heavyFirst++;
    // Expected share: 30 / 40 = 0.75 (plus the draw of 0, which goes to the first record: ~1/41).
    expect(heavyFirst / runs).toBeGreaterThan(0.7);
    expect(heavyFirst / runs).toBeLessThan(0.8);
  });

  it('picks a weight-0 record first only when the draw is 0 (rarely), and keeps all records', () => {
    const records = [rec('w10', 1, 10), rec('zero', 1, 0), rec('w20', 1, 20)];
    const random = seeded(7);
    let zeroFirst = 0;
    for (let i = 0; i < 3_000; i++) {
      const order = orderSrvRecords(records, random);
      expect(order.map((r) => r.name).sort()).toEqual(['w10', 'w20', 'zero']);
      if (order[0]!.name === 'zero') zeroFirst++;
    }
    expect(zeroFirst / 3_000).toBeLessThan(0.06); // 1 / 31 expected
  });

  it('keeps the given order when every weight is 0', () => {
    const records = [rec('a', 5, 0), rec('b', 5, 0), rec('c', 5, 0)];
    expect(orderSrvRecords(records, () => 0.99).map((r) => r.name)).toEqual(['a', 'b', 'c']);
  });

  it('follows the running sum: a draw of the total picks the last record', () => {
    const records = [rec('a', 1, 1), rec('b', 1, 1), rec('c', 1, 2)];
    // First draw: floor(0.999 * 5) = 4 = total: the running sums are 1, 2, 4, so "c" comes first.
    expect(orderSrvRecords(records, () => 0.999).map((r) => r.name)).toEqual(['c', 'b', 'a']);
    // A draw of 0 or 1 picks the first record with a running sum >= it: "a".
    expect(orderSrvRecords(records, () => 0)[0]!.name).toBe('a');
  });
});

describe('srvNames (etcd GetSRVService, service etcd-client)', () => {
  it('names the https and http services, with the optional name suffix', () => {
    expect(srvNames('example.com')).toEqual({ https: '_etcd-client-ssl._tcp.example.com', http: '_etcd-client._tcp.example.com' });
    expect(srvNames('example.com', 'foo')).toEqual({ https: '_etcd-client-ssl-foo._tcp.example.com', http: '_etcd-client-foo._tcp.example.com' });
  });
});

describe('discoverSrvEndpoints', () => {
  const noRecords = () => Object.assign(new Error('queryServ ENOTFOUND'), { code: 'ENOTFOUND' });

  it('turns https records into https URLs, in RFC 2782 order, and prefers them to http ones', async () => {
    const lookup = async (name: string) => {
      if (name === '_etcd-client-ssl._tcp.etcd.test') return [rec('m1.etcd.test.', 2, 0), rec('m0.etcd.test', 1, 0)];
      if (name === '_etcd-client._tcp.etcd.test') return [rec('plain.etcd.test', 0, 0)];
      throw noRecords();
    };
    await expect(discoverSrvEndpoints({ domain: 'etcd.test', serviceName: '' }, lookup)).resolves.toEqual(['https://m0.etcd.test:2379', 'https://m1.etcd.test:2379']);
  });

  it('falls back to http records, skips the "." target, and looks up the named service', async () => {
    const asked: string[] = [];
    const lookup = async (name: string) => {
      asked.push(name);
      if (name === '_etcd-client-foo._tcp.etcd.test') return [rec('.', 0, 0), { name: 'm2.etcd.test', port: 23790, priority: 0, weight: 0 }];
      throw noRecords();
    };
    await expect(discoverSrvEndpoints({ domain: 'etcd.test', serviceName: 'foo' }, lookup)).resolves.toEqual(['http://m2.etcd.test:23790']);
    expect(asked.sort()).toEqual(['_etcd-client-foo._tcp.etcd.test', '_etcd-client-ssl-foo._tcp.etcd.test']);
  });

  it('fails with a typed error naming both services when there are no records, or the DNS error', async () => {
    const none = discoverSrvEndpoints({ domain: 'etcd.test', serviceName: '' }, async () => {
      throw noRecords();
    });
    await expect(none).rejects.toBeInstanceOf(UnavailableError);
    await expect(none).rejects.toThrow(/no SRV records for _etcd-client-ssl._tcp.etcd.test or _etcd-client._tcp.etcd.test/);
    const broken = discoverSrvEndpoints({ domain: 'etcd.test', serviceName: '' }, async () => {
      throw Object.assign(new Error('queryServ ECONNREFUSED'), { code: 'ECONNREFUSED' });
    });
    await expect(broken).rejects.toMatchObject({ reason: 'SrvDiscoveryFailed', message: expect.stringMatching(/DNS lookup failed: .*ECONNREFUSED/) });
  });
});

describe('discoverySrv config', () => {
  it('is exclusive with endpoints, and one of them is required', () => {
    expect(() => resolveConfig({ endpoints: ['127.0.0.1:2379'], discoverySrv: 'etcd.test' })).toThrow(ConfigError);
    expect(() => resolveConfig({})).toThrow(/endpoints must list at least one etcd endpoint.*or give discoverySrv/);
  });

  it('checks the domain, the service name and the interval, and defaults the TLS name to the domain', () => {
    expect(() => resolveConfig({ discoverySrv: 'not a domain' })).toThrow(ConfigError);
    expect(() => resolveConfig({ discoverySrv: 'etcd.test', discoverySrvName: 'a.b' })).toThrow(ConfigError);
    expect(() => resolveConfig({ discoverySrv: 'etcd.test', discoverySrvInterval: -1 })).toThrow(ConfigError);
    expect(() => resolveConfig({ endpoints: ['127.0.0.1:2379'], discoverySrvName: 'foo' })).toThrow(/need discoverySrv/);
    expect(() => resolveConfig({ discoverySrv: 'etcd.test', dnsServers: [] })).toThrow(ConfigError);
    const config = resolveConfig({ discoverySrv: 'etcd.test.', discoverySrvName: 'foo' });
    expect(config.discoverySrv).toEqual({ domain: 'etcd.test', serviceName: 'foo', interval: 30_000 });
    expect(config.endpoints).toEqual([]);
    expect(config.tlsServerName).toBe('etcd.test');
    expect(resolveConfig({ discoverySrv: 'etcd.test', tls: { serverName: 'other.test' } }).tlsServerName).toBe('other.test');
  });
});
