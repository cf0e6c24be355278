import { constants } from 'node:http2';
import { status as Status } from '@grpc/grpc-js';
import { ChunkedMessage, FramingError, MessageDecoder, chunkedMessageMin, frameMessage } from '../../src/transport/framing.js';
import { noConnectionDetails, statusFromHttpStatus, statusFromReset, statusFromTrailers } from '../../src/transport/status.js';

const headerBytes = () => 5;

describe('gRPC message framing', () => {
  it('prefixes a message with a zero flag and its big-endian length', () => {
    expect([...frameMessage(Buffer.from('abc'))]).toEqual([0, 0, 0, 0, 3, 0x61, 0x62, 0x63]);
  });

  it('decodes several messages from one chunk, as views of it', () => {
    const chunk = Buffer.concat([frameMessage(Buffer.from('one')), frameMessage(Buffer.alloc(0)), frameMessage(Buffer.from('three'))]);
    const messages = new MessageDecoder(100).write(chunk);
    expect(messages.map(String)).toEqual(['one', '', 'three']);
    expect((messages[0] as Buffer).buffer).toBe(chunk.buffer);
  });

  it('reassembles messages split anywhere, even byte by byte', () => {
    const bytes = Buffer.concat([frameMessage(Buffer.from('hello')), frameMessage(Buffer.from('world!'))]);
    const decoder = new MessageDecoder(100);
    const out: string[] = [];
    for (const byte of bytes) out.push(...decoder.write(Buffer.from([byte])).map(String));
    expect(out).toEqual(['hello', 'world!']);
    expect(decoder.partial).toBe(false);
  });

  it('keeps a large split message as its pieces only when asked to, and copies it otherwise', () => {
    const body = Buffer.alloc(chunkedMessageMin + 10, 'x');
    body.write('start');
    const framed = frameMessage(body);
    const pieces = [framed.subarray(0, 3), framed.subarray(3, 40_000), framed.subarray(40_000)];
    const feed = (decoder: MessageDecoder) => pieces.flatMap((piece) => decoder.write(piece));
    const [chunked] = feed(new MessageDecoder(1 << 20, true));
    expect(chunked).toBeInstanceOf(ChunkedMessage);
    const message = chunked as ChunkedMessage;
    expect(message.length).toBe(body.length);
    expect(message.chunks.map((c) => c.length)).toEqual([40_000 - headerBytes(), framed.length - 40_000]);
    expect(message.chunks[1].buffer).toBe(framed.buffer);
    expect(message.concat().equals(body)).toBe(true);
    const [copied] = feed(new MessageDecoder(1 << 20));
    expect(Buffer.isBuffer(copied) && copied.equals(body)).toBe(true);
    // Below the threshold a split message is copied even when chunks are allowed.
    const small = frameMessage(Buffer.from('small message'));
    const decoder = new MessageDecoder(100, true);
    expect([...decoder.write(small.subarray(0, 9)), ...decoder.write(small.subarray(9))].map(String)).toEqual(['small message']);
  });

  it('knows when a stream ended in the middle of a message', () => {
    const decoder = new MessageDecoder(100);
    decoder.write(frameMessage(Buffer.from('hello')).subarray(0, 7));
    expect(decoder.partial).toBe(true);
  });

  it('refuses a message over the receive limit with grpc-js words, marked too large', () => {
    const error = (() => {
      try {
        new MessageDecoder(4).write(frameMessage(Buffer.from('hello')));
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(FramingError);
    expect((error as FramingError).tooLarge).toBe(true);
    expect((error as Error).message).toBe('Received message larger than max (5 vs 4)');
  });

  it('refuses a compressed message, since no compression was negotiated', () => {
    const framed = frameMessage(Buffer.from('x'));
    framed[0] = 1;
    expect(() => new MessageDecoder(100).write(framed)).toThrow(/compressed flag 1/);
  });
});

describe('gRPC status from HTTP/2, as grpc-js maps it', () => {
  it('reads grpc-status and the percent-decoded grpc-message from trailers, and keeps the rest as metadata', () => {
    const status = statusFromTrailers({ 'grpc-status': '9', 'grpc-message': 'etcdserver:%20key%20%E2%9C%93', 'x-extra': 'y' }, 200);
    expect(status.code).toBe(Status.FAILED_PRECONDITION);
    expect(status.details).toBe('etcdserver: key ✓');
    expect(status.metadata.get('x-extra')).toEqual(['y']);
    expect(status.metadata.get('grpc-status')).toEqual([]);
  });

  it('keeps a malformed grpc-message as sent', () => {
    expect(statusFromTrailers({ 'grpc-status': '2', 'grpc-message': 'bad %E2 escape' }, 200).details).toBe('bad %E2 escape');
  });

  it('reads a trailers-only response (status in the headers)', () => {
    const status = statusFromTrailers({ ':status': '200', 'content-type': 'application/grpc', 'grpc-status': '14', 'grpc-message': 'etcdserver: leader changed' }, 200);
    expect([status.code, status.details]).toEqual([Status.UNAVAILABLE, 'etcdserver: leader changed']);
  });

  it('maps the HTTP status when grpc-status is missing, per the gRPC spec', () => {
    const table = Object.fromEntries([400, 401, 403, 404, 429, 502, 503, 504, 500].map((code) => [code, Status[statusFromHttpStatus(code).code]]));
    expect(table).toEqual({
      400: 'INTERNAL',
      401: 'UNAUTHENTICATED',
      403: 'PERMISSION_DENIED',
      404: 'UNIMPLEMENTED',
      429: 'UNAVAILABLE',
      502: 'UNAVAILABLE',
      503: 'UNAVAILABLE',
      504: 'UNAVAILABLE',
      500: 'UNKNOWN',
    });
    expect(statusFromTrailers({}, 503)).toMatchObject({ code: Status.UNAVAILABLE, details: 'Received HTTP status code 503' });
  });

  it('is UNKNOWN when neither grpc-status nor an HTTP error came', () => {
    expect(statusFromTrailers({}, 200)).toMatchObject({ code: Status.UNKNOWN, details: 'No status information received' });
  });

  it('maps RST_STREAM codes, and a dropped connection to UNAVAILABLE', () => {
    const of = (code: number, dropped = false, cause?: Error & { code?: string }) => {
      const s = statusFromReset(code, dropped, undefined, cause);
      return `${Status[s.code]}: ${s.details}`;
    };
    expect(of(constants.NGHTTP2_REFUSED_STREAM)).toBe('UNAVAILABLE: Stream refused by server');
    expect(of(constants.NGHTTP2_CANCEL)).toBe('CANCELLED: Call cancelled');
    expect(of(constants.NGHTTP2_CANCEL, true)).toBe('UNAVAILABLE: Connection dropped');
    expect(of(constants.NGHTTP2_ENHANCE_YOUR_CALM)).toBe('RESOURCE_EXHAUSTED: Bandwidth exhausted or memory limit exceeded');
    expect(of(constants.NGHTTP2_INTERNAL_ERROR, false, Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }))).toBe('UNAVAILABLE: read ECONNRESET');
    expect(of(constants.NGHTTP2_PROTOCOL_ERROR)).toBe('INTERNAL: Received RST_STREAM with code 1');
  });

  it('words a call that never got a connection as grpc-js does', () => {
    expect(noConnectionDetails('connect ECONNREFUSED 127.0.0.1:1')).toBe('No connection established. Last error: connect ECONNREFUSED 127.0.0.1:1');
  });
});
