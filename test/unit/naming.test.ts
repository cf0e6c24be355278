import { decodeEndpoint, encodeEndpoint } from '../../src/naming/endpoint-manager.js';

// The values Go's endpoints.Manager writes and reads (etcd's client/v3/naming/endpoints):
// encoding/json of internal.Update{Op, Addr, Metadata}. The expected strings are Go's output.
describe('endpoint values', () => {
  it('are written as Go writes them: struct fields in order, map keys sorted, <, > and & escaped', () => {
    expect(encodeEndpoint({ addr: '1.2.3.4:5', metadata: { z: 1, a: '<x>' } })).toBe('{"Op":0,"Addr":"1.2.3.4:5","Metadata":{"a":"\\u003cx\\u003e","z":1}}');
    expect(encodeEndpoint({ addr: 'a&b:1' })).toBe('{"Op":0,"Addr":"a\\u0026b:1","Metadata":null}');
  });

  it('are read as Go reads them: field names in any case, a missing address empty', () => {
    expect(decodeEndpoint(Buffer.from('{"Op":0,"Addr":"h:1","Metadata":{"k":[1]}}'))).toEqual({ addr: 'h:1', metadata: { k: [1] } });
    expect(decodeEndpoint(Buffer.from('{"addr":"h:2","METADATA":"m"}'))).toEqual({ addr: 'h:2', metadata: 'm' });
    expect(decodeEndpoint(Buffer.from('{"Metadata":1}'))).toEqual({ addr: '', metadata: 1 });
    expect(decodeEndpoint(Buffer.from('null'))).toEqual({ addr: '', metadata: null });
  });

  it('are skipped, as Go skips them, when they are not an endpoint', () => {
    for (const value of ['', 'not json', '[1]', '5', '{"Addr":5}']) expect(decodeEndpoint(Buffer.from(value))).toBeUndefined();
  });
});
