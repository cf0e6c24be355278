import { Client, type ClientConfig } from '../../src/index.js';
import { type EtcdOptions, type EtcdServer, startEtcd } from './etcd';

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
