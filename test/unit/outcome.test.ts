import { ClientError, Status } from 'nice-grpc-common';
import { AbortedError, ClientClosedError, DeadlineExceededError, KeyNotFoundError, NoLeaderError, ServerTimeoutError, UnavailableError, errorFromStatus } from '../../src/errors.js';
import { mayHaveApplied } from '../../src/outcome.js';

describe('mayHaveApplied', () => {
  it.each([
    ['a deadline', new DeadlineExceededError('late'), true],
    ['an abort', new AbortedError('aborted'), true],
    ['a close', new ClientClosedError(), true],
    ['a dropped connection', errorFromStatus(Status.UNAVAILABLE, 'Connection dropped'), true],
    ["etcd's request timed out", new ServerTimeoutError('etcdserver: request timed out'), true],
    ["etcd's leader changed", errorFromStatus(Status.UNAVAILABLE, 'etcdserver: leader changed'), true],
    ['an unknown failure', errorFromStatus(Status.UNKNOWN, 'something'), true],
    ['no connection', new UnavailableError('No connection established', { cause: new ClientError('/p', Status.UNAVAILABLE, 'No connection established') }), false],
    ['no leader (refused before proposing)', new NoLeaderError('etcdserver: no leader'), false],
    ['a refusal by etcd', new KeyNotFoundError(), false],
  ])('%s: %s', (_name, error, expected) => {
    expect(mayHaveApplied(error)).toBe(expected);
  });
});
