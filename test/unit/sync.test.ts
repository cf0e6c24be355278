import { UnavailableError } from '../../src/errors.js';
import { memberEndpoints } from '../../src/sync.js';

const member = (name: string, clientUrls: string[], isLearner = false) => ({ id: 1n, name, peerUrls: [], clientUrls, isLearner });

describe('memberEndpoints', () => {
  it('takes every client URL of each started voting member, as Go Sync() does', () => {
    const members = [member('a', ['http://10.0.0.1:2379', 'http://a:2379']), member('', []), member('c', ['http://10.0.0.3:2379'], true), member('d', ['http://10.0.0.4:2379'])];
    expect(memberEndpoints(members)).toEqual(['http://10.0.0.1:2379', 'http://a:2379', 'http://10.0.0.4:2379']);
  });

  it('refuses a list without any, so the client keeps its endpoints', () => {
    expect(() => memberEndpoints([member('', []), member('l', ['http://10.0.0.2:2379'], true)])).toThrow(UnavailableError);
  });
});
