import { ClientError, Status } from 'nice-grpc-common';
import {
  AbortedError,
  ClientClosedError,
  CompactedError,
  ConfigError,
  DataLossError,
  DeadlineExceededError,
  EmptyKeyError,
  EtcdError,
  FailedPreconditionError,
  InvalidArgumentError,
  LeaseNotFoundError,
  LockedError,
  NotFoundError,
  OutOfRangeError,
  PermissionDeniedError,
  ResourceExhaustedError,
  ServerTimeoutError,
  UnauthenticatedError,
  UnavailableError,
  errorFromStatus,
  serverErrors,
  toEtcdError,
} from '../../src/errors.js';

describe('the server error table', () => {
  it.each([...serverErrors.entries()])('maps %j to its class, whose gRPC code it carries', (message, entry) => {
    const error = errorFromStatus(entry.type.code, message, '/etcdserverpb.KV/Range');
    expect(error).toBeInstanceOf(entry.type);
    expect(error).toBeInstanceOf(EtcdError);
    expect(error.code).toBe(entry.type.code);
    expect(error.details).toBe(message);
    expect(error.reason).toBe(entry.reason);
    expect(error.message).toContain(message);
  });

  it('puts every entry under the group class of its gRPC code', () => {
    const groups = new Map<Status, Function>([
      [Status.INVALID_ARGUMENT, InvalidArgumentError],
      [Status.OUT_OF_RANGE, OutOfRangeError],
      [Status.RESOURCE_EXHAUSTED, ResourceExhaustedError],
      [Status.FAILED_PRECONDITION, FailedPreconditionError],
      [Status.NOT_FOUND, NotFoundError],
      [Status.PERMISSION_DENIED, PermissionDeniedError],
      [Status.UNAUTHENTICATED, UnauthenticatedError],
      [Status.UNAVAILABLE, UnavailableError],
      [Status.DATA_LOSS, DataLossError],
    ]);
    for (const [message, entry] of serverErrors) {
      expect(errorFromStatus(entry.type.code, message)).toBeInstanceOf(groups.get(entry.type.code));
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

describe('error classes', () => {
  it('know their own gRPC code and reason, so a message is enough', () => {
    const error = new EmptyKeyError('put: the key is empty');
    expect(error).toMatchObject({ code: Status.INVALID_ARGUMENT, reason: 'EmptyKey', details: 'put: the key is empty', path: undefined });
    expect(error.message).toBe('put: the key is empty');
    expect(EmptyKeyError.code).toBe(Status.INVALID_ARGUMENT);
  });

  it("say etcd's own words for their case when given no message", () => {
    expect(new LeaseNotFoundError()).toMatchObject({ code: Status.NOT_FOUND, details: 'etcdserver: requested lease not found', reason: 'LeaseNotFound' });
    expect(new UnavailableError()).toMatchObject({ code: Status.UNAVAILABLE, details: 'unavailable', reason: 'Unavailable' });
    // ServerTimeoutError stands for four messages of etcd's, so it picks none of them.
    expect(new ServerTimeoutError().details).toBe('unavailable');
  });

  it('take a reason, a path and a cause, and name the path in the message', () => {
    const cause = new Error('boom');
    const error = new UnavailableError('etcdserver: leader changed', { reason: 'LeaderChanged', path: '/etcdserverpb.KV/Put', cause });
    expect(error).toMatchObject({ code: Status.UNAVAILABLE, reason: 'LeaderChanged', path: '/etcdserverpb.KV/Put', cause });
    expect(error.message).toBe('/etcdserverpb.KV/Put UNAVAILABLE: etcdserver: leader changed');
  });

  it('keep EtcdError taking any code', () => {
    expect(new EtcdError(Status.INTERNAL, 'odd', { reason: 'Odd' })).toMatchObject({ code: Status.INTERNAL, reason: 'Odd' });
  });

  it.each([
    [ClientClosedError, Status.CANCELLED, 'ClientClosed'],
    [AbortedError, Status.CANCELLED, 'Aborted'],
    [DeadlineExceededError, Status.DEADLINE_EXCEEDED, 'DeadlineExceeded'],
    [LockedError, Status.FAILED_PRECONDITION, 'Locked'],
  ] as const)('give %p its code and reason without arguments', (type, code, reason) => {
    expect(new type()).toMatchObject({ code, reason });
    expect(type.code).toBe(code);
  });

  it('stay instanceof across module copies, and of their own class only', () => {
    const copy = loadCopy();
    expect(copy.EmptyKeyError).not.toBe(EmptyKeyError);
    expect(new copy.EmptyKeyError('x')).toBeInstanceOf(EtcdError);
    expect(new EmptyKeyError('x')).toBeInstanceOf(InvalidArgumentError);
    expect(new EmptyKeyError('x')).not.toBeInstanceOf(OutOfRangeError);
    expect(new ConfigError('bad')).not.toBeInstanceOf(InvalidArgumentError);
  });
});

function loadCopy(): typeof import('../../src/errors.js') {
  let copy: typeof import('../../src/errors.js') | undefined;
  jest.isolateModules(() => {
    copy = jest.requireActual<typeof import('../../src/errors.js')>('../../src/errors.js');
  });
  return copy!;
}

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
