import { ClientError, Status } from 'nice-grpc-common';
import { KVDefinition, LeaseDefinition, WatchDefinition, ClusterDefinition, MaintenanceDefinition, AuthDefinition, LockDefinition, ElectionDefinition } from '../../src/proto.js';
import { provablyUnsent, retryPolicies, retryPolicy } from '../../src/retry.js';
import { grpcTimeout } from '../../src/middleware/timeout.js';

const definitions = [KVDefinition, WatchDefinition, LeaseDefinition, ClusterDefinition, MaintenanceDefinition, AuthDefinition, LockDefinition, ElectionDefinition];
const allPaths = definitions.flatMap((d) => Object.values(d.methods).map((m) => `/${d.fullName}/${m.name}`));

describe('the retry policy table', () => {
  it('classifies every RPC of every generated service', () => {
    expect(Object.keys(retryPolicies).sort()).toEqual([...allPaths].sort());
  });

  it('never retries streams', () => {
    for (const d of definitions) {
      for (const m of Object.values(d.methods)) {
        if (m.requestStream || m.responseStream) expect(retryPolicy(`/${d.fullName}/${m.name}`)).toBe('never');
      }
    }
  });

  it('retries reads and never replays sent writes', () => {
    expect(retryPolicy('/etcdserverpb.KV/Range')).toBe('repeatable');
    for (const write of ['Put', 'DeleteRange', 'Txn', 'Compact']) expect(retryPolicy(`/etcdserverpb.KV/${write}`)).toBe('unsentOnly');
  });

  it('treats an unknown RPC as not retryable', () => {
    expect(retryPolicy('/etcdserverpb.KV/RangeStream')).toBe('never');
  });
});

describe('provablyUnsent', () => {
  it('recognises grpc-js failing to find a connection', () => {
    expect(provablyUnsent(new ClientError('/p', Status.UNAVAILABLE, 'No connection established. Last error: connect ECONNREFUSED'))).toBe(true);
  });

  it('does not trust other UNAVAILABLE failures', () => {
    expect(provablyUnsent(new ClientError('/p', Status.UNAVAILABLE, 'etcdserver: request timed out'))).toBe(false);
    expect(provablyUnsent(new ClientError('/p', Status.UNAVAILABLE, 'Connection dropped'))).toBe(false);
  });
});

describe('grpcTimeout', () => {
  it('encodes milliseconds, and seconds beyond eight digits', () => {
    expect(grpcTimeout(1500)).toBe('1500m');
    expect(grpcTimeout(0.2)).toBe('1m');
    expect(grpcTimeout(200_000_000)).toBe('200000S');
  });
});
