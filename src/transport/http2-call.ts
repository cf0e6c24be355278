import { type ClientHttp2Stream, type IncomingHttpHeaders, constants } from 'node:http2';
import { type Deadline, Metadata, status as Status, type StatusObject } from '@grpc/grpc-js';
import type { Call, InterceptingListener, MessageContext, WriteCallback } from '@grpc/grpc-js/build/src/call-interface';
import { grpcTimeout } from '../middleware/timeout.js';
import { chunkedResponsePaths } from '../decoders.js';
import { type ChunkedMessage, FramingError, MessageDecoder, frameMessage } from './framing.js';
import { withLeanBind } from './lean-bind.js';
import type { EndpointSession } from './session.js';
import { statusFromHttpStatus, statusFromReset, statusFromTrailers } from './status.js';

/** What a call needs from its channel. @internal */
export interface CallHost {
  /** A ready session for the call, or undefined when the call was queued (`resume`) or failed. */
  pick(call: Http2Call): EndpointSession | undefined;
  /** Forgets a queued call. */
  unqueue(call: Http2Call): void;
  readonly maxSendMessageLength: number;
  readonly maxReceiveMessageLength: number;
  readonly target: string;
}

const userAgent = 'nice-etcd (node:http2)';
/** How often one call is sent again after servers refused its stream unprocessed. */
const maxRefusals = 3;

/**
 * One gRPC call on an HTTP/2 stream, behind grpc-js's `Call` interface (what grpc-js's
 * `Client` drives): `start` picks a session (or waits in the channel's queue), messages are
 * framed and written in order, and responses are handed up one per `startRead`, so the
 * reader's backpressure reaches the server as HTTP/2 flow control. The status comes once,
 * after every message, mapped as grpc-js maps it (status.ts). A stream the server refused
 * before processing it (RST_STREAM REFUSED_STREAM, which a GOAWAY also gives the streams above
 * its last stream id; RFC 9113 §8.7 guarantees they were not processed) is sent again on
 * another session, transparently, as grpc-js does: a write is safe to send again then.
 * @internal
 */
export class Http2Call implements Call {
  private listener: InterceptingListener | undefined;
  private metadata: Metadata | undefined;
  private stream: ClientHttp2Stream | undefined;
  private session: EndpointSession | undefined;
  /** Messages (framed) and a half-close written before the stream exists. */
  private outbox: Array<{ framed: Buffer; callback: WriteCallback | undefined }> = [];
  private halfClosed = false;
  private decoder: MessageDecoder | undefined;
  /** Received messages not yet read; a `ChunkedMessage` only for methods whose decoder takes one. */
  private readonly inbox: Array<Buffer | ChunkedMessage> = [];
  private canPush = false;
  private delivering = false;
  private readsClosed = false;
  private httpStatus: number | undefined;
  private serverEnded = false;
  private resetByUs = false;
  private streamError: (Error & { code?: string }) | undefined;
  private finalStatus: StatusObject | undefined;
  private statusOutput = false;
  private deadlineTimer: NodeJS.Timeout | undefined;
  /** Messages written before the response headers, to send again if the stream is refused. */
  private unanswered: Buffer[] = [];
  private refusals = 0;

  constructor(
    private readonly host: CallHost,
    private readonly method: string,
    private readonly deadline: Deadline,
    private readonly callNumber: number,
  ) {}

  start(metadata: Metadata, listener: InterceptingListener): void {
    this.listener = listener;
    this.metadata = metadata;
    const remaining = this.remainingMs();
    if (remaining !== Infinity) {
      this.deadlineTimer = setTimeout(() => this.cancelWithStatus(Status.DEADLINE_EXCEEDED, 'Deadline exceeded'), remaining);
    }
    const session = this.host.pick(this);
    if (session) this.open(session);
  }

  /** Called by the channel when a session became ready for this queued call. */
  resume(): void {
    if (this.finalStatus) return;
    const session = this.host.pick(this);
    if (session) this.open(session);
  }

  /** Called by the channel when no connection could be made for this call: it was never sent. */
  fail(status: StatusObject): void {
    this.endCall(status);
  }

  sendMessageWithContext(context: MessageContext, message: Buffer): void {
    const { callback } = context;
    if (this.finalStatus) {
      if (callback) process.nextTick(callback);
      return;
    }
    if (message.length > this.host.maxSendMessageLength) {
      this.cancelWithStatus(Status.RESOURCE_EXHAUSTED, `Attempted to send message with a size larger than ${this.host.maxSendMessageLength}`);
      if (callback) process.nextTick(callback);
      return;
    }
    const framed = frameMessage(message);
    if (this.stream) this.write(this.stream, framed, callback);
    else this.outbox.push({ framed, callback });
  }

  halfClose(): void {
    this.halfClosed = true;
    const { stream } = this;
    if (stream && !stream.destroyed && !stream.writableEnded) stream.end();
  }

