import { type GrpcJsServiceDefinition, type Server, Status, createChannel, createClient, createServer } from 'nice-grpc';
import { ClientError } from 'nice-grpc-common';
import { EndpointManager, type EndpointUpdate, InvalidArgumentError, registerEtcdResolver } from '../../src/index.js';
import { useEtcd } from '../harness/index.js';
import { describeWithGoPeer, useGoPeer } from '../harness/go-peer.js';
import { waitFor } from '../harness/wait-for.js';

// Service discovery shared with Go's naming/endpoints (the Go peer, test/go-peer/naming.go).
const suite = useEtcd();
const go = useGoPeer(() => [suite.etcd.endpoint]);

let n = 0;
const target = () => `naming-test/${++n}/svc`;

/** Go's `endpoints.Update` as the Go peer prints it (json.Marshal of []*Update). */
interface GoUpdate {
  Op: number;
  Key: string;
  Endpoint: { Addr: string; Metadata: unknown };
}

/** Reads the next batch from a manager's watch, failing rather than hanging if none comes. */
async function nextBatch(watch: AsyncGenerator<EndpointUpdate[]>): Promise<EndpointUpdate[]> {
  const next = await watch.next();
  if (next.done) throw new Error('the endpoint watch ended');
  return next.value;
}

describeWithGoPeer('EndpointManager (Go: naming/endpoints.Manager)', () => {
  it('lists and watches the endpoints Go registers and deletes', async () => {
    const svc = target();
    const manager = new EndpointManager(suite.client, svc);
    const controller = new AbortController();
    const watch = manager.watch({ signal: controller.signal });
    expect(await nextBatch(watch)).toEqual([]);

    const goManager = await go.start('endpoints', svc);
    goManager.send(`add ${svc}/a {"Addr":"10.0.0.1:50051","Metadata":{"zone":"eu","weight":2}}`);
    expect(await goManager.next()).toBe(`added ${svc}/a`);
    expect(await nextBatch(watch)).toEqual([{ op: 'add', key: `${svc}/a`, endpoint: { addr: '10.0.0.1:50051', metadata: { zone: 'eu', weight: 2 } } }]);
    goManager.send(`add ${svc}/b {"Addr":"10.0.0.2:50051"}`);
    expect(await goManager.next()).toBe(`added ${svc}/b`);
    expect(await nextBatch(watch)).toEqual([{ op: 'add', key: `${svc}/b`, endpoint: { addr: '10.0.0.2:50051', metadata: null } }]);

    expect(await manager.list()).toEqual(
      new Map([
        [`${svc}/a`, { addr: '10.0.0.1:50051', metadata: { zone: 'eu', weight: 2 } }],
        [`${svc}/b`, { addr: '10.0.0.2:50051', metadata: null }],
      ]),
    );

    goManager.send(`delete ${svc}/a`);
    expect(await goManager.next()).toBe(`deleted ${svc}/a`);
    expect(await nextBatch(watch)).toEqual([{ op: 'delete', key: `${svc}/a` }]);
    controller.abort();
    expect(await watch.next()).toEqual({ done: true, value: undefined });
  });

  it('is listed and watched by Go as nice-etcd registers and deletes, lease included', async () => {
    const svc = target();
    const manager = new EndpointManager(suite.client, svc);
    await manager.addEndpoint(`${svc}/first`, { addr: '127.0.0.1:7001' });
    const goManager = await go.start('endpoints', svc);
    goManager.send('watch');
    expect(await goManager.next()).toBe('watching');
    const initial = JSON.parse((await goManager.next()).replace(/^updates /, '')) as GoUpdate[];
    expect(initial).toEqual([{ Op: 0, Key: `${svc}/first`, Endpoint: { Addr: '127.0.0.1:7001', Metadata: null } }]);

    const lease = await suite.client.lease.grant(60);
    await manager.addEndpoint(`${svc}/leased`, { addr: '127.0.0.1:7002', metadata: { version: '1.2' } }, { lease: lease.id });
    expect(await goManager.next()).toBe(`updates ${JSON.stringify([{ Op: 0, Key: `${svc}/leased`, Endpoint: { Addr: '127.0.0.1:7002', Metadata: { version: '1.2' } } }])}`);

    goManager.send('list');
    expect(await goManager.next()).toBe(
      `list ${JSON.stringify({ [`${svc}/first`]: { Addr: '127.0.0.1:7001', Metadata: null }, [`${svc}/leased`]: { Addr: '127.0.0.1:7002', Metadata: { version: '1.2' } } })}`,
    );

    // The endpoint goes with its lease, as when its server stops keeping the lease alive.
    await suite.client.lease.revoke(lease.id);
    expect(await goManager.next()).toBe(`updates ${JSON.stringify([{ Op: 1, Key: `${svc}/leased`, Endpoint: { Addr: '', Metadata: null } }])}`);
    await manager.deleteEndpoint(`${svc}/first`);
    expect(await goManager.next()).toBe(`updates ${JSON.stringify([{ Op: 1, Key: `${svc}/first`, Endpoint: { Addr: '', Metadata: null } }])}`);
  });

  it('stores the very bytes Go stores for the same endpoint', async () => {
    const svc = target();
    const metadata = { z: 1, a: '<tag> & more \u2028', nested: { y: [1, 2.5, true], b: null } };
    const goManager = await go.start('endpoints', svc);
    goManager.send(`add ${svc}/go ${JSON.stringify({ Addr: 'host-ü:1', Metadata: metadata })}`);
    expect(await goManager.next()).toBe(`added ${svc}/go`);
    await new EndpointManager(suite.client, svc).addEndpoint(`${svc}/ts`, { addr: 'host-ü:1', metadata });
    const { kvs } = await suite.client.get(`${svc}/`, { prefix: true });
    expect(kvs.map((kv) => kv.key.toString())).toEqual([`${svc}/go`, `${svc}/ts`]);
    expect(kvs[1].value.toString()).toBe(kvs[0].value.toString());
    expect(kvs[0].value.toString()).toBe('{"Op":0,"Addr":"host-ü:1","Metadata":{"a":"\\u003ctag\\u003e \\u0026 more \\u2028","nested":{"b":null,"y":[1,2.5,true]},"z":1}}');
  });

  it('refuses a key outside its target and writes nothing of the batch', async () => {
    const svc = target();
    const manager = new EndpointManager(suite.client, svc);
    const updates: EndpointUpdate[] = [
      { op: 'add', key: `${svc}/ok`, endpoint: { addr: '127.0.0.1:1' } },
      { op: 'add', key: 'elsewhere/x', endpoint: { addr: '127.0.0.1:2' } },
    ];
    await expect(manager.update(updates)).rejects.toThrow(InvalidArgumentError);
    await expect(manager.update(updates)).rejects.toThrow(`endpoints: endpoint key should be prefixed with '${svc}/' got: 'elsewhere/x'`);
    expect(await manager.list()).toEqual(new Map());
    expect(() => new EndpointManager(suite.client, '')).toThrow(InvalidArgumentError);
  });
});

