/** Options every call accepts. */
export interface CallOptions {
  /** Aborting the signal cancels the call on the server too; the call rejects with `AbortedError`. */
  signal?: AbortSignal;
  /**
   * Time limit of the call in ms, retries included (default: the client's `timeout`).
   * It is sent to etcd as the gRPC deadline; past it the call rejects with `DeadlineExceededError`.
   */
  timeout?: number;
  /**
   * Fail with `NoLeaderError` instead of being served by a member that has lost its leader
   * (a partitioned member could otherwise answer reads from stale data or hang on writes).
   */
  requireLeader?: boolean;
}
