import type { Command } from 'commander';
import type { Client, ClientConfig } from '../index.js';
import type { OutputFormat, Printer } from './printers/printer.js';
import { UsageError } from './usage-error.js';

/** The global flags (and their ETCDCTL_* variables) as commander parsed them. */
export interface GlobalOptions {
  endpoints: string;
  discoverySrv?: string;
  discoverySrvName?: string;
  dnsServers?: string;
  user?: string;
  password?: string;
  cacert?: string;
  cert?: string;
  key?: string;
  insecureSkipTlsVerify?: boolean;
  dialTimeout: string;
  commandTimeout: string;
  keepaliveTime: string;
  keepaliveTimeout: string;
  writeOut: string;
  hex?: boolean;
  transport?: string;
}

const durationUnits: Record<string, number> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Milliseconds of a Go duration string (`2s`, `500ms`, `1m30s`), as etcdctl's flags take them. */
export function parseDuration(text: string, flag: string): number {
  if (text === '0') return 0;
  const parts = [...text.matchAll(/(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== text) {
    throw new UsageError(`invalid argument "${text}" for "--${flag}" flag: time: invalid duration "${text}"`);
  }
  return parts.reduce((ms, [, value, unit]) => ms + Number(value) * durationUnits[unit!]!, 0);
}

/** The endpoints of `--endpoints`: comma separated, as etcdctl takes them. */
export function endpointList(globals: GlobalOptions): string[] {
  return commaList(globals.endpoints);
}

function commaList(text: string): string[] {
  return text
    .split(',')
    .map((e) => e.trim())
    .filter((e) => e !== '');
}

/** What one run of a command shares: the global flags, the clients it opened, its printer. */
export class Cli {
  private readonly clients: Client[] = [];
  private readonly interrupt = new AbortController();
  private readonly onSignal = () => this.interrupt.abort();
  private listening = false;
  /** Asked once, shared by every client of the command (endpoint health opens one per endpoint). */
  private credentials: Promise<{ username: string; password: string }> | undefined;

  constructor(readonly globals: GlobalOptions) {}

  /**
   * The endpoints a per-endpoint command (endpoint status, defrag) works on: with
   * `--discovery-srv`, the URLs its SRV records give (looked up once, as etcdctl does, and
   * replacing `--endpoints`); else `--endpoints`.
   */
  async endpoints(): Promise<string[]> {
    const g = this.globals;
    if (g.discoverySrv === undefined) return endpointList(g);
    const { discoverEndpoints } = await import('../discovery-srv.js');
    return discoverEndpoints({ discoverySrv: g.discoverySrv, discoverySrvName: g.discoverySrvName, dnsServers: this.dnsServers, timeout: parseDuration(g.dialTimeout, 'dial-timeout') || undefined });
  }

  private get dnsServers(): string[] | undefined {
    return this.globals.dnsServers === undefined ? undefined : commaList(this.globals.dnsServers);
  }

  /** The output format of `-w`. */
  get format(): OutputFormat {
    const format = this.globals.writeOut;
    if (format !== 'simple' && format !== 'json' && format !== 'table' && format !== 'fields') {
      throw new UsageError(format === 'protobuf' ? 'protobuf not supported as output format' : 'unsupported output format');
    }
    return format;
  }

  /** The printer of `-w` (`valueOnly`: `--print-value-only`, simple format only). */
  async printer(options: { valueOnly?: boolean } = {}): Promise<Printer> {
    const isHex = this.globals.hex === true;
    switch (this.format) {
      case 'simple':
        return new (await import('./printers/simple.js')).SimplePrinter(isHex, options.valueOnly);
      case 'json':
        return new (await import('./printers/json.js')).JsonPrinter(isHex);
      case 'fields':
        return new (await import('./printers/fields.js')).FieldsPrinter();
      case 'table':
        return new (await import('./printers/table.js')).TablePrinter();
    }
  }

  /**
   * The client configuration the global flags describe (`endpoints` replaces `--endpoints` and
   * `--discovery-srv`). With `--discovery-srv` alone, the client finds and follows the
   * endpoints itself, and TLS verifies the SRV domain (on given endpoints too).
   */
  private async config(endpoints?: string[], withAuth = true): Promise<ClientConfig> {
    const g = this.globals;
    const discovery = endpoints === undefined && g.discoverySrv !== undefined;
    endpoints ??= discovery ? [] : endpointList(g);
    if (!discovery && endpoints.length === 0) throw new UsageError('no endpoints given');
    for (const flag of ['cacert', 'cert', 'key'] as const) {
      if (g[flag] === '') throw new UsageError(`empty string is passed to --${flag} option`);
    }
    const config: ClientConfig = {
      dialTimeout: parseDuration(g.dialTimeout, 'dial-timeout'),
      timeout: parseDuration(g.commandTimeout, 'command-timeout'),
      keepAliveTime: parseDuration(g.keepaliveTime, 'keepalive-time'),
      keepAliveTimeout: parseDuration(g.keepaliveTimeout, 'keepalive-timeout'),
    };
    if (discovery) {
      config.discoverySrv = g.discoverySrv;
      if (g.discoverySrvName !== undefined && g.discoverySrvName !== '') config.discoverySrvName = g.discoverySrvName;
    } else {
      config.endpoints = endpoints;
    }
    if (this.dnsServers !== undefined) config.dnsServers = this.dnsServers;
    // As etcdctl: TLS for https endpoints (and SRV records), or for any endpoint once TLS material is
    // given; --insecure-skip-tls-verify alone does not turn TLS on for plain endpoints.
    const https = discovery || endpoints.some((e) => e.startsWith('https://'));
    if (g.cacert || g.cert || g.key || (https && (g.insecureSkipTlsVerify || g.discoverySrv !== undefined))) {
      config.tls = { ca: g.cacert, cert: g.cert, key: g.key };
      if (g.insecureSkipTlsVerify) config.tls.insecureSkipVerify = true;
      // Endpoints found by a lookup of --discovery-srv: their certificates name the domain.
      if (!discovery && g.discoverySrv !== undefined) config.tls.serverName = g.discoverySrv.replace(/\.$/, '');
    }
    if (g.transport !== undefined) {
      if (g.transport !== 'http2' && g.transport !== 'grpc-js') throw new UsageError(`unknown transport "${g.transport}" (http2 or grpc-js)`);
      config.transport = g.transport;
    }
    if (withAuth && g.user) config.auth = await (this.credentials ??= credentials(g.user, g.password));
    return config;
  }

  /** A client on the global flags' endpoints (or the given ones), closed when the command ends. */
  async client(endpoints?: string[], withAuth = true): Promise<Client> {
    const config = await this.config(endpoints, withAuth);
    const { Client } = await import('../client.js');
    const client = new Client(config);
    this.clients.push(client);
    return client;
  }

  /** Aborts on Ctrl-C or SIGTERM, for commands that run until interrupted. */
  get interrupted(): AbortSignal {
    if (!this.listening) {
      this.listening = true;
      process.on('SIGINT', this.onSignal);
      process.on('SIGTERM', this.onSignal);
    }
    return this.interrupt.signal;
  }

  /** Closes every client and stops listening for signals. */
  async close(): Promise<void> {
    if (this.listening) {
      process.off('SIGINT', this.onSignal);
      process.off('SIGTERM', this.onSignal);
    }
    await Promise.all(this.clients.map((c) => c.close()));
  }
}

async function credentials(user: string, password: string | undefined): Promise<{ username: string; password: string }> {
  if (password) return { username: user, password };
  const colon = user.indexOf(':');
  if (colon >= 0) return { username: user.slice(0, colon), password: user.slice(colon + 1) };
  const { askPassword } = await import('./password.js');
  return { username: user, password: await askPassword('Password: ') };
}

/**
 * A commander action running `fn` with the command's operands and options; the clients it
 * opens are closed when it ends, whatever happens.
 */
export function action<O>(fn: (cli: Cli, args: string[], options: O, command: Command) => Promise<void>): (...params: unknown[]) => Promise<void> {
  return async (...params) => {
    const command = params[params.length - 1] as Command;
    const cli = new Cli(command.optsWithGlobals<GlobalOptions>());
    try {
      await fn(cli, command.args, command.opts<O & object>(), command);
    } finally {
      await cli.close();
    }
  };
}

/** etcd's own words for an EtcdError (as etcdctl prints them), the message of anything else. */
export async function errorText(error: unknown): Promise<string> {
  const { EtcdError } = await import('../errors.js');
  if (error instanceof EtcdError) return error.details || error.message;
  return error instanceof Error ? error.message : String(error);
}

/** Runs `fn`, rewording its failure as etcdctl does (`failed to grant lease (...)`). */
export async function reworded<T>(words: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    throw new Error(`${words} (${await errorText(error)})`, { cause: error });
  }
}
