// nice-etcd's command line: etcdctl's commands, flags, environment and output, on the public API.
// Only commander and the command definitions load at start; a command imports the client and
// its printer when it runs, so `nice-etcd version` starts fast.
import { Command, CommanderError, Option } from 'commander';
import { register as registerAuth } from './commands/auth.js';
import { register as registerCompaction } from './commands/compaction.js';
import { register as registerCompletion } from './commands/completion.js';
import { register as registerElect } from './commands/elect.js';
import { register as registerEndpoint } from './commands/endpoint.js';
import { register as registerKv } from './commands/kv.js';
import { register as registerLease } from './commands/lease.js';
import { register as registerLock } from './commands/lock.js';
import { register as registerMaintenance } from './commands/maintenance.js';
import { register as registerMember } from './commands/member.js';
import { register as registerTxn } from './commands/txn.js';
import { register as registerVersion } from './commands/version.js';
import { register as registerWatch } from './commands/watch.js';
import { errorText } from './context.js';
import { UsageError } from './usage-error.js';

/** Exit codes: 1 when a command failed, 2 for bad usage. */
const exitFailure = 1;
const exitUsage = 2;

/** The whole command tree, with the global flags and their ETCDCTL_* variables. */
export function program(): Command {
  const root = new Command('nice-etcd')
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
  for (const register of [
    registerKv,
    registerTxn,
    registerCompaction,
    registerMaintenance,
    registerEndpoint,
    registerWatch,
    registerVersion,
    registerLease,
    registerMember,
    registerLock,
    registerElect,
    registerAuth,
    registerCompletion,
  ]) {
    register(root);
  }
  return root;
}

/** Runs the command line `argv` (process.argv's form) and returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  try {
    await program().parseAsync(argv);
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
    const { ConfigError } = await import('../index.js');
    return error instanceof ConfigError ? exitUsage : exitFailure;
  }
}
