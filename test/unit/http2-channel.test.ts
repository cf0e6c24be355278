import { type Http2Server, type IncomingHttpHeaders, type ServerHttp2Stream, constants, createServer } from 'node:http2';
import { type AddressInfo, createServer as createTcpServer } from 'node:net';
import { Channel as GrpcJsChannel, Client as GrpcClient, Metadata, credentials, status as Status, type ServiceError } from '@grpc/grpc-js';
import { createClient } from 'nice-grpc';
import { ClientError } from 'nice-grpc-common';
import { parseEndpoint } from '../../src/endpoints.js';
import { KVDefinition } from '../../src/proto.js';
import { provablyUnsent } from '../../src/retry.js';
import { frameMessage } from '../../src/transport/framing.js';
import { grpcJsTarget } from '../../src/transport/grpc-js-resolver.js';
import { Http2Channel, type Http2ChannelOptions } from '../../src/transport/http2-channel.js';
import { freePort } from '../harness/ports.js';
import { waitFor } from '../harness/wait-for.js';

jest.setTimeout(15_000);

const options: Http2ChannelOptions = {
  secure: false,
  tls: undefined,
  dialTimeout: 2_000,
  keepAliveTime: 0,
  keepAliveTimeout: 1_000,
  backoff: { initial: 1_000, max: 5_000 },
  maxSendMessageLength: 1_000,
  maxReceiveMessageLength: 1_000,
};

/** A bare HTTP/2 gRPC server: by default it echoes the request message, status OK. */
interface FakeServer {
  port: number;
  server: Http2Server;
  /** The request headers of every stream, in order. */
  requests: IncomingHttpHeaders[];
  /** How many HTTP/2 sessions clients opened. */
  sessions: number;
  close(): Promise<void>;
}

type Handler = (stream: ServerHttp2Stream, headers: IncomingHttpHeaders, body: Buffer) => void;

const echo: Handler = (stream, _headers, body) => {
  stream.respond({ ':status': 200, 'content-type': 'application/grpc', 'x-answer': 'yes' }, { waitForTrailers: true });
  stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
  stream.end(body);
};

const servers: FakeServer[] = [];

