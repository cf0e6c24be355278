// Makes a throwaway CA with server and client certificates (the test harness's makeCerts) and
// prints their directory, for scripts/runtimes' TLS etcd.
import { makeCerts } from '../harness/certs.js';

makeCerts().then((certs) => console.log(certs.dir));
