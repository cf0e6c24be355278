import { setTimeout as sleep } from 'node:timers/promises';
import { type Client, EtcdError, type KeepAlive, type Watcher } from '../../src/index.js';
import { waitFor } from './wait-for';

/** Settings of a `Load`. */
export interface LoadOptions {
  /** Concurrent writers (default 4). */
  writers?: number;
  /** TTL of the lease kept alive throughout, in seconds (default 20: see README, Liveness). */
  leaseTtl?: number;
  /** Time limit of each put, ms (default 5,000). */
  putTimeout?: number;
}

/**
 * What a `Load` found once stopped. Everything but the counts must be empty (or undefined)
 * for nothing to have been lost.
 */
export interface LoadReport {
  /** Puts attempted. */
  ops: number;
  /** Puts etcd acknowledged. */
  acknowledged: number;
  /** Puts that failed with an unknown outcome (`outcomeUnknown`): they may or may not be stored. */
  unknown: number;
  /** Failed puts by error class (`DeadlineExceededError`, `NoLeaderError`...). */
  failures: Record<string, number>;
  /** Keys of the prefix stored at the end, and events the watcher delivered. */
  stored: number;
  events: number;
  /**
   * Events of writes of unknown outcome that etcd applied after the read at the end (a request
   * that waited in a frozen member's socket is read when it resumes, long after the client gave
   * up): allowed, and counted.
   */
  lateEvents: number;
  /** Acknowledged writes missing or with another value. */
  lost: string[];
  /** Stored keys that no write put there (not acknowledged, not of unknown outcome), or with another value. */
  unexpected: string[];
  /** Stored writes the watcher never delivered (key@revision). */
  missedEvents: string[];
  /** Events delivered for writes that are not stored (key@revision). */
  phantomEvents: string[];
  /** Events delivered more than once, and events whose revision is not above the previous one's. */
  duplicateEvents: number;
  outOfOrderEvents: number;
  /** Why the watcher ended, if it ended by itself. */
  watchEnded: string | undefined;
  /** Why the lease kept alive was lost, if it was. */
  leaseLost: string | undefined;
  /** Errors that were not `EtcdError`s (every failure must be typed). */
  untyped: string[];
}

/** True when a report shows nothing lost, duplicated, invented or untyped. */
export function nothingLost(report: LoadReport): boolean {
  return (
    report.lost.length + report.unexpected.length + report.missedEvents.length + report.phantomEvents.length + report.untyped.length === 0 &&
    report.duplicateEvents + report.outOfOrderEvents === 0 &&
    report.watchEnded === undefined &&
    report.leaseLost === undefined
  );
}

interface SeenEvent {
  key: string;
  value: string;
  revision: bigint;
}

/**
 * A workload under which faults are made: writers putting unique keys under a prefix (each
 * write's outcome recorded), a watcher of the prefix collecting every event, and a lease kept
 * alive. `open()` starts the watch and the keep-alive (so a test can pin their streams to one
 * member first), `write()` starts the writers, `finish()` stops them and checks that nothing
 * was lost.
 */
export class Load {
  readonly acknowledged = new Map<string, string>();
  readonly unknown = new Map<string, string>();
  readonly failures = new Map<string, number>();
  readonly untyped: string[] = [];
  readonly events: SeenEvent[] = [];
  ops = 0;
  #running = false;
  #writers: Promise<void> | undefined;
  #watching: Promise<void>;
  #watchError: unknown;

