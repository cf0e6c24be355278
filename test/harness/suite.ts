import { Client, type ClientConfig } from '../../src/index.js';
import { type EtcdOptions, type EtcdServer, startEtcd } from './etcd';
import { TcpProxy } from './proxy';

/** What `useEtcd` provides to the tests of a suite, once `beforeAll` has run. */
export interface EtcdSuite {
  etcd: EtcdServer;
  client: Client;
}

/**
 * Starts one etcd (and a client for it) for the whole test file, and destroys both after it.
 * Read `suite.etcd` and `suite.client` inside tests (they are set in `beforeAll`).
 */
export function useEtcd(options: EtcdOptions = {}, clientConfig: Partial<ClientConfig> = {}): EtcdSuite {
  const suite = {} as EtcdSuite;
  beforeAll(async () => {
    suite.etcd = await startEtcd(options);
    suite.client = new Client({ ...clientConfig, endpoints: [suite.etcd.endpoint] });
  });
  afterAll(async () => {
    await suite.client?.close();
    await suite.etcd?.destroy();
  });
  return suite;
}

/** What `useProxiedEtcd` provides: `useEtcd`'s, plus a `TcpProxy` in front of that etcd. */
export interface ProxiedEtcdSuite extends EtcdSuite {
  proxy: TcpProxy;
}

/**
 * `useEtcd` with a `TcpProxy` in front of the etcd for the whole test file (`suite.client`
 * talks to etcd directly; clients made on `suite.proxy.endpoint` can be cut off by the proxy).
 */
export function useProxiedEtcd(options: EtcdOptions = {}, clientConfig: Partial<ClientConfig> = {}): ProxiedEtcdSuite {
  const suite = useEtcd(options, clientConfig) as ProxiedEtcdSuite;
  beforeAll(async () => {
    suite.proxy = await TcpProxy.start(suite.etcd.endpoint);
  });
  afterAll(async () => {
    await suite.proxy?.close();
  });
  return suite;
}
