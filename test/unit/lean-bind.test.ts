import { AsyncLocalStorage, AsyncResource } from 'node:async_hooks';
import { type ClientHttp2Session, type Http2Server, connect, createServer } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { leanBindCount, withLeanBind } from '../../src/transport/lean-bind.js';

describe('withLeanBind', () => {
  it("is still used by node:http2's request() once per stream (fails when a Node upgrade makes the workaround dead code)", async () => {
    const server: Http2Server = createServer((_, response) => response.end('ok'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const session: ClientHttp2Session = connect(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    try {
      await new Promise<void>((resolve, reject) => session.once('connect', () => resolve()).once('error', reject));
      const before = leanBindCount.value;
      const bodies = await Promise.all(
        [1, 2, 3].map(
          () =>
            new Promise<string>((resolve, reject) => {
              const stream = withLeanBind(() => session.request({ ':path': '/' }));
              let body = '';
              stream.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
              stream.on('end', () => resolve(body)).on('error', reject);
              stream.end();
            }),
        ),
      );
      expect(bodies).toEqual(['ok', 'ok', 'ok']);
      expect(leanBindCount.value - before).toBe(3);
    } finally {
      session.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it("binds as Node's bind does: the resource's async context, the caller's this, the arguments", () => {
    const storage = new AsyncLocalStorage<string>();
    const resource = storage.run('at creation', () => new AsyncResource('test'));
    function probe(this: unknown, ...args: unknown[]) {
      return { store: storage.getStore(), self: this, args };
    }
    const lean = withLeanBind(() => resource.bind(probe));
    const node = resource.bind(probe);
    const self = { name: 'caller' };
    const call = (bound: typeof probe) => storage.run('at call', () => bound.call(self, 1, 'two'));
    expect(call(lean)).toEqual({ store: 'at creation', self, args: [1, 'two'] });
    expect(call(lean)).toEqual(call(node));
    // With a this of its own (Node's types leave the argument out).
    const bindWith = (r: AsyncResource) => (r.bind as (fn: typeof probe, thisArg: unknown) => typeof probe).call(r, probe, 'fixed');
    const withThis = withLeanBind(() => bindWith(resource));
    expect(storage.run('at call', () => withThis(3))).toEqual({ store: 'at creation', self: 'fixed', args: [3] });
    expect(storage.run('at call', () => withThis(3))).toEqual(storage.run('at call', () => bindWith(resource)(3)));
  });

  it("restores Node's bind after the call, also when the call throws", () => {
    const original = AsyncResource.prototype.bind;
    expect(() =>
      withLeanBind(() => {
        expect(AsyncResource.prototype.bind).not.toBe(original);
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(AsyncResource.prototype.bind).toBe(original);
    expect(() => withLeanBind(() => new AsyncResource('test').bind(undefined as never))).toThrow(/"fn" argument must be of type function/);
  });
});
