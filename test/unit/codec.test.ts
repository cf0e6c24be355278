import { wireDefinitions } from '../../src/codec.js';
import { PutRequest, RangeRequest } from '../../src/proto.js';
import { op } from '../../src/op.js';

const encodePut = (m: PutRequest) => wireDefinitions.kv.methods.put.requestType.encode(m).finish();

describe('the wire definitions', () => {
  it('encode KV requests byte for byte as ts-proto does, one after another on the shared writer', () => {
    const a = op.put('a', 'first value', { lease: 7 }).request;
    const b = op.put('bb', 'second').request;
    expect(Buffer.from(encodePut(a))).toEqual(Buffer.from(PutRequest.encode(a).finish()));
    expect(Buffer.from(encodePut(b))).toEqual(Buffer.from(PutRequest.encode(b).finish()));
    const range = op.get('k', { prefix: true, limit: 3 }).request;
    expect(Buffer.from(wireDefinitions.kv.methods.range.requestType.encode(range).finish())).toEqual(Buffer.from(RangeRequest.encode(range).finish()));
  });

  it('send KV and Lease requests without a fromPartial copy', () => {
    expect(wireDefinitions.kv.methods.put.requestType).not.toHaveProperty('fromPartial');
    expect(wireDefinitions.lease.methods.leaseKeepAlive.requestType).not.toHaveProperty('fromPartial');
  });

  it('keep fromPartial for the services whose callers pass partial requests', () => {
    expect(wireDefinitions.auth.methods.authenticate.requestType.fromPartial).toBeInstanceOf(Function);
  });

  it('leave no bytes of a failed encode in the next message', () => {
    const bad = { ...op.put('x', 'v').request, lease: 2n ** 70n };
    expect(() => encodePut(bad)).toThrow(/too large/);
    const good = op.put('y', 'v').request;
    expect(Buffer.from(encodePut(good))).toEqual(Buffer.from(PutRequest.encode(good).finish()));
  });
});
