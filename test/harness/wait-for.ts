import { setTimeout as sleep } from 'node:timers/promises';
import type { EtcdServer } from './etcd';

/** Polls `check` every 50 ms until it holds; fails after `timeoutMs` saying what did not happen. */
export async function waitFor(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await sleep(50);
  }
}

/**
 * Waits until `etcd` has exactly `count` watchers (its etcd_debugging_mvcc_watcher_total):
 * the way to know that a Go or nice-etcd participant is blocked in its watch, not still
 * on its way there.
 */
export function waitForWatchers(etcd: EtcdServer, count: number): Promise<void> {
  return waitFor(`${count} watchers on etcd`, async () => (await etcd.metric('etcd_debugging_mvcc_watcher_total')) === count);
}