  startRead(): void {
    if (this.finalStatus && this.finalStatus.code !== Status.OK) {
      this.readsClosed = true;
      this.maybeOutputStatus();
      return;
    }
    this.canPush = true;
    this.deliver();
    if (this.canPush && this.stream?.isPaused()) this.stream.resume();
  }

  cancelWithStatus(code: Status, details: string): void {
    if (!this.stream) this.host.unqueue(this);
    this.endCall({ code, details, metadata: new Metadata() });
  }

  getPeer(): string {
    return this.session?.peer ?? this.host.target;
  }

  getCallNumber(): number {
    return this.callNumber;
  }

  setCredentials(): void {
    // Per-call credentials are a grpc-js feature nice-grpc never uses; the token travels as metadata.
  }

  getAuthContext(): null {
    return null;
  }

  private open(session: EndpointSession): void {
    this.session = session;
    const headers = (this.metadata as Metadata).toHttp2Headers();
    headers[':method'] = 'POST';
    headers[':path'] = this.method;
    headers['content-type'] = 'application/grpc';
    headers.te = 'trailers';
    headers['user-agent'] = userAgent;
    // Our timeout middleware sends grpc-timeout itself; derive one only for a bare deadline.
    const remaining = this.remainingMs();
    if (remaining !== Infinity && headers['grpc-timeout'] === undefined) headers['grpc-timeout'] = grpcTimeout(remaining);
    let stream: ClientHttp2Stream;
    try {
      stream = withLeanBind(() => session.request(headers));
    } catch (error) {
      // The session went away between the pick and the request: nothing was sent.
      this.endCall({ code: Status.UNAVAILABLE, details: `No connection established. Last error: ${(error as Error).message}`, metadata: new Metadata() });
      return;
    }
    this.stream = stream;
    this.decoder = new MessageDecoder(this.host.maxReceiveMessageLength, chunkedResponsePaths.has(this.method));
    stream.on('response', (headers: IncomingHttpHeaders, flags: number) => this.onResponse(headers, flags));
    stream.on('trailers', (trailers: IncomingHttpHeaders) => this.onTrailers(trailers));
    stream.on('data', (chunk: Buffer) => this.onData(chunk));
    stream.on('end', () => {
      if (this.stream !== stream) return;
      this.readsClosed = true;
      this.maybeOutputStatus();
    });
    // After any 'error' of the same moment, so its cause is known (as grpc-js does).
    stream.on('close', () => process.nextTick(() => this.onClose(stream)));
    stream.on('error', (error: Error & { code?: string }) => {
      if (this.stream === stream && error.code !== 'ERR_HTTP2_STREAM_ERROR') this.streamError = error;
    });
    const { outbox } = this;
    this.outbox = [];
    for (const { framed, callback } of outbox) this.write(stream, framed, callback);
    if (this.halfClosed) stream.end();
  }

  /**
   * Writes one framed message. A stream's writer (grpc-js's writable under nice-grpc's stream
   * call) is told the message is taken as soon as Node's stream has room for more, not once it
   * reached the socket: waiting for that let one message through per event-loop turn, each in a
   * DATA frame and a socket write of its own (1,000 keep-alives were 1,000 turns). Now the
   * messages of one turn queue in Node's stream and go out together. When its buffer is full,
   * the writer is told when this message was written (or failed), as before, so backpressure
   * still reaches it.
   */
  private write(stream: ClientHttp2Stream, framed: Buffer, callback: WriteCallback | undefined): void {
    if (this.httpStatus === undefined) this.unanswered.push(framed);
    if (callback === undefined) {
      stream.write(framed);
      return;
    }
    let accepted = false;
    const room = stream.write(framed, (error) => {
      process.nextTick(() => {
        // A refused stream's write fails too; the call goes on, on its next stream.
        if (error && this.stream === stream) this.endCall({ code: Status.UNAVAILABLE, details: `Write error: ${error.message}`, metadata: new Metadata() });
        if (!accepted) callback();
      });
    });
    if (room) {
      accepted = true;
      process.nextTick(callback);
    }
  }

  private onResponse(headers: IncomingHttpHeaders, flags: number): void {
    this.httpStatus = Number(headers[':status']);
    this.unanswered = [];
    if (flags & constants.NGHTTP2_FLAG_END_STREAM) {
      this.onTrailers(headers);
      return;
    }
    let metadata: Metadata;
    try {
      metadata = Metadata.fromHttp2Headers(headers);
    } catch (error) {
      this.endCall({ code: Status.UNKNOWN, details: (error as Error).message, metadata: new Metadata() });
      return;
    }
    this.listener?.onReceiveMetadata(metadata);
  }

  private onTrailers(trailers: IncomingHttpHeaders): void {
    this.serverEnded = true;
    this.endCall(statusFromTrailers(trailers, this.httpStatus));
  }

