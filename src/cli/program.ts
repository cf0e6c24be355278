// nice-etcd's command line: etcdctl's commands, flags, environment and output, on the public API.
// Only commander and the definition of the command named on the line load at start (all of them
// for help, completion or a name not known); a command imports the client and its printer
// when it runs, from the library modules it uses rather than the index, so `nice-etcd version`
// and `nice-etcd get` start fast (README: Command line, start-up time).
import { Command, CommanderError, Option } from 'commander';
import { errorText } from './context.js';
import { UsageError } from './usage-error.js';

/** Exit codes: 1 when a command failed, 2 for bad usage. */
const exitFailure = 1;
const exitUsage = 2;

type Register = (program: Command) => void;

// One loader per command module; several top-level commands may share a module.
const kv = () => import('./commands/kv.js');
const maintenance = () => import('./commands/maintenance.js');
const auth = () => import('./commands/auth.js');

/** The module defining each top-level command, loaded only when its command may run (in help's order). */
const commandModules: Record<string, () => Promise<{ register: Register }>> = {
  get: kv,
  put: kv,
  del: kv,
  txn: () => import('./commands/txn.js'),
  compaction: () => import('./commands/compaction.js'),
  alarm: maintenance,
  defrag: maintenance,
  snapshot: maintenance,
  'move-leader': maintenance,
  endpoint: () => import('./commands/endpoint.js'),
  watch: () => import('./commands/watch.js'),
  version: () => import('./commands/version.js'),
  lease: () => import('./commands/lease.js'),
  member: () => import('./commands/member.js'),
  lock: () => import('./commands/lock.js'),
  elect: () => import('./commands/elect.js'),
  auth,
  user: auth,
  role: auth,
  completion: () => import('./commands/completion.js'),
};

/** The root command with the global flags and their ETCDCTL_* variables, without subcommands. */
export function rootCommand(): Command {
  return new Command('nice-etcd')
    .description("A command line client for etcd v3 that speaks etcdctl's language")
    .exitOverride()
    .configureOutput({ outputError: (text, write) => write(text.replace(/^error: /, 'Error: ')) })
    .showSuggestionAfterError(true)
    .addOption(new Option('--endpoints <list>', 'gRPC endpoints, comma separated').default('127.0.0.1:2379').env('ETCDCTL_ENDPOINTS'))
    .addOption(new Option('-d, --discovery-srv <domain>', 'domain name to query for SRV records describing cluster endpoints').env('ETCDCTL_DISCOVERY_SRV'))
    .addOption(new Option('--discovery-srv-name <name>', 'service name to query when using DNS discovery').env('ETCDCTL_DISCOVERY_SRV_NAME'))
    .addOption(new Option('--dns-servers <list>', "nice-etcd's own: DNS servers (ip or ip:port, comma separated) for --discovery-srv and host names, instead of the system's").env('NICE_ETCD_DNS_SERVERS'))
    .addOption(new Option('--user <name[:password]>', 'username[:password] for authentication (prompt if password is not supplied)').env('ETCDCTL_USER'))
    .addOption(new Option('--password <password>', 'password for authentication (if this option is used, --user option shouldn\'t include password)').env('ETCDCTL_PASSWORD'))
    .addOption(new Option('--cacert <file>', 'verify certificates of TLS-enabled secure servers using this CA bundle').env('ETCDCTL_CACERT'))
    .addOption(new Option('--cert <file>', 'identify secure client using this TLS certificate file').env('ETCDCTL_CERT'))
    .addOption(new Option('--key <file>', 'identify secure client using this TLS key file').env('ETCDCTL_KEY'))
    .addOption(new Option('--insecure-skip-tls-verify', 'skip server certificate verification (CAUTION: this option should be enabled only for testing purposes)').env('ETCDCTL_INSECURE_SKIP_TLS_VERIFY'))
    .addOption(new Option('--dial-timeout <duration>', 'dial timeout for client connections').default('2s').env('ETCDCTL_DIAL_TIMEOUT'))
    .addOption(new Option('--command-timeout <duration>', 'timeout for short running command (excluding dial timeout)').default('5s').env('ETCDCTL_COMMAND_TIMEOUT'))
    .addOption(new Option('--keepalive-time <duration>', 'keepalive time for client connections').default('2s').env('ETCDCTL_KEEPALIVE_TIME'))
    .addOption(new Option('--keepalive-timeout <duration>', 'keepalive timeout for client connections').default('6s').env('ETCDCTL_KEEPALIVE_TIMEOUT'))
    .addOption(new Option('-w, --write-out <format>', 'set the output format (fields, json, simple, table)').default('simple').env('ETCDCTL_WRITE_OUT'))
    .addOption(new Option('--hex', 'print byte strings as hex encoded strings').env('ETCDCTL_HEX'))
    .addOption(new Option('--transport <name>', "nice-etcd's transport: http2 (its own) or grpc-js").env('NICE_ETCD_TRANSPORT'));
}

/**
 * The first operand of `argv` (user arguments, after node and the script): the command's
 * name, skipping the global flags and the values of those that take one.
 */
function commandName(command: Command, args: string[]): string | undefined {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--') return args[i + 1];
    if (!arg.startsWith('-') || arg === '-') return arg;
    if (arg.includes('=')) continue;
    const option = command.options.find((o) => o.long === arg || o.short === arg);
    if (option && (option.required || option.optional)) i++;
  }
  return undefined;
}

/**
 * The command tree for `argv` (process.argv's form): the global flags, and the definitions of
 * the command it names, or of every command when it names none that is known (help,
 * suggestions for a typo, `completion`, which lists the whole tree).
 */
export async function program(argv: string[] = []): Promise<Command> {
  const command = rootCommand();
  const name = commandName(command, argv.slice(2));
  const one = name !== undefined && name !== 'completion' && name !== 'help' && Object.hasOwn(commandModules, name);
  const loaders = one ? [commandModules[name]!] : [...new Set(Object.values(commandModules))];
  for (const module of await Promise.all(loaders.map((load) => load()))) module.register(command);
  return command;
}

/** Runs the command line `argv` (process.argv's form) and returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  try {
    await (await program(argv)).parseAsync(argv);
    // A command that failed in part (endpoint status, defrag) or ran a child (lock) set its own code.
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : exitUsage; // commander printed it
    if (error instanceof UsageError) {
      process.stderr.write(`Error: ${error.message}\n`);
      return exitUsage;
    }
    process.stderr.write(`Error: ${await errorText(error)}\n`);
    // A configuration the client refuses (an endpoint without a port, a missing file) is bad usage too.
    const { ConfigError } = await import('../errors.js');
    return error instanceof ConfigError ? exitUsage : exitFailure;
  }
}
