import { compare, op, prefixEnd } from '../../src/index.js';
import { EmptyKeyError, InvalidArgumentError } from '../../src/errors.js';
import { RangeRequest_SortOrder, RangeRequest_SortTarget, Compare_CompareResult, Compare_CompareTarget } from '../../src/proto.js';

const b = (s: string) => Buffer.from(s, 'latin1');

describe('prefixEnd', () => {
  it('increments the last byte below 0xff and cuts the rest', () => {
    expect(Buffer.from(prefixEnd(b('abc')))).toEqual(b('abd'));
    expect(Buffer.from(prefixEnd(b('a\xff\xff')))).toEqual(b('b'));
    expect(Buffer.from(prefixEnd(b('x/')))).toEqual(b('x0'));
  });

  it('returns "\\x00" (the end of the keyspace) when every byte is 0xff', () => {
    expect(Buffer.from(prefixEnd(b('\xff\xff')))).toEqual(b('\x00'));
  });

  it('takes a key as text, as every other call does (UTF-8 encoded)', () => {
    expect(prefixEnd('jobs/')).toEqual(b('jobs0'));
    expect(prefixEnd('')).toEqual(b('\x00'));
  });

  it('gives every caller its own buffer', () => {
    prefixEnd(b('\xff'))[0] = 7;
    expect(prefixEnd(b('\xff'))).toEqual(b('\x00'));
  });

  it('refuses a value that is neither text nor bytes', () => {
    expect(() => prefixEnd(42 as unknown as string)).toThrow(InvalidArgumentError);
  });
});

describe('op.get', () => {
  it('sends a single key with an empty range end', () => {
    const { request } = op.get('k');
    expect(Buffer.from(request.key)).toEqual(b('k'));
    expect(request.rangeEnd.length).toBe(0);
  });

  it('maps prefix, fromKey and end to etcd range ends', () => {
    expect(Buffer.from(op.get('a/', { prefix: true }).request.rangeEnd)).toEqual(b('a0'));
    expect(Buffer.from(op.get('a', { fromKey: true }).request.rangeEnd)).toEqual(b('\x00'));
    expect(Buffer.from(op.get('a', { end: 'c' }).request.rangeEnd)).toEqual(b('c'));
  });

  it('turns an empty key with prefix or fromKey into the whole keyspace', () => {
    for (const options of [{ prefix: true }, { fromKey: true }]) {
      const { request } = op.get('', options);
      expect(Buffer.from(request.key)).toEqual(b('\x00'));
      expect(Buffer.from(request.rangeEnd)).toEqual(b('\x00'));
    }
  });

  it('rejects an empty key without a range, before sending', () => {
    expect(() => op.get('')).toThrow(EmptyKeyError);
    expect(() => op.put('', 'v')).toThrow(EmptyKeyError);
    expect(() => op.delete('')).toThrow(EmptyKeyError);
  });

  it('rejects conflicting range options', () => {
    expect(() => op.get('a', { prefix: true, fromKey: true })).toThrow(InvalidArgumentError);
    expect(() => op.get('a', { prefix: true, end: 'b' })).toThrow(/only one of prefix, fromKey and end/);
  });

  it('maps every read option to its RangeRequest field', () => {
    const { request } = op.get('k', {
      revision: 7,
      limit: 3n,
      serializable: true,
      keysOnly: true,
      countOnly: true,
      minModRevision: 1,
      maxModRevision: 2,
      minCreateRevision: 3,
      maxCreateRevision: 4,
      sort: { target: 'modRevision', order: 'descend' },
    });
    expect(request).toMatchObject({
      revision: 7n,
      limit: 3n,
      serializable: true,
      keysOnly: true,
      countOnly: true,
      minModRevision: 1n,
      maxModRevision: 2n,
      minCreateRevision: 3n,
      maxCreateRevision: 4n,
      sortTarget: RangeRequest_SortTarget.MOD,
      sortOrder: RangeRequest_SortOrder.DESCEND,
    });
  });

  it('sends (key, ascend) as no sort, as Go does', () => {
    const { request } = op.get('k', { prefix: true, sort: { target: 'key', order: 'ascend' } });
    expect(request.sortOrder).toBe(RangeRequest_SortOrder.NONE);
  });

  it('expands first/last into prefix, sort and limit 1', () => {
    const first = op.get('lock/', { first: 'createRevision' }).request;
    expect(Buffer.from(first.rangeEnd)).toEqual(b('lock0'));
    expect(first).toMatchObject({ limit: 1n, sortTarget: RangeRequest_SortTarget.CREATE, sortOrder: RangeRequest_SortOrder.ASCEND });
    const last = op.get('lock/', { last: 'key' }).request;
    expect(last).toMatchObject({ limit: 1n, sortTarget: RangeRequest_SortTarget.KEY, sortOrder: RangeRequest_SortOrder.DESCEND });
  });

  it('rejects negative revisions and limits, which etcd would read as "newest" and "no limit"', () => {
    expect(() => op.get('k', { revision: -1 })).toThrow(/get revision must not be negative/);
    expect(() => op.get('k', { limit: -5n })).toThrow(InvalidArgumentError);
    expect(() => op.get('k', { minModRevision: -1 })).toThrow(InvalidArgumentError);
  });

  it('rejects a put without a value, except with ignoreValue', () => {
    expect(() => op.put('k', undefined as unknown as string)).toThrow(/no value given/);
    expect(op.put('k', undefined as unknown as string, { ignoreValue: true }).request).toMatchObject({ ignoreValue: true, value: new Uint8Array(0) });
    expect(op.put('k', '').request.value).toHaveLength(0);
  });

  it('rejects revisions that are not integers', () => {
    expect(() => op.get('k', { revision: 1.5 })).toThrow(/must be an integer/);
    expect(() => op.get('k', { revision: 2n ** 63n })).toThrow(InvalidArgumentError);
  });
});

describe('op.put and op.delete', () => {
  it('maps put options', () => {
    const { request } = op.put('k', new Uint8Array([1, 2]), { lease: 0x1234n, prevKv: true, ignoreLease: true });
    expect(request).toMatchObject({ lease: 0x1234n, prevKv: true, ignoreLease: true, ignoreValue: false });
    expect([...request.value]).toEqual([1, 2]);
  });

  it('maps delete ranges and prevKv', () => {
    const { request } = op.delete('p/', { prefix: true, prevKv: true });
    expect(Buffer.from(request.rangeEnd)).toEqual(b('p0'));
    expect(request.prevKv).toBe(true);
  });
});

describe('compare', () => {
  it('builds each target with its operator', () => {
    expect(compare.value('k', '=', 'v')).toMatchObject({ result: Compare_CompareResult.EQUAL, target: Compare_CompareTarget.VALUE });
    expect(compare.version('k', '!=', 1)).toMatchObject({
      result: Compare_CompareResult.NOT_EQUAL,
      target: Compare_CompareTarget.VERSION,
      targetUnion: { $case: 'version', value: 1n },
    });
    expect(compare.createRevision('k', '>', 2n).target).toBe(Compare_CompareTarget.CREATE);
    expect(compare.modRevision('k', '<', 3).result).toBe(Compare_CompareResult.LESS);
    expect(compare.lease('k', '=', 5n).targetUnion).toEqual({ $case: 'lease', value: 5n });
  });

  it('covers a prefix when asked', () => {
    expect(Buffer.from(compare.version('p/', '>', 0, { prefix: true }).rangeEnd)).toEqual(b('p0'));
  });

  it('rejects an unknown operator', () => {
    expect(() => compare.value('k', '==' as never, 'v')).toThrow(/operator must be/);
  });
});
