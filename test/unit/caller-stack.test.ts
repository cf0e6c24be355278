// src/middleware/unary.ts sends each call with Error.stackTraceLimit at 0 so that grpc-js's
// `Client` skips capturing the caller's stack (a `new Error()` per call whose stack nice-grpc
// never shows). These tests fail if a grpc-js or nice-grpc upgrade moves that capture out of the
// synchronous window the workaround relies on, so it can never stop working silently.
import { Client as GrpcClient, Metadata, credentials, type ServiceError } from '@grpc/grpc-js';
import { type Server, ServerError, Status, createServer } from 'nice-grpc';
import { Client } from '../../src/client.js';
import { KVDefinition, type KVServiceImplementation } from '../../src/proto.js';
import { freePort } from '../harness/ports.js';

let server: Server;
let address: string;

beforeAll(async () => {
  server = createServer();
  const failing = async () => {
    throw new ServerError(Status.NOT_FOUND, 'nothing here');
  };
  server.add(KVDefinition, Object.fromEntries(Object.keys(KVDefinition.methods).map((key) => [key, failing])) as unknown as KVServiceImplementation);
  address = `127.0.0.1:${await freePort()}`;
  await server.listen(address);
});

afterAll(() => server.forceShutdown());

/** A failing unary call made straight through grpc-js's Client, from a function named in the stack. */
function callFromNamedCaller(client: GrpcClient, limit: number | undefined): Promise<ServiceError> {
  return new Promise((resolve) => {
    const saved = Error.stackTraceLimit;
    if (limit !== undefined) Error.stackTraceLimit = limit;
    try {
      (function aNamedCallerFrame() {
        client.makeUnaryRequest(
          '/etcdserverpb.KV/Range',
          () => Buffer.alloc(0),
          (b: Buffer) => b,
          {},
          new Metadata(),
          (error) => resolve(error as ServiceError),
        );
      })();
    } finally {
      Error.stackTraceLimit = saved;
    }
  });
}

describe("grpc-js's caller-stack capture", () => {
  let client: GrpcClient;
  beforeAll(() => {
    client = new GrpcClient(address, credentials.createInsecure());
  });
  afterAll(() => client.close());

  it('happens synchronously inside makeUnaryRequest, so the default limit records the caller', async () => {
    const error = await callFromNamedCaller(client, undefined);
    expect(error.code).toBe(Status.NOT_FOUND);
    expect(error.stack).toMatch(/aNamedCallerFrame/);
  });

  it('is skipped when the stack trace limit is 0 only while makeUnaryRequest runs', async () => {
    const error = await callFromNamedCaller(client, 0);
    expect(error.code).toBe(Status.NOT_FOUND);
    expect(error.stack).not.toMatch(/aNamedCallerFrame/);
  });
});

describe("nice-etcd's unary calls", () => {
  it('reach grpc-js with the stack trace limit at 0, and restore it afterwards', async () => {
    const limits: number[] = [];
    const original = GrpcClient.prototype.makeUnaryRequest;
    const spy = jest.spyOn(GrpcClient.prototype, 'makeUnaryRequest').mockImplementation(function (this: GrpcClient, ...args: unknown[]) {
      limits.push(Error.stackTraceLimit);
      return (original as (...a: unknown[]) => ReturnType<typeof original>).apply(this, args);
    });
    const before = Error.stackTraceLimit;
    await using client = new Client({ endpoints: [address] });
    try {
      await client.get('k').catch(() => undefined);
      await client.put('k', 'v').catch(() => undefined);
    } finally {
      spy.mockRestore();
    }
    expect(limits).toEqual([0, 0]);
    expect(Error.stackTraceLimit).toBe(before);
  });
});
