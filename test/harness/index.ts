export { EtcdServer, startEtcd, destroyAll } from './etcd';
export type { EtcdOptions, EtcdctlResult } from './etcd';
export { EtcdCluster, startCluster } from './cluster';
export { freePort } from './ports';
export { etcdBinary, etcdBinDir, etcdServerVersion, etcdSuite } from './etcd-version';
export { makeCerts } from './certs';
export type { TestCerts } from './certs';
export { useEtcd } from './suite';
export type { EtcdSuite } from './suite';
