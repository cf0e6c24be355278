/**
 * The request side of one bidirectional stream attempt: messages pushed while the stream is
 * open are sent in order; `close()` ends the iteration, and so the request stream. Each attempt
 * gets its own queue, so a new attempt never shares wake-ups with one being torn down.
 * @internal
 */
export class RequestQueue<T> implements AsyncIterable<T> {
  private items: T[] = [];
  private closed = false;
  private wake: (() => void) | undefined;
  /** Messages handed to the transport so far. */
  sent = 0;

  /** Queues a message; ignored once closed. */
  push(item: T): void {
    if (this.closed) return;
    this.items.push(item);
    this.wake?.();
  }

  /** Ends the request stream after the messages already queued. Idempotent. */
  close(): void {
    this.closed = true;
    this.wake?.();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<T> {
    for (;;) {
      if (this.items.length > 0) {
        const batch = this.items;
        this.items = [];
        for (const item of batch) {
          this.sent++;
          yield item;
        }
        continue;
      }
      if (this.closed) return;
      await new Promise<void>((resolve) => (this.wake = resolve));
      this.wake = undefined;
    }
  }
}
