import { KeyPrefix } from '../../src/namespace/keys.js';

const b = (s: string) => Buffer.from(s, 'latin1');

describe('KeyPrefix', () => {
  const p = new KeyPrefix(b('app/'));

  it('prefixes keys and ordinary range ends', () => {
    expect(p.key(b('k'))).toEqual(b('app/k'));
    expect(p.rangeEnd(b('z'))).toEqual(b('app/z'));
  });

  it('maps "\\x00" (end of keyspace) to the end of the prefix', () => {
    expect(Buffer.from(p.rangeEnd(b('\x00')))).toEqual(b('app0'));
  });

  it('keeps an empty range end empty (a single key)', () => {
    expect(p.rangeEnd(b('')).length).toBe(0);
  });

  it('strips the prefix without copying', () => {
    const key = b('app/k');
    const stripped = p.strip(key);
    expect(stripped).toEqual(b('k'));
    expect(stripped.buffer).toBe(key.buffer);
  });
});