  private constructor(
    readonly client: Client,
    readonly prefix: string,
    readonly watcher: Watcher,
    readonly keepAlive: KeepAlive,
    private readonly options: Required<LoadOptions>,
  ) {
    this.#watching = (async () => {
      for await (const batch of watcher) {
        for (const e of batch.events) this.events.push({ key: e.kv.key.toString(), value: e.kv.value.toString(), revision: e.kv.modRevision });
      }
    })().catch((error: unknown) => {
      this.#watchError = error;
    });
  }

  /** Opens the watch of `prefix` and the lease's keep-alive, and waits until both have answered. */
  static async open(client: Client, prefix: string, options: LoadOptions = {}): Promise<Load> {
    const settings = { writers: 4, leaseTtl: 20, putTimeout: 5_000, ...options };
    const lease = await client.lease.grant(settings.leaseTtl, { timeout: 30_000 });
    const keepAlive = lease.keepAlive();
    const watcher = client.watch(prefix, { prefix: true });
    const load = new Load(client, prefix, watcher, keepAlive, settings);
    try {
      await watcher.created;
      await waitFor('the first keep-alive answer', () => keepAlive.lastResponse !== undefined || keepAlive.reason !== undefined, 60_000);
      if (keepAlive.reason) throw new Error(`the keep-alive ended at once: ${keepAlive.reason} ${keepAlive.cause}`);
    } catch (error) {
      await load.close();
      throw error;
    }
    return load;
  }

  /** The lease kept alive. */
  get leaseId(): bigint {
    return this.keepAlive.id;
  }

  /** Starts the writers (unique keys `<prefix>w<writer>/<n>`), until `finish()`. */
  write(): void {
    if (this.#writers) return;
    this.#running = true;
    const writer = async (w: number) => {
      for (let i = 0; this.#running; i++) {
        const key = `${this.prefix}w${w}/${String(i).padStart(7, '0')}`;
        const value = `${w}:${i}`;
        this.ops++;
        try {
          await this.client.put(key, value, { timeout: this.options.putTimeout });
          this.acknowledged.set(key, value);
        } catch (error) {
          const name = error instanceof Error ? error.constructor.name : typeof error;
          this.failures.set(name, (this.failures.get(name) ?? 0) + 1);
          if (!(error instanceof EtcdError)) this.untyped.push(String(error));
          else if (error.outcomeUnknown) this.unknown.set(key, value);
          await sleep(50);
        }
      }
    };
    this.#writers = Promise.all(Array.from({ length: this.options.writers }, (_, w) => writer(w))).then(() => {});
  }

  /** Waits until `count` more writes than now are acknowledged (the cluster is taking writes). */
  async progress(count: number, timeoutMs = 60_000): Promise<void> {
    const target = this.acknowledged.size + count;
    await waitFor(`${count} more acknowledged writes`, () => this.acknowledged.size >= target, timeoutMs);
  }

  /**
   * Stops the writers, reads the prefix back, and compares: every acknowledged write stored,
   * nothing stored that was not written, the watcher saw every stored write once and in order
   * (up to a last write made after the read, so late events are in), the lease still alive.
   * Then stops the watch and the keep-alive.
   */
  async finish(): Promise<LoadReport> {
    this.#running = false;
    await this.#writers;
    try {
      return await this.#check();
    } finally {
      await this.close();
    }
  }

  async #check(): Promise<LoadReport> {
    const { kvs, header } = await this.client.get(this.prefix, { prefix: true, timeout: 60_000 });
    const end = `${this.prefix}~end`;
    await this.client.put(end, 'end', { timeout: 60_000 });
    await waitFor('the watcher to see the last write', () => this.events.some((e) => e.key === end) || this.watcher.done, 120_000).catch(() => {});
    const stored = new Map(kvs.map((kv) => [kv.key.toString(), { value: kv.value.toString(), revision: kv.modRevision }]));
    const lost = [...this.acknowledged].filter(([key, value]) => stored.get(key)?.value !== value).map(([key]) => key);
    const unexpected = [...stored].filter(([key, { value }]) => (this.acknowledged.get(key) ?? this.unknown.get(key)) !== value).map(([key]) => key);

    const events = this.events.filter((e) => e.key !== end);
    const seen = new Set<string>();
    let duplicateEvents = 0;
    let outOfOrderEvents = 0;
    const phantomEvents: string[] = [];
    let lateEvents = 0;
    for (const [i, e] of events.entries()) {
      const id = `${e.key}@${e.revision}`;
      if (seen.has(e.key)) duplicateEvents++;
      seen.add(e.key);
      if (i > 0 && e.revision <= events[i - 1].revision) outOfOrderEvents++;
      if (e.revision <= header.revision) {
        // Up to the read, the events are exactly the stored writes.
        if (stored.get(e.key)?.revision !== e.revision) phantomEvents.push(id);
      } else if (this.unknown.get(e.key) === e.value) {
        // After it, only writes of unknown outcome that etcd applied late may appear.
        lateEvents++;
      } else phantomEvents.push(id);
    }
    const delivered = new Set(events.map((e) => `${e.key}@${e.revision}`));
    const missedEvents = [...stored].map(([key, { revision }]) => `${key}@${revision}`).filter((id) => !delivered.has(id));

    let leaseLost: string | undefined;
    if (this.keepAlive.reason !== undefined) leaseLost = `keep-alive ended: ${this.keepAlive.reason} (${this.keepAlive.cause})`;
    else {
      const { ttl } = await this.client.lease.timeToLive(this.leaseId, { timeout: 60_000 });
      if (ttl <= 0) leaseLost = `the lease expired (TTL ${ttl}) while kept alive`;
    }
    const watchEnded = this.watcher.done ? `the watcher ended: ${String(this.watcher.error ?? this.#watchError ?? 'without an error')}` : undefined;
    return {
      ops: this.ops,
      acknowledged: this.acknowledged.size,
      unknown: this.unknown.size,
      failures: Object.fromEntries(this.failures),
      stored: stored.size,
      events: events.length,
      lateEvents,
      lost,
      unexpected,
      missedEvents,
      phantomEvents,
      duplicateEvents,
      outOfOrderEvents,
      watchEnded,
      leaseLost,
      untyped: this.untyped,
    };
  }

  /** Stops the writers, the keep-alive (revoking the lease) and the watch. Idempotent. */
  async close(): Promise<void> {
    this.#running = false;
    await this.#writers;
    if (this.keepAlive.reason === undefined) {
      this.keepAlive.stop();
      await this.client.lease.revoke(this.leaseId, { timeout: 10_000 }).catch(() => {});
    }
    await this.watcher.cancel();
    await this.#watching;
  }
}
