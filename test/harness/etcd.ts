import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { etcdBinary } from './etcd-version';
import { freePort } from './ports';

/** Options of `startEtcd`. */
export interface EtcdOptions {
  /** Member name (default: a unique one). */
  name?: string;
  /** Extra etcd flags, e.g. `--max-request-bytes=1048576` or `--auth-token-ttl=2`. */
  args?: string[];
  /** Extra environment variables for the etcd process. */
  env?: Record<string, string>;
  /** Serve clients over TLS with these PEM files; `clientCertAuth` requires client certificates. */
  tls?: { certFile: string; keyFile: string; caFile: string; clientCertAuth?: boolean };
  /** `existing` for a member that joins a running cluster (after `memberAdd`). Default `new`. */
  initialClusterState?: 'new' | 'existing';
  /** The peer URL the member advertises, when not the one it listens on (a peer proxy's). */
  advertisePeerUrl?: string;
}

/** Result of an etcdctl run. */
export interface EtcdctlResult<T extends string | Buffer> {
  stdout: T;
  stderr: string;
  code: number;
}

const live = new Set<EtcdServer>();
let counter = 0;

/** A real etcd process on loopback ports with a temporary data dir, for one test suite. */
export class EtcdServer {
  /** `127.0.0.1:<client port>`. */
  readonly endpoint: string;
  /** `http://127.0.0.1:<client port>`. */
  readonly clientUrl: string;
  /** `http://127.0.0.1:<peer port>`. */
  readonly peerUrl: string;
  private process: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private readonly log: string[] = [];
  private readonly children = new Set<ChildProcess>();
  private paused = false;
  private started = false;

  /** @internal use startEtcd() or startCluster() */
  constructor(
    readonly name: string,
    readonly dataDir: string,
    readonly clientPort: number,
    readonly peerPort: number,
    /** `--initial-cluster` value (this member alone unless part of a cluster). */
    readonly initialCluster: string,
    readonly clusterToken: string,
    private readonly options: EtcdOptions,
  ) {
    this.endpoint = `127.0.0.1:${clientPort}`;
    this.clientUrl = `${options.tls ? 'https' : 'http'}://${this.endpoint}`;
    this.peerUrl = `http://127.0.0.1:${peerPort}`;
  }

  /** The etcd process id while it runs. */
  get pid(): number | undefined {
    return this.process?.pid;
  }

