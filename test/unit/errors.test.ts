import { ClientError, Status } from 'nice-grpc-common';
import {
  CompactedError,
  EtcdError,
  FailedPreconditionError,
  NotFoundError,
  UnavailableError,
  errorFromStatus,
  serverErrors,
  toEtcdError,
} from '../../src/errors.js';

describe('the server error table', () => {
  it.each([...serverErrors.entries()])('maps %j to its class with its gRPC code', (message, entry) => {
    const error = errorFromStatus(entry.code, message, '/etcdserverpb.KV/Range');
    expect(error).toBeInstanceOf(entry.type);
    expect(error).toBeInstanceOf(EtcdError);
    expect(error.code).toBe(entry.code);
    expect(error.details).toBe(message);
    expect(error.reason).toBe(entry.reason);
    expect(error.message).toContain(message);
  });

  it('puts every entry under the group class of its gRPC code', () => {
    const groups: Partial<Record<Status, Function>> = {
      [Status.FAILED_PRECONDITION]: FailedPreconditionError,
      [Status.NOT_FOUND]: NotFoundError,
      [Status.UNAVAILABLE]: UnavailableError,
    };
    for (const [message, entry] of serverErrors) {
      const group = groups[entry.code];
      if (group) expect(errorFromStatus(entry.code, message)).toBeInstanceOf(group);
    }
  });

  it('gives an unknown message the class of its code', () => {
    const error = errorFromStatus(Status.UNAVAILABLE, 'connection refused');
    expect(error).toBeInstanceOf(UnavailableError);
    expect(error.reason).toBe('UNAVAILABLE');
  });

  it('translates nice-grpc ClientErrors and keeps them as the cause', () => {
    const cause = new ClientError('/etcdserverpb.KV/Range', Status.OUT_OF_RANGE, 'etcdserver: mvcc: required revision has been compacted');
    const error = toEtcdError(cause);
    expect(error).toBeInstanceOf(CompactedError);
    expect(error.path).toBe('/etcdserverpb.KV/Range');
    expect(error.cause).toBe(cause);
  });
});

describe('watch cancel reasons', () => {
  it('parse the gRPC status etcd writes into them', () => {
    const { parseCancelReason } = jest.requireActual<typeof import('../../src/errors.js')>('../../src/errors.js');
    expect(parseCancelReason('rpc error: code = Unauthenticated desc = etcdserver: invalid auth token')).toEqual({
      code: Status.UNAUTHENTICATED,
      details: 'etcdserver: invalid auth token',
    });
    expect(parseCancelReason('rpc error: code = PermissionDenied desc = etcdserver: permission denied').code).toBe(Status.PERMISSION_DENIED);
    expect(parseCancelReason('etcdserver: permission denied')).toEqual({ code: Status.FAILED_PRECONDITION, details: 'etcdserver: permission denied' });
  });
});
