import { ConfigError } from '../../src/errors.js';
import { parseEndpoint } from '../../src/endpoints.js';
import { resolveConfig } from '../../src/config.js';
import { Client } from '../../src/client.js';

describe('parseEndpoint', () => {
  it.each([
    ['127.0.0.1:2379', { host: '127.0.0.1', port: 2379, secure: false, address: '127.0.0.1:2379' }],
    ['http://etcd-0.etcd.svc:2379/', { host: 'etcd-0.etcd.svc', port: 2379, secure: false }],
    ['https://10.0.0.1:2379', { host: '10.0.0.1', port: 2379, secure: true }],
    ['[::1]:2379', { host: '::1', port: 2379, address: '[::1]:2379' }],
    ['etcd_1:32379', { host: 'etcd_1', port: 32379 }],
  ])('reads %s', (url, expected) => {
    expect(parseEndpoint(url)).toMatchObject(expected);
  });

  it.each([
    ['x', /no port/],
    ['http://10.0.0.1', /no port/],
    ['not a url', /not a host name or IP address/],
    ['[1:2:3]:2379', /not a host name or IP address/],
    ['ftp://x:1', /invalid endpoint/],
    ['x:0', /port out of range/],
    ['http://x:2379/v3', /invalid endpoint/],
    ['', /invalid endpoint/],
  ])('refuses %j with a ConfigError', (url, message) => {
    expect(() => parseEndpoint(url)).toThrow(ConfigError);
    expect(() => parseEndpoint(url)).toThrow(message);
  });

  it('refuses what is not a string', () => {
    expect(() => parseEndpoint(2379 as never)).toThrow(ConfigError);
  });
});

describe('resolveConfig', () => {
  it('accepts one endpoint as a string', () => {
    expect(resolveConfig({ endpoints: '127.0.0.1:2379' }).endpoints).toEqual(['127.0.0.1:2379']);
  });

  it('checks every endpoint of the list', () => {
    expect(() => resolveConfig({ endpoints: ['127.0.0.1:2379', 'x'] })).toThrow(/invalid endpoint "x": no port/);
  });

  it('asks for a list when given a comma-separated string', () => {
    expect(() => resolveConfig({ endpoints: '10.0.0.1:2379,10.0.0.2:2379' })).toThrow(/as a list, e.g. \["10.0.0.1:2379","10.0.0.2:2379"\]/);
  });

  it('refuses a fractional retry.maxAttempts', () => {
    expect(() => resolveConfig({ endpoints: ['127.0.0.1:2379'], retry: { maxAttempts: 2.5 } })).toThrow(/whole number/);
  });
});

describe('parseEndpoint of unix sockets', () => {
  it.each([
    ['unix:/run/etcd.sock', { path: '/run/etcd.sock', secure: false, address: 'unix:/run/etcd.sock' }],
    ['unix:///run/etcd.sock', { path: '/run/etcd.sock', secure: false }],
    ['unix://localhost:2379', { path: 'localhost:2379', secure: false }],
    ['unixs://etcd.sock', { path: 'etcd.sock', secure: true }],
  ])('reads %s', (url, expected) => {
    expect(parseEndpoint(url)).toMatchObject(expected);
  });

  it('refuses a unix endpoint without a path', () => {
    expect(() => parseEndpoint('unix:')).toThrow(ConfigError);
  });
});

describe('endpoints on the grpc-js transport', () => {
  it('refuses TLS with two different host names (grpc-js verifies one name per channel)', () => {
    expect(() => new Client({ endpoints: ['https://a.test:2379', 'https://b.test:2379'], transport: 'grpc-js' })).toThrow(ConfigError);
    expect(() => new Client({ endpoints: ['https://a.test:2379', 'https://b.test:2379'], transport: 'grpc-js' })).toThrow(/use the default transport/);
  });

  it('accepts host names, IP addresses and sockets mixed, without TLS', async () => {
    const client = new Client({ endpoints: ['a.test:2379', '10.0.0.1:2379', '[::1]:2379', 'unix:/run/etcd.sock'], transport: 'grpc-js' });
    expect(client.endpoints).toEqual(['a.test:2379', '10.0.0.1:2379', '[::1]:2379', 'unix:/run/etcd.sock']);
    await client.close();
  });
});

describe('maxReconnectBackoff', () => {
  it('defaults to the larger of dialTimeout and 5 s', () => {
    expect(resolveConfig({ endpoints: ['127.0.0.1:2379'] }).maxReconnectBackoff).toBe(5_000);
    expect(resolveConfig({ endpoints: ['127.0.0.1:2379'], dialTimeout: 8_000 }).maxReconnectBackoff).toBe(8_000);
  });

  it('cannot be below dialTimeout', () => {
    expect(() => resolveConfig({ endpoints: ['127.0.0.1:2379'], maxReconnectBackoff: 100 })).toThrow(/maxReconnectBackoff must be a finite number >= 5000/);
  });
});
