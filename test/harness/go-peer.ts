import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { repoRoot } from './etcd-version';

// The Go interop peer (test/go-peer, built by scripts/build-go-peer): a Go clientv3 program
// that performs the Go side of an interop test. See test/go-peer/main.go for its line protocol.

/** Where the Go peer is, or why it cannot be built on this machine. */
export type GoPeerBuild = { binary: string } | { skipReason: string };

let build: GoPeerBuild | undefined;

/**
 * Builds the Go peer if its sources changed (the script caches the binary by their hash and
 * serialises concurrent builds with a lock, so one jest run builds it at most once) and returns
 * its path. Where Debian's packages cannot be installed (the script exits 3) it returns why,
 * except under CI, where the peer is required; any other failure (a compile error) throws.
 */
export function goPeerBuild(): GoPeerBuild {
  if (build) return build;
  try {
    const stdout = execFileSync('bash', [join(repoRoot, 'scripts/build-go-peer')], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 20 * 60_000,
    });
    build = { binary: stdout.trim().split('\n').pop() ?? '' };
  } catch (error) {
    const { status, stderr } = error as { status?: number; stderr?: string };
    if (status === 3 && !process.env.CI) {
      build = { skipReason: `Go interop tests skipped: ${String(stderr).trim().split('\n').pop()}` };
    } else {
      throw new Error(`scripts/build-go-peer failed (exit ${status}):\n${stderr}`, { cause: error });
    }
  }
  return build;
}

let warned = false;

/** `describe` when the Go peer can be built here; otherwise `describe.skip`, printing why. */
export function describeWithGoPeer(name: string, fn: () => void): void {
  const peer = goPeerBuild();
  if ('skipReason' in peer) {
    if (!warned) console.warn(peer.skipReason);
    warned = true;
    describe.skip(name, fn);
  } else {
    describe(name, fn);
  }
}

/** A running Go peer subcommand: its result lines, its stdin, and its end. */
export class GoPeer {
  /** Every line printed so far, in order (`ready` first). */
  readonly lines: string[] = [];
  /** Resolves with the exit code (or the signal that killed it) once the process has ended. */
  readonly exited: Promise<number | NodeJS.Signals>;
  private taken = 0;
  private wake: (() => void) | undefined;
  private stderr = '';
  private ended = false;

  /** @internal use `useGoPeer().start()` */
  constructor(
    readonly subcommand: string,
    private readonly child: ChildProcess,
  ) {
    // 'close' comes after the output is read to its end (and after a failed spawn's 'error').
    this.exited = new Promise((resolve) => {
      child.once('close', (code, signal) => {
        this.ended = true;
        this.wake?.();
        resolve(code ?? signal ?? 'SIGKILL');
      });
    });
    child.once('error', (error) => (this.stderr += `${error.message}\n`));
    // Writing to a peer that has ended fails with EPIPE; next() and finish() report the end.
    child.stdin?.on('error', () => undefined);
    child.stderr?.on('data', (chunk: Buffer) => (this.stderr += chunk.toString('utf8')));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      this.lines.push(line);
      this.wake?.();
    });
  }

  /** The next line the peer prints, waiting up to `timeoutMs`; rejects if the peer ends first. */
  async next(timeoutMs = 30_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    while (this.taken >= this.lines.length) {
      if (this.ended) {
        throw new Error(`go-peer ${this.subcommand} ended (${await this.exited}) before printing another line; stderr:\n${this.stderr}`);
      }
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`go-peer ${this.subcommand} printed no line within ${timeoutMs} ms; stderr:\n${this.stderr}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = undefined;
    }
    return this.lines[this.taken++];
  }

  /** Sends one command line to the peer's stdin. */
  send(line: string): void {
    this.child.stdin?.write(`${line}\n`);
  }

  /** Closes stdin (for a subcommand that reads commands: "finish") and waits for a clean exit. */
  async finish(timeoutMs = 30_000): Promise<void> {
    this.child.stdin?.end();
    let timer: NodeJS.Timeout | undefined;
    const result = await Promise.race([this.exited, new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), timeoutMs)))]);
    clearTimeout(timer);
    if (result !== 0) throw new Error(`go-peer ${this.subcommand} did not exit cleanly (${result}); stderr:\n${this.stderr}`);
  }

  /** Kills the peer (idempotent) and waits until it is gone. */
  async kill(): Promise<void> {
    if (!this.ended) this.child.kill('SIGKILL');
    await this.exited;
  }
}

/** Starts Go peer subcommands against a server; every peer still running is killed after each test. */
export interface GoPeers {
  /** Runs `go-peer <subcommand> <args...>` against `endpoints()`, resolving once it printed `ready`. */
  start(subcommand: string, ...args: string[]): Promise<GoPeer>;
}

/**
 * Go peers for the tests of a file: `endpoints` is read when a peer starts (e.g. from
 * `useEtcd()`'s server, set in `beforeAll`). An `afterEach` kills whatever is still running.
 */
export function useGoPeer(endpoints: () => string[]): GoPeers {
  const running = new Set<GoPeer>();
  afterEach(async () => {
    await Promise.all([...running].map((peer) => peer.kill()));
    running.clear();
  });
  return {
    async start(subcommand, ...args) {
      const peer = goPeerBuild();
      if ('skipReason' in peer) throw new Error(peer.skipReason);
      const child = spawn(peer.binary, [subcommand, ...args], {
        env: { ...process.env, ETCD_ENDPOINTS: endpoints().join(',') },
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      children.add(child);
      child.once('exit', () => children.delete(child));
      const goPeer = new GoPeer(subcommand, child);
      running.add(goPeer);
      const first = await goPeer.next();
      if (first !== 'ready') throw new Error(`go-peer ${subcommand} printed ${JSON.stringify(first)} instead of ready`);
      return goPeer;
    },
  };
}

// Last resort if a test file dies without its afterEach: leave no Go peer running.
const children = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});
