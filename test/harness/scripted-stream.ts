import { ServerError, Status } from 'nice-grpc';

/** One call of a bidirectional stream served by `ScriptedStreams`, driven by the test. */
export class ScriptedCall<Req, Res> {
  /** Every request received on this call so far, in order. */
  readonly requests: Req[] = [];
  /** The call's request metadata (e.g. `hasleader`). */
  readonly metadata: Map<string, string> = new Map();
  private readonly responses: Array<Res | { fail: Status }> = [];
  private wakeResponses: (() => void) | undefined;
  private readonly waiters: Array<{ count: number; resolve: () => void }> = [];
  private ended = false;

  /** Sends a response to the client. */
  send(response: Res): void {
    this.responses.push(response);
    this.wakeResponses?.();
  }

  /** Ends the call with a gRPC status error (UNAVAILABLE: the client should resume). */
  fail(code: Status = Status.UNAVAILABLE, details = 'scripted stream failure'): void {
    this.responses.push({ fail: code, details } as never);
    this.wakeResponses?.();
  }

  /** Resolves once `count` requests in all arrived on this call. */
  async received(count: number): Promise<Req[]> {
    if (this.requests.length < count) await new Promise<void>((resolve) => this.waiters.push({ count, resolve }));
    return this.requests;
  }

  /** True once the client ended or the server failed the call. */
  get closed(): boolean {
    return this.ended;
  }

  /** @internal */
  receive(request: Req): void {
    this.requests.push(request);
    for (const waiter of [...this.waiters]) {
      if (this.requests.length >= waiter.count) {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        waiter.resolve();
      }
    }
  }

  /** @internal */
  async *serve(signal: AbortSignal): AsyncGenerator<Res> {
    const onAbort = () => this.wakeResponses?.();
    signal.addEventListener('abort', onAbort);
    try {
      for (;;) {
        const next = this.responses.shift();
        if (next !== undefined) {
          if (typeof next === 'object' && next !== null && 'fail' in next) {
            const { fail, details } = next as unknown as { fail: Status; details: string };
            throw new ServerError(fail, details);
          }
          yield next;
          continue;
        }
        if (signal.aborted) return;
        await new Promise<void>((resolve) => (this.wakeResponses = resolve));
        this.wakeResponses = undefined;
      }
    } finally {
      this.ended = true;
      signal.removeEventListener('abort', onAbort);
    }
  }
}

/**
 * A scripted bidirectional-stream method for an in-process nice-grpc server: every call the
 * client opens becomes a `ScriptedCall`; `onRequest` answers requests as they arrive (or the
 * test answers through the call), and the test breaks calls to make the client reconnect.
 */
export class ScriptedStreams<Req, Res> {
  /** Every call opened so far, oldest first. */
  readonly calls: Array<ScriptedCall<Req, Res>> = [];
  private readonly waiters: Array<{ count: number; resolve: () => void }> = [];

  constructor(private readonly onRequest: (request: Req, call: ScriptedCall<Req, Res>) => void = () => {}) {}

  /** The server method: pass it in the service implementation. */
  readonly method = (requests: AsyncIterable<Req>, context: { signal: AbortSignal; metadata: { get(key: string): unknown } }): AsyncIterable<Res> => {
    const call = new ScriptedCall<Req, Res>();
    const hasLeader = context.metadata.get('hasleader');
    if (typeof hasLeader === 'string') call.metadata.set('hasleader', hasLeader);
    this.calls.push(call);
    for (const waiter of [...this.waiters]) {
      if (this.calls.length >= waiter.count) {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        waiter.resolve();
      }
    }
    void (async () => {
      try {
        for await (const request of requests) {
          call.receive(request);
          this.onRequest(request, call);
        }
      } catch {
        // The client went away; the response side notices through the signal.
      }
    })();
    return call.serve(context.signal);
  };

  /** Resolves with the `count`-th call (1-based) once the client opened it. */
  async call(count: number): Promise<ScriptedCall<Req, Res>> {
    if (this.calls.length < count) await new Promise<void>((resolve) => this.waiters.push({ count, resolve }));
    return this.calls[count - 1];
  }

  /** The newest call. */
  get last(): ScriptedCall<Req, Res> {
    const call = this.calls[this.calls.length - 1];
    if (!call) throw new Error('no call was opened yet');
    return call;
  }
}
