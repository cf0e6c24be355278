import { ClientError, Status } from 'nice-grpc-common';
import { provablyUnsent } from '../../src/retry.js';
import { grpcTimeout } from '../../src/middleware/timeout.js';

describe('provablyUnsent', () => {
  it('recognises grpc-js failing to find a connection', () => {
    expect(provablyUnsent(new ClientError('/p', Status.UNAVAILABLE, 'No connection established. Last error: connect ECONNREFUSED'))).toBe(true);
    expect(provablyUnsent(new ClientError('/p', Status.UNAVAILABLE, 'round_robin: No connection established. Last error: null'))).toBe(true);
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