  /** Starts the process (on the same ports and data dir when restarting) and waits until healthy. */
  async start(): Promise<void> {
    if (this.process) return;
    const args = [
      `--name=${this.name}`,
      `--data-dir=${this.dataDir}`,
      `--listen-client-urls=${this.clientUrl}`,
      `--advertise-client-urls=${this.clientUrl}`,
      `--listen-peer-urls=${this.peerUrl}`,
      `--initial-advertise-peer-urls=${this.options.advertisePeerUrl ?? this.peerUrl}`,
      `--initial-cluster=${this.initialCluster}`,
      `--initial-cluster-token=${this.clusterToken}`,
      `--initial-cluster-state=${this.started ? 'existing' : (this.options.initialClusterState ?? 'new')}`,
      '--logger=zap',
      '--log-level=warn',
      ...this.tlsArgs(),
      ...(this.options.args ?? []),
    ];
    const child = spawn(etcdBinary('etcd'), args, {
      env: { ...process.env, ETCD_UNSUPPORTED_ARCH: 'amd64', ...this.options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.process = child;
    this.started = true;
    live.add(this);
    const collect = (chunk: Buffer) => {
      for (const line of chunk.toString().split('\n')) if (line) this.log.push(line);
      if (this.log.length > 200) this.log.splice(0, this.log.length - 200);
    };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    this.exited = new Promise((resolve) =>
      child.once('exit', () => {
        if (this.process === child) this.process = undefined;
        resolve();
      }),
    );
    await this.waitHealthy(20_000);
  }

  private tlsArgs(): string[] {
    const { tls } = this.options;
    if (!tls) return [];
    return [`--cert-file=${tls.certFile}`, `--key-file=${tls.keyFile}`, `--trusted-ca-file=${tls.caFile}`, ...(tls.clientCertAuth ? ['--client-cert-auth'] : [])];
  }

  /** etcdctl flags for this server's TLS, when it has any. */
  private etcdctlTlsArgs(): string[] {
    const { tls } = this.options;
    if (!tls) return [];
    return [`--cacert=${tls.caFile}`, `--cert=${tls.certFile}`, `--key=${tls.keyFile}`];
  }

  /** Waits until /health says true; rejects with the server log if it exits or takes too long. */
  async waitHealthy(timeoutMs = 20_000): Promise<void> {
    const until = Date.now() + timeoutMs;
    while (Date.now() < until) {
      if (!this.process) throw new Error(`etcd ${this.name} exited during start:\n${this.logs()}`);
      if (await this.healthy(500)) return;
      await sleep(50);
    }
    throw new Error(`etcd ${this.name} was not healthy within ${timeoutMs} ms:\n${this.logs()}`);
  }

  /** True when GET /health answers `"health":"true"` within `timeoutMs`. */
  async healthy(timeoutMs = 1_000): Promise<boolean> {
    try {
      const body = await this.http('/health', timeoutMs);
      return /"health":\s*"true"/.test(body);
    } catch {
      return false;
    }
  }

  /** The last lines etcd logged. */
  logs(): string {
    return this.log.join('\n');
  }

  /** Stops the process (SIGTERM, SIGKILL after 5 s) and keeps the data dir. Idempotent. */
  async stop(): Promise<void> {
    const child = this.process;
    if (!child) return;
    if (this.paused) this.resumeSync();
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    await this.exited;
    clearTimeout(timer);
  }

  /** Kills the process at once (SIGKILL), as a crash would. */
  async kill(): Promise<void> {
    const child = this.process;
    if (!child) return;
    child.kill('SIGKILL');
    await this.exited;
    this.paused = false;
  }

  /**
   * Freezes the process (SIGSTOP): it keeps its sockets but answers nothing. Resolves once
   * the kernel reports every thread of it stopped, so nothing it answers afterwards can race.
   */
  async pause(): Promise<void> {
    const child = this.process;
    if (!child || this.paused) return;
    child.kill('SIGSTOP');
    this.paused = true;
    const until = Date.now() + 5_000;
    while (!allThreadsStopped(child.pid!)) {
      if (Date.now() > until) throw new Error(`etcd ${this.name} did not stop within 5 s of SIGSTOP`);
      await sleep(1);
    }
  }

  /** Lets a paused process run again (SIGCONT). */
  async resume(): Promise<void> {
    this.resumeSync();
  }

  private resumeSync(): void {
    if (!this.process || !this.paused) return;
    this.process.kill('SIGCONT');
    this.paused = false;
  }

  /** Stops and starts again on the same ports and data dir. */
  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  /** Stops the process and any etcdctl it spawned, and deletes the data dir. Idempotent. */
  async destroy(): Promise<void> {
    for (const child of this.children) child.kill('SIGKILL');
    this.children.clear();
    await this.stop();
    live.delete(this);
    await rm(this.dataDir, { recursive: true, force: true });
  }

  /** The text of GET /metrics (Prometheus format), served on the client port. */
  metrics(): Promise<string> {
    return this.http('/metrics', 5_000);
  }

  /** Sum of the values of metric `name` whose labels include every given label. */
  async metric(name: string, labels: Record<string, string> = {}): Promise<number> {
    const text = await this.metrics();
    let sum = 0;
    for (const line of text.split('\n')) {
      const match = /^([a-zA-Z_:][\w:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
      if (!match || match[1] !== name) continue;
      const lineLabels = match[2] ?? '';
      if (Object.entries(labels).every(([k, v]) => lineLabels.includes(`${k}="${v}"`))) sum += Number(match[3]);
    }
    return sum;
  }

  /** Runs etcdctl (API v3) against this server; stdout as text. */
  async etcdctl(args: string[], options: { input?: string | Buffer; env?: Record<string, string>; timeoutMs?: number } = {}): Promise<EtcdctlResult<string>> {
    const result = await this.etcdctlRaw(args, options);
    return { ...result, stdout: result.stdout.toString('utf8') };
  }

  /** Runs etcdctl (API v3) against this server; stdout as bytes, for byte-exact checks. */
  etcdctlRaw(args: string[], options: { input?: string | Buffer; env?: Record<string, string>; timeoutMs?: number } = {}): Promise<EtcdctlResult<Buffer>> {
    return new Promise((resolve) => {
      const child = execFile(
        etcdBinary('etcdctl'),
        [`--endpoints=${this.clientUrl}`, ...this.etcdctlTlsArgs(), ...args],
        { env: { ...process.env, ETCDCTL_API: '3', ...options.env }, encoding: 'buffer', timeout: options.timeoutMs ?? 20_000, maxBuffer: 64 * 1024 * 1024 },
        (error, stdout, stderr) => {
          const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
          resolve({ stdout, stderr: stderr.toString('utf8'), code });
        },
      );
      if (options.input !== undefined) child.stdin?.end(options.input);
      else child.stdin?.end();
    });
  }

  /** Starts a long-running etcdctl (e.g. `lock`, `elect`); destroy() kills it if still running. */
  spawnEtcdctl(args: string[], env: Record<string, string> = {}): ChildProcess {
    const child = spawn(etcdBinary('etcdctl'), [`--endpoints=${this.clientUrl}`, ...this.etcdctlTlsArgs(), ...args], {
      env: { ...process.env, ETCDCTL_API: '3', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.children.add(child);
    child.once('exit', () => this.children.delete(child));
    return child;
  }

  private http(path: string, timeoutMs: number): Promise<string> {
    const { tls } = this.options;
    const send = tls ? httpsRequest : request;
    const tlsOptions = tls ? { ca: readFileSync(tls.caFile), cert: readFileSync(tls.certFile), key: readFileSync(tls.keyFile) } : {};
    return new Promise((resolve, reject) => {
      const req = send({ host: '127.0.0.1', port: this.clientPort, path, agent: false, timeout: timeoutMs, ...tlsOptions }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
        res.on('error', reject);
      });
      req.on('timeout', () => req.destroy(new Error(`GET ${path} timed out`)));
      req.on('error', reject);
      req.end();
    });
  }
}

/** A fresh temporary data dir, in /dev/shm when there is one. @internal */
export function tempDataDir(name: string): Promise<string> {
  return mkdtemp(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), `nice-etcd-${name}-`));
}

/** Allocates ports and a data dir for a single-member etcd (not started). */
async function prepareMember(name: string, options: EtcdOptions): Promise<EtcdServer> {
  const dataDir = await tempDataDir(name);
  const [clientPort, peerPort] = [await freePort(), await freePort()];
  return new EtcdServer(name, dataDir, clientPort, peerPort, `${name}=http://127.0.0.1:${peerPort}`, `nice-etcd-${process.pid}-${++counter}`, options);
}

/** Starts a single-member etcd on free loopback ports with a temporary data dir. */
export async function startEtcd(options: EtcdOptions = {}): Promise<EtcdServer> {
  const server = await prepareMember(options.name ?? `etcd${process.pid}-${++counter}`, options);
  try {
    await server.start();
  } catch (error) {
    await server.destroy();
    throw error;
  }
  return server;
}

/** Destroys every server this process started and has not destroyed yet. */
export async function destroyAll(): Promise<void> {
  await Promise.all([...live].map((s) => s.destroy()));
}

// Last resort if a suite dies without its afterAll: leave no etcd running.
process.once('exit', () => {
  for (const server of live) {
    try {
      if (server.pid) process.kill(server.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
});

/** True when every thread of `pid` is in the stopped state (`T` in /proc/<pid>/task/<tid>/stat). */
function allThreadsStopped(pid: number): boolean {
  try {
    return readdirSync(`/proc/${pid}/task`).every((tid) => {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      // The state follows the command name, which is in parentheses and may contain spaces.
      return stat[stat.lastIndexOf(')') + 2] === 'T';
    });
  } catch {
    return true; // the process is gone: nothing of it can answer
  }
}
