import { execFileSync } from 'node:child_process';
import { join, resolve } from 'node:path';

/** The repository root. */
export const repoRoot = resolve(__dirname, '../..');

const suites: Record<string, string> = {
  '3.5': 'trixie',
  trixie: 'trixie',
  '3.4': 'bookworm',
  bookworm: 'bookworm',
  sid: 'sid',
  newest: 'sid',
};

/**
 * The Debian suite whose etcd the tests run, from the one variable NICE_ETCD_VERSION
 * (`3.5` (default), `3.4`, or a suite name: trixie, bookworm, sid (alias newest)).
 */
export function etcdSuite(): string {
  const wanted = process.env.NICE_ETCD_VERSION || '3.5';
  const key = Object.keys(suites).find((k) => wanted === k || wanted.startsWith(`${k}.`));
  if (!key) throw new Error(`NICE_ETCD_VERSION=${wanted} is not one of ${Object.keys(suites).join(', ')}`);
  return suites[key];
}

/** The folder holding etcd, etcdctl (and etcdutl for 3.5+) installed by scripts/install-etcd. */
export function etcdBinDir(): string {
  const cache = process.env.NICE_ETCD_CACHE || join(repoRoot, '.cache');
  return join(cache, 'etcd', etcdSuite(), 'usr', 'bin');
}

/** The path of one of etcd's programs. */
export function etcdBinary(name: 'etcd' | 'etcdctl' | 'etcdutl'): string {
  return join(etcdBinDir(), name);
}

let version: string | undefined;
/** The server's version, e.g. `3.5.16`, read from `etcd --version`. */
export function etcdServerVersion(): string {
  version ??= /etcd Version: (\S+)/.exec(execFileSync(etcdBinary('etcd'), ['--version'], { encoding: 'utf8' }))?.[1] ?? 'unknown';
  return version;
}
