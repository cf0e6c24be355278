/**
 * A first-in first-out queue read by one async consumer: `push` wakes it, `close` ends its
 * iteration after the items already queued (or makes it throw, given an error). With `limit`,
 * the oldest item is dropped to make room. It serves as a stream's request side (one queue
 * per attempt) and as a handle's delivery buffer (watchers, keep-alives).
 * @internal
 */
export class AsyncQueue<T> implements AsyncIterable<T> {
  #items: T[] = [];
  /** Index of the next item in `#items` (compacted lazily, so a shift is O(1)). */
  #head = 0;
  #closed = false;
  #error: unknown;
  #wake: (() => void) | undefined;
  #taken = 0;

  /** With `limit`, at most that many items wait; pushing more drops the oldest. */
  constructor(private readonly limit = Infinity) {}

  /** Items waiting to be taken. */
  get size(): number {
    return this.#items.length - this.#head;
  }

  /** Items taken by the consumer so far (for a request queue: messages handed to the transport). */
  get taken(): number {
    return this.#taken;
  }

  /** True once `close()` was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Queues an item; returns false (and drops it) once the queue is closed. */
  push(item: T): boolean {
    if (this.#closed) return false;
    if (this.size >= this.limit) {
      this.#items[this.#head] = undefined as T;
      this.#head++;
      // Nobody may ever read a bounded queue (a keep-alive's answers): without this its array
      // would grow by one slot per push for the life of the handle.
      this.#compact();
    }
    this.#items.push(item);
    this.#wake?.();
    return true;
  }

  /** Takes the oldest item without waiting, if there is one. */
  shift(): T | undefined {
    if (this.size === 0) return undefined;
    const item = this.#items[this.#head];
    this.#items[this.#head] = undefined as T;
    this.#head++;
    this.#compact();
    this.#taken++;
    return item;
  }

  /** Array slots held, taken items included until the next compaction (for tests). */
  get slots(): number {
    return this.#items.length;
  }

  /**
   * Drops the slots of taken or dropped items once they are most of the array (so a shift stays
   * O(1) on average); a small bounded queue compacts sooner, so that it holds a few times its limit.
   */
  #compact(): void {
    if (this.#head > Math.min(1024, this.limit) && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
  }

  /** Ends the iteration once the queued items are taken; with `error`, the iteration then throws it. Idempotent. */
  close(error?: unknown): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#error = error;
    this.#wake?.();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<T> {
    for (;;) {
      if (this.size > 0) {
        yield this.shift() as T;
        continue;
      }
      if (this.#closed) {
        if (this.#error !== undefined) throw this.#error;
        return;
      }
      await new Promise<void>((resolve) => (this.#wake = resolve));
      this.#wake = undefined;
    }
  }
}