async function startServer(handler: Handler = echo, port = 0, host = '127.0.0.1'): Promise<FakeServer> {
  const server = createServer();
  const fake: FakeServer = {
    port: 0,
    server,
    requests: [],
    sessions: 0,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
  const open = new Set<import('node:http2').ServerHttp2Session>();
  server.on('session', (session) => {
    fake.sessions++;
    open.add(session);
    session.on('close', () => open.delete(session));
  });
  server.on('stream', (stream, headers) => {
    fake.requests.push(headers);
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('end', () => handler(stream, headers, Buffer.concat(chunks)));
    stream.on('error', () => {});
  });
  fake.close = () =>
    new Promise<void>((resolve) => {
      for (const session of open) session.destroy();
      server.close(() => resolve());
    });
  await new Promise<void>((resolve) => server.listen(port, host, resolve));
  fake.port = (server.address() as AddressInfo).port;
  servers.push(fake);
  return fake;
}

const channels: Array<{ close(): void }> = [];

function channelTo(ports: number[], extra: Partial<Http2ChannelOptions> = {}): Http2Channel {
  const channel = new Http2Channel(ports.map((p) => parseEndpoint(`127.0.0.1:${p}`)), { ...options, ...extra });
  channels.push(channel);
  return channel;
}

/** A unary call through grpc-js's Client, the way nice-grpc drives a channel. */
function unary(channel: Http2Channel, message: Buffer, metadata = new Metadata(), deadline?: number): Promise<{ message: Buffer; metadata: Metadata }> {
  const client = new GrpcClient('unused', credentials.createInsecure(), { channelOverride: channel as never });
  return new Promise((resolve, reject) => {
    let headers = new Metadata();
    const call = client.makeUnaryRequest(
      '/test.Echo/Call',
      (m: Buffer) => m,
      (m: Buffer) => m,
      message,
      metadata,
      deadline === undefined ? {} : { deadline: Date.now() + deadline },
      (error: ServiceError | null, response?: Buffer) => (error ? reject(error) : resolve({ message: response as Buffer, metadata: headers })),
    );
    call.on('metadata', (m: Metadata) => (headers = m));
  });
}

afterEach(async () => {
  for (const channel of channels.splice(0)) channel.close();
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

describe('Http2Channel under grpc-js Client', () => {
  it('makes a unary call: message out and back, metadata both ways', async () => {
    const server = await startServer();
    const channel = channelTo([server.port]);
    const metadata = new Metadata();
    metadata.set('token', 'secret');
    metadata.set('hasleader', 'true');
    metadata.set('trace-bin', Buffer.from([0, 1, 2, 255]));
    const answer = await unary(channel, Buffer.from('hello'), metadata);
    expect(answer.message.toString()).toBe('hello');
    expect(answer.metadata.get('x-answer')).toEqual(['yes']);
    const [headers] = server.requests;
    expect(headers).toMatchObject({ ':method': 'POST', ':path': '/test.Echo/Call', 'content-type': 'application/grpc', te: 'trailers', token: 'secret', hasleader: 'true' });
    expect(headers['trace-bin']).toBe(Buffer.from([0, 1, 2, 255]).toString('base64'));
  });

  it('lets go of the listener and metadata of a finished call (a finished stream stays reachable until a full GC)', async () => {
    const server = await startServer();
    const channel = channelTo([server.port]);
    const call = channel.createCall('/test.Echo/Call', Infinity);
    const received: Buffer[] = [];
    const status = await new Promise<{ code: number }>((resolve) => {
      call.start(new Metadata(), {
        onReceiveMetadata: () => {},
        onReceiveMessage: (message: Buffer) => {
          received.push(message);
          call.startRead();
        },
        onReceiveStatus: resolve,
      });
      call.sendMessageWithContext({}, Buffer.from('hello'));
      call.halfClose();
      call.startRead();
    });
    expect(status.code).toBe(Status.OK);
    expect(received.map(String)).toEqual(['hello']);
    const held = call as unknown as { listener: unknown; metadata: unknown; decoder: unknown };
    expect(held.listener).toBeUndefined();
    expect(held.metadata).toBeUndefined();
    expect(held.decoder).toBeUndefined();
  });

  it('sends grpc-timeout from the deadline, and only the one the metadata carries when it has one', async () => {
    const server = await startServer();
    const channel = channelTo([server.port]);
    await unary(channel, Buffer.from('a'), new Metadata(), 5_000);
    expect(server.requests[0]['grpc-timeout']).toMatch(/^\d+m$/);
    const metadata = new Metadata();
    metadata.set('grpc-timeout', '7000m');
    await unary(channel, Buffer.from('b'), metadata, 5_000);
    expect(server.requests[1]['grpc-timeout']).toBe('7000m');
  });

  it('fails with DEADLINE_EXCEEDED when the deadline passes, and resets the stream', async () => {
    let reset: number | undefined;
    const server = await startServer((stream) => stream.on('close', () => (reset = stream.rstCode)));
    const channel = channelTo([server.port]);
    await expect(unary(channel, Buffer.from('a'), new Metadata(), 200)).rejects.toMatchObject({ code: Status.DEADLINE_EXCEEDED });
    await waitFor('the server sees the stream reset', () => reset !== undefined, 5_000);
    expect(reset).toBe(constants.NGHTTP2_CANCEL);
  });

  it('maps grpc-status and a percent-encoded grpc-message from a trailers-only answer', async () => {
    const server = await startServer((stream) => {
      stream.respond({ ':status': 200, 'content-type': 'application/grpc', 'grpc-status': '9', 'grpc-message': 'etcdserver: 100%25 compacted%3A %E2%9C%93' }, { endStream: true });
    });
    const error = await unary(channelTo([server.port]), Buffer.from('a')).catch((e: ServiceError) => e);
    expect(error).toMatchObject({ code: Status.FAILED_PRECONDITION, details: 'etcdserver: 100% compacted: ✓' });
  });

  it('maps an HTTP error without grpc-status per the gRPC spec', async () => {
    const server = await startServer((stream) => {
      stream.respond({ ':status': 503, 'content-type': 'text/html' });
      stream.end('<html>busy</html>');
    });
    const error = await unary(channelTo([server.port]), Buffer.from('a')).catch((e: ServiceError) => e);
    expect(error).toMatchObject({ code: Status.UNAVAILABLE, details: 'Received HTTP status code 503' });
  });

  it('refuses to send or accept a message over the size limits with RESOURCE_EXHAUSTED', async () => {
    const server = await startServer((stream) => echo(stream, {}, frameMessage(Buffer.alloc(2_000))));
    const channel = channelTo([server.port]);
    await expect(unary(channel, Buffer.alloc(1_001))).rejects.toMatchObject({ code: Status.RESOURCE_EXHAUSTED, details: 'Attempted to send message with a size larger than 1000' });
    expect(server.requests).toHaveLength(0);
    await expect(unary(channel, Buffer.from('small'))).rejects.toMatchObject({ code: Status.RESOURCE_EXHAUSTED, details: 'Received message larger than max (2000 vs 1000)' });
  });

  it('balances calls round robin over the endpoints, skipping one that refuses connections', async () => {
    const a = await startServer();
    const b = await startServer();
    const dead = await freePort();
    const channel = channelTo([a.port, dead, b.port]);
    for (let i = 0; i < 6; i++) await unary(channel, Buffer.from(`${i}`));
    expect([a.requests.length, b.requests.length]).toEqual([3, 3]);
  });

  it('lets calls in flight finish after a GOAWAY, and opens a new session for new calls', async () => {
    let release: () => void = () => {};
    const server = await startServer((stream, _headers, body) => {
      if (body.subarray(5).toString() === 'slow') {
        stream.session?.goaway(constants.NGHTTP2_NO_ERROR, stream.id);
        release = () => echo(stream, {}, body);
      } else echo(stream, {}, body);
    });
    const channel = channelTo([server.port]);
    const slow = unary(channel, Buffer.from('slow'));
    await new Promise((r) => setTimeout(r, 100));
    expect((await unary(channel, Buffer.from('next'))).message.toString()).toBe('next');
    expect(server.sessions).toBe(2);
    release();
    expect((await slow).message.toString()).toBe('slow');
  });

  it('sends a call again, transparently, when the server refuses its stream unprocessed (REFUSED_STREAM)', async () => {
    let refused = 0;
    const server = await startServer((stream, headers, body) => {
      if (refused++ === 0) stream.close(constants.NGHTTP2_REFUSED_STREAM);
      else echo(stream, headers, body);
    });
    const answer = await unary(channelTo([server.port]), Buffer.from('once'));
    expect(answer.message.toString()).toBe('once');
    expect(server.requests).toHaveLength(2);
  });

  it('sends a call again on a new session when a GOAWAY says its stream was not processed', async () => {
    const server = await startServer();
    // The first connection meets a bare HTTP/2 peer that answers the call's HEADERS with
    // GOAWAY(last stream id 0): none of its streams was processed. Later ones reach the server.
    let connections = 0;
    const frame = (type: number, flags: number, payload: Buffer) => {
      const header = Buffer.alloc(9);
      header.writeUIntBE(payload.length, 0, 3);
      header.writeUInt8(type, 3);
      header.writeUInt8(flags, 4);
      return Buffer.concat([header, payload]);
    };
    const front = createTcpServer((socket) => {
      if (connections++ > 0) {
        server.server.emit('connection', socket);
        return;
      }
      socket.on('error', () => {});
      let seen = Buffer.alloc(0);
      let answered = false;
      socket.on('data', (chunk: Buffer) => {
        seen = Buffer.concat([seen, chunk]);
        if (seen.length < 24 + 9) return;
        if (!answered) {
          answered = true;
          socket.write(Buffer.concat([frame(4, 0, Buffer.alloc(0)), frame(4, 1, Buffer.alloc(0))]));
        }
        // HEADERS (type 1) of stream 1 after the preface: refuse it by GOAWAY.
        if (!socket.writableEnded && (seen.includes(Buffer.from([0x01, 0x04, 0x00, 0x00, 0x00, 0x01])) || seen.includes(Buffer.from([0x01, 0x05, 0x00, 0x00, 0x00, 0x01])))) {
          socket.end(frame(7, 0, Buffer.alloc(8)));
        }
      });
    });
    await new Promise<void>((resolve) => front.listen(0, '127.0.0.1', resolve));
    try {
      const answer = await unary(channelTo([(front.address() as AddressInfo).port]), Buffer.from('again'));
      expect(answer.message.toString()).toBe('again');
      expect(connections).toBe(2);
      expect(server.requests).toHaveLength(1);
    } finally {
      // It finishes closing once afterEach has closed the channel and the server's sessions.
      front.close();
    }
  });

  it('gives up after three refusals, with UNAVAILABLE', async () => {
    const server = await startServer((stream) => stream.close(constants.NGHTTP2_REFUSED_STREAM));
    const error = await unary(channelTo([server.port]), Buffer.from('no')).catch((e: ServiceError) => e);
    expect(error).toMatchObject({ code: Status.UNAVAILABLE, details: 'Stream refused by server' });
    expect(server.requests).toHaveLength(4);
  });

  it('fails a call when the connection drops under it with UNAVAILABLE, not a cancellation', async () => {
    const server = await startServer((stream) => stream.session?.destroy());
    const error = await unary(channelTo([server.port]), Buffer.from('a')).catch((e: ServiceError) => e);
    expect((error as ServiceError).code).toBe(Status.UNAVAILABLE);
  });

  it('pings while a call is active, never more often than etcd permits (5 s)', async () => {
    const started = performance.now();
    const pings: number[] = [];
    const server = await startServer((stream, _headers, body) => setTimeout(() => echo(stream, {}, body), 5_600));
    server.server.on('session', (session) => session.on('ping', () => pings.push(performance.now() - started)));
    await unary(channelTo([server.port], { keepAliveTime: 1 }), Buffer.from('a'));
    expect(pings).toHaveLength(1);
    expect(pings[0]).toBeGreaterThanOrEqual(4_900);
  });

  it('bounds a connection attempt to a silent peer by dialTimeout', async () => {
    const silent = createTcpServer(() => {});
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const channel = channelTo([(silent.address() as AddressInfo).port], { dialTimeout: 300 });
      const started = Date.now();
      const error = await unary(channel, Buffer.from('a')).catch((e: ServiceError) => e);
      expect(error).toMatchObject({ code: Status.UNAVAILABLE, details: 'No connection established. Last error: Connection attempt timed out after 300ms' });
      expect(Date.now() - started).toBeLessThan(2_000);
      channel.close();
    } finally {
      silent.close();
    }
  });
});

describe('a call that never got a connection, on either transport', () => {
  // src/retry.ts's provablyUnsent keys on these words to retry unsent writes safely.
  const transports = {
    http2: (ports: number[]) => channelTo(ports),
    'grpc-js': (ports: number[]) => {
      const channel = new GrpcJsChannel(
        `ipv4:${ports.map((p) => `127.0.0.1:${p}`).join(',')}`,
        credentials.createInsecure(),
        ports.length > 1 ? { 'grpc.service_config': JSON.stringify({ loadBalancingConfig: [{ round_robin: {} }] }) } : {},
      );
      channels.push(channel);
      return channel;
    },
    'grpc-js with nice-etcd\'s resolver': (ports: number[]) => {
      const channel = new GrpcJsChannel(grpcJsTarget(ports.map((p) => `127.0.0.1:${p}`)), credentials.createInsecure(), {
        'grpc.service_config': JSON.stringify({ loadBalancingConfig: [{ round_robin: {} }] }),
      });
      channels.push(channel);
      return channel;
    },
  };
  it('is UNAVAILABLE and provably unsent on grpc-js when no endpoint name resolves', async () => {
    const channel = new GrpcJsChannel(grpcJsTarget(['no-such-member.invalid:2379']), credentials.createInsecure(), {});
    channels.push(channel);
    const error = await createClient(KVDefinition, channel).range({ key: Buffer.from('k') }).catch((e: unknown) => e);
    expect((error as ClientError).code).toBe(Status.UNAVAILABLE);
    expect((error as ClientError).details).toMatch(/cannot resolve no-such-member.invalid/);
    expect(provablyUnsent(error)).toBe(true);
  });
  for (const [name, make] of Object.entries(transports)) {
    for (const count of [1, 2]) {
      it(`is UNAVAILABLE "No connection established…" and provably unsent on ${name}, ${count} endpoint(s)`, async () => {
        const ports = await Promise.all(Array.from({ length: count }, () => freePort()));
        const kv = createClient(KVDefinition, make(ports) as GrpcJsChannel);
        const error = await kv.range({ key: Buffer.from('k') }).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(ClientError);
        expect((error as ClientError).code).toBe(Status.UNAVAILABLE);
        expect(provablyUnsent(error)).toBe(true);
      });
    }
  }
});

describe('Http2Channel with host names', () => {
  /** A fake DNS: each name's answers, and how often each name was looked up. */
  function fakeDns(answers: Record<string, string[] | Error>) {
    const lookups: string[] = [];
    const lookup = async (host: string) => {
      lookups.push(host);
      const answer = answers[host];
      if (answer === undefined) throw new Error(`getaddrinfo ENOTFOUND ${host}`);
      if (answer instanceof Error) throw answer;
      return answer;
    };
    return { lookups, lookup, answers };
  }

  function channelToNames(urls: string[], lookup: (host: string) => Promise<string[]>, extra: Partial<Http2ChannelOptions> = {}): Http2Channel {
    const channel = new Http2Channel(urls.map(parseEndpoint), { ...options, lookup, ...extra });
    channels.push(channel);
    return channel;
  }

  it('connects to every address a name resolves to, balances over them, and sends the name as :authority', async () => {
    const first = await startServer();
    const second = await startServer(echo, first.port, '127.0.0.2');
    const dns = fakeDns({ 'etcd.test': ['127.0.0.1', '127.0.0.2'] });
    const channel = channelToNames([`etcd.test:${first.port}`], dns.lookup);
    for (let i = 0; i < 10; i++) await unary(channel, Buffer.from(`m${i}`));
    expect(first.requests.length).toBeGreaterThan(0);
    expect(second.requests.length).toBeGreaterThan(0);
    expect(first.requests.length + second.requests.length).toBe(10);
    expect(first.requests[0][':authority']).toBe(`etcd.test:${first.port}`);
    expect(dns.lookups).toEqual(['etcd.test']);
  });

  it('uses the other endpoints when one name does not resolve', async () => {
    const server = await startServer();
    const dns = fakeDns({});
    const channel = channelToNames([`gone.test:${server.port}`, `127.0.0.1:${server.port}`], dns.lookup);
    for (let i = 0; i < 3; i++) await unary(channel, Buffer.from('x'));
    expect(server.requests).toHaveLength(3);
  });

  it('fails a call as provably unsent, with the lookup error, when no name resolves', async () => {
    const dns = fakeDns({});
    const channel = channelToNames(['gone.test:2379'], dns.lookup);
    const error = await unary(channel, Buffer.from('x')).catch((e: ServiceError) => e);
    expect(error).toMatchObject({ code: Status.UNAVAILABLE, details: 'No connection established. Last error: cannot resolve gone.test: getaddrinfo ENOTFOUND gone.test' });
  });

  it('looks a name up again after its address stops answering, and follows it to the new address', async () => {
    const server = await startServer(echo, 0, '127.0.0.2');
    // First the name points at a port where nothing listens (a member that moved away).
    const dns = fakeDns({ 'moved.test': ['127.0.0.3'] });
    const channel = channelToNames([`moved.test:${server.port}`], dns.lookup, { backoff: { initial: 200, max: 200 } });
    await expect(unary(channel, Buffer.from('x'))).rejects.toMatchObject({ code: Status.UNAVAILABLE });
    dns.answers['moved.test'] = ['127.0.0.2'];
    // Calls keep failing until a failed connection attempt, at least 2 s after the first
    // lookup, looks the name up again; then they reach the server at its new address.
    let answered = false;
    for (let i = 0; i < 100 && !answered; i++) {
      answered = await unary(channel, Buffer.from('x')).then(
        () => true,
        () => false,
      );
      if (!answered) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(answered).toBe(true);
    expect(dns.lookups.length).toBeGreaterThanOrEqual(2);
  });
});
