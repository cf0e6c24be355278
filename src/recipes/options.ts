/** Options of every recipe call that waits (`Barrier.wait`, `Queue.dequeue`, `RWMutex.lock`, ...). */
export interface WaitOptions {
  /** Aborting it gives up waiting and rejects with `AbortedError`. */
  signal?: AbortSignal;
}
