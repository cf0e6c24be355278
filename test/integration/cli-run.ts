import { type ChildProcess, execFile, execFileSync, spawn } from 'node:child_process';
import { join } from 'node:path';
import type { EtcdServer } from '../harness/index.js';

// The tests run the CLI from source with tsx (a dev dependency), as a subprocess, the way a user
// runs the built bin; scripts/check-package runs the packed tarball's bin itself.
const repo = join(__dirname, '../..');
const main = join(repo, 'src/cli/main.ts');
const node = [process.execPath, '--import', 'tsx', main] as const;

/** What one CLI run printed and how it exited. */
export interface CliResult {
  stdout: Buffer;
  stderr: string;
  code: number;
}

/** Options of one run: standard input and extra environment variables. */
export interface RunOptions {
  input?: string | Buffer;
  env?: Record<string, string>;
}

/** Runs a program to its end; standard output as bytes, for byte-exact comparisons. */
function run(file: string, args: string[], options: RunOptions): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = execFile(
      file,
      args,
      { env: { ...process.env, ETCDCTL_API: '3', ...options.env }, encoding: 'buffer', timeout: 30_000, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ stdout, stderr: stderr.toString('utf8'), code });
      },
    );
    child.stdin?.end(options.input);
  });
}

/** Runs `nice-etcd --endpoints=<server> ...args` (no --endpoints without a server). */
export function niceEtcd(etcd: EtcdServer | undefined, args: string[], options: RunOptions = {}): Promise<CliResult> {
  return run(node[0], [...node.slice(1), ...(etcd ? [`--endpoints=${etcd.clientUrl}`] : []), ...args], options);
}

/**
 * Runs `nice-etcd --endpoints=<server> ...args` on a pseudo-terminal (util-linux `script`), for
 * what the CLI prints only on a terminal; the terminal's output (stdout and stderr) as text.
 */
export function niceEtcdOnTerminal(etcd: EtcdServer, args: string[]): Promise<{ output: string; code: number }> {
  const quote = (word: string) => `'${word.replace(/'/g, `'\\''`)}'`;
  const line = [...node, `--endpoints=${etcd.clientUrl}`, ...args].map(quote).join(' ');
  return run('script', ['-qec', line, '/dev/null'], {}).then(({ stdout, code }) => ({ output: stdout.toString('utf8'), code }));
}

let reference: string | undefined;

/**
 * etcdctl 3.5.16, whose output the CLI reproduces: the reference whatever etcd the suite runs
 * (it speaks to etcd 3.4 too). Installed by scripts/install-etcd like the servers.
 */
export function referenceEtcdctl(): string {
  reference ??= join(execFileSync('bash', [join(repo, 'scripts/install-etcd'), '3.5'], { encoding: 'utf8' }).trim().split('\n').pop()!, 'etcdctl');
  return reference;
}

/** Runs the reference etcdctl against a server, as `niceEtcd` runs the CLI. */
export function etcdctl(etcd: EtcdServer, args: string[], options: RunOptions = {}): Promise<CliResult> {
  return run(referenceEtcdctl(), [`--endpoints=${etcd.clientUrl}`, ...args], options);
}

/** Starts a long-running reference etcdctl (watch); the caller ends it. */
export function spawnEtcdctl(etcd: EtcdServer, args: string[]): ChildProcess {
  return spawn(referenceEtcdctl(), [`--endpoints=${etcd.clientUrl}`, ...args], { env: { ...process.env, ETCDCTL_API: '3' }, stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Starts a long-running `nice-etcd` (watch, lock, elect); the caller ends it. */
export function spawnNiceEtcd(etcd: EtcdServer, args: string[], env: Record<string, string> = {}): ChildProcess {
  return spawn(node[0], [...node.slice(1), `--endpoints=${etcd.clientUrl}`, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** Collects a child's standard output and standard error as text. */
export function collect(child: ChildProcess): { text: () => string; errors: () => string } {
  let [text, errors] = ['', ''];
  child.stdout?.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
  child.stderr?.on('data', (chunk: Buffer) => (errors += chunk.toString('utf8')));
  return { text: () => text, errors: () => errors };
}

/** Waits until `condition` holds, polling; fails after `timeoutMs` with `what`. */
export async function waitFor(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 45_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Resolves with the exit code once the child has exited. */
export function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}
