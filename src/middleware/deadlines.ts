import { setMaxListeners } from 'node:events';

/** The signal of the calls whose deadlines round up to one end time. @internal */
export interface DeadlineSlot {
  /** Aborted at `end` (every deadline in the slot has passed) or when the client closes. */
  readonly signal: AbortSignal;
  /** When the slot expires, in `performance.now()` ms. */
  readonly end: number;
  /** True once `end` has passed (not merely closed). */
  readonly expired: boolean;
}

interface Slot extends DeadlineSlot {
  expired: boolean;
  /** Calls holding the slot: while there are any, its timer keeps the process alive. */
  calls: number;
  timer: NodeJS.Timeout | undefined;
  readonly controller: AbortController;
}

/**
 * Deadline signals shared by the unary calls of one client. An AbortController costs ~6 µs in
 * Node 20 and a timer per call adds its own churn, so instead of one of each per call, calls
 * whose deadlines fall into one slot (a window of 1/64 of the timeout, at least 1 ms) share one
 * controller and one timer: a call is aborted at most one slot width after its deadline, never
 * before it. The exact deadline still reaches etcd as grpc-timeout, which ends the call on time
 * whenever etcd is reachable. Slots live until their end, so calls in a row reuse one instead of
 * opening one each; close aborts every slot through one listener, not one per call.
 * @internal
 */
export class DeadlineSignals {
  readonly #slots = new Map<number, Slot>();

  constructor(private readonly closed: AbortSignal) {
    closed.addEventListener('abort', () => this.#closeAll(), { once: true });
  }

  /** Holds the slot of a call with `timeout` ms whose deadline is `deadline` (`performance.now()` ms); `release` it when the call ends. */
  acquire(deadline: number, timeout: number): DeadlineSlot {
    const width = Math.max(1, Math.floor(timeout / 64));
    const end = Math.ceil(deadline / width) * width;
    const slot = this.#slots.get(end) ?? this.#open(end);
    if (slot.calls++ === 0) slot.timer?.ref();
    return slot;
  }

  /** Lets go of a slot `acquire` returned. */
  release(held: DeadlineSlot): void {
    const slot = held as Slot;
    if (--slot.calls === 0) slot.timer?.unref();
  }

  /** How many slots are open (for tests). */
  get size(): number {
    return this.#slots.size;
  }

  #open(end: number): Slot {
    const controller = new AbortController();
    // Every call of the slot listens to it (nice-grpc links each call to its signal).
    setMaxListeners(0, controller.signal);
    const slot: Slot = { signal: controller.signal, end, expired: false, calls: 0, timer: undefined, controller };
    if (this.closed.aborted) {
      controller.abort();
      return slot;
    }
    this.#slots.set(end, slot);
    this.#arm(slot);
    return slot;
  }

  #arm(slot: Slot): void {
    // Node may fire a timer up to a millisecond early by performance.now(): re-arm until the end.
    slot.timer = setTimeout(() => {
      if (performance.now() < slot.end) return this.#arm(slot);
      this.#slots.delete(slot.end);
      slot.timer = undefined;
      slot.expired = true;
      slot.controller.abort();
    }, Math.max(1, Math.ceil(slot.end - performance.now())));
    if (slot.calls === 0) slot.timer.unref();
  }

  #closeAll(): void {
    for (const slot of this.#slots.values()) {
      clearTimeout(slot.timer);
      slot.timer = undefined;
      slot.controller.abort();
    }
    this.#slots.clear();
  }
}
