// Runs before every test file (jest setupFiles) and in the programs tests spawn: the whole
// suite runs on the transport NICE_ETCD_TRANSPORT names (http2 or grpc-js), for every Client
// a test makes, suite.client and `new Client(...)` alike, unless a test names one itself.
import { type TransportKind, setDefaultTransport } from '../../src/transport/default-transport.js';

const kind = process.env.NICE_ETCD_TRANSPORT;
if (kind) setDefaultTransport(kind as TransportKind);