  private onData(chunk: Buffer): void {
    if (this.statusOutput) return;
    let messages: Array<Buffer | ChunkedMessage>;
    try {
      messages = (this.decoder as MessageDecoder).write(chunk);
    } catch (error) {
      // A server that answers with an HTML error page is better described by its HTTP status.
      if (this.httpStatus !== undefined && this.httpStatus !== 200) {
        const mapped = statusFromHttpStatus(this.httpStatus);
        this.cancelWithStatus(mapped.code, mapped.details);
      } else {
        const tooLarge = error instanceof FramingError && error.tooLarge;
        this.cancelWithStatus(tooLarge ? Status.RESOURCE_EXHAUSTED : Status.INTERNAL, (error as Error).message);
      }
      return;
    }
    for (const message of messages) this.inbox.push(message);
    this.deliver();
    if (this.inbox.length > 0) this.stream?.pause();
  }

  /** Hands queued messages to the reader, one per `startRead`. */
  private deliver(): void {
    if (this.delivering) return;
    this.delivering = true;
    try {
      while (this.canPush && this.inbox.length > 0 && !this.statusOutput) {
        this.canPush = false;
        // grpc-js's Client hands a message to the method's deserializer as it is.
        this.listener?.onReceiveMessage(this.inbox.shift());
      }
    } finally {
      this.delivering = false;
    }
    this.maybeOutputStatus();
  }

  private onClose(stream: ClientHttp2Stream): void {
    if (this.stream !== stream || this.finalStatus?.code === Status.OK) return;
    const { rstCode } = stream;
    if (rstCode === constants.NGHTTP2_REFUSED_STREAM && this.httpStatus === undefined && !this.finalStatus && this.refusals < maxRefusals) {
      this.sendAgain();
      return;
    }
    if (rstCode === constants.NGHTTP2_NO_ERROR && this.finalStatus) return;
    // A stream we did not reset that ends with CANCEL (or with no status) lost its connection.
    const dropped = !this.resetByUs;
    this.endCall(statusFromReset(rstCode, dropped, this.httpStatus, this.streamError));
  }

  /** Sends the call again on a new stream (picked anew) after the server refused the last one. */
  private sendAgain(): void {
    this.refusals++;
    // Write callbacks were called for the first stream: the messages go again without them.
    this.outbox = this.unanswered.map((framed) => ({ framed, callback: undefined }));
    this.unanswered = [];
    this.stream = undefined;
    this.session = undefined;
    this.decoder = undefined;
    this.streamError = undefined;
    this.resetByUs = false;
    const session = this.host.pick(this);
    if (session) this.open(session);
  }

  private endCall(status: StatusObject): void {
    if (this.finalStatus === undefined || this.finalStatus.code === Status.OK) {
      this.finalStatus = status;
      this.maybeOutputStatus();
    }
    const { stream } = this;
    if (!stream || stream.destroyed) return;
    if (this.serverEnded) {
      if (!stream.writableEnded) stream.end();
    } else {
      this.resetByUs = true;
      stream.close(this.finalStatus?.code === Status.OK ? constants.NGHTTP2_NO_ERROR : constants.NGHTTP2_CANCEL);
    }
  }

  private maybeOutputStatus(): void {
    const status = this.finalStatus;
    if (status === undefined || this.statusOutput) return;
    if (status.code === Status.OK && !(this.readsClosed && this.inbox.length === 0 && !this.delivering)) return;
    this.statusOutput = true;
    clearTimeout(this.deadlineTimer);
    // Keep the stream flowing so that it finishes closing; later data goes nowhere.
    this.stream?.resume();
    // Outside the stream's event handlers, so a listener that throws cannot break our cleanup.
    // The call lets go of its listener (grpc-js's call, nice-grpc's promise, the response) and
    // request metadata once the status is out: see `release`.
    process.nextTick(() => {
      const { listener } = this;
      this.release();
      listener?.onReceiveStatus(status);
    });
  }

  /**
   * Drops what the finished call no longer needs. Node's session keeps its streams in a Map,
   * and V8 keeps a Map's entries reachable from its old backing stores until a full collection:
   * once a store has reached the old generation, every stream the session ends is promoted by
   * the next scavenges, with all it references (here: the whole call behind our listeners).
   * Without these references a finished stream drags only Node's own objects along.
   */
  private release(): void {
    this.listener = undefined;
    this.metadata = undefined;
    this.inbox.length = 0;
    this.outbox = [];
    this.unanswered = [];
    this.decoder = undefined;
  }

  private remainingMs(): number {
    const at = this.deadline instanceof Date ? this.deadline.getTime() : this.deadline;
    return Number.isFinite(at) ? Math.max(0, at - Date.now()) : Infinity;
  }
}