// A tiny service with JSON messages: each server answers with its own name.
const json = {
  serialize: (value: object) => Buffer.from(JSON.stringify(value)),
  deserialize: (bytes: Buffer) => JSON.parse(bytes.toString()) as { name: string },
};
const whoAmI = {
  whoAmI: {
    path: '/naming.test.Echo/WhoAmI',
    requestStream: false,
    responseStream: false,
    requestSerialize: json.serialize,
    requestDeserialize: json.deserialize,
    responseSerialize: json.serialize,
    responseDeserialize: json.deserialize,
  },
} satisfies GrpcJsServiceDefinition;

async function startServer(name: string): Promise<{ server: Server; addr: string }> {
  const server = createServer();
  server.add(whoAmI, { whoAmI: async () => ({ name }) });
  const port = await server.listen('127.0.0.1:0');
  return { server, addr: `127.0.0.1:${port}` };
}

describeWithGoPeer('registerEtcdResolver (Go: naming/resolver)', () => {
  const servers: Server[] = [];
  beforeAll(() => registerEtcdResolver(suite.client));
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.forceShutdown()));
  });

  it('dials through etcd:///<service> the servers Go and nice-etcd registered, and follows their removal', async () => {
    const svc = target();
    const [alpha, beta] = [await startServer('alpha'), await startServer('beta')];
    servers.push(alpha.server, beta.server);
    const goManager = await go.start('endpoints', svc);
    goManager.send(`add ${svc}/alpha {"Addr":"${alpha.addr}"}`);
    expect(await goManager.next()).toBe(`added ${svc}/alpha`);
    await new EndpointManager(suite.client, svc).addEndpoint(`${svc}/beta`, { addr: beta.addr });

    const channel = createChannel(`etcd:///${svc}`, undefined, { 'grpc.service_config': JSON.stringify({ loadBalancingConfig: [{ round_robin: {} }] }) });
    try {
      const client = createClient(whoAmI, channel);
      const answers = new Set<string>();
      await waitFor('both servers answered', async () => {
        answers.add((await client.whoAmI({ name: '' })).name);
        return answers.size === 2;
      });
      expect([...answers].sort()).toEqual(['alpha', 'beta']);

      // alpha keeps running: only the resolver can make the channel stop calling it.
      goManager.send(`delete ${svc}/alpha`);
      expect(await goManager.next()).toBe(`deleted ${svc}/alpha`);
      await waitFor('only beta answers', async () => {
        const round = await Promise.all(Array.from({ length: 6 }, () => client.whoAmI({ name: '' })));
        return round.every((answer) => answer.name === 'beta');
      });

      // With no endpoint left, calls fail instead of going to a server that is no longer registered.
      await new EndpointManager(suite.client, svc).deleteEndpoint(`${svc}/beta`);
      await waitFor('calls fail', async () => {
        const error = await client.whoAmI({ name: '' }).then(
          () => undefined,
          (e: unknown) => e,
        );
        return error instanceof ClientError && error.code === Status.UNAVAILABLE;
      });
    } finally {
      channel.close();
    }
  });

  it('fails calls to a service with no endpoint as UNAVAILABLE, saying so', async () => {
    const svc = target();
    const channel = createChannel(`etcd:///${svc}`);
    try {
      const client = createClient(whoAmI, channel);
      const error = await client.whoAmI({ name: '' }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ClientError);
      expect((error as ClientError).code).toBe(Status.UNAVAILABLE);
      expect((error as ClientError).details).toContain(`no endpoints registered in etcd under ${svc}/`);
    } finally {
      channel.close();
    }
  });
});
